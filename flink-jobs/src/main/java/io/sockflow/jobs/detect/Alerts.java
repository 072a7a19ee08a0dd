package io.sockflow.jobs.detect;

import io.sockflow.schemas.Alert;
import io.sockflow.schemas.Severity;
import io.sockflow.schemas.SocketEvent;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Building alerts: a deterministic id (the same input gives the same alert, so a replay does not duplicate it). */
public final class Alerts {
    private Alerts() {}

    public static Alert of(
            String rule,
            Severity severity,
            Instant time,
            SocketEvent who,
            String summary,
            List<String> evidence,
            Map<String, String> attributes,
            String idSeed) {
        Alert a = new Alert();
        a.setRule(rule);
        a.setSeverity(severity);
        a.setTimestamp(time);
        a.setHost(who.getHost());
        a.setPid(who.getPid());
        a.setProcessStartNs(who.getProcessStartNs());
        a.setComm(who.getComm());
        a.setUid(who.getUid());
        a.setSummary(summary);
        a.setEvidence(evidence);
        a.setAncestry(List.of()); // the process's context is added downstream (AlertContext), when its exec was seen
        Map<String, String> attrs = new LinkedHashMap<>(attributes);
        if (who.getContainerId() != null) {
            attrs.put("containerId", who.getContainerId());
        }
        // sorted: Map.copyOf's order changes from one JVM to the next, and with it the alert's bytes on Kafka and
        // the order a reader's map gives back (a restored job's alerts must be the very records the first wrote)
        a.setAttributes(Collections.unmodifiableMap(new TreeMap<>(attrs)));
        a.setAlertId(id(rule + "|" + who.getHost() + "|" + idSeed));
        return a;
    }

    static String id(String seed) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-1").digest(seed.getBytes(StandardCharsets.UTF_8)))
                    .substring(0, 24);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One line per event: what a reader of the alert needs to see what happened. */
    public static String describe(SocketEvent e) {
        StringBuilder b = new StringBuilder();
        b.append(e.getTimestamp())
                .append(' ')
                .append(e.getKind())
                .append(e.getIoUringOp() != null ? " " + e.getIoUringOp() : "")
                .append(" pid ")
                .append(e.getPid())
                .append(" (")
                .append(e.getComm())
                .append(")");
        if (e.getFamily() != null) {
            b.append(' ').append(e.getFamily());
        }
        if (e.getSocketType() != null) {
            b.append(' ').append(e.getSocketType());
        } else if (e.getArgType() != null) {
            b.append(' ').append(e.getArgFamily()).append(' ').append(e.getArgType());
        }
        if (e.getSockaddrAddress() != null) {
            b.append(" addr ").append(e.getSockaddrAddress()).append(':').append(e.getSockaddrPort());
        } else if (e.getRemoteAddress() != null) {
            b.append(" peer ").append(e.getRemoteAddress()).append(':').append(e.getRemotePort());
        }
        if (e.getName() != null) {
            b.append(" name '").append(e.getName()).append('\'');
        }
        b.append(" ret ").append(e.getReturnValue());
        if (e.getErrno() != null) {
            b.append(' ').append(e.getErrno());
        }
        if (e.getSocketInode() != null) {
            b.append(" inode ").append(e.getSocketInode());
        }
        return b.toString();
    }

    public static String eventId(SocketEvent e) {
        return e.getBootId() + "/" + e.getTid() + "/" + e.getMonotonicNs() + "/" + e.getKind();
    }
}
