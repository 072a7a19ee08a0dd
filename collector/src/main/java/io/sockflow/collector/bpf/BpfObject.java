package io.sockflow.collector.bpf;

import io.sockflow.collector.sys.Errno;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An opened (and later loaded) libbpf object. Owns its links: {@link #close()} destroys them in reverse order of
 * attachment and then closes the object, which unloads the programs and frees the maps.
 */
public final class BpfObject implements AutoCloseable {
    private final Arena arena;
    private final MemorySegment obj;
    private final Map<String, MemorySegment> programs = new LinkedHashMap<>();
    private final List<Link> links = new ArrayList<>();
    private boolean loaded;
    private boolean closed;

    /** One attached program. */
    public record Link(String program, String section, MemorySegment handle) {}

    private BpfObject(Arena arena, MemorySegment obj) {
        this.arena = arena;
        this.obj = obj;
        for (MemorySegment p = Libbpf.objectNextProgram(obj, MemorySegment.NULL);
                !p.equals(MemorySegment.NULL);
                p = Libbpf.objectNextProgram(obj, p)) {
            programs.put(Libbpf.programName(p), p);
        }
    }

    /**
     * Opens an ELF object held in memory.
     *
     * @param btfPath kernel BTF to relocate against; null for libbpf's default (/sys/kernel/btf/vmlinux)
     */
    public static BpfObject open(byte[] elf, String name, String btfPath) {
        LibbpfLog.install();
        Arena arena = Arena.ofShared();
        try {
            MemorySegment buf = arena.allocate(elf.length, 8);
            buf.copyFrom(MemorySegment.ofArray(elf));
            MemorySegment opts = arena.allocate(Libbpf.OPEN_OPTS);
            opts.set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, Libbpf.OPEN_OPTS.byteSize());
            opts.set(
                    java.lang.foreign.ValueLayout.ADDRESS,
                    Libbpf.OPEN_OPTS.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("object_name")),
                    arena.allocateFrom(name));
            if (btfPath != null) {
                opts.set(
                        java.lang.foreign.ValueLayout.ADDRESS,
                        Libbpf.OPEN_OPTS.byteOffset(
                                java.lang.foreign.MemoryLayout.PathElement.groupElement("btf_custom_path")),
                        arena.allocateFrom(btfPath));
            }
            LibbpfLog.mark();
            MemorySegment obj = Libbpf.objectOpenMem(buf, elf.length, opts);
            if (obj.equals(MemorySegment.NULL)) {
                int err = Libbpf.lastErrno();
                throw new BpfException("cannot open the BPF object " + name + ": " + Errno.describe(err)
                        + ": rebuild it (./sockflow build) with clang >= 14 and libbpf headers");
            }
            return new BpfObject(arena, obj);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public List<String> programNames() {
        return List.copyOf(programs.keySet());
    }

    public String section(String program) {
        return Libbpf.programSection(program(program));
    }

    private MemorySegment program(String name) {
        MemorySegment p = programs.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no program " + name + " in the object");
        }
        return p;
    }

    /** Keeps a program from being loaded (before {@link #load()}). */
    public void disable(String program) {
        checkNotLoaded();
        Libbpf.programSetAutoload(program(program), false);
        programs.remove(program);
    }

    public MemorySegment map(String name) {
        MemorySegment m = Libbpf.objectFindMap(obj, arena.allocateFrom(name));
        if (m.equals(MemorySegment.NULL)) {
            throw new IllegalArgumentException("no map " + name + " in the object");
        }
        return m;
    }

    public void setMaxEntries(String map, int entries) {
        checkNotLoaded();
        int rc = Libbpf.mapSetMaxEntries(map(map), entries);
        if (rc < 0) {
            throw new BpfException("cannot size map " + map + " to " + entries + ": " + Errno.describe(-rc));
        }
    }

    /** The writable initial value of the object's .rodata (its const volatile globals), before load. */
    public MemorySegment rodata() {
        checkNotLoaded();
        for (MemorySegment m = Libbpf.objectNextMap(obj, MemorySegment.NULL);
                !m.equals(MemorySegment.NULL);
                m = Libbpf.objectNextMap(obj, m)) {
            String n = Libbpf.mapName(m);
            if (n != null && n.endsWith(".rodata")) {
                return Libbpf.mapInitialValue(m, arena);
            }
        }
        throw new IllegalStateException("the BPF object has no .rodata");
    }

    public int mapFd(String name) {
        return Libbpf.mapFd(map(name));
    }

    public int programFd(String name) {
        return Libbpf.programFd(program(name));
    }

    /** Loads every enabled program into the kernel; a refusal carries the verifier's reason. */
    public void load() {
        checkNotLoaded();
        LibbpfLog.mark();
        int rc = Libbpf.objectLoad(obj);
        if (rc < 0) {
            int err = -rc;
            if (err == Errno.EPERM || err == Errno.EACCES && LibbpfLog.verifierReason() == null) {
                throw new BpfException(
                        "permission denied loading BPF programs (" + Errno.name(err)
                                + "): run as root, or grant CAP_BPF, CAP_PERFMON and CAP_DAC_READ_SEARCH (and CAP_NET_ADMIN for the cgroup hooks) "
                                + "(see README, Security)",
                        4);
            }
            String why = LibbpfLog.verifierReason();
            throw new BpfException("the kernel refused sockflow's BPF programs (" + Errno.describe(err) + ")"
                    + (why != null ? ": " + why : "")
                    + ": report it with the output of `--log-level debug` and `uname -r`");
        }
        loaded = true;
    }

    /** Attaches one program at the hook its section names. */
    public Link attach(String program) {
        if (!loaded) {
            throw new IllegalStateException("load() before attach()");
        }
        MemorySegment p = program(program);
        MemorySegment l = Libbpf.programAttach(p);
        if (l.equals(MemorySegment.NULL)) {
            int err = Libbpf.lastErrno();
            String section = Libbpf.programSection(p);
            if (err == Errno.EACCES || err == Errno.EPERM) {
                throw new BpfException(
                        "permission denied attaching " + section + " (" + Errno.name(err)
                                + "): tracefs needs CAP_DAC_READ_SEARCH besides CAP_BPF and CAP_PERFMON, or run as root",
                        4);
            }
            throw new BpfException("cannot attach " + section + ": " + Errno.describe(err)
                    + ": check that the tracepoint exists under /sys/kernel/tracing/events");
        }
        Link link = new Link(program, Libbpf.programSection(p), l);
        links.add(link);
        return link;
    }

    /** Attaches a cgroup program to the cgroup whose directory is open at {@code cgroupFd}. */
    public Link attachCgroup(String program, int cgroupFd) {
        if (!loaded) {
            throw new IllegalStateException("load() before attach()");
        }
        MemorySegment p = program(program);
        MemorySegment l = Libbpf.programAttachCgroup(p, cgroupFd);
        String section = Libbpf.programSection(p);
        if (l.equals(MemorySegment.NULL)) {
            int err = Libbpf.lastErrno();
            if (err == Errno.EACCES || err == Errno.EPERM) {
                throw new BpfException(
                        "permission denied attaching " + section + " (" + Errno.name(err)
                                + "): cgroup programs need CAP_NET_ADMIN besides CAP_BPF and CAP_PERFMON, or run as root",
                        4);
            }
            throw new BpfException("cannot attach " + section + " to the cgroup v2 root: " + Errno.describe(err));
        }
        Link link = new Link(program, section, l);
        links.add(link);
        return link;
    }

    /** Attaches an iterator program (no runs yet): {@link #runIterator} runs it, as often as wanted. */
    public Link attachIter(String program) {
        if (!loaded) {
            throw new IllegalStateException("load() before attach()");
        }
        MemorySegment p = program(program);
        MemorySegment l = Libbpf.programAttachIter(p);
        if (l.equals(MemorySegment.NULL)) {
            throw new BpfException("cannot attach the iterator " + Libbpf.programSection(p) + ": "
                    + Errno.describe(Libbpf.lastErrno()));
        }
        Link link = new Link(program, Libbpf.programSection(p), l);
        links.add(link);
        return link;
    }

    /**
     * Runs an attached iterator once over the kernel's table and returns what it wrote. A run needs no privilege
     * beyond the link, so the collector can run it after it has dropped its capabilities.
     */
    public synchronized byte[] runIterator(String program) {
        Link link = null;
        for (Link l : links) {
            if (l.program().equals(program)) {
                link = l;
            }
        }
        if (link == null) {
            throw new IllegalStateException("the iterator " + program + " is not attached");
        }
        int fd = Libbpf.iterCreate(Libbpf.linkFd(link.handle()));
        if (fd < 0) {
            throw new BpfException("cannot run the iterator " + link.section() + ": " + Errno.describe(-fd));
        }
        try (Arena a = Arena.ofConfined()) {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(1 << 16);
            MemorySegment buf = a.allocate(1 << 16);
            byte[] chunk = new byte[1 << 16];
            while (true) {
                long n = io.sockflow.collector.sys.Libc.read(fd, buf, buf.byteSize());
                if (n < 0) {
                    throw new BpfException("reading the iterator " + link.section() + ": " + Errno.describe((int) -n));
                }
                if (n == 0) {
                    return out.toByteArray();
                }
                MemorySegment.copy(buf, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, chunk, 0, (int) n);
                out.write(chunk, 0, (int) n);
            }
        } finally {
            io.sockflow.collector.sys.Libc.close(fd);
        }
    }

    public List<Link> links() {
        return List.copyOf(links);
    }

    private void checkNotLoaded() {
        if (loaded) {
            throw new IllegalStateException("already loaded");
        }
    }

    /**
     * Destroys every link: the programs stay loaded but no longer run. The links are independent tracepoints, and
     * the kernel waits for an RCU grace period as each one is unregistered (about 50 ms here), so they are
     * destroyed concurrently: one grace period for all of them instead of one each.
     */
    public synchronized void detach() {
        if (links.isEmpty()) {
            return;
        }
        List<Thread> threads = new ArrayList<>();
        for (int i = links.size() - 1; i >= 0; i--) {
            MemorySegment handle = links.get(i).handle();
            threads.add(Thread.ofPlatform().name("sockflow-detach").start(() -> Libbpf.linkDestroy(handle)));
        }
        boolean interrupted = false;
        for (Thread t : threads) {
            while (t.isAlive()) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        links.clear();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        detach();
        Libbpf.objectClose(obj);
        arena.close();
    }
}
