package io.sockflow.jobs.detect;

import io.sockflow.schemas.Alert;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.Severity;
import io.sockflow.schemas.SocketEvent;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code new-listener}: a socket starts listening on a port this host was never seen listening on. Keyed by host;
 * the ports of its first {@code learning} period (event time) are learned quietly, like a baseline; after that
 * the first listener on each new port is alerted once, and the port is learned.
 */
public final class NewListenerRule extends KeyedProcessFunction<String, SocketEvent, Alert> {
    private static final long serialVersionUID = 1L;
    private final long learningMs;
    private final Set<Integer> allowed;
    private transient MapState<String, Long> known;
    private transient ValueState<Long> firstSeen;

    public NewListenerRule(Duration learning, Set<Integer> allowed) {
        this.learningMs = learning.toMillis();
        this.allowed = Set.copyOf(allowed);
    }

    @Override
    public void open(OpenContext ctx) {
        known = getRuntimeContext().getMapState(new MapStateDescriptor<>("ports", String.class, Long.class));
        firstSeen = getRuntimeContext().getState(new ValueStateDescriptor<>("firstSeen", Long.class));
    }

    public static boolean isListen(SocketEvent e) {
        return e.getKind() == EventKind.LISTEN && e.getReturnValue() >= 0 && e.getLocalPort() != null;
    }

    @Override
    public void processElement(SocketEvent e, Context ctx, Collector<Alert> out) throws Exception {
        long t = e.getTimestamp().toEpochMilli();
        Long first = firstSeen.value();
        if (first == null || t < first) {
            firstSeen.update(t);
            first = t;
        }
        String port = e.getProtocol() + "/" + e.getLocalPort();
        if (known.contains(port)) {
            return;
        }
        known.put(port, t);
        if (t - first < learningMs || allowed.contains(e.getLocalPort())) {
            return;
        }
        out.collect(Alerts.of("new-listener", Severity.MEDIUM, e.getTimestamp(), e,
                e.getComm() + " (pid " + e.getPid() + ") listens on " + e.getLocalAddress() + ":" + e.getLocalPort()
                        + ", a port never seen listening on " + e.getHost(),
                List.of(Alerts.describe(e)), Map.of("port", String.valueOf(e.getLocalPort()),
                        "address", String.valueOf(e.getLocalAddress()), "protocol", String.valueOf(e.getProtocol())),
                Alerts.eventId(e)));
    }
}
