package io.sockflow.jobs.detect;

import io.sockflow.schemas.Alert;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.Severity;
import io.sockflow.schemas.SocketEvent;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.util.Collector;

/**
 * {@code new-listener}: a socket starts listening on a port this host was never seen listening on. Keyed by host,
 * in event-time order. The learning period starts with the host's capture (the collector's CAPTURE_START record, or
 * failing that its first inventory record or listen), not with its first listen: on a quiet host the first listen may
 * be the very one to alert.
 * Listeners found at the inventory are learned whenever they come. A listener on a loopback address and a port of
 * the ephemeral range is a runtime's private port (bound to port 0: JVM tools, test servers), not a service.
 */
public final class NewListenerRule extends EventTimeOrdered {
    private static final long serialVersionUID = 1L;
    private final long learningMs;
    private final Set<Integer> allowed;
    private final int ephemeralLow;
    private final int ephemeralHigh;
    private transient MapState<String, Long> known;
    private transient ValueState<Long> firstSeen;

    public NewListenerRule(Duration learning, Set<Integer> allowed) {
        this(learning, allowed, 32768, 60999);
    }

    /** {@code ephemeralLow..ephemeralHigh}: the kernel's ip_local_port_range (0..-1 turns the exception off). */
    public NewListenerRule(Duration learning, Set<Integer> allowed, int ephemeralLow, int ephemeralHigh) {
        this.learningMs = learning.toMillis();
        this.allowed = Set.copyOf(allowed);
        this.ephemeralLow = ephemeralLow;
        this.ephemeralHigh = ephemeralHigh;
    }

    @Override
    public void open(OpenContext ctx) throws Exception {
        super.open(ctx);
        known = getRuntimeContext().getMapState(new MapStateDescriptor<>("ports", String.class, Long.class));
        firstSeen = getRuntimeContext().getState(new ValueStateDescriptor<>("firstSeen", Long.class));
    }

    public static boolean isListen(SocketEvent e) {
        return e.getKind() == EventKind.LISTEN && e.getReturnValue() >= 0 && e.getLocalPort() != null;
    }

    /** What the rule reads: listens, the capture's start, and the inventory (the listeners already there). */
    public static boolean isInput(SocketEvent e) {
        return isListen(e) || e.getKind() == EventKind.INVENTORY || e.getKind() == EventKind.CAPTURE_START;
    }

    @Override
    protected boolean wanted(SocketEvent e) {
        return isInput(e);
    }

    private boolean ephemeralLoopback(SocketEvent e) {
        int p = e.getLocalPort();
        return p >= ephemeralLow && p <= ephemeralHigh && SocketKinds.loopback(e.getLocalAddress());
    }

    @Override
    protected void handle(SocketEvent e, Collector<Alert> out) throws Exception {
        long t = e.getTimestamp().toEpochMilli();
        Long first = firstSeen.value();
        if (first == null) {
            firstSeen.update(t);
            first = t;
        }
        if (e.getKind() == EventKind.CAPTURE_START) {
            return;
        }
        if (e.getKind() == EventKind.INVENTORY) {
            if ("LISTEN".equals(e.getSocketState()) && e.getLocalPort() != null && e.getProtocol() != null) {
                known.put(e.getProtocol() + "/" + e.getLocalPort(), t); // listening before the capture: known
            }
            return;
        }
        String port = e.getProtocol() + "/" + e.getLocalPort();
        if (known.contains(port)) {
            return;
        }
        if (t - first < learningMs) {
            known.put(port, t);
            return;
        }
        if (allowed.contains(e.getLocalPort()) || ephemeralLoopback(e)) {
            return; // not learned: the same port later on another address is still news
        }
        known.put(port, t);
        out.collect(Alerts.of(
                "new-listener",
                Severity.MEDIUM,
                e.getTimestamp(),
                e,
                e.getComm() + " (pid " + e.getPid() + ") listens on " + e.getLocalAddress() + ":" + e.getLocalPort()
                        + ", a port never seen listening on " + e.getHost(),
                List.of(Alerts.describe(e)),
                Map.of(
                        "port",
                        String.valueOf(e.getLocalPort()),
                        "address",
                        String.valueOf(e.getLocalAddress()),
                        "protocol",
                        String.valueOf(e.getProtocol())),
                Alerts.eventId(e)));
    }
}
