package io.sockflow.jobs.detect;

import io.sockflow.jobs.types.BinaryTypeInfo;
import io.sockflow.schemas.Alert;
import io.sockflow.schemas.SocketEvent;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * A keyed rule that sees its events in event-time order: the events topic is spread over partitions read at their
 * own pace, so a record can arrive before an older one. Each event waits for the watermark to pass it, then the
 * rule handles all that are due, oldest first (ties by the host's monotonic clock).
 */
public abstract class EventTimeOrdered extends KeyedProcessFunction<String, SocketEvent, Alert> {
    private static final long serialVersionUID = 1L;
    private transient ListState<SocketEvent> waiting;

    @Override
    public void open(OpenContext ctx) throws Exception {
        waiting = getRuntimeContext().getListState(new ListStateDescriptor<>("waiting", BinaryTypeInfo.socketEvents()));
    }

    @Override
    public final void processElement(SocketEvent e, Context ctx, Collector<Alert> out) throws Exception {
        if (!wanted(e)) {
            return;
        }
        waiting.add(e);
        ctx.timerService().registerEventTimeTimer(e.getTimestamp().toEpochMilli());
    }

    @Override
    public final void onTimer(long time, OnTimerContext ctx, Collector<Alert> out) throws Exception {
        List<SocketEvent> due = new ArrayList<>();
        List<SocketEvent> later = new ArrayList<>();
        for (SocketEvent e : waiting.get()) {
            (e.getTimestamp().toEpochMilli() <= time ? due : later).add(e);
        }
        due.sort(Comparator.comparing(SocketEvent::getTimestamp).thenComparingLong(SocketEvent::getMonotonicNs));
        waiting.update(later);
        for (SocketEvent e : due) {
            handle(e, out);
        }
    }

    /** Whether the rule needs this event at all (the rest is not kept). */
    protected abstract boolean wanted(SocketEvent e);

    /** One event, in event-time order. */
    protected abstract void handle(SocketEvent e, Collector<Alert> out) throws Exception;
}
