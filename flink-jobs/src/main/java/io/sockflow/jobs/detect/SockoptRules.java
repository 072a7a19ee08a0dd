package io.sockflow.jobs.detect;

import io.sockflow.schemas.Alert;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.Severity;
import io.sockflow.schemas.SocketEvent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

/**
 * Rules over the socket options a process sets or reads, each switched on by its name in
 * {@code detect.sockopt.rules}:
 * <ul>
 * <li>{@code sockopt-control}: SO_BINDTODEVICE (pinning traffic to an interface, around routing and VPNs) or
 * IP_TRANSPARENT/IPV6_TRANSPARENT (taking traffic for addresses not its own: interception) set by a process not on
 * {@code detect.sockopt.allow};</li>
 * <li>{@code ip-hdrincl}: IP_HDRINCL switched on: the process writes its own IP headers (spoofing, crafted packets);</li>
 * <li>{@code so-debug}: SO_DEBUG switched on, rarely used but by tools probing the stack;</li>
 * <li>{@code sockopt-probe} ({@link Probe}): a burst of getsockopt calls reading many distinct options: a process
 * surveying the network settings (buffer sizes, keep-alive, ...) rather than reading what it uses.</li>
 * </ul>
 */
public final class SockoptRules implements FlatMapFunction<SocketEvent, Alert> {
    private static final long serialVersionUID = 1L;
    public static final Set<String> ALL = Set.of("sockopt-control", "ip-hdrincl", "so-debug", "sockopt-probe");
    private final Set<String> enabled;
    private final Set<String> allow;

    public SockoptRules(Set<String> enabled, Set<String> allow) {
        for (String r : enabled) {
            if (!ALL.contains(r)) {
                throw new IllegalArgumentException(
                        "detect.sockopt.rules: no rule '" + r + "'; choose among " + new TreeSet<>(ALL));
            }
        }
        this.enabled = Set.copyOf(enabled);
        this.allow = Set.copyOf(allow);
    }

    /** A successful setsockopt that switches an option on (a value of 0 switches it off). */
    private static boolean switchedOn(SocketEvent e) {
        return e.getOptionValue() == null || e.getOptionValue() != 0;
    }

    @Override
    public void flatMap(SocketEvent e, Collector<Alert> out) {
        if (e.getKind() != EventKind.SETSOCKOPT || e.getReturnValue() < 0 || e.getOptionName() == null) {
            return;
        }
        String opt = e.getOptionName();
        switch (opt) {
            case "SO_BINDTODEVICE" -> {
                // the value is an interface name; an empty one unbinds
                if (enabled.contains("sockopt-control")
                        && !allow.contains(e.getComm())
                        && (e.getOptionLength() == null || e.getOptionLength() > 0)) {
                    out.collect(alert("sockopt-control", Severity.MEDIUM, e, "bound a socket to a network interface"));
                }
            }
            case "IP_TRANSPARENT", "IPV6_TRANSPARENT" -> {
                if (enabled.contains("sockopt-control") && !allow.contains(e.getComm()) && switchedOn(e)) {
                    out.collect(alert(
                            "sockopt-control",
                            Severity.HIGH,
                            e,
                            "made a socket transparent (it can take traffic for addresses not its own)"));
                }
            }
            case "IP_HDRINCL" -> {
                if (enabled.contains("ip-hdrincl") && switchedOn(e)) {
                    out.collect(alert("ip-hdrincl", Severity.HIGH, e, "writes its own IP headers (IP_HDRINCL)"));
                }
            }
            case "SO_DEBUG" -> {
                if (enabled.contains("so-debug") && switchedOn(e)) {
                    out.collect(alert("so-debug", Severity.LOW, e, "switched on SO_DEBUG"));
                }
            }
            default -> {}
        }
    }

    private static Alert alert(String rule, Severity severity, SocketEvent e, String what) {
        return Alerts.of(
                rule,
                severity,
                e.getTimestamp(),
                e,
                e.getComm() + " (pid " + e.getPid() + ") " + what,
                List.of(Alerts.describe(e) + " " + e.getOptionLevel() + "/" + e.getOptionName() + "="
                        + e.getOptionValue()),
                Map.of(
                        "option",
                        e.getOptionName(),
                        "level",
                        String.valueOf(e.getOptionLevel()),
                        "value",
                        String.valueOf(e.getOptionValue())),
                Alerts.eventId(e));
    }

    public static boolean isGetsockopt(SocketEvent e) {
        return e.getKind() == EventKind.GETSOCKOPT && e.getOptionName() != null;
    }

    /** {@code sockopt-probe}: at least N distinct options read by one process within a window. */
    public static final class Probe extends ProcessWindowFunction<SocketEvent, Alert, String, TimeWindow> {
        private static final long serialVersionUID = 1L;
        private final int minOptions;

        public Probe(int minOptions) {
            this.minOptions = minOptions;
        }

        @Override
        public void process(String key, Context ctx, Iterable<SocketEvent> events, Collector<Alert> out) {
            Map<String, SocketEvent> unique = new HashMap<>();
            events.forEach(e -> unique.putIfAbsent(Alerts.eventId(e), e)); // delivered twice counts once
            List<SocketEvent> all = new ArrayList<>(unique.values());
            all.sort(Comparator.comparing(SocketEvent::getTimestamp).thenComparing(Alerts::eventId));
            Map<String, SocketEvent> byOption = new java.util.TreeMap<>();
            for (SocketEvent e : all) {
                byOption.putIfAbsent(e.getOptionLevel() + "/" + e.getOptionName(), e);
            }
            if (byOption.size() < minOptions || all.isEmpty()) {
                return;
            }
            SocketEvent first = all.get(0);
            List<String> evidence = new ArrayList<>();
            byOption.values().stream()
                    .limit(30)
                    .forEach(
                            e -> evidence.add(Alerts.describe(e) + " " + e.getOptionLevel() + "/" + e.getOptionName()));
            out.collect(Alerts.of(
                    "sockopt-probe",
                    Severity.LOW,
                    Instant.ofEpochMilli(ctx.window().getEnd() - 1),
                    first,
                    first.getComm() + " (pid " + first.getPid() + ") read " + byOption.size()
                            + " distinct socket options in " + all.size() + " getsockopt calls within "
                            + (ctx.window().getEnd() - ctx.window().getStart()) / 1000 + " s",
                    evidence,
                    Map.of(
                            "options",
                            String.valueOf(byOption.size()),
                            "calls",
                            String.valueOf(all.size()),
                            "optionList",
                            String.join(",", byOption.keySet()).length() > 300
                                    ? String.join(",", byOption.keySet()).substring(0, 300) + ",..."
                                    : String.join(",", byOption.keySet())),
                    key + "|" + ctx.window().getStart()));
        }
    }
}
