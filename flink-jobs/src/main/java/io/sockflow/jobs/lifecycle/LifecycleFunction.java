package io.sockflow.jobs.lifecycle;

import io.sockflow.jobs.types.BinaryTypeInfo;
import io.sockflow.schemas.LifecycleStatus;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.SocketLifecycle;
import java.time.Duration;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeHint;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * One socket's state machine, keyed by its identity ({@link io.sockflow.schemas.SocketIdentity}), on event time.
 * Records are folded into a {@link SocketLifecycleState} in whatever order they come, duplicates counted once. The
 * lifecycle ends (record CLOSED) once the watermark passes the kernel's release of the socket plus a grace for late
 * records; with a timeout set (off by default: a socket the kernel still holds is not over, however quiet), also
 * (TIMED_OUT) after a silence; a long-lived socket gets an OPEN update every update interval in which it had events. After its end a key
 * keeps a short tombstone (until its pending update tick when that comes within twice the tombstone time, else for
 * the tombstone time) so stragglers are counted ({@code eventsAfterEnd}) instead of starting a new lifecycle
 * that would say CREATE not seen. Events behind the watermark are still folded in while the socket lives.
 */
public final class LifecycleFunction extends KeyedProcessFunction<String, SocketEvent, SocketLifecycle> {
    private static final long serialVersionUID = 1L;
    /** Early notice for the flow function: this socket is connected and both its ends are known. */
    public static final OutputTag<SocketLifecycle> CONNECTED =
            new OutputTag<>("connected", BinaryTypeInfo.records(SocketLifecycle.class));

    private final long graceMs;
    private final long timeoutMs;
    private final long updateMs;
    private final long tombstoneMs;

    private transient ValueState<SocketLifecycleState> state;
    private transient ValueState<Long> endedAt;
    private transient ValueState<Long> nextUpdate;
    private transient Counter afterEnd;
    private transient Counter duplicates;
    private transient Counter ended;
    private transient Counter orphans;
    /** records of a socket not (yet) seen alive, and how many */
    private transient org.apache.flink.api.common.state.ListState<SocketEvent> waiting;

    private transient ValueState<Integer> waitingCount;
    /** how long such records wait (event time) for the record that shows their socket alive */
    private static final long WAIT_MS = 30_000;

    private static final int WAIT_MAX = 256;

    public LifecycleFunction(Duration closeGrace, Duration timeout, Duration updateInterval) {
        this.graceMs = closeGrace.toMillis();
        this.timeoutMs = timeout.toMillis();
        this.updateMs = updateInterval.toMillis();
        this.tombstoneMs = Math.max(30_000, 2 * graceMs);
    }

    @Override
    public void open(OpenContext ctx) {
        state = getRuntimeContext()
                .getState(new ValueStateDescriptor<>(
                        "socket", TypeInformation.of(new TypeHint<SocketLifecycleState>() {})));
        endedAt = getRuntimeContext().getState(new ValueStateDescriptor<>("endedAt", Long.class));
        nextUpdate = getRuntimeContext().getState(new ValueStateDescriptor<>("nextUpdate", Long.class));
        afterEnd = getRuntimeContext().getMetricGroup().counter("eventsAfterEnd");
        duplicates = getRuntimeContext().getMetricGroup().counter("duplicateEvents");
        ended = getRuntimeContext().getMetricGroup().counter("lifecyclesEnded");
        orphans = getRuntimeContext().getMetricGroup().counter("recordsOfNoLiveSocket");
        waiting = getRuntimeContext()
                .getListState(new org.apache.flink.api.common.state.ListStateDescriptor<>(
                        "waiting", io.sockflow.jobs.types.BinaryTypeInfo.socketEvents()));
        waitingCount = getRuntimeContext().getState(new ValueStateDescriptor<>("waitingCount", Integer.class));
    }

    @Override
    public void processElement(SocketEvent e, Context ctx, Collector<SocketLifecycle> out) throws Exception {
        SocketLifecycleState s = state.value();
        boolean fresh = s == null;
        if (fresh) {
            // a socket with state has not ended (finish clears it): only a key without state can be a tombstone
            if (endedAt.value() != null) {
                afterEnd.inc();
                return;
            }
            if (!startsALifecycle(e)) {
                // the kernel's own records of a socket and the end of a socket never seen alive do not make a
                // lifecycle (a TCP state change minutes after a release, in FIN_WAIT2, is no new socket): they wait a
                // while for the record that shows the socket alive (its birth, the inventory, a call), which may come
                // later on the stream, and are counted and let go without it
                hold(e, ctx);
                return;
            }
            s = new SocketLifecycleState();
            for (SocketEvent w : waiting.get()) {
                if (!s.apply(w)) {
                    duplicates.inc();
                }
            }
            waiting.clear();
            waitingCount.clear();
        }
        boolean closedBefore = !fresh && s.closed();
        if (closedBefore && e.getTimestamp().toEpochMilli() > s.closedMillis() + graceMs) {
            // past the grace in event time: ended already, whether or not the watermark (the slowest partition's)
            // has fired the end yet, so the result does not hang on how far the other partitions have been read
            afterEnd.inc();
            return;
        }
        boolean announcedBefore = !fresh && s.connectedWithEndpoints();
        if (!s.apply(e) && !fresh) {
            duplicates.inc();
            return;
        }
        state.update(s);
        // one timer per concern, moved forward lazily in onTimer: a busy socket does not pile up timers
        if (fresh) {
            long first = s.lastSeenMillis();
            nextUpdate.update(first + updateMs);
            ctx.timerService().registerEventTimeTimer(first + updateMs);
            if (timeoutMs > 0 && timeoutMs < updateMs) {
                ctx.timerService().registerEventTimeTimer(first + timeoutMs);
            } // otherwise the first update tick sets the timeout timer: most sockets end before it, timer-free
        }
        if (s.closed() && !closedBefore) {
            ctx.timerService().registerEventTimeTimer(s.closedMillis() + graceMs);
        }
        // connected with both ends known never becomes false again (the fold only adds what it learns), so the
        // notice goes out exactly once: on the event that made it true
        if (!announcedBefore && s.connectedWithEndpoints()) {
            ctx.output(CONNECTED, s.toRecord(LifecycleStatus.OPEN, null));
        }
    }

