package io.sockflow.collector.sockets;

import io.sockflow.collector.bpf.RingBufferReader;
import io.sockflow.collector.capture.Capture;
import io.sockflow.collector.capture.CaptureOptions;
import io.sockflow.collector.decode.SocketEventDecoder;
import io.sockflow.collector.sys.Libc;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A live capture that tells the truth about sockets: the kernel's records, decoded, passed through the
 * {@link SocketTracker}; the start-up inventory first, so that every socket that already existed is known before its
 * first record; and the sweep, a walk of every process's descriptors at an interval (and soon after an owner exits
 * while others hold its socket), which ends what went unseen and names new owners. Everything runs under this
 * object's lock, on the thread that calls {@link #poll} (or the one {@link #start} makes); {@code out} gets each record
 * once, in order, and may keep it.
 */
public final class SocketCapture implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SocketCapture.class);
    /** Fastest the walks for new owners follow each other. */
    private static final long HANDOVER_WALK_GAP_NS = 250_000_000L;

    private final Capture capture;
    private final SocketTracker tracker;
    private final SocketEventDecoder decoder;
    private final Consumer<SocketEvent> out;
    private final long sweepNs;
    private long nextSweep;
    private long lastWalk;
    private int inventoried;
    private long inventoryNs;
    private volatile Thread poller;
    private final Path stateFile;
    private volatile boolean closed;
    /** The data path summed in the kernel (aggregate mode), or null: records per call. */
    private final io.sockflow.collector.capture.SocketTotals totals;

    private final boolean releaseHook;
    private boolean totalsClosed;
    private long totalsNs = DEFAULT_TOTALS_INTERVAL.toNanos();
    private long nextTotals;
    /** How often sockets' totals are read by default; at most {@link #MAX_TOTALS_INTERVAL}. */
    public static final Duration DEFAULT_TOTALS_INTERVAL = Duration.ofSeconds(5);

    public static final Duration MAX_TOTALS_INTERVAL = Duration.ofSeconds(10);

    /**
     * @param sweep the interval of the sweep (zero: none; the inventory still runs)
     */
    public SocketCapture(
            CaptureOptions options, SocketEventDecoder decoder, Duration sweep, Consumer<SocketEvent> out) {
        this(options, decoder, sweep, null, out, () -> {});
    }

    /**
     * @param sweep     the interval of the sweep (zero: none; the inventory still runs)
     * @param stateFile where the sockets alive are kept between runs (null: nowhere), so that a start ends those that
     *                  went while no collector ran
     * @param attached  runs once the programs are attached and the inventory has read the kernel (entering other
     *                  network namespaces needs CAP_SYS_ADMIN), before anything is written to {@code out}: where the
     *                  caller gives up its privileges and opens what {@code out} writes to (records queue in the ring
     *                  buffer meanwhile)
     */
    public SocketCapture(
            CaptureOptions options,
            SocketEventDecoder decoder,
            Duration sweep,
            Path stateFile,
            Consumer<SocketEvent> out,
            Runnable attached) {
        this.stateFile = stateFile;
        this.decoder = decoder;
        io.sockflow.collector.proc.ProcessContext context = new io.sockflow.collector.proc.ProcessContext();
        // an exec's record gets its process's context (parent, command line, parent chain) on its way out
        this.out = e -> {
            context.fill(e);
            out.accept(e);
        };
        this.sweepNs = sweep.toNanos();
        RingBufferReader.RecordSink sink = this::onRecord;
        long startedNs = Libc.clockNanos(Libc.CLOCK_BOOTTIME); // before the first program is attached
        this.capture = Capture.open(options, sink);
        Set<Integer> excluded = new HashSet<>(options.pidExclude());
        if (options.excludeSelf()) {
            excluded.add((int) ProcessHandle.current().pid());
        }
        boolean hook = capture.programNames().contains("sock_release")
                || capture.programNames().contains("sock_release_plain");
        this.releaseHook = hook;
        this.totals =
                options.aggregate() ? new io.sockflow.collector.capture.SocketTotals(capture, decoder.host()) : null;
        this.nextTotals = System.nanoTime() + totalsNs;
        this.tracker = new SocketTracker(SocketTracker.Options.defaults()
                .withExcluded(excluded, new HashSet<>(options.cgroupExclude()))
                .withOnly(new HashSet<>(options.pidInclude()))
                .withReleaseHook(hook));
        long t0 = System.nanoTime();
        // the programs are attached: what happens from here on queues in the ring buffer while the inventory runs
        java.util.List<SocketEvent> found = new java.util.ArrayList<>();
        try {
            inventoried = capture.inventory(rec -> found.add(decoder.decode(rec)));
            long t1 = System.nanoTime();
            for (SocketEvent e : found) {
                withCookie(e); // while the collector may still take a copy of any process's descriptor
            }
            long t2 = System.nanoTime();
            LOG.debug(
                    "inventory: kernel walk and decode {} ms, cookies of sockets in no table {} ms",
                    (t1 - t0) / 1_000_000,
                    (t2 - t1) / 1_000_000);
            long a0 = System.nanoTime();
            attached.run();
            t0 += System.nanoTime() - a0; // the caller's part (its output opened, privileges given up) is not counted
        } catch (RuntimeException | Error e) {
            capture.close();
            throw e;
        }
        linkAcceptedToListeners(found);
        this.out.accept(captureStart(decoder.host(), startedNs, capture.kernel().missing()));
        for (SocketEvent e : found) {
            tracker.accept(e, false, false, System.nanoTime(), out);
        }
        inventoryNs = System.nanoTime() - t0;
        if (stateFile != null && java.nio.file.Files.exists(stateFile)) {
            int gone = tracker.endedWhileStopped(
                    LiveSocketsFile.read(stateFile),
                    decoder.host().bootId(),
                    Libc.clockNanos(Libc.CLOCK_BOOTTIME),
                    java.time.Instant.now(),
                    out);
            if (gone > 0) {
                LOG.info("{} sockets alive at the last stop are gone now: ended (cause UNSEEN)", gone);
            }
        }
        saveLive();
        lastWalk = System.nanoTime();
        nextSweep = sweepNs > 0 ? System.nanoTime() + sweepNs : Long.MAX_VALUE;
        LOG.info(
                "inventory: {} socket descriptors of existing processes in {} ms",
                inventoried,
                inventoryNs / 1_000_000);
    }

    /**
     * The first record of a run: capture on this host begins at its timestamp. It is what a consumer counts from
     * (a learning period, "seen from its start") on a host with no socket to inventory; it names the collector, the
     * kernel's release, and what this kernel lacks (the features whose records or fields are absent on this host).
     */
    static SocketEvent captureStart(
            io.sockflow.collector.decode.HostInfo host, long bootNs, java.util.List<String> kernelLacks) {
        ProcessHandle self = ProcessHandle.current();
        SocketEvent e = host.ownRecord(EventKind.CAPTURE_START, bootNs);
        e.setPid((int) self.pid());
        e.setTid((int) self.pid());
        e.setComm("sockflow");
        e.setUid(Libc.geteuid()); // after --run-as: the user it captures as
        e.setAttribution("CALLER");
        e.setKernelRelease(kernelRelease());
        e.setKernelLacks(String.join(",", kernelLacks));
        return e;
    }

    /** This kernel's release, as uname -r says it (null where /proc cannot be read). */
    static String kernelRelease() {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/sys/kernel/osrelease"))
                    .strip();
        } catch (java.io.IOException e) {
            return null;
        }
    }

    /**
     * At the inventory, which connected TCP socket was accepted (rather than connected out) is not written anywhere in
     * the kernel; a socket on the local port of a listener of the same network namespace was accepted from it, and its
     * INVENTORY record names that listener as accept's record would (relatedSocketInode, relatedSocketCookie).
     */
    static void linkAcceptedToListeners(java.util.List<SocketEvent> inventory) {
        java.util.Map<String, SocketEvent> listeners = new java.util.HashMap<>();
        for (SocketEvent e : inventory) {
            if ("LISTEN".equals(e.getSocketState()) && "TCP".equals(e.getProtocol()) && e.getLocalPort() != null) {
                listeners.put(e.getNetns() + "|" + e.getFamily() + "|" + e.getLocalPort(), e);
            }
        }
        for (SocketEvent e : inventory) {
            if (!"TCP".equals(e.getProtocol())
                    || "LISTEN".equals(e.getSocketState())
                    || e.getLocalPort() == null
                    || e.getRemotePort() == null) {
                continue;
            }
            SocketEvent l = listeners.get(e.getNetns() + "|" + e.getFamily() + "|" + e.getLocalPort());
            if (l != null
                    && (isWildcard(l.getLocalAddress()) || l.getLocalAddress().equals(e.getLocalAddress()))) {
                e.setRelatedSocketInode(l.getSocketInode());
                e.setRelatedSocketCookie(l.getSocketCookie());
            }
        }
    }

    private static boolean isWildcard(String address) {
        return address == null || address.equals("0.0.0.0") || address.equals("::");
    }

    private void onRecord(MemorySegment rec) {
        SocketEvent e = decoder.decode(rec);
        if (totals != null && e.getSocketCookie() != null) {
            // the socket's last totals at its end, when no call can add to them any more: on the release itself, or
            // without the release hook a record of their own before its last descriptor's close
            if (e.getKind() == EventKind.SOCK_RELEASE) {
                totals.released(e);
            } else if (ended(e, rec)) {
                totals.ended(e.getSocketCookie(), t -> tracker.accept(t, false, false, System.nanoTime(), out));
            }
        }
        tracker.accept(
                e,
                SocketEventDecoder.pendingExec(rec),
                SocketEventDecoder.releasedByKernelThread(rec),
                System.nanoTime(),
                out);
    }

    /** Whether, without the release hook, the record is the socket's end: the drop of its last descriptor. */
    private boolean ended(SocketEvent e, MemorySegment rec) {
        return !releaseHook
                && (e.getKind() == EventKind.CLOSE || e.getKind() == EventKind.FD_DROP)
                && Boolean.TRUE.equals(e.getLastReference())
                && !SocketEventDecoder.pendingExec(rec);
    }

    /** How often the sockets' totals are read (aggregate mode); at most 10 s. */
    public synchronized SocketCapture totalsInterval(Duration every) {
        if (every.isNegative() || every.isZero() || every.compareTo(MAX_TOTALS_INTERVAL) > 0) {
            throw new IllegalArgumentException("the aggregation interval must be more than 0 and at most "
                    + MAX_TOTALS_INTERVAL.toSeconds() + " s, got " + every);
        }
        totalsNs = every.toNanos();
        nextTotals = System.nanoTime() + totalsNs;
        return this;
    }

    /** Reads every socket's totals now (aggregate mode): one record per socket that moved data since the last read. */
    public synchronized void readTotals() {
        if (totals != null && !closed) {
            totals.read(t -> tracker.accept(t, false, false, System.nanoTime(), out));
            nextTotals = System.nanoTime() + totalsNs;
        }
    }

    /** SOCK_TOTALS records made so far (0 in per-call mode). */
    public synchronized long totalsRecords() {
        return totals == null ? 0 : totals.records();
    }

    public Capture capture() {
        return capture;
    }

    public synchronized SocketTracker.Stats tracker() {
        return tracker.stats();
    }

    /** Socket descriptors the start-up inventory found, and how long it took. */
    public int inventoried() {
        return inventoried;
    }

    public long inventoryNanos() {
        return inventoryNs;
    }

    /** Polls on a thread of its own until closed (for callers that do not poll themselves). */
    public SocketCapture start() {
        poller = Thread.ofPlatform().daemon().name("sockflow-capture").start(() -> {
            while (!closed) {
                poll(io.sockflow.collector.bpf.RingBufferReader.POLL_TIMEOUT_MS);
            }
        });
        return this;
    }

    /** Waits up to {@code timeoutMs} for records and handles them; runs a walk when one is due. */
    public synchronized void poll(int timeoutMs) {
        if (closed) {
            return;
        }
        capture.poll(timeoutMs);
        long now = System.nanoTime();
        if (totals != null && now >= nextTotals) {
            readTotals();
        }
        tracker.expire(now, out);
        if (now >= nextSweep || tracker.wantsWalk() && now - lastWalk >= HANDOVER_WALK_GAP_NS) {
            walk();
            nextSweep = sweepNs > 0 ? System.nanoTime() + sweepNs : Long.MAX_VALUE;
        }
    }

    /** One walk of every process's descriptors, now: the sweep. */
    public synchronized void walk() {
        tracker.beginWalk(Libc.clockNanos(Libc.CLOCK_BOOTTIME));
        java.util.Map<Long, Long> seen = new java.util.HashMap<>();
        capture.walkDescriptors(rec -> {
            SocketEvent e = withCookie(decoder.decode(rec));
            if (e.getSocketInode() != null && e.getSocketCookie() != null && e.getSocketCookie() != 0) {
                seen.put(e.getSocketInode(), e.getSocketCookie());
            }
            tracker.walkRecord(e);
        });
        cookies.keySet().retainAll(seen.keySet()); // only the sockets that still exist
        capture.drain(); // the records of what happened before the walk are in before it is judged
        tracker.endWalk(System.nanoTime(), out);
        lastWalk = System.nanoTime();
        saveLive();
    }

    /** Cookies this collector had the kernel make, by inode (see withCookie). */
    private final java.util.Map<Long, Long> cookies = new java.util.HashMap<>();

    /**
     * An inet socket that is in none of the tables the cookie iterators walk (an unbound UDP or raw socket) has no
     * cookie yet when the walk reads it; its later records will, as the kernel makes one on first request. So that
     * they join, the cookie is asked for here (SO_COOKIE on a copy of the descriptor). That needs CAP_SYS_PTRACE over
     * the process: at the inventory the collector has it; once it runs as a user, a socket it cannot ask for keeps
     * its inode as its name.
     */
    private SocketEvent withCookie(SocketEvent e) {
        Long cookie = e.getSocketCookie();
        String family = e.getFamily();
        if ((cookie == null || cookie == 0)
                && e.getSocketInode() != null
                && e.getFd() != null
                && e.getFd() >= 0
                && ("AF_INET".equals(family) || "AF_INET6".equals(family))) {
            Long known = cookies.get(e.getSocketInode());
            long c = known != null ? known : Libc.socketCookie(e.getPid(), e.getFd());
            if (c != 0) {
                cookies.put(e.getSocketInode(), c);
                e.setSocketCookie(c);
            }
        }
        return e;
    }

    private void saveLive() {
        if (stateFile == null) {
            return;
        }
        try {
            LiveSocketsFile.write(stateFile, tracker.live());
        } catch (java.io.IOException e) {
            LOG.warn(
                    "cannot keep the live sockets in {} ({}): a restart will not end what goes meanwhile",
                    stateFile,
                    e.getMessage());
        }
    }

    /** Kernel counter records (read from the kernel's maps), attributed like the rest. */
    public synchronized void counters(Iterable<SocketEvent> records) {
        for (SocketEvent c : records) {
            tracker.accept(c, false, false, System.nanoTime(), out);
        }
    }

    public Capture.Stats stats() {
        return capture.stats();
    }

    /**
     * The kernel time (CLOCK_BOOTTIME) that no record this capture hands over from now on is older than: read, then
     * everything the kernel had queued until then is handed over; a record the tracker still holds (for its owner, its
     * cookie, an exec's outcome) keeps it back to that record's time. What a clock record is stamped with.
     */
    public synchronized long settledNs() {
        long now = Libc.clockNanos(Libc.CLOCK_BOOTTIME);
        if (!closed) {
            capture.drain();
        }
        return Math.min(now, tracker.oldestHeldNs());
    }

    /** Emits the records that wait (for an owner, a cookie, an exec's outcome) now. */
    public synchronized void flush() {
        tracker.flush(out);
    }

    @Override
    public void close() {
        closed = true;
        Thread t = poller;
        if (t != null) {
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (this) {
            capture.detach(); // hands over what was queued
            if (totals != null && !totalsClosed) {
                // what moved since the last read; sockets still alive send their totals so far
                totalsClosed = true;
                totals.read(r -> tracker.accept(r, false, false, System.nanoTime(), out));
                totals.close();
            }
            capture.close();
            tracker.flush(out);
            saveLive();
        }
    }
}
