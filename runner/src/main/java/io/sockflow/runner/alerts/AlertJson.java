package io.sockflow.runner.alerts;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sockflow.schemas.Alert;
import io.sockflow.schemas.Severity;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An alert as the JSON that the webhook and syslog outputs send: an OCSF Detection Finding (class 2004, category 2
 * Findings, activity 1 Create), with OCSF's field names where OCSF has one for a fact of the alert and the rest under
 * {@code unmapped}. docs/alert-outputs.md describes every field. Absent facts are left out, never sent as null.
 */
public final class AlertJson {
    /** The OCSF schema version the shape follows. */
    public static final String OCSF_VERSION = "1.3.0";

    public static final int CLASS_UID = 2004;
    public static final int CATEGORY_UID = 2;
    public static final int ACTIVITY_CREATE = 1;

    private static final ObjectMapper JSON = new ObjectMapper();
    /** LOCAL->REMOTE in a reverse-shell's {@code stdio} attribute. */
    private static final Pattern CONNECTION = Pattern.compile("(\\S+)->(\\S+)");

    private AlertJson() {}

    /** OCSF's severity_id: 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical. */
    public static int severityId(Severity s) {
        return switch (s) {
            case INFO -> 1;
            case LOW -> 2;
            case MEDIUM -> 3;
            case HIGH -> 4;
            case CRITICAL -> 5;
        };
    }

    /** OCSF's caption of {@link #severityId}. */
    public static String severityName(Severity s) {
        return switch (s) {
            case INFO -> "Informational";
            case LOW -> "Low";
            case MEDIUM -> "Medium";
            case HIGH -> "High";
            case CRITICAL -> "Critical";
        };
    }

