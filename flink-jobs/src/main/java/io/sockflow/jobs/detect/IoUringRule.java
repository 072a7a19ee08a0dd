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
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

/**
 * {@code io-uring-network}: a process that submits network requests (socket, connect, accept, send, receive, ...)
 * through io_uring, where none of them is a system call of its own: a way past monitors that watch the network calls.
 * One alert per process and window (keyed by host, pid and process start), naming the opcodes seen with their counts;
 * the alert's summary names the process only, so that folding makes one alert of a process that keeps at it.
 */
public final class IoUringRule extends ProcessWindowFunction<SocketEvent, Alert, String, TimeWindow> {
    private static final long serialVersionUID = 1L;
    private final Set<String> allow;

    /** @param allow process names (comm) whose io_uring networking is expected (io_uring-based servers) */
    public IoUringRule(Set<String> allow) {
        this.allow = Set.copyOf(allow);
    }

    /** What the rule reads: the collector's records of io_uring's network requests. */
    public static boolean isInput(SocketEvent e) {
        return e.getKind() == EventKind.IO_URING_SUBMIT && e.getIoUringOp() != null;
    }

    @Override
    public void process(String key, Context ctx, Iterable<SocketEvent> events, Collector<Alert> out) {
        Map<String, SocketEvent> unique = new HashMap<>();
        events.forEach(e -> unique.putIfAbsent(Alerts.eventId(e), e)); // an event delivered twice counts once
        List<SocketEvent> all = new ArrayList<>(unique.values());
        all.removeIf(e -> allow.contains(e.getComm()));
        if (all.isEmpty()) {
            return;
        }
        all.sort(Comparator.comparing(SocketEvent::getTimestamp).thenComparing(Alerts::eventId));
        TreeMap<String, Integer> counts = new TreeMap<>();
        TreeMap<String, SocketEvent> firstOf = new TreeMap<>();
        TreeSet<Long> sockets = new TreeSet<>();
        TreeSet<String> peers = new TreeSet<>();
        for (SocketEvent e : all) {
            counts.merge(e.getIoUringOp(), 1, Integer::sum);
            firstOf.putIfAbsent(e.getIoUringOp(), e);
            if (e.getSocketCookie() != null) {
                sockets.add(e.getSocketCookie());
            }
            if ("CONNECT".equals(e.getIoUringOp()) && e.getSockaddrAddress() != null) {
                peers.add(e.getSockaddrAddress() + (e.getSockaddrPort() != null ? ":" + e.getSockaddrPort() : ""));
            }
        }
        List<String> evidence = new ArrayList<>();
        firstOf.forEach((op, e) -> evidence.add(op + " x" + counts.get(op) + ": " + Alerts.describe(e)));
        StringBuilder ops = new StringBuilder();
        counts.forEach((op, n) -> ops.append(ops.isEmpty() ? "" : ",").append(op));
        Map<String, String> attributes = new TreeMap<>();
        attributes.put("opcodes", ops.toString());
        attributes.put("requests", String.valueOf(all.size()));
        attributes.put("sockets", String.valueOf(sockets.size()));
        if (!peers.isEmpty()) {
            attributes.put(
                    "connectTo", String.join(",", peers.stream().limit(20).toList()));
        }
        SocketEvent first = all.get(0);
        out.collect(Alerts.of(
                "io-uring-network",
                Severity.MEDIUM,
                Instant.ofEpochMilli(ctx.window().getEnd() - 1),
                first,
                first.getComm() + " (pid " + first.getPid()
                        + ") makes network requests through io_uring, which no system call of its own shows",
                evidence,
                attributes,
                key + "|" + ctx.window().getStart()));
    }
}
