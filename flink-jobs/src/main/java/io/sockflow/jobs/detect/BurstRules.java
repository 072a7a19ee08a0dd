package io.sockflow.jobs.detect;

import io.sockflow.schemas.Alert;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.Severity;
import io.sockflow.schemas.SocketEvent;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Rules over a window of one process's events (event-time tumbling windows keyed by host, pid, process start and,
 * for scans, the target address), so the result does not depend on arrival order:
 * <ul>
 * <li>{@code port-scan}: connects to at least N distinct ports of one address refused (ECONNREFUSED), reset,
 * unreachable or timed out, as connect() said it or, for non-blocking connects, as the kernel reported the socket's
 * error (a connect's EINPROGRESS says nothing);</li>
 * <li>{@code socket-recon}: a burst of at least N getsockname/getpeername calls.</li>
 * </ul>
 */
public final class BurstRules {
    private BurstRules() {
    }

    /** A failed connection attempt, with the port it aimed at; null when the event is not one. */
    public static Integer failedConnectPort(SocketEvent e) {
        if (e.getKind() == EventKind.CONNECT && e.getReturnValue() < 0
                && ("ECONNREFUSED".equals(e.getErrno()) || "EHOSTUNREACH".equals(e.getErrno())
                        || "ENETUNREACH".equals(e.getErrno()) || "ETIMEDOUT".equals(e.getErrno()))) {
            return e.getSockaddrPort();
        }
        if (e.getKind() == EventKind.TCP_RECEIVE_RESET && "SOCKET_OWNER".equals(e.getAttribution())
                && "SYN_SENT".equals(e.getTcpState())) {
            return e.getRemotePort(); // a non-blocking connect answered by a reset
        }
        if (e.getKind() == EventKind.SOCK_ERROR && "SOCKET_OWNER".equals(e.getAttribution())
                && ("ECONNREFUSED".equals(e.getErrno()) || "EHOSTUNREACH".equals(e.getErrno())
                        || "ENETUNREACH".equals(e.getErrno()) || "ETIMEDOUT".equals(e.getErrno()))) {
            return e.getRemotePort(); // how the kernel ended a connect, blocking or not
        }
        return null;
    }

    public static String scanTarget(SocketEvent e) {
        return e.getKind() == EventKind.CONNECT ? e.getSockaddrAddress() : e.getRemoteAddress();
    }

    public static boolean isRecon(SocketEvent e) {
        return e.getKind() == EventKind.GETSOCKNAME || e.getKind() == EventKind.GETPEERNAME;
    }

    private static List<SocketEvent> sorted(Iterable<SocketEvent> events) {
        java.util.Map<String, SocketEvent> unique = new java.util.HashMap<>();
        events.forEach(e -> unique.putIfAbsent(Alerts.eventId(e), e)); // an event delivered twice counts once
        List<SocketEvent> all = new ArrayList<>(unique.values());
        all.sort(Comparator.comparing(SocketEvent::getTimestamp).thenComparing(Alerts::eventId));
        return all;
    }

    public static final class PortScan extends ProcessWindowFunction<SocketEvent, Alert, String, TimeWindow> {
        private static final long serialVersionUID = 1L;
        private final int minPorts;

        public PortScan(int minPorts) {
            this.minPorts = minPorts;
        }

        @Override
        public void process(String key, Context ctx, Iterable<SocketEvent> events, Collector<Alert> out) {
            List<SocketEvent> all = sorted(events);
            TreeMap<Integer, SocketEvent> byPort = new TreeMap<>();
            for (SocketEvent e : all) {
                Integer p = failedConnectPort(e);
                if (p != null) {
                    byPort.putIfAbsent(p, e);
                }
            }
            if (byPort.size() < minPorts) {
                return;
            }
            SocketEvent first = all.get(0);
            List<String> evidence = new ArrayList<>();
            byPort.values().stream().limit(50).forEach(e -> evidence.add(Alerts.describe(e)));
            String target = scanTarget(first);
            out.collect(Alerts.of("port-scan", Severity.HIGH, Instant.ofEpochMilli(ctx.window().getEnd() - 1), first,
                    first.getComm() + " (pid " + first.getPid() + ") failed to connect to " + byPort.size()
                            + " distinct ports of " + target + " within " + (ctx.window().getEnd() - ctx.window().getStart()) / 1000 + " s",
                    evidence, Map.of("target", String.valueOf(target), "ports", String.valueOf(byPort.size()),
                            "portList", compact(byPort.keySet()), "attempts", String.valueOf(all.size())),
                    key + "|" + ctx.window().getStart()));
        }
    }

    public static final class Recon extends ProcessWindowFunction<SocketEvent, Alert, String, TimeWindow> {
        private static final long serialVersionUID = 1L;
        private final int minCalls;

        public Recon(int minCalls) {
            this.minCalls = minCalls;
        }

        @Override
        public void process(String key, Context ctx, Iterable<SocketEvent> events, Collector<Alert> out) {
            List<SocketEvent> all = sorted(events);
            if (all.size() < minCalls) {
                return;
            }
            TreeSet<Long> sockets = new TreeSet<>();
            long names = 0;
            for (SocketEvent e : all) {
                if (e.getSocketInode() != null) {
                    sockets.add(e.getSocketInode());
                }
                if (e.getKind() == EventKind.GETSOCKNAME) {
                    names++;
                }
            }
            SocketEvent first = all.get(0);
            List<String> evidence = new ArrayList<>();
            all.stream().limit(20).forEach(e -> evidence.add(Alerts.describe(e)));
            out.collect(Alerts.of("socket-recon", Severity.MEDIUM, Instant.ofEpochMilli(ctx.window().getEnd() - 1), first,
                    first.getComm() + " (pid " + first.getPid() + ") made " + all.size() + " getsockname/getpeername calls on "
                            + sockets.size() + " sockets within " + (ctx.window().getEnd() - ctx.window().getStart()) / 1000 + " s",
                    evidence, Map.of("calls", String.valueOf(all.size()), "getsockname", String.valueOf(names),
                            "getpeername", String.valueOf(all.size() - names), "sockets", String.valueOf(sockets.size())),
                    key + "|" + ctx.window().getStart()));
        }
    }

    static String compact(java.util.Collection<Integer> ports) {
        StringBuilder b = new StringBuilder();
        for (Integer p : ports) {
            if (b.length() > 200) {
                b.append(",...");
                break;
            }
            if (!b.isEmpty()) {
                b.append(',');
            }
            b.append(p);
        }
        return b.toString();
    }
}
