package io.sockflow.collector.capture;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import io.sockflow.collector.bpf.BpfException;
import io.sockflow.collector.bpf.BpfObject;
import io.sockflow.collector.bpf.EventLayout;
import io.sockflow.collector.bpf.KernelContract;
import io.sockflow.collector.bpf.Libbpf;
import io.sockflow.collector.bpf.LibbpfLog;
import io.sockflow.collector.bpf.RingBufferReader;
import io.sockflow.collector.sys.Errno;
import io.sockflow.collector.sys.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A live capture: sockflow's programs loaded and attached, and a reader on their ring buffer. Closing it detaches
 * every program, hands the sink what is still queued, then unloads everything; nothing of sockflow stays in the
 * kernel.
 */
public final class Capture implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Capture.class);
    public static final String OBJECT_RESOURCE = KernelContract.OBJECT;
    /** Programs a kernel may refuse one at a time before the capture gives up. */
    private static final int MAX_REFUSALS = 16;

    private final BpfObject object;
    private final RingBufferReader reader;
    private final List<String> missing;
    private final Map<String, String> switchedOff;
    private final KernelFeatures kernel;
    private final String objectResource;
    private final int countersFd;
    private boolean detached;
    private final int cpus;
    /** The one network namespace recorded (its inode), 0: every one. */
    private final long netns;

    private boolean closed;

    /** Kernel and reader counters: submitted = received + dropped once the buffer is drained. */
    public record Stats(
            long submitted,
            long dropped,
            long orphanExits,
            long received,
            long sinkErrors,
            long walkCuts,
            long totalsFull) {
        public Stats(long submitted, long dropped, long orphanExits, long received, long sinkErrors) {
            this(submitted, dropped, orphanExits, received, sinkErrors, 0, 0);
        }

        public Stats(long submitted, long dropped, long orphanExits, long received, long sinkErrors, long walkCuts) {
            this(submitted, dropped, orphanExits, received, sinkErrors, walkCuts, 0);
        }

        /** Records handed over by the kernel that have not been read yet. */
        public long inFlight() {
            return submitted - dropped - received;
        }
    }

    private Capture(
            BpfObject object,
            RingBufferReader reader,
            List<String> missing,
            Map<String, String> switchedOff,
            KernelFeatures kernel,
            String objectResource,
            long netns) {
        this.object = object;
        this.netns = netns;
        this.reader = reader;
        this.missing = missing;
        this.switchedOff = switchedOff;
        this.kernel = kernel;
        this.objectResource = objectResource;
        this.countersFd = object.mapFd("counters");
        this.cpus = Libbpf.numPossibleCpus();
    }

    /**
     * Loads, attaches and opens the reader; records are handed to {@code sink} by whoever polls. Programs this kernel
     * cannot run are switched off before load (asked of its BTF), and a program the verifier still refuses is switched
     * off with its reason and the rest loaded again: one program never takes the others down.
     */
    public static Capture open(CaptureOptions o, RingBufferReader.RecordSink sink) {
        long t0 = System.nanoTime();
        Preflight.checkAll(o);
        TracepointCatalog catalog = o.catalog() != null ? o.catalog() : TracepointCatalog.tracefs(o.tracefsPath());
        long t1 = System.nanoTime();
        KernelFeatures kernel = o.features() != null ? o.features() : KernelFeatures.probe(o.btfPath());
        LOG.debug(
                "preflight and tracepoints {} ms, the kernel's BTF read {} ms",
                (t1 - t0) / 1_000_000,
                (System.nanoTime() - t1) / 1_000_000);
        String resource = kernel.has("kfunc-rdonly-cast") ? KernelContract.OBJECT : KernelContract.COMPAT_OBJECT;
        byte[] elf = KernelContract.objectBytes(resource);
        Map<String, String> refusedByVerifier = new LinkedHashMap<>();
        boolean netAdmin = Preflight.mayAttachCgroupPrograms();
        if (netAdmin && kernel.cgroup2() != null && kernel.has("cgroup-task-storage")) {
            long t2 = System.nanoTime();
            probeCgroupTaskStorage(elf, o, kernel);
            LOG.debug("cgroup task storage probed in {} ms", (System.nanoTime() - t2) / 1_000_000);
        }
        if (kernel.wantsLengthFallback()) {
            long t2 = System.nanoTime();
            probeLengthFallback(elf, o, kernel);
            LOG.debug("the length tracepoints' fallback probed in {} ms", (System.nanoTime() - t2) / 1_000_000);
        }
        for (int attempt = 0; ; attempt++) {
            // asked again each time: a refusal can change what this kernel is known to lack
            Map<String, String> off = new LinkedHashMap<>(refusedByVerifier);
            BpfObject obj = BpfObject.open(
                    elf,
                    "sockflow",
                    o.btfPath().equals(CaptureOptions.DEFAULT_BTF)
                            ? null
                            : o.btfPath().toString());
            try {
                List<String> missing = disableMissing(obj, catalog);
                disableGroups(obj, o.groups());
                if (o.aggregate()) {
                    disableForAggregate(obj);
                }
                for (String p : obj.programNames()) {
                    String why = off.containsKey(p) ? off.get(p) : kernel.refusal(p, obj.section(p));
                    if (why == null && !netAdmin && obj.section(p).startsWith("cgroup/")) {
                        why = "cgroup programs need CAP_NET_ADMIN: inet sockets end when their last descriptor goes "
                                + "(close, exit, exec), and io_uring-made sockets are not seen being made";
                    }
                    if (why != null) {
                        off.put(p, why);
                        obj.disable(p);
                    }
                }
                obj.setMaxEntries("events", o.ringBufferBytes());
                writeConfig(obj.rodata(), o, obj.programNames());
                try {
                    obj.load();
                } catch (BpfException refused) {
                    String failed = LibbpfLog.failedProgram();
                    if (failed == null || attempt >= MAX_REFUSALS || refused.exitCode() == Preflight.EXIT_PRIVILEGES) {
                        throw refused;
                    }
                    String why = LibbpfLog.verifierReason();
                    if (KernelFeatures.PLAIN_CGROUP.containsKey(failed)
                            && why != null
                            && why.contains("task_storage")
                            && kernel.has("cgroup-task-storage")) {
                        // one load tells it for both hooks: their variants without task storage go in together
                        kernel.lacks("cgroup-task-storage");
                        obj.close();
                        continue;
                    }
                    refusedByVerifier.put(failed, "the kernel refused it" + (why != null ? ": " + why : ""));
                    for (String partner : partners(failed)) {
                        refusedByVerifier.putIfAbsent(partner, "its partner " + failed + " was refused");
                    }
                    obj.close();
                    continue;
                }
                attachAll(obj, kernel);
                RingBufferReader reader = new RingBufferReader(obj.mapFd("events"), sink);
                Map<String, String> switchedOff = new LinkedHashMap<>(off);
                // of the two variants of one program, the one not loaded is no loss
                switchedOff.values().removeIf(why -> why.contains("is loaded instead"));
                LOG.info(
                        "attached {} programs ({}){}",
                        obj.links().size(),
                        resource.substring(resource.lastIndexOf('/') + 1),
                        missing.isEmpty() ? "" : " (" + missing.size() + " tracepoints missing: " + missing + ")");
                return new Capture(obj, reader, missing, switchedOff, kernel, resource, o.netns());
            } catch (RuntimeException e) {
                obj.close();
                throw e;
            }
        }
    }

    /**
     * Whether this kernel lets cgroup programs use task storage (nothing in its BTF says): the release hook alone is
     * loaded and unloaded, which costs one small program where a refused whole load would cost them all.
     */
    private static void probeCgroupTaskStorage(byte[] elf, CaptureOptions o, KernelFeatures kernel) {
        BpfObject obj = BpfObject.open(
                elf,
                "sockflow",
                o.btfPath().equals(CaptureOptions.DEFAULT_BTF)
                        ? null
                        : o.btfPath().toString());
        try {
            for (String p : obj.programNames()) {
                if (!p.equals("sock_release")) {
                    obj.disable(p);
                }
            }
            obj.setMaxEntries("events", 4096);
            writeConfig(obj.rodata(), o);
            obj.load();
        } catch (BpfException refused) {
            String why = LibbpfLog.verifierReason();
            if (why != null && why.contains("task_storage")) {
                kernel.lacks("cgroup-task-storage");
            }
            // anything else is for the real load to meet and say
        } finally {
            obj.close();
        }
    }

    /**
     * Whether the fallback for the missing length tracepoints (fexit on tcp_sendmsg and tcp_recvmsg) loads and attaches
     * here: some kernels refuse fexit programs (no BPF trampoline, lockdown), and the data path is set at load by
     * whether they are there, so it is asked before, of the two programs alone.
     */
    private static void probeLengthFallback(byte[] elf, CaptureOptions o, KernelFeatures kernel) {
        BpfObject obj = BpfObject.open(
                elf,
                "sockflow",
                o.btfPath().equals(CaptureOptions.DEFAULT_BTF)
                        ? null
                        : o.btfPath().toString());
        try {
            for (String p : obj.programNames()) {
                if (!KernelFeatures.LENGTH_FALLBACK_PROGRAMS.containsKey(p)) {
                    obj.disable(p);
                }
            }
            obj.setMaxEntries("events", 4096);
            writeConfig(obj.rodata(), o);
            obj.load();
            for (String p : obj.programNames()) {
                obj.attach(p);
            }
            kernel.lengthFallback(true, null);
        } catch (BpfException refused) {
            String why = LibbpfLog.verifierReason();
            kernel.lengthFallback(false, why != null ? why : refused.getMessage());
        } finally {
            obj.close();
        }
    }

    /** Programs that only make sense together: a call's enter and exit, the length fallback's send and receive. */
    static List<String> partners(String program) {
        if (program.equals("tcp_sendmsg_length")) {
            return List.of("tcp_recvmsg_length");
        }
        if (program.equals("tcp_recvmsg_length")) {
            return List.of("tcp_sendmsg_length");
        }
        if (program.startsWith("sys_enter_")) {
            return List.of("sys_exit_" + program.substring("sys_enter_".length()));
        }
        if (program.startsWith("sys_exit_")) {
            return List.of("sys_enter_" + program.substring("sys_exit_".length()));
        }
        return List.of();
    }

    private static void attachAll(BpfObject obj, KernelFeatures kernel) {
        int cgroupFd = -1;
        try {
            for (String p : obj.programNames()) {
                String section = obj.section(p);
                if (section.startsWith("iter/")) {
                    obj.attachIter(p); // run on demand (the inventory, the sweep), without privileges, from the link
                    continue;
                }
                if (section.startsWith("cgroup/")) {
                    if (cgroupFd < 0) {
                        cgroupFd = Libc.open(
                                kernel.cgroup2().toString(), Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC);
                        if (cgroupFd < 0) {
                            throw new BpfException("cannot open the cgroup v2 root " + kernel.cgroup2() + ": "
                                    + Errno.describe(-cgroupFd));
                        }
                    }
                    obj.attachCgroup(p, cgroupFd); // the link holds the cgroup; the descriptor can go
                } else {
                    obj.attach(p);
                }
            }
        } finally {
            if (cgroupFd >= 0) {
                Libc.close(cgroupFd);
            }
        }
    }

    /**
     * Disables the programs whose tracepoint this kernel lacks, with their enter/exit partner, so the rest still
     * runs; warns once per missing call.
     */
    static List<String> disableMissing(BpfObject obj, TracepointCatalog catalog) {
        Set<String> calls = new TreeSet<>();
        for (String p : obj.programNames()) {
            String section = obj.section(p);
            if (!section.startsWith("tracepoint/")) {
                continue;
            }
            String[] parts = section.substring("tracepoint/".length()).split("/", 2);
            if (parts.length == 2 && !catalog.exists(parts[0], parts[1])) {
                if (parts[0].equals("syscalls")) {
                    calls.add(callOf(parts[1]));
                    LOG.warn(
                            "tracepoint {}/{} is missing on this kernel: {} is not captured",
                            parts[0],
                            parts[1],
                            callOf(parts[1]));
                } else {
                    calls.add(parts[0] + ":" + parts[1]);
                    LOG.warn("tracepoint {}/{} is missing on this kernel: its records are skipped", parts[0], parts[1]);
                    obj.disable(p);
                }
            }
        }
        for (String p : obj.programNames()) {
            String section = obj.section(p);
            String tp = section.substring(section.lastIndexOf('/') + 1);
            if (section.startsWith("tracepoint/syscalls/") && calls.contains(callOf(tp))) {
                obj.disable(p);
            }
        }
        return List.copyOf(calls);
    }

    /** Programs of kernel tracepoint groups that are switched off are not even loaded. */
    static void disableGroups(BpfObject obj, Set<String> groups) {
        for (String p : obj.programNames()) {
            String section = obj.section(p);
            if (!section.startsWith("tracepoint/") || section.startsWith("tracepoint/syscalls/")) {
                continue; // tp_btf programs check their group themselves: the TCP state hook also makes cookies
            }
            String category = section.split("/")[1];
            if (!groups.contains(category)) {
                obj.disable(p);
            }
        }
    }

    /**
     * What the aggregate data path leaves out: tcp_destroy_sock (no consumer reads TCP_DESTROY; a socket's end is its
     * SOCK_RELEASE) and tcp_probe (run on every segment received; a socket's RTT range and congestion window ride
     * on its SOCK_TOTALS instead of a TCP_RTT record). Per-call mode keeps both.
     */
    static void disableForAggregate(BpfObject obj) {
        for (String p : List.of("tcp_destroy_sock", "tcp_probe")) {
            if (obj.programNames().contains(p)) {
                obj.disable(p);
            }
        }
    }

    private static String callOf(String tracepoint) {
        return tracepoint.replaceFirst("^sys_(enter|exit)_", "");
    }

    static void writeConfig(MemorySegment rodata, CaptureOptions o) {
        writeConfig(rodata, o, List.of());
    }

    /** @param loaded the programs that will be loaded: whether the length tracepoints do the summing */
    static void writeConfig(MemorySegment rodata, CaptureOptions o, List<String> loaded) {
        KernelContract.Struct cfg = EventLayout.CONFIG;
        if (rodata.byteSize() < cfg.size()) {
            throw new IllegalStateException(
                    ".rodata is " + rodata.byteSize() + " bytes, sf_config needs " + cfg.size());
        }
        List<Integer> exclude = new ArrayList<>(o.pidExclude());
        if (o.excludeSelf()) {
            exclude.add((int) ProcessHandle.current().pid());
        }
        putPids(rodata, "pid_include", "pid_include_count", o.pidInclude());
        putPids(rodata, "pid_exclude", "pid_exclude_count", exclude);
        putCgroups(rodata, "cgroup_include", "cgroup_include_count", o.cgroupInclude());
        putCgroups(rodata, "cgroup_exclude", "cgroup_exclude_count", o.cgroupExclude());
        // the kernel never wakes the reader (a wakeup per record costs microseconds); it polls every few ms
        rodata.set(JAVA_LONG_UNALIGNED, cfg.offset("wakeup_bytes"), 1L);
        int groups = 0;
        for (int i = 0; i < EventLayout.GROUPS.size(); i++) {
            if (o.groups().contains(EventLayout.GROUPS.get(i))) {
                groups |= 1 << i;
            }
        }
        rodata.set(JAVA_INT_UNALIGNED, cfg.offset("groups"), groups);
        int dataPath = 0;
        if (o.aggregate()) {
            dataPath = EventLayout.DATA_PATH_AGGREGATE;
            if (o.groups().contains("sock")
                    && loaded.contains("sock_send_length")
                    && loaded.contains("sock_recv_length")) {
                dataPath |= EventLayout.DATA_PATH_LENGTH_HOOKS; // they see read() and write() too
            } else if (o.groups().contains("sock")
                    && loaded.contains("tcp_sendmsg_length")
                    && loaded.contains("tcp_recvmsg_length")) {
                // the fallback sees read() and write() too, of TCP sockets only
                dataPath |= EventLayout.DATA_PATH_LENGTH_HOOKS | EventLayout.DATA_PATH_LENGTH_TCP_ONLY;
            }
        }
        rodata.set(JAVA_INT_UNALIGNED, cfg.offset("data_path"), dataPath);
        if (o.netns() < 0 || o.netns() > 0xffff_ffffL) {
            throw new IllegalArgumentException("a network namespace's inode is a 32-bit number, got " + o.netns());
        }
        rodata.set(JAVA_INT_UNALIGNED, cfg.offset("netns_include"), (int) o.netns());
    }

    private static void putPids(MemorySegment ro, String list, String count, List<Integer> pids) {
        if (pids.size() > EventLayout.FILTER_PIDS) {
            throw new IllegalArgumentException("at most " + EventLayout.FILTER_PIDS + " pids in "
                    + list.replace('_', '-') + ", got " + pids.size());
        }
        long base = EventLayout.CONFIG.offset(list);
        for (int i = 0; i < pids.size(); i++) {
            ro.set(JAVA_INT_UNALIGNED, base + 4L * i, pids.get(i));
        }
        ro.set(JAVA_INT_UNALIGNED, EventLayout.CONFIG.offset(count), pids.size());
    }

    private static void putCgroups(MemorySegment ro, String list, String count, List<Long> ids) {
        if (ids.size() > EventLayout.FILTER_CGROUPS) {
            throw new IllegalArgumentException("at most " + EventLayout.FILTER_CGROUPS + " cgroups in "
                    + list.replace('_', '-') + ", got " + ids.size());
        }
        long base = EventLayout.CONFIG.offset(list);
        for (int i = 0; i < ids.size(); i++) {
            ro.set(JAVA_LONG_UNALIGNED, base + 8L * i, ids.get(i));
        }
        ro.set(JAVA_INT_UNALIGNED, EventLayout.CONFIG.offset(count), ids.size());
    }

    /**
     * Runs the start-up inventory: first the iterators that give every existing socket of their families a cookie,
     * then the walk of every process's descriptors, whose records (one per socket descriptor, the same layout as the
     * ring buffer's) go to {@code sink} in the order the kernel wrote them. The socket iterators see the network
     * namespace they run in only, so for the sockets of other namespaces (containers) they run again from inside each
     * of those, on a thread that enters it, and the descriptors are walked once more. A capture scoped to one network
     * namespace keeps the sockets of that one only. Returns how many records there were; 0 when this kernel has no
     * task_file iterator.
     */
    public int inventory(RingBufferReader.RecordSink sink) {
        long t0 = System.nanoTime();
        runCookieIterators();
        long t1 = System.nanoTime();
        byte[] walked = walk();
        LOG.debug(
                "inventory: cookie iterators {} ms, descriptor walk {} ms ({} records)",
                (t1 - t0) / 1_000_000,
                (System.nanoTime() - t1) / 1_000_000,
                walked.length / (int) EventLayout.SIZE);
        long ownNetns = ownNetns();
        Map<Long, Integer> foreign = new LinkedHashMap<>();
        int size = (int) EventLayout.SIZE;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment seg = a.allocate(Math.max(walked.length, 1), 8);
            MemorySegment.copy(walked, 0, seg, ValueLayout.JAVA_BYTE, 0, walked.length);
            for (int i = 0; i < walked.length / size; i++) {
                MemorySegment rec = seg.asSlice((long) i * size, size);
                long netns = Integer.toUnsignedLong(EventLayout.s32(rec, EventLayout.NETNS));
                if (EventLayout.u64(rec, EventLayout.COOKIE) == 0 && netns != 0 && netns != ownNetns) {
                    foreign.putIfAbsent(netns, EventLayout.s32(rec, EventLayout.PID));
                }
            }
        }
        int entered = 0;
        for (Map.Entry<Long, Integer> ns : foreign.entrySet()) {
            if (inNamespaceOf(ns.getValue(), this::runCookieIterators)) {
                entered++;
            }
        }
        if (entered > 0) {
            walked = walk(); // the foreign namespaces' sockets have their cookies now
        }
        LOG.debug("inventory: {} foreign network namespaces entered for cookies", entered);
        return deliver(walked, sink);
    }

    private void runCookieIterators() {
        for (String p : List.of("cookies_tcp", "cookies_udp", "cookies_unix", "cookies_netlink")) {
            if (object.programNames().contains(p)) {
                object.runIterator(p);
            }
        }
    }

    private static long ownNetns() {
        try {
            return (Long) java.nio.file.Files.getAttribute(java.nio.file.Path.of("/proc/self/ns/net"), "unix:ino");
        } catch (Exception e) {
            return 0;
        }
    }

    /**
     * Runs {@code work} on a thread of its own that has entered the network namespace of {@code pid} (setns affects
     * only the calling thread). False when it could not enter (the process is gone, or no CAP_SYS_ADMIN).
     */
    private static boolean inNamespaceOf(int pid, Runnable work) {
        boolean[] done = {false};
        Thread t = Thread.ofPlatform().name("sockflow-netns").start(() -> {
            int fd = Libc.open("/proc/" + pid + "/ns/net", Libc.O_RDONLY | Libc.O_CLOEXEC);
            if (fd < 0) {
                return;
            }
            try {
                if (Libc.setns(fd, Libc.CLONE_NEWNET) == 0) {
                    work.run();
                    done[0] = true;
                }
            } finally {
                Libc.close(fd);
            }
        });
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return done[0]; // the thread ends inside the namespace: nothing else ran on it
    }

    /** One walk of every process's socket descriptors (the inventory's last step; the sweep's only one). */
    public int walkDescriptors(RingBufferReader.RecordSink sink) {
        return deliver(walk(), sink);
    }

    private byte[] walk() {
        byte[] all = object.programNames().contains("inventory") ? object.runIterator("inventory") : new byte[0];
        return netns == 0 ? all : inNetns(all, netns);
    }

    /** The records of sockets of one network namespace, in their order. */
    static byte[] inNetns(byte[] all, long netns) {
        int size = (int) EventLayout.SIZE;
        java.io.ByteArrayOutputStream kept = new java.io.ByteArrayOutputStream();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment seg = a.allocate(Math.max(all.length, 1), 8);
            MemorySegment.copy(all, 0, seg, ValueLayout.JAVA_BYTE, 0, all.length);
            for (int i = 0; i < all.length / size; i++) {
                MemorySegment rec = seg.asSlice((long) i * size, size);
                if (Integer.toUnsignedLong(EventLayout.s32(rec, EventLayout.NETNS)) == netns) {
                    kept.write(all, i * size, size);
                }
            }
        }
        return kept.toByteArray();
    }

    private static int deliver(byte[] all, RingBufferReader.RecordSink sink) {
        int size = (int) EventLayout.SIZE;
        int n = all.length / size;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment seg = a.allocate(Math.max(all.length, 1), 8);
            MemorySegment.copy(all, 0, seg, ValueLayout.JAVA_BYTE, 0, all.length);
            for (int i = 0; i < n; i++) {
                sink.onRecord(seg.asSlice((long) i * size, size));
            }
        }
        return n;
    }

    /**
     * Whether this kernel refuses every bpf() call to a process without CAP_BPF: older kernels do when
     * kernel.unprivileged_bpf_disabled is set (Debian's 6.1 and 6.12 do not), and then a collector that gave up its
     * capabilities could read neither its counters nor run its iterators. Asked from a thread of its own that gives up
     * CAP_BPF and CAP_SYS_ADMIN alone: a lookup in no map (fd -1) is refused (EPERM) before the map is looked for
     * where the kernel gates every call, and fails with EBADF where it does not.
     */
    public static boolean bpfNeedsCapability() {
        boolean[] gated = {false};
        Thread t = Thread.ofPlatform().name("sockflow-bpf-probe").start(() -> {
            if (Libc.dropEffectiveOfThisThread(1L << 39 /* CAP_BPF */ | 1L << 21 /* CAP_SYS_ADMIN */) != 0) {
                return;
            }
            try (Arena a = Arena.ofConfined()) {
                gated[0] = Libbpf.mapLookupElem(-1, a.allocate(8), a.allocate(8))
                        == -io.sockflow.collector.sys.Errno.EPERM;
            }
        });
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return gated[0]; // the thread ends with its reduced set: no other thread ever had it
    }

    /** What this kernel gives and lacks. */
    public KernelFeatures kernel() {
        return kernel;
    }

    /** The programs switched off on this kernel, each with why. */
    public Map<String, String> switchedOff() {
        return switchedOff;
    }

    /** Which of the two objects was loaded. */
    public String objectResource() {
        return objectResource;
    }

    /** Starts the reader's own polling thread. */
    public Capture start() {
        reader.start("sockflow-ringbuf");
        return this;
    }

    /** Polls on the caller's thread (when {@link #start()} was not called). */
    public int poll(int timeoutMs) {
        return reader.poll(timeoutMs);
    }

    /** Reads everything queued now, on the caller's thread. */
    public int drain() {
        int total = 0;
        int n;
        while ((n = reader.consume()) > 0) {
            total += n;
        }
        return total;
    }

    public List<String> missingTracepoints() {
        return missing;
    }

    public List<BpfObject.Link> links() {
        return object.links();
    }

    public int programFd(String name) {
        return object.programFd(name);
    }

    public int mapFd(String name) {
        return object.mapFd(name);
    }

    public int possibleCpus() {
        return cpus;
    }

    public List<String> programNames() {
        return object.programNames();
    }

    /** Sums the per-CPU kernel counters. */
    public Stats stats() {
        long submitted = 0;
        long dropped = 0;
        long orphans = 0;
        long cuts = 0;
        long full = 0;
        KernelContract.Struct c = EventLayout.COUNTERS;
        try (Arena a = Arena.ofConfined()) {
            long stride = (c.size() + 7) & ~7L; // per-CPU values are 8-byte aligned
            MemorySegment key = a.allocate(4);
            MemorySegment values = a.allocate(stride * cpus, 8);
            int rc = Libbpf.mapLookupElem(countersFd, key, values);
            if (rc == 0) {
                for (int cpu = 0; cpu < cpus; cpu++) {
                    long base = cpu * stride;
                    submitted += values.get(JAVA_LONG, base + c.offset("submitted"));
                    dropped += values.get(JAVA_LONG, base + c.offset("dropped"));
                    orphans += values.get(JAVA_LONG, base + c.offset("orphan_exits"));
                    cuts += values.get(JAVA_LONG, base + c.offset("fd_walk_cut"));
                    full += values.get(JAVA_LONG, base + c.offset("totals_full"));
                }
            }
        }
        return new Stats(submitted, dropped, orphans, reader.received(), reader.sinkErrors(), cuts, full);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        detach();
        reader.close();
        object.close(); // programs and maps released
    }

    /** Detaches the programs and hands over what they had queued; the maps stay readable until {@link #close()}. */
    public synchronized void detach() {
        if (detached) {
            return;
        }
        detached = true;
        object.detach(); // no new records
        reader.stop(); // the polling thread ends after its current poll
        drain(); // what the kernel had queued still reaches the sink
    }
}
