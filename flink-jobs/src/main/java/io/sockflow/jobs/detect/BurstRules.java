package io.sockflow.jobs.detect;

import io.sockflow.schemas.Alert;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.Severity;
import io.sockflow.schemas.SocketEvent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

/**
 * Rules over a window of one process's events (event-time tumbling windows keyed by host, pid, process start and,
 * for scans, the target address), so the result does not depend on arrival order:
 * <ul>
 * <li>{@code port-scan}: connection attempts to at least N distinct ports of one address that failed, by the
 * kernel's account of each socket (its error, its TCP state leaving SYN_SENT for CLOSE), never by what connect()
 * returned to a non-blocking caller ({@link #failedConnectPort});</li>
 * <li>{@code socket-recon}: a burst of at least N getsockname/getpeername calls.</li>
 * </ul>
 */
public final class BurstRules {
    private BurstRules() {}

    /** The errors that end a connection attempt that never reached a listener, as the kernel sets them on the socket. */
    private static final java.util.Set<String> ATTEMPT_FAILED =
            java.util.Set.of("ECONNREFUSED", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH");

    /**
     * The port of a connection attempt that failed, from the kernel's view of the socket; null when the record says
     * no such thing. A non-blocking connect returns EINPROGRESS, which says nothing: its outcome is the socket's
     * error as the kernel reports it (SOCK_ERROR), or its TCP state leaving SYN_SENT for CLOSE (refused, timed out
     * or given up); a blocking connect's own error is the same kernel error. Records whose owner is not known are
     * left out: the pid they carry is whatever task the kernel ran in.
     */
    public static Integer failedConnectPort(SocketEvent e) {
        if ("UNKNOWN".equals(e.getAttribution()) || !SocketKinds.inet(SocketKinds.family(e))) {
            return null;
        }
        return switch (e.getKind()) {
            case CONNECT -> e.getReturnValue() < 0 && attemptFailed(e.getErrno()) ? e.getSockaddrPort() : null;
            case SOCK_ERROR -> attemptFailed(e.getErrno()) && e.getRemoteAddress() != null ? e.getRemotePort() : null;
            case TCP_STATE ->
                "SYN_SENT".equals(e.getTcpOldState()) && "CLOSE".equals(e.getTcpState()) ? e.getRemotePort() : null;
            case TCP_RECEIVE_RESET -> "SYN_SENT".equals(e.getTcpState()) ? e.getRemotePort() : null;
            default -> null;
        };
    }

    private static boolean attemptFailed(String errno) {
        return errno != null && ATTEMPT_FAILED.contains(errno); // Set.of refuses to look up null
    }

    public static String scanTarget(SocketEvent e) {
        return e.getKind() == EventKind.CONNECT ? e.getSockaddrAddress() : e.getRemoteAddress();
    }

    /** The process a record belongs to: host, pid and process start (a reused pid is another process). */
    public static String processKey(SocketEvent e) {
        return e.getHost() + "|" + e.getPid() + "|" + e.getProcessStartNs();
    }

    /** A socket's name within its host: cookie for inet sockets, inode otherwise. */
    static String socketOf(SocketEvent e) {
        return e.getSocketCookie() != null && e.getSocketCookie() != 0
                ? "c" + e.getSocketCookie()
                : e.getSocketInode() != null ? "i" + e.getSocketInode() : "e" + Alerts.eventId(e);
    }

    public static boolean isRecon(SocketEvent e) {
        return e.getKind() == EventKind.GETSOCKNAME || e.getKind() == EventKind.GETPEERNAME;
    }

    /** A connection this process made or accepted: asking its addresses afterwards is a client's routine. */
    public static boolean isOwnConnection(SocketEvent e) {
        return switch (e.getKind()) {
            case CONNECT -> e.getReturnValue() >= 0 || "EINPROGRESS".equals(e.getErrno());
            case ACCEPT, ACCEPT4 -> e.getReturnValue() >= 0;
            default -> false;
        };
    }

    /** What the recon rule reads: the name calls, and the connections that make some of them routine. */
    public static boolean reconInput(SocketEvent e) {
        return isRecon(e) || isOwnConnection(e);
    }

    /** Name calls on one of its own new connections that a client makes as a matter of course (its two addresses, twice). */
    static final int ROUTINE_CALLS_PER_CONNECTION = 4;

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
            TreeSet<String> sockets = new TreeSet<>();
            for (SocketEvent e : all) {
                Integer p = failedConnectPort(e);
                if (p != null) {
                    byPort.putIfAbsent(p, e);
                    sockets.add(socketOf(e));
                }
            }
            if (byPort.size() < minPorts) {
                return;
            }
            SocketEvent first = all.get(0);
            List<String> evidence = new ArrayList<>();
            byPort.values().stream().limit(50).forEach(e -> evidence.add(Alerts.describe(e)));
            String target = scanTarget(first);
            out.collect(Alerts.of(
                    "port-scan",
                    Severity.HIGH,
                    Instant.ofEpochMilli(ctx.window().getEnd() - 1),
                    first,
                    first.getComm() + " (pid " + first.getPid() + ") failed to connect to " + byPort.size()
                            + " distinct ports of " + target + " within "
                            + (ctx.window().getEnd() - ctx.window().getStart()) / 1000 + " s",
                    evidence,
                    Map.of(
                            "target",
                            String.valueOf(target),
                            "ports",
                            String.valueOf(byPort.size()),
                            "portList",
                            compact(byPort.keySet()),
                            "attempts",
                            String.valueOf(sockets.size())),
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
            // a client asks the addresses of the connections it just made or accepted: those first calls are not
            // reconnaissance; calls on sockets it did not connect here, or many on one socket, are
            java.util.Map<String, Integer> routine = new java.util.HashMap<>();
            for (SocketEvent e : sorted(events)) {
                if (isOwnConnection(e)) {
                    routine.put(socketOf(e), ROUTINE_CALLS_PER_CONNECTION);
                }
            }
            List<SocketEvent> all = new ArrayList<>();
            long skipped = 0;
            for (SocketEvent e : sorted(events)) {
                if (!isRecon(e)) {
                    continue;
                }
                Integer left = routine.get(socketOf(e));
                if (left != null && left > 0) {
                    routine.put(socketOf(e), left - 1);
                    skipped++;
                } else {
                    all.add(e);
                }
            }
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
            out.collect(Alerts.of(
                    "socket-recon",
                    Severity.MEDIUM,
                    Instant.ofEpochMilli(ctx.window().getEnd() - 1),
                    first,
                    first.getComm() + " (pid " + first.getPid() + ") made " + all.size()
                            + " getsockname/getpeername calls on " + sockets.size() + " sockets within "
                            + (ctx.window().getEnd() - ctx.window().getStart()) / 1000 + " s",
                    evidence,
                    Map.of(
                            "calls",
                            String.valueOf(all.size()),
                            "getsockname",
                            String.valueOf(names),
                            "getpeername",
                            String.valueOf(all.size() - names),
                            "sockets",
                            String.valueOf(sockets.size()),
                            "routine",
                            String.valueOf(skipped)),
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