    /**
     * Whether a record shows a live socket held by a process: a call on it (not its close), the inventory, a birth, a
     * hand-over, or the kernel's count of a process's send or receive. Not: the kernel's records made in softirq or
     * timers, nor the drops and releases that end a socket.
     */
    static boolean startsALifecycle(io.sockflow.schemas.SocketEvent e) {
        return switch (e.getKind()) {
            case CLOSE,
                    FD_DROP,
                    SOCK_RELEASE,
                    TCP_STATE,
                    TCP_RETRANSMIT,
                    TCP_SEND_RESET,
                    TCP_RECEIVE_RESET,
                    TCP_DESTROY,
                    TCP_RTT,
                    SOCK_ERROR,
                    UNKNOWN -> false;
            default -> true;
        };
    }

    private void hold(SocketEvent e, Context ctx) throws Exception {
        Integer n = waitingCount.value();
        if (n == null) {
            n = 0;
            ctx.timerService().registerEventTimeTimer(e.getTimestamp().toEpochMilli() + WAIT_MS);
        }
        if (n >= WAIT_MAX) {
            orphans.inc();
            return;
        }
        waiting.add(e);
        waitingCount.update(n + 1);
    }

    @Override
    public void onTimer(long ts, OnTimerContext ctx, Collector<SocketLifecycle> out) throws Exception {
        // a live socket (state) has no records held (they went into its state) and no tombstone (finish clears the
        // state as it sets one, and a key with a tombstone starts no state): one lookup for the common timers
        SocketLifecycleState s = state.value();
        if (s == null) {
            Integer held = waitingCount.value();
            if (held != null) {
                orphans.inc(held); // no record showed their socket alive
                waiting.clear();
                waitingCount.clear();
                return;
            }
            Long end = endedAt.value();
            if (end != null && ts >= end + tombstoneMs) {
                endedAt.clear();
            }
            return;
        }
        if (s.closed()) {
            if (ts >= s.closedMillis() + graceMs) {
                finish(ctx, out, s.toRecord(LifecycleStatus.CLOSED, null), ts);
                return;
            }
        } else if (timeoutMs > 0 && ts >= s.lastSeenMillis() + timeoutMs) {
            finish(ctx, out, s.toRecord(LifecycleStatus.TIMED_OUT, s.lastSeenNs()), ts);
            return;
        } else if (timeoutMs > 0) {
            ctx.timerService().registerEventTimeTimer(s.lastSeenMillis() + timeoutMs);
        }
        Long next = nextUpdate.value();
        if (next != null && ts >= next) {
            if (s.eventCount() != s.publishedEvents()) {
                out.collect(s.toRecord(LifecycleStatus.OPEN, null)); // only when something changed since the last one
                s.published();
                state.update(s);
            }
            // the next tick after the watermark, not after this timer: the end of a bounded input moves the watermark
            // to Long.MAX_VALUE at once, and ticks one interval apart from here to there would never end; saturating,
            // as a tick past Long.MAX_VALUE would wrap around to a time long gone
            long now = Math.max(ts, ctx.timerService().currentWatermark());
            long steps = Math.max(1, (now - next) / updateMs + 1);
            long n = steps > (Long.MAX_VALUE - next) / updateMs ? Long.MAX_VALUE : next + updateMs * steps;
            nextUpdate.update(n);
            if (n > ts) {
                ctx.timerService().registerEventTimeTimer(n);
            }
        }
    }

    private void finish(OnTimerContext ctx, Collector<SocketLifecycle> out, SocketLifecycle r, long ts)
            throws Exception {
        out.collect(r);
        ended.inc();
        Long tick = nextUpdate.value();
        state.clear();
        nextUpdate.clear();
        endedAt.update(ts);
        long until = ts > Long.MAX_VALUE - tombstoneMs ? Long.MAX_VALUE : ts + tombstoneMs;
        // the update tick still pending clears the tombstone when it comes soon enough after its end (a short-lived
        // socket's first tick usually does): one timer less per socket
        if (tick == null || tick < until || tick - until > tombstoneMs) {
            ctx.timerService().registerEventTimeTimer(until);
        }
    }
}
