package io.sockflow.collector;

import io.sockflow.collector.capture.Capture;
import io.sockflow.collector.capture.CaptureOptions;
import io.sockflow.collector.decode.HostInfo;
import io.sockflow.collector.decode.SocketEventDecoder;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * A real capture of this test JVM's own socket calls (the collector's usual self-exclusion is off and the
 * capture is limited to this pid), decoded on the reader's thread into a list the test inspects.
 */
public final class LiveCapture implements AutoCloseable {
    public final Capture capture;
    private final List<SocketEvent> events = new CopyOnWriteArrayList<>();

    public LiveCapture() {
        this(CaptureOptions.defaults());
    }

    private final io.sockflow.collector.decode.SocketOwners owners =
            new io.sockflow.collector.decode.SocketOwners(1_000_000_000L, 100_000);
    private final HostInfo host = HostInfo.local(null);

    public LiveCapture(CaptureOptions base) {
        this(base, List.of((int) ProcessHandle.current().pid()));
    }

    /** A capture of these processes, kernel events attributed to their sockets' owners. */
    public LiveCapture(CaptureOptions base, List<Integer> pids) {
        SocketEventDecoder decoder = new SocketEventDecoder(host);
        CaptureOptions o = base.withExcludeSelf(false).withPidInclude(pids);
        capture = Capture.open(o, rec -> {
            synchronized (owners) {
                events.addAll(owners.accept(decoder.decode(rec), System.nanoTime()));
                events.addAll(owners.expire(System.nanoTime()));
            }
        });
    }

    /** Reads the kernel's aggregated counters now, attributed like the other kernel events. */
    public List<SocketEvent> readCounters() {
        List<SocketEvent> out = new ArrayList<>();
        synchronized (owners) {
            for (SocketEvent c : new io.sockflow.collector.capture.KernelCounters(capture, host).read()) {
                out.addAll(owners.accept(c, System.nanoTime()));
            }
            out.addAll(owners.flush());
        }
        events.addAll(out);
        return out;
    }

    /** Emits the kernel events still waiting for their owner. */
    public void flushOwners() {
        synchronized (owners) {
            events.addAll(owners.flush());
        }
    }

    public LiveCapture start() {
        capture.start();
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
        throw new AssertionError("no matching event within " + timeout + "; got " + events.size() + " events");
    }

    private static final java.util.concurrent.atomic.AtomicInteger MARK = new java.util.concurrent.atomic.AtomicInteger(
            0x5f10_0000);

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
        await(e -> e.getTid() == tid && e.getKind() == EventKind.SETSOCKOPT && e.getOptionValue() != null
                && e.getOptionValue() == mark, Duration.ofSeconds(10));
    }

    /** Now, on the kernel's boot clock: events of calls made after this have a later monotonicNs. */
    public static long now() {
        return io.sockflow.collector.sys.Libc.clockNanos(io.sockflow.collector.sys.Libc.CLOCK_BOOTTIME);
    }

    /** Events of a thread since {@code sinceNs}, without the barrier calls' own records. */
    public List<SocketEvent> since(int tid, long sinceNs) {
        List<SocketEvent> out = new ArrayList<>();
        List<SocketEvent> all = of(tid).stream().filter(e -> e.getMonotonicNs() >= sinceNs).toList();
        for (int i = 0; i < all.size(); i++) {
            SocketEvent e = all.get(i);
            if (e.getKind() == EventKind.SETSOCKOPT && "65535".equals(e.getOptionLevel())) {
                // drop the marker socket's socket/setsockopt/close triple
                if (!out.isEmpty() && out.getLast().getKind() == EventKind.SOCKET) {
                    out.removeLast();
                }
                i++;
                continue;
            }
            out.add(e);
        }
        return out;
    }

    @Override
    public void close() {
        capture.close();
    }
}