    /** The finding, as one line of JSON (every line break in a value is escaped by JSON's rules). */
    public static String line(Alert a) {
        try {
            return JSON.writeValueAsString(of(a, true));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** As {@link #line} without the evidences: for a transport that cannot carry a record that large. */
    public static String lineWithoutEvidences(Alert a) {
        try {
            return JSON.writeValueAsString(of(a, false));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static ObjectNode of(Alert a, boolean evidences) {
        ObjectNode o = JSON.createObjectNode();
        o.put("class_uid", CLASS_UID);
        o.put("class_name", "Detection Finding");
        o.put("category_uid", CATEGORY_UID);
        o.put("category_name", "Findings");
        o.put("activity_id", ACTIVITY_CREATE);
        o.put("activity_name", "Create");
        o.put("type_uid", CLASS_UID * 100 + ACTIVITY_CREATE);
        o.put("type_name", "Detection Finding: Create");
        o.put("severity_id", severityId(a.getSeverity()));
        o.put("severity", severityName(a.getSeverity()));
        o.put("status_id", 1);
        o.put("status", "New");
        o.put("time", a.getTimestamp().toEpochMilli());
        o.put("message", a.getSummary());

        ObjectNode metadata = o.putObject("metadata");
        metadata.put("version", OCSF_VERSION);
        metadata.put("uid", a.getAlertId());
        ObjectNode product = metadata.putObject("product");
        product.put("name", "sockflow");
        product.put("vendor_name", "sockflow");

        ObjectNode finding = o.putObject("finding_info");
        finding.put("uid", a.getAlertId());
        finding.put("title", a.getRule());
        finding.put("desc", a.getSummary());
        finding.putArray("types").add(a.getRule());
        ObjectNode analytic = finding.putObject("analytic");
        analytic.put("name", a.getRule());
        analytic.put("type_id", 1);
        analytic.put("type", "Rule");

        ObjectNode process = JSON.createObjectNode();
        putIfSet(process, "pid", a.getPid());
        putIfSet(process, "name", a.getComm());
        putIfSet(process, "cmd_line", a.getCmdline());
        if (a.getExe() != null) {
            ObjectNode file = process.putObject("file");
            file.put("path", a.getExe());
            file.put("name", a.getExe().substring(a.getExe().lastIndexOf('/') + 1));
        }
        if (a.getUid() != null) {
            process.putObject("user").put("uid", Integer.toString(a.getUid()));
        }
        ObjectNode parent = parent(a.getPpid(), a.getAncestry());
        if (parent != null) {
            process.set("parent_process", parent);
        }
        if (!process.isEmpty()) {
            o.putObject("actor").set("process", process);
        }
        o.putObject("device").put("hostname", a.getHost());

        Map<String, String> attrs = a.getAttributes() == null ? Map.of() : a.getAttributes();
        endpoints(o, attrs);

        if (evidences && a.getEvidence() != null && !a.getEvidence().isEmpty()) {
            ArrayNode ev = o.putArray("evidences");
            for (CharSequence line : a.getEvidence()) {
                ev.addObject().putObject("data").put("event", line.toString());
            }
        }

        ObjectNode unmapped = o.putObject("unmapped");
        unmapped.put("rule", a.getRule());
        unmapped.put("sockflow_severity", a.getSeverity().name());
        putIfSet(unmapped, "process_start_ns", a.getProcessStartNs());
        if (a.getAncestry() != null && !a.getAncestry().isEmpty()) {
            ArrayNode anc = unmapped.putArray("ancestry");
            a.getAncestry().forEach(s -> anc.add(s.toString()));
        }
        if (!attrs.isEmpty()) {
            ObjectNode at = unmapped.putObject("attributes");
            new TreeMap<>(attrs).forEach((k, v) -> at.put(k.toString(), v == null ? null : v.toString()));
        }
        if (!evidences && a.getEvidence() != null && !a.getEvidence().isEmpty()) {
            unmapped.put("evidences_left_out", a.getEvidence().size());
        }
        return o;
    }

    /** The parent: its pid from {@code ppid}, its name and file from the nearest line of the ancestry. */
    private static ObjectNode parent(Integer ppid, List<? extends CharSequence> ancestry) {
        String[] nearest = ancestry == null || ancestry.isEmpty()
                ? null
                : ancestry.getFirst().toString().split(" ", 3);
        Integer pid = ppid;
        String name = null;
        String path = null;
        if (nearest != null && nearest.length >= 2 && nearest[0].matches("\\d{1,10}")) {
            long n = Long.parseLong(nearest[0]);
            if (pid == null && n <= Integer.MAX_VALUE) {
                pid = (int) n;
            }
            if (pid != null && pid == n) {
                name = nearest[1];
                path = nearest.length == 3 && nearest[2].startsWith("/") ? nearest[2] : null;
            }
        }
        if (pid == null) {
            return null;
        }
        ObjectNode p = JSON.createObjectNode();
        p.put("pid", pid);
        if (name != null) {
            p.put("name", name);
        }
        if (path != null) {
            p.putObject("file").put("path", path);
        }
        return p;
    }

    /**
     * The addresses a rule names: the remote end ({@code destination} of shell-connect, {@code target} of port-scan)
     * as dst_endpoint, the process's own listening address (new-listener) as src_endpoint, both ends of a
     * reverse-shell's connection.
     */
    private static void endpoints(ObjectNode o, Map<String, String> attrs) {
        String destination = attrs.get("destination");
        if (destination != null) {
            endpoint(o, "dst_endpoint", destination);
        }
        String target = attrs.get("target");
        if (target != null && !target.equals("null")) {
            o.putObject("dst_endpoint").put("ip", target);
        }
        String address = attrs.get("address");
        String port = attrs.get("port");
        if (address != null && !address.equals("null")) {
            ObjectNode src = o.putObject("src_endpoint");
            src.put("ip", address);
            if (port != null && port.matches("\\d{1,5}")) {
                src.put("port", Integer.parseInt(port));
            }
        }
        String stdio = attrs.get("stdio");
        if (stdio != null) {
            Matcher m = CONNECTION.matcher(stdio);
            if (m.find()) {
                endpoint(o, "src_endpoint", m.group(1));
                endpoint(o, "dst_endpoint", m.group(2));
            }
        }
    }

    /** ADDRESS:PORT (an IPv6 address bare or in brackets) as an OCSF endpoint; anything else is left out. */
    private static void endpoint(ObjectNode o, String field, String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0) {
            return;
        }
        String ip = hostPort.substring(0, colon);
        String port = hostPort.substring(colon + 1);
        if (ip.startsWith("[") && ip.endsWith("]")) {
            ip = ip.substring(1, ip.length() - 1);
        }
        if (!port.matches("\\d{1,5}") || ip.isEmpty() || ip.equals("null")) {
            return;
        }
        ObjectNode e = o.putObject(field);
        e.put("ip", ip);
        e.put("port", Integer.parseInt(port));
    }

    private static void putIfSet(ObjectNode o, String name, Object v) {
        if (v instanceof Integer i) {
            o.put(name, i);
        } else if (v instanceof Long l) {
            o.put(name, l);
        } else if (v != null) {
            o.put(name, v.toString());
        }
    }
}
