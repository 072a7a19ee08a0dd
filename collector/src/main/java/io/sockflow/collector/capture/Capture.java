package io.sockflow.collector.capture;

import io.sockflow.collector.bpf.BpfException;
import io.sockflow.collector.bpf.BpfObject;
import io.sockflow.collector.bpf.EventLayout;
import io.sockflow.collector.bpf.Libbpf;
import io.sockflow.collector.bpf.RingBufferReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.MemoryLayout.PathElement.sequenceElement;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * A live capture: sockflow's programs loaded and attached, and a reader on their ring buffer. Closing it detaches
 * every program, hands the sink what is still queued, then unloads everything; nothing of sockflow stays in the
 * kernel.
 */
public final class Capture implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Capture.class);
    public static final String OBJECT_RESOURCE = "/io/sockflow/bpf/sockflow.bpf.o";

    private final BpfObject object;
    private final RingBufferReader reader;
    private final List<String> missing;
    private final int countersFd;
    private final int cpus;
    private boolean closed;

    /** Kernel and reader counters: submitted = received + dropped once the buffer is drained. */
    public record Stats(long submitted, long dropped, long orphanExits, long received, long sinkErrors) {
        /** Records handed over by the kernel that have not been read yet. */
        public long inFlight() {
            return submitted - dropped - received;
        }
    }

    private Capture(BpfObject object, RingBufferReader reader, List<String> missing) {
        this.object = object;
        this.reader = reader;
        this.missing = missing;
        this.countersFd = object.mapFd("counters");
        this.cpus = Libbpf.numPossibleCpus();
    }

    /** Loads, attaches and opens the reader; records are handed to {@code sink} by whoever polls. */
    public static Capture open(CaptureOptions o, RingBufferReader.RecordSink sink) {
        Preflight.checkAll(o);
        TracepointCatalog catalog = o.catalog() != null ? o.catalog() : TracepointCatalog.tracefs(o.tracefsPath());
        BpfObject obj = BpfObject.open(objectBytes(), "sockflow",
                o.btfPath().equals(CaptureOptions.DEFAULT_BTF) ? null : o.btfPath().toString());
        try {
            List<String> missing = disableMissing(obj, catalog);
            disableGroups(obj, o.groups());
            obj.setMaxEntries("events", o.ringBufferBytes());
            writeConfig(obj.rodata(), o);
            obj.load();
            for (String p : obj.programNames()) {
                obj.attach(p);
            }
            RingBufferReader reader = new RingBufferReader(obj.mapFd("events"), sink);
            LOG.info("attached {} programs{}", obj.links().size(),
                    missing.isEmpty() ? "" : " (" + missing.size() + " tracepoints missing: " + missing + ")");
            return new Capture(obj, reader, missing);
        } catch (RuntimeException e) {
            obj.close();
            throw e;
        }
    }

    static byte[] objectBytes() {
        try (InputStream in = Capture.class.getResourceAsStream(OBJECT_RESOURCE)) {
            if (in == null) {
                throw new BpfException("the BPF object " + OBJECT_RESOURCE + " is not on the class path: "
                        + "build it with ./sockflow build (needs clang and bpftool)", 2);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new BpfException("cannot read the BPF object: " + e.getMessage(), 2);
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
                    LOG.warn("tracepoint {}/{} is missing on this kernel: {} is not captured", parts[0], parts[1],
                            callOf(parts[1]));
                } else {
                    calls.add(parts[0] + ":" + parts[1]);
                    LOG.warn("tracepoint {}/{} is missing on this kernel: its records are skipped", parts[0],
                            parts[1]);
                    obj.disable(p);
                }
            }
        }
        List<String> disabled = new ArrayList<>();
        for (String p : obj.programNames()) {
            String section = obj.section(p);
            String tp = section.substring(section.lastIndexOf('/') + 1);
            if (section.startsWith("tracepoint/syscalls/") && calls.contains(callOf(tp))) {
                obj.disable(p);
                disabled.add(p);
            }
        }
        return List.copyOf(calls);
    }

    /** Programs of kernel tracepoint groups that are switched off are not even loaded. */
    static void disableGroups(BpfObject obj, java.util.Set<String> groups) {
        for (String p : obj.programNames()) {
            String section = obj.section(p);
            if (!section.startsWith("tracepoint/") || section.startsWith("tracepoint/syscalls/")) {
                continue;
            }
            String category = section.split("/")[1];
            if (!groups.contains(category)) {
                obj.disable(p);
            }
        }
    }

    private static String callOf(String tracepoint) {
        return tracepoint.replaceFirst("^sys_(enter|exit)_", "");
    }

    static void writeConfig(MemorySegment rodata, CaptureOptions o) {
        if (rodata.byteSize() < EventLayout.CONFIG.byteSize()) {
            throw new IllegalStateException(".rodata is " + rodata.byteSize() + " bytes, sf_config needs "
                    + EventLayout.CONFIG.byteSize());
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
        rodata.set(JAVA_LONG_UNALIGNED, EventLayout.CONFIG.byteOffset(groupElement("wakeup_bytes")), 1L);
        int groups = 0;
        for (int i = 0; i < EventLayout.GROUPS.size(); i++) {
            if (o.groups().contains(EventLayout.GROUPS.get(i))) {
                groups |= 1 << i;
            }
        }
        rodata.set(JAVA_INT_UNALIGNED, EventLayout.CONFIG.byteOffset(groupElement("groups")), groups);
    }

    private static void putPids(MemorySegment ro, String list, String count, List<Integer> pids) {
        if (pids.size() > EventLayout.FILTER_PIDS) {
            throw new IllegalArgumentException("at most " + EventLayout.FILTER_PIDS + " pids in " + list.replace('_', '-')
                    + ", got " + pids.size());
        }
        for (int i = 0; i < pids.size(); i++) {
            ro.set(JAVA_INT_UNALIGNED, EventLayout.CONFIG.byteOffset(groupElement(list), sequenceElement(i)),
                    pids.get(i));
        }
        ro.set(JAVA_INT_UNALIGNED, EventLayout.CONFIG.byteOffset(groupElement(count)), pids.size());
    }

    private static void putCgroups(MemorySegment ro, String list, String count, List<Long> ids) {
        if (ids.size() > EventLayout.FILTER_CGROUPS) {
            throw new IllegalArgumentException("at most " + EventLayout.FILTER_CGROUPS + " cgroups in "
                    + list.replace('_', '-') + ", got " + ids.size());
        }
        for (int i = 0; i < ids.size(); i++) {
            ro.set(JAVA_LONG_UNALIGNED, EventLayout.CONFIG.byteOffset(groupElement(list), sequenceElement(i)),
                    ids.get(i));
        }
        ro.set(JAVA_INT_UNALIGNED, EventLayout.CONFIG.byteOffset(groupElement(count)), ids.size());
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
        try (Arena a = Arena.ofConfined()) {
            long stride = EventLayout.COUNTERS.byteSize(); // already a multiple of 8, as per-CPU values must be
            MemorySegment key = a.allocate(4);
            MemorySegment values = a.allocate(stride * cpus, 8);
            int rc = Libbpf.mapLookupElem(countersFd, key, values);
            if (rc == 0) {
                for (int cpu = 0; cpu < cpus; cpu++) {
                    submitted += values.get(JAVA_LONG, cpu * stride);
                    dropped += values.get(JAVA_LONG, cpu * stride + 8);
                    orphans += values.get(JAVA_LONG, cpu * stride + 16);
                }
            }
        }
        return new Stats(submitted, dropped, orphans, reader.received(), reader.sinkErrors());
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        object.detach();   // no new records
        reader.stop();     // the polling thread ends after its current poll
        drain();           // what the kernel had queued still reaches the sink
        reader.close();
        object.close();    // programs and maps released
    }
}
