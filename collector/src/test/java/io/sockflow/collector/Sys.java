package io.sockflow.collector;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Makes exact Linux system calls from a test through libc's syscall(2), so that the kernel sees precisely the
 * call the test names (glibc's wrappers may pick another: recv is recvfrom, accept may be accept4). x86_64
 * numbers.
 */
public final class Sys {
    public static final long SOCKET = 41,
            CONNECT = 42,
            ACCEPT = 43,
            SENDTO = 44,
            RECVFROM = 45,
            SENDMSG = 46,
            RECVMSG = 47,
            SHUTDOWN = 48,
            BIND = 49,
            LISTEN = 50,
            GETSOCKNAME = 51,
            GETPEERNAME = 52,
            SOCKETPAIR = 53,
            SETSOCKOPT = 54,
            GETSOCKOPT = 55,
            CLOSE = 3,
            ACCEPT4 = 288,
            RECVMMSG = 299,
            SENDMMSG = 307,
            SETHOSTNAME = 170,
            SETDOMAINNAME = 171,
            UNSHARE = 272,
            GETTID = 186,
            READ = 0,
            WRITE = 1,
            OPENAT = 257,
            PIPE2 = 293;
    public static final int AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10;
    public static final int SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_NONBLOCK = 0x800, SOCK_CLOEXEC = 0x80000;
    public static final int SOL_SOCKET = 1, SO_REUSEADDR = 2, SO_ACCEPTCONN = 30, SO_RCVBUF = 8;
    public static final int IPPROTO_TCP = 6, TCP_NODELAY = 1;
    public static final int MSG_DONTWAIT = 0x40, MSG_NOSIGNAL = 0x4000;
    public static final int SHUT_WR = 1;
    public static final int CLONE_NEWUTS = 0x04000000;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle SYSCALL = LINKER.downcallHandle(
            LINKER.defaultLookup().find("syscall").orElseThrow(),
            FunctionDescriptor.of(
                    JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1),
            Linker.Option.captureCallState("errno"));

    private static final ThreadLocal<MemorySegment> STATE_BUF =
            ThreadLocal.withInitial(() -> Arena.global().allocate(STATE));

    private Sys() {}

    /** The raw result: the return value, or -errno on failure, as the kernel returned it. */
    public static long call(long nr, long... args) {
        long[] a = new long[6];
        System.arraycopy(args, 0, a, 0, args.length);
        try {
            MemorySegment st = STATE_BUF.get();
            long rc = (long) SYSCALL.invokeExact(st, nr, a[0], a[1], a[2], a[3], a[4], a[5]);
            return rc == -1 ? -(int) ERRNO.get(st, 0L) : rc;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Like {@link #call} but fails the test on an error. */
    public static long ok(long nr, long... args) {
        long rc = call(nr, args);
        if (rc < 0) {
            throw new AssertionError("syscall " + nr + " failed with errno " + -rc);
        }
        return rc;
    }

    public static int gettid() {
        return (int) call(GETTID);
    }

    public static long addr(MemorySegment s) {
        return s.address();
    }

    public static MemorySegment sockaddrIn(Arena a, byte[] ip4, int port) {
        MemorySegment s = a.allocate(16, 8);
        s.set(JAVA_SHORT, 0, (short) AF_INET);
        s.set(JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN), 2, (short) port);
        MemorySegment.copy(ip4, 0, s, JAVA_BYTE, 4, 4);
        return s;
    }

    public static MemorySegment sockaddrIn6(Arena a, byte[] ip6, int port) {
        MemorySegment s = a.allocate(28, 8);
        s.set(JAVA_SHORT, 0, (short) AF_INET6);
        s.set(JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN), 2, (short) port);
        MemorySegment.copy(ip6, 0, s, JAVA_BYTE, 8, 16);
        return s;
    }

    /** sockaddr_un for a path (or, with a leading NUL, an abstract name); returns the segment sized to addrlen. */
    public static MemorySegment sockaddrUn(Arena a, String path, boolean abstractName) {
        byte[] p = path.getBytes(StandardCharsets.UTF_8);
        int len = 2 + (abstractName ? 1 + p.length : p.length + 1);
        MemorySegment s = a.allocate(110, 8);
        s.set(JAVA_SHORT, 0, (short) AF_UNIX);
        MemorySegment.copy(p, 0, s, JAVA_BYTE, abstractName ? 3 : 2, p.length);
        return s.asSlice(0, len);
    }

    public static int port(MemorySegment sockaddr) {
        return Short.toUnsignedInt(sockaddr.get(JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN), 2));
    }

    public static MemorySegment intValue(Arena a, int v) {
        MemorySegment s = a.allocate(JAVA_INT);
        s.set(JAVA_INT, 0, v);
        return s;
    }

    /** struct msghdr with one iovec. */
    public static MemorySegment msghdr(Arena a, MemorySegment name, MemorySegment buf) {
        MemorySegment iov = a.allocate(16, 8);
        iov.set(ADDRESS, 0, buf);
        iov.set(JAVA_LONG, 8, buf.byteSize());
        MemorySegment m = a.allocate(56, 8);
        fillMsghdr(m, name, iov);
        return m;
    }

    static void fillMsghdr(MemorySegment m, MemorySegment name, MemorySegment iov) {
        m.set(ADDRESS, 0, name == null ? MemorySegment.NULL : name);
        m.set(JAVA_INT, 8, name == null ? 0 : (int) name.byteSize());
        m.set(ADDRESS, 16, iov);
        m.set(JAVA_LONG, 24, 1);
    }

    /** struct mmsghdr[n]: one buffer each, optionally one destination address for all. */
    public static MemorySegment mmsgvec(Arena a, MemorySegment name, MemorySegment... bufs) {
        MemorySegment vec = a.allocate(64L * bufs.length, 8);
        for (int i = 0; i < bufs.length; i++) {
            MemorySegment iov = a.allocate(16, 8);
            iov.set(ADDRESS, 0, bufs[i]);
            iov.set(JAVA_LONG, 8, bufs[i].byteSize());
            MemorySegment nm =
                    name == null ? null : a.allocate(name.byteSize(), 8).copyFrom(name);
            fillMsghdr(vec.asSlice(64L * i, 64), nm, iov);
        }
        return vec;
    }

    public static int mmsgLen(MemorySegment vec, int i) {
        return vec.get(JAVA_INT, 64L * i + 56);
    }
}
