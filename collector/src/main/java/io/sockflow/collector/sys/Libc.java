package io.sockflow.collector.sys;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The few libc functions the collector itself needs: clocks, mount, formatting libbpf's messages, and plain file
 * descriptors (a cgroup directory to attach to, an iterator to read).
 */
public final class Libc {
    public static final int CLOCK_REALTIME = 0;
    public static final int CLOCK_BOOTTIME = 7;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle CLOCK_GETTIME = LINKER.downcallHandle(
            LINKER.defaultLookup().find("clock_gettime").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle VSNPRINTF = LINKER.downcallHandle(
            LINKER.defaultLookup().find("vsnprintf").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));
    private static final MethodHandle MOUNT = LINKER.downcallHandle(
            LINKER.defaultLookup().find("mount").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS),
            Linker.Option.captureCallState("errno"));

    private static final MethodHandle OPEN = LINKER.downcallHandle(
            LINKER.defaultLookup().find("open").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT),
            Linker.Option.captureCallState("errno"));
    private static final MethodHandle READ = LINKER.downcallHandle(
            LINKER.defaultLookup().find("read").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG),
            Linker.Option.captureCallState("errno"));
    private static final MethodHandle CLOSE = LINKER.downcallHandle(
            LINKER.defaultLookup().find("close").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT));

    private static final MethodHandle SETNS = LINKER.downcallHandle(
            LINKER.defaultLookup().find("setns").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT),
            Linker.Option.captureCallState("errno"));

    public static final int CLONE_NEWNET = 0x40000000;

    private static final MethodHandle UMASK = LINKER.downcallHandle(
            LINKER.defaultLookup().find("umask").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle GETEUID = LINKER.downcallHandle(
            LINKER.defaultLookup().find("geteuid").orElseThrow(), FunctionDescriptor.of(JAVA_INT));
    // glibc applies these three to every thread of the process (its setxid broadcast), as a JVM needs
    private static final MethodHandle SETGROUPS = LINKER.downcallHandle(
            LINKER.defaultLookup().find("setgroups").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS),
            Linker.Option.captureCallState("errno"));
    private static final MethodHandle SETRESGID = LINKER.downcallHandle(
            LINKER.defaultLookup().find("setresgid").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT),
            Linker.Option.captureCallState("errno"));
    private static final MethodHandle SETRESUID = LINKER.downcallHandle(
            LINKER.defaultLookup().find("setresuid").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT),
            Linker.Option.captureCallState("errno"));

    // syscall(2) with two long arguments (pidfd_open, pidfd_getfd take ints and an unsigned flags word: longs carry
    // them)
    private static final MethodHandle SYSCALL3 = LINKER.downcallHandle(
            LINKER.defaultLookup().find("syscall").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1));
    private static final MethodHandle GETSOCKOPT = LINKER.downcallHandle(
            LINKER.defaultLookup().find("getsockopt").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final long SYS_IOCTL = 16;
    private static final long NS_GET_NSTYPE = 0xb703; // _IO(0xb7, 0x3)
    private static final long SYS_CAPGET = 125;
    private static final long SYS_CAPSET = 126;
    private static final long SYS_PIDFD_OPEN = 434;
    private static final long SYS_PIDFD_GETFD = 438;
    private static final int SOL_SOCKET = 1;
    private static final int SO_COOKIE = 57;

    public static final int O_RDONLY = 0;
    public static final int O_DIRECTORY = 0200000;
    public static final int O_CLOEXEC = 02000000;

    private Libc() {}

    /**
     * Takes capabilities out of the calling thread's effective set (capset(2) with pid 0 is this thread only; the
     * others keep theirs). Returns 0, or -1 when the kernel refused.
     */
    public static int dropEffectiveOfThisThread(long caps) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment hdr = a.allocate(8, 4);
            hdr.set(JAVA_INT, 0, 0x20080522); // _LINUX_CAPABILITY_VERSION_3: two 32-bit words per set
            hdr.set(JAVA_INT, 4, 0);
            MemorySegment data = a.allocate(24, 4); // {effective, permitted, inheritable} x 2
            if ((long) SYSCALL3.invokeExact(SYS_CAPGET, hdr.address(), data.address(), 0L) != 0) {
                return -1;
            }
            data.set(JAVA_INT, 0, data.get(JAVA_INT, 0) & ~(int) caps);
            data.set(JAVA_INT, 12, data.get(JAVA_INT, 12) & ~(int) (caps >>> 32));
            return (int) (long) SYSCALL3.invokeExact(SYS_CAPSET, hdr.address(), data.address(), 0L) == 0 ? 0 : -1;
        } catch (Throwable t) {
            throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
        }
    }

    /** open(2); returns the descriptor, or the negative errno. */
    public static int open(String path, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CALL_STATE);
            int fd = (int) OPEN.invokeExact(state, a.allocateFrom(path), flags);
            return fd >= 0 ? fd : -(int) ERRNO.get(state, 0L);
        } catch (Throwable t) {
            throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
        }
    }

    /** read(2) into {@code buf}; returns the bytes read, 0 at the end, or the negative errno (EINTR retried). */
    public static long read(int fd, MemorySegment buf, long max) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CALL_STATE);
            while (true) {
                long n = (long) READ.invokeExact(state, fd, buf, max);
                if (n >= 0) {
                    return n;
                }
                int err = (int) ERRNO.get(state, 0L);
                if (err != 4 /* EINTR */) {
                    return -err;
                }
            }
        } catch (Throwable t) {
            throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
        }
    }

    /** setns(2) for the calling thread; returns 0 or the errno. */
    public static int setns(int fd, int nstype) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CALL_STATE);
            int rc = (int) SETNS.invokeExact(state, fd, nstype);
            return rc == 0 ? 0 : (int) ERRNO.get(state, 0L);
        } catch (Throwable t) {
            throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
        }
    }

    /**
     * The cookie of the socket behind descriptor {@code fd} of process {@code pid}, made by the kernel if it had none
     * (SO_COOKIE on a copy of the descriptor taken with pidfd_getfd); 0 when it cannot be had (the process or the
     * descriptor is gone, or no right to take it: CAP_SYS_PTRACE over that process).
     */
    public static long socketCookie(int pid, int fd) {
        try (Arena a = Arena.ofConfined()) {
            int pidfd = (int) (long) SYSCALL3.invokeExact(SYS_PIDFD_OPEN, (long) pid, 0L, 0L);
            if (pidfd < 0) {
                return 0;
            }
            try {
                int copy = (int) (long) SYSCALL3.invokeExact(SYS_PIDFD_GETFD, (long) pidfd, (long) fd, 0L);
                if (copy < 0) {
                    return 0;
                }
                try {
                    MemorySegment value = a.allocate(JAVA_LONG);
                    MemorySegment len = a.allocate(JAVA_INT);
                    len.set(JAVA_INT, 0, 8);
                    int rc = (int) GETSOCKOPT.invokeExact(copy, SOL_SOCKET, SO_COOKIE, value, len);
                    return rc == 0 ? value.get(JAVA_LONG, 0) : 0;
                } finally {
                    close(copy);
                }
            } finally {
                close(pidfd);
            }
        } catch (Throwable t) {
            throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
        }
    }

    /**
     * The kind of namespace a namespace file's descriptor names (ioctl NS_GET_NSTYPE: CLONE_NEWNET for a network
     * namespace), or -1 when it is no namespace file.
     */
    public static int namespaceType(int fd) {
        try {
            return (int) (long) SYSCALL3.invokeExact(SYS_IOCTL, (long) fd, NS_GET_NSTYPE, 0L);
        } catch (Throwable t) {
            throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
        }
    }

    public static void close(int fd) {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
        }
    }

    /** clock_gettime in nanoseconds. */
    public static long clockNanos(int clock) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ts = a.allocate(16, 8);
            int rc = (int) CLOCK_GETTIME.invokeExact(clock, ts);
            if (rc != 0) {
                throw new IllegalStateException("clock_gettime(" + clock + ") failed");
            }
            return ts.get(JAVA_LONG, 0) * 1_000_000_000L + ts.get(JAVA_LONG, 8);
        } catch (Throwable t) {
            throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
        }
    }

    /** Formats a printf format with a va_list into at most {@code max} bytes. */
    public static String vformat(MemorySegment fmt, MemorySegment vaList, int max) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(max);
            int n = (int) VSNPRINTF.invokeExact(buf, (long) max, fmt, vaList);
            return n < 0 ? "" : buf.getString(0);
        } catch (Throwable t) {
            throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
        }
    }

    /** umask(2): sets the process's file mode creation mask and returns the previous one. */
    public static int umask(int mask) {
        try {
            return (int) UMASK.invokeExact(mask);
        } catch (Throwable t) {
            throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
        }
    }

    public static int geteuid() {
        try {
            return (int) GETEUID.invokeExact();
        } catch (Throwable t) {
            throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
        }
    }

    /** setgroups(2) with no supplementary groups; returns 0 or the errno. */
    public static int clearGroups() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CALL_STATE);
            int rc = (int) SETGROUPS.invokeExact(state, 0L, MemorySegment.NULL);
            return rc == 0 ? 0 : (int) ERRNO.get(state, 0L);
        } catch (Throwable t) {
            throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
        }
    }

    /** setresgid(2) to one group for real, effective and saved; returns 0 or the errno. */
    public static int setGid(int gid) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CALL_STATE);
            int rc = (int) SETRESGID.invokeExact(state, gid, gid, gid);
            return rc == 0 ? 0 : (int) ERRNO.get(state, 0L);
        } catch (Throwable t) {
            throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
        }
    }

    /** setresuid(2) to one user for real, effective and saved; returns 0 or the errno. */
    public static int setUid(int uid) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CALL_STATE);
            int rc = (int) SETRESUID.invokeExact(state, uid, uid, uid);
            return rc == 0 ? 0 : (int) ERRNO.get(state, 0L);
        } catch (Throwable t) {
            throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
        }
    }

    /** mount(2); returns 0 or the errno. */
    public static int mount(String source, String target, String type) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CALL_STATE);
            int rc = (int) MOUNT.invokeExact(
                    state,
                    a.allocateFrom(source),
                    a.allocateFrom(target),
                    a.allocateFrom(type),
                    0L,
                    MemorySegment.NULL);
            return rc == 0 ? 0 : (int) ERRNO.get(state, 0L);
        } catch (Throwable t) {
            throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
        }
    }
}
