package io.sockflow.collector;

import io.sockflow.collector.capture.Capture;
import io.sockflow.collector.capture.CaptureOptions;
import io.sockflow.collector.capture.KernelCounters;
import io.sockflow.collector.decode.HostInfo;
import io.sockflow.collector.decode.SocketEventDecoder;
import io.sockflow.collector.sockets.SocketCapture;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * A real capture of this test JVM's own socket calls (the collector's usual self-exclusion is off and the
 * capture is limited to this pid, unless other pids are given), decoded and passed through the collector's socket
 * tracker (inventory, owners, ends, sweep) into a list the test inspects.
 */
public final class LiveCapture implements AutoCloseable {
    public final Capture capture;
    public final SocketCapture sockets;
    private final List<SocketEvent> events = new CopyOnWriteArrayList<>();
    private final HostInfo host = HostInfo.local(null);

    public LiveCapture() {
        this(CaptureOptions.defaults());
    }

    public LiveCapture(CaptureOptions base) {
        this(base, List.of((int) ProcessHandle.current().pid()));
    }

    /** A capture of these processes, kernel events attributed to their sockets' owners. */
    public LiveCapture(CaptureOptions base, List<Integer> pids) {
        this(base.withExcludeSelf(false).withPidInclude(pids), Duration.ZERO);
    }

    /** A capture with exactly these options (pid filters included), and a sweep at this interval (zero: none). */
    public LiveCapture(CaptureOptions options, Duration sweep) {
        sockets = new SocketCapture(options, new SocketEventDecoder(host), sweep, events::add);
        capture = sockets.capture();
    }

    /** Reads the kernel's aggregated counters now, attributed like the other kernel events. */
    public List<SocketEvent> readCounters() {
        int before = events.size();
        sockets.counters(new KernelCounters(capture, host).read());
        sockets.flush();
        return new ArrayList<>(events.subList(before, events.size()));
    }

    /** Emits the kernel events still waiting for their owner. */
    public void flushOwners() {
        sockets.flush();
    }

    public LiveCapture start() {
        sockets.start();
        return this;
    }

    public List<SocketEvent> events() {
        return new ArrayList<>(events);
    }

    public List<SocketEvent> of(int tid) {
        return events().stream().filter(e -> e.getTid() == tid).toList();
    }

    /** Waits until an event matching {@code p} has arrived. */
    public SocketEvent await(Predicate<SocketEvent> p, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (SocketEvent e : events) {
                if (p.test(e)) {
                    return e;
                }
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        throw new AssertionError("no matching event within " + timeout + "; got " + events.size() + " events: "
                + events.stream()
                        .map(e -> e.getKind() + "(" + e.getPid() + "," + e.getSocketCookie() + ")")
                        .toList());
    }

    private static final java.util.concurrent.atomic.AtomicInteger MARK =
            new java.util.concurrent.atomic.AtomicInteger(0x5f10_0000);

    /**
     * Waits for a marker call made now on this thread (setsockopt with a value never used before); a thread's
     * records arrive in order, so every earlier call of the thread is in once it is.
     */
    public void barrier(int tid) {
        int mark = MARK.incrementAndGet();
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            long fd = Sys.ok(Sys.SOCKET, Sys.AF_INET, Sys.SOCK_DGRAM, 0);
            Sys.call(Sys.SETSOCKOPT, fd, 0xffff, 0x7fff, Sys.addr(Sys.intValue(a, mark)), 4);
            Sys.ok(Sys.CLOSE, fd);
        }
        await(
                e -> e.getTid() == tid
                        && e.getKind() == EventKind.SETSOCKOPT
                        && e.getOptionValue() != null
                        && e.getOptionValue() == mark,
                Duration.ofSeconds(10));
    }

    /** Now, on the kernel's boot clock: events of calls made after this have a later monotonicNs. */
    public static long now() {
        return io.sockflow.collector.sys.Libc.clockNanos(io.sockflow.collector.sys.Libc.CLOCK_BOOTTIME);
    }

    /** Events of a thread since {@code sinceNs}, without the barrier calls' own records. */
    public List<SocketEvent> since(int tid, long sinceNs) {
        List<SocketEvent> all =
                of(tid).stream().filter(e -> e.getMonotonicNs() >= sinceNs).toList();
        java.util.Set<Long> markers = new java.util.HashSet<>();
        for (SocketEvent e : all) {
            if (e.getKind() == EventKind.SETSOCKOPT
                    && "65535".equals(e.getOptionLevel())
                    && e.getSocketInode() != null) {
                markers.add(e.getSocketInode());
            }
        }
        // the marker socket's socket/setsockopt/close and its release, in whatever order the kernel wrote them
        return all.stream()
                .filter(e -> e.getSocketInode() == null || !markers.contains(e.getSocketInode()))
                .toList();
    }

    @Override
    public void close() {
        sockets.close();
    }
}
