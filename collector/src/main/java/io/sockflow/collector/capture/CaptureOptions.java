package io.sockflow.collector.capture;

import java.nio.file.Path;
import java.util.List;

/**
 * What a capture needs to start.
 *
 * @param pidInclude      only these processes (empty: all)
 * @param pidExclude      never these processes
 * @param cgroupInclude   only these cgroup v2 ids (empty: all)
 * @param cgroupExclude   never these cgroup ids
 * @param excludeSelf     add the collector's own pid to pidExclude, so its own traffic never feeds back
 * @param ringBufferBytes size of the kernel ring buffer (a power of two, at least a page)
 * @param btfPath         kernel BTF; /sys/kernel/btf/vmlinux by default
 * @param tracefsPath     where tracefs is (or is to be) mounted
 * @param catalog         which tracepoints exist (tracefs by default)
 * @param groups          kernel tracepoint groups to record: sock, tcp, skb, net, xdp, udp
 * @param features        what the kernel has (its BTF by default; tests pass a reduced one to play an older kernel)
 * @param aggregate       sends and receives of inet sockets summed per socket in the kernel (SOCK_TOTALS records,
 *                        read by {@link SocketTotals}) rather than a record per call; off here, on in the collector
 * @param netns           the inode of the one network namespace recorded (0: every one): calls of tasks in it, kernel
 *                        records of sockets in it, and the inventory's and the sweep's sockets in it
 */
public record CaptureOptions(
        List<Integer> pidInclude,
        List<Integer> pidExclude,
        List<Long> cgroupInclude,
        List<Long> cgroupExclude,
        boolean excludeSelf,
        int ringBufferBytes,
        Path btfPath,
        Path tracefsPath,
        TracepointCatalog catalog,
        java.util.Set<String> groups,
        KernelFeatures features,
        boolean aggregate,
        long netns) {

    public static final Path DEFAULT_BTF = Path.of("/sys/kernel/btf/vmlinux");
    public static final Path DEFAULT_TRACEFS = Path.of("/sys/kernel/tracing");
    public static final int DEFAULT_RING_BUFFER_BYTES = 16 * 1024 * 1024;

    public static CaptureOptions defaults() {
        return new CaptureOptions(
                List.of(),
                List.of(),
                List.of(),
                List.of(),
                true,
                DEFAULT_RING_BUFFER_BYTES,
                DEFAULT_BTF,
                DEFAULT_TRACEFS,
                null,
                java.util.Set.copyOf(io.sockflow.collector.bpf.EventLayout.GROUPS),
                null,
                false,
                0L);
    }

    /** The components as fields, to change a few and build a new record from: one place that lists them all. */
    private static final class Copy {
        List<Integer> pidInclude;
        List<Integer> pidExclude;
        List<Long> cgroupInclude;
        List<Long> cgroupExclude;
        boolean excludeSelf;
        int ringBufferBytes;
        Path btfPath;
        Path tracefsPath;
        TracepointCatalog catalog;
        java.util.Set<String> groups;
        KernelFeatures features;
        boolean aggregate;
        long netns;

        Copy(CaptureOptions o) {
            pidInclude = o.pidInclude;
            pidExclude = o.pidExclude;
            cgroupInclude = o.cgroupInclude;
            cgroupExclude = o.cgroupExclude;
            excludeSelf = o.excludeSelf;
            ringBufferBytes = o.ringBufferBytes;
            btfPath = o.btfPath;
            tracefsPath = o.tracefsPath;
            catalog = o.catalog;
            groups = o.groups;
            features = o.features;
            aggregate = o.aggregate;
            netns = o.netns;
        }

        CaptureOptions build() {
            return new CaptureOptions(
                    pidInclude,
                    pidExclude,
                    cgroupInclude,
                    cgroupExclude,
                    excludeSelf,
                    ringBufferBytes,
                    btfPath,
                    tracefsPath,
                    catalog,
                    groups,
                    features,
                    aggregate,
                    netns);
        }
    }

    private CaptureOptions with(java.util.function.Consumer<Copy> change) {
        Copy c = new Copy(this);
        change.accept(c);
        return c.build();
    }

    public CaptureOptions withGroups(java.util.Set<String> g) {
        return with(c -> c.groups = java.util.Set.copyOf(g));
    }

    public CaptureOptions withPidInclude(List<Integer> pids) {
        return with(c -> c.pidInclude = pids);
    }

    public CaptureOptions withPidExclude(List<Integer> pids) {
        return with(c -> c.pidExclude = pids);
    }

    public CaptureOptions withCgroups(List<Long> include, List<Long> exclude) {
        return with(c -> {
            c.cgroupInclude = include;
            c.cgroupExclude = exclude;
        });
    }

    public CaptureOptions withExcludeSelf(boolean exclude) {
        return with(c -> c.excludeSelf = exclude);
    }

    public CaptureOptions withRingBufferBytes(int bytes) {
        return with(c -> c.ringBufferBytes = bytes);
    }

    public CaptureOptions withBtfPath(Path path) {
        return with(c -> c.btfPath = path);
    }

    public CaptureOptions withTracefsPath(Path path) {
        return with(c -> c.tracefsPath = path);
    }

    public CaptureOptions withFeatures(KernelFeatures f) {
        return with(c -> c.features = f);
    }

    public CaptureOptions withCatalog(TracepointCatalog cat) {
        return with(c -> c.catalog = cat);
    }

    public CaptureOptions withAggregate(boolean on) {
        return with(c -> c.aggregate = on);
    }

    public CaptureOptions withNetns(long inode) {
        return with(c -> c.netns = inode);
    }
}
