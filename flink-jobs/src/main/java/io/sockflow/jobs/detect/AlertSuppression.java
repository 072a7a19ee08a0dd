package io.sockflow.jobs.detect;

import io.sockflow.jobs.types.BinaryTypeInfo;
import io.sockflow.schemas.Alert;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * One alert with a count, not a thousand: the first alert of a finding goes out at once; the same finding again (the
 * same rule, process and summary: the same raw socket opened again, the same reverse shell seen twice) within the
 * window is folded, and when the window closes (in event time) one more alert says how many were folded and over what
 * time span, with the newest as its sample. A finding that differs in any detail (another port, another target) is
 * its own. Keyed by {@link #key}. A window of zero passes every alert through (the operator stays, so that a
 * checkpoint restores whatever the window).
 */
public final class AlertSuppression extends KeyedProcessFunction<String, Alert, Alert> {
    private static final long serialVersionUID = 1L;

    /** The attributes a folded alert adds: how many were folded, the first's and the last's time. */
    public static final String FOLDED = "folded";

    public static final String FOLDED_FIRST = "foldedFirst";
    public static final String FOLDED_LAST = "foldedLast";

    private final long windowMs;
    private transient ValueState<Long> windowStart;
    private transient ValueState<Long> windowEnd;
    private transient ValueState<Long> folded;
    private transient ValueState<Long> firstFolded;
    private transient ValueState<Alert> sample;

    public AlertSuppression(Duration window) {
        this.windowMs = window.toMillis();
    }

    /** The same finding: host, rule, process (pid and start), and the same summary. */
    public static String key(Alert a) {
        return a.getHost() + "|" + a.getRule() + "|" + a.getPid() + "|" + a.getProcessStartNs() + "|" + a.getSummary();
    }

    @Override
    public void open(OpenContext ctx) {
        windowStart = getRuntimeContext().getState(new ValueStateDescriptor<>("windowStart", Long.class));
        windowEnd = getRuntimeContext().getState(new ValueStateDescriptor<>("windowEnd", Long.class));
        folded = getRuntimeContext().getState(new ValueStateDescriptor<>("folded", Long.class));
        firstFolded = getRuntimeContext().getState(new ValueStateDescriptor<>("firstFolded", Long.class));
        sample =
                getRuntimeContext().getState(new ValueStateDescriptor<>("sample", BinaryTypeInfo.records(Alert.class)));
    }

    @Override
    public void processElement(Alert a, Context ctx, Collector<Alert> out) throws Exception {
        if (windowMs <= 0) {
            out.collect(a);
            return;
        }
        long t = a.getTimestamp().toEpochMilli();
        Long start = windowStart.value();
        Long end = windowEnd.value();
        if (start != null && end != null && t >= end) {
            flush(out); // its window is over, though the watermark has not said so yet
            start = null;
        }
        if (start == null) {
            out.collect(a);
            windowStart.update(t);
            windowEnd.update(t + windowMs);
            ctx.timerService().registerEventTimeTimer(t + windowMs);
            return;
        }
        if (start - t >= windowMs) {
            out.collect(a); // far older than the window (a late partition): its own
            return;
        }
        long n = folded.value() == null ? 0 : folded.value();
        folded.update(n + 1);
        if (firstFolded.value() == null || t < firstFolded.value()) {
            firstFolded.update(t);
        }
        Alert s = sample.value();
        if (s == null
                || a.getTimestamp().isAfter(s.getTimestamp())
                || a.getTimestamp().equals(s.getTimestamp()) && a.getAlertId().compareTo(s.getAlertId()) > 0) {
            sample.update(a); // the newest; of two at the same time, the same one whatever the arrival order
        }
    }

    @Override
    public void onTimer(long time, OnTimerContext ctx, Collector<Alert> out) throws Exception {
        Long end = windowEnd.value();
        if (end != null && time >= end) { // the end kept with the window: a changed setting leaves none stranded
            flush(out);
        }
    }

    private void flush(Collector<Alert> out) throws Exception {
        Alert s = sample.value();
        Long n = folded.value();
        Long first = firstFolded.value();
        Long start = windowStart.value();
        windowStart.clear();
        windowEnd.clear();
        folded.clear();
        firstFolded.clear();
        sample.clear();
        if (s == null || n == null || n == 0) {
            return;
        }
        Alert f = Alert.newBuilder(s).build();
        Map<String, String> attrs = new TreeMap<>(s.getAttributes());
        attrs.put(FOLDED, String.valueOf(n));
        attrs.put(FOLDED_FIRST, Instant.ofEpochMilli(first).toString());
        attrs.put(FOLDED_LAST, s.getTimestamp().toString());
        f.setAttributes(attrs);
        f.setEvidence(new ArrayList<>(s.getEvidence()));
        f.setSummary(n + " more like this between " + Instant.ofEpochMilli(first) + " and " + s.getTimestamp()
                + ", folded into one (the newest: " + s.getSummary() + ")");
        f.setAlertId(Alerts.id(key(s) + "|folded|" + start)); // the finding and its window: the same on a replay
        out.collect(f);
    }
}
