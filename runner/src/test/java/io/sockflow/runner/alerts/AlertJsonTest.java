package io.sockflow.runner.alerts;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sockflow.schemas.Alert;
import io.sockflow.schemas.Severity;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The JSON of an alert: the documented OCSF Detection Finding, with the alert's values, on one line. */
class AlertJsonTest {
    static final ObjectMapper JSON = new ObjectMapper();

    /** A reverse-shell alert with every field set, as the detection job writes one. */
    static Alert reverseShell() {
        Alert a = new Alert();
        a.setAlertId("4f1c2a9e0b7d13c5a8e6f201");
        a.setRule("reverse-shell");
        a.setSeverity(Severity.CRITICAL);
        a.setTimestamp(Instant.parse("2025-03-04T05:06:07.123456Z"));
        a.setHost("web-1");
        a.setPid(4242);
        a.setProcessStartNs(987654321L);
        a.setComm("bash");
        a.setUid(1000);
        a.setSummary("bash (pid 4242) started with its standard streams on a TCP connection");
        a.setEvidence(List.of("2025-03-04T05:06:07.123456Z EXEC pid 4242 (bash) ret 0 stdio 0,1,2 ..."));
        a.setAttributes(
                Map.of("program", "/usr/bin/bash", "stdio", "0,1,2 10.0.0.5:40312->203.0.113.7:4444 socket:[81234]"));
        a.setPpid(4200);
        a.setExe("/usr/bin/bash");
        a.setCmdline("bash -i\nsecond line");
        a.setAncestry(List.of("4200 python3 /usr/bin/python3.11", "1 systemd /usr/lib/systemd/systemd"));
        return a;
    }

    @Test
    void aReverseShellIsADetectionFindingWithItsProcessParentEndpointsAndEvidence() throws Exception {
        String line = AlertJson.line(reverseShell());
        assertFalse(line.contains("\n"), "one line, a line break in a value escaped: " + line);
        JsonNode j = JSON.readTree(line);
        assertEquals(2004, j.get("class_uid").asInt());
        assertEquals(2, j.get("category_uid").asInt());
        assertEquals(1, j.get("activity_id").asInt());
        assertEquals(200401, j.get("type_uid").asInt());
        assertEquals(5, j.get("severity_id").asInt());
        assertEquals("Critical", j.get("severity").asText());
        assertEquals(
                Instant.parse("2025-03-04T05:06:07.123Z").toEpochMilli(),
                j.get("time").asLong());
        assertEquals(
                "bash (pid 4242) started with its standard streams on a TCP connection",
                j.at("/message").asText());
        assertEquals("4f1c2a9e0b7d13c5a8e6f201", j.at("/finding_info/uid").asText());
        assertEquals("reverse-shell", j.at("/finding_info/title").asText());
        assertEquals("reverse-shell", j.at("/finding_info/types/0").asText());
        assertEquals("sockflow", j.at("/metadata/product/name").asText());
        assertEquals(AlertJson.OCSF_VERSION, j.at("/metadata/version").asText());
        JsonNode p = j.at("/actor/process");
        assertEquals(4242, p.get("pid").asInt());
        assertEquals("bash", p.get("name").asText());
        assertEquals("bash -i\nsecond line", p.get("cmd_line").asText());
        assertEquals("/usr/bin/bash", p.at("/file/path").asText());
        assertEquals("bash", p.at("/file/name").asText());
        assertEquals("1000", p.at("/user/uid").asText());
        assertEquals(4200, p.at("/parent_process/pid").asInt());
        assertEquals("python3", p.at("/parent_process/name").asText());
        assertEquals("/usr/bin/python3.11", p.at("/parent_process/file/path").asText());
        assertEquals("web-1", j.at("/device/hostname").asText());
        assertEquals("10.0.0.5", j.at("/src_endpoint/ip").asText());
        assertEquals(40312, j.at("/src_endpoint/port").asInt());
        assertEquals("203.0.113.7", j.at("/dst_endpoint/ip").asText());
        assertEquals(4444, j.at("/dst_endpoint/port").asInt());
        assertTrue(j.at("/evidences/0/data/event").asText().contains("EXEC pid 4242"));
        assertEquals("reverse-shell", j.at("/unmapped/rule").asText());
        assertEquals("CRITICAL", j.at("/unmapped/sockflow_severity").asText());
        assertEquals(987654321L, j.at("/unmapped/process_start_ns").asLong());
        assertEquals(
                "1 systemd /usr/lib/systemd/systemd",
                j.at("/unmapped/ancestry/1").asText());
        assertEquals("/usr/bin/bash", j.at("/unmapped/attributes/program").asText());
    }

    @Test
    void factsTheAlertLacksAreLeftOutNotNull() throws Exception {
        Alert a = new Alert();
        a.setAlertId("id1");
        a.setRule("hostname-change");
        a.setSeverity(Severity.HIGH);
        a.setTimestamp(Instant.ofEpochMilli(1_700_000_000_000L));
        a.setHost("h");
        a.setSummary("s");
        a.setEvidence(List.of());
        a.setAttributes(Map.of());
        a.setAncestry(List.of());
        JsonNode j = JSON.readTree(AlertJson.line(a));
        assertFalse(j.has("actor"), j.toString());
        assertFalse(j.has("src_endpoint") || j.has("dst_endpoint") || j.has("evidences"), j.toString());
        assertFalse(j.at("/unmapped").has("attributes"), j.toString());
        assertEquals(4, j.get("severity_id").asInt());
        assertEquals(1_700_000_000_000L, j.get("time").asLong());
        assertFalse(j.toString().contains("null"), "no null values: " + j);
    }

    @Test
    void eachRulesAddressesAreItsEndpoints() throws Exception {
        Alert a = reverseShell();
        a.setAttributes(Map.of("destination", "2001:db8::1:443"));
        JsonNode j = JSON.readTree(AlertJson.line(a));
        assertEquals("2001:db8::1", j.at("/dst_endpoint/ip").asText(), "an IPv6 address:port");
        assertEquals(443, j.at("/dst_endpoint/port").asInt());
        assertFalse(j.has("src_endpoint"));
        a.setAttributes(Map.of("target", "10.1.2.3", "ports", "25"));
        j = JSON.readTree(AlertJson.line(a));
        assertEquals("10.1.2.3", j.at("/dst_endpoint/ip").asText(), "a port scan's target");
        assertFalse(j.at("/dst_endpoint").has("port"));
        a.setAttributes(Map.of("address", "0.0.0.0", "port", "8080", "protocol", "TCP"));
        j = JSON.readTree(AlertJson.line(a));
        assertEquals("0.0.0.0", j.at("/src_endpoint/ip").asText(), "a new listener's own address");
        assertEquals(8080, j.at("/src_endpoint/port").asInt());
        assertEquals(3, AlertJson.severityId(Severity.MEDIUM));
        assertEquals(2, AlertJson.severityId(Severity.LOW));
        assertEquals(1, AlertJson.severityId(Severity.INFO));
    }

    /** The example of docs/alert-outputs.md: a reverse shell started by a PHP worker. */
    static Alert documented() {
        Alert a = new Alert();
        String stdio = "0,1,2 10.0.0.5:40312->203.0.113.7:4444 socket:[81234]";
        a.setAlertId("9c2e51d07a4b3f18e6d0c2a7");
        a.setRule("reverse-shell");
        a.setSeverity(Severity.CRITICAL);
        a.setTimestamp(Instant.parse("2025-06-12T09:41:07.512338Z"));
        a.setHost("web-1");
        a.setPid(31337);
        a.setProcessStartNs(8812734455120L);
        a.setComm("bash");
        a.setUid(33);
        a.setSummary("bash (pid 31337) started with its standard streams on a TCP connection: " + stdio);
        a.setEvidence(List.of("2025-06-12T09:41:07.512338Z EXEC pid 31337 (bash) ret 0 stdio " + stdio));
        a.setAttributes(Map.of("program", "/usr/bin/bash", "stdio", stdio));
        a.setPpid(31300);
        a.setExe("/usr/bin/bash");
        a.setCmdline("bash -i");
        a.setAncestry(List.of(
                "31300 sh /usr/bin/sh", "1204 php-fpm8.2 /usr/sbin/php-fpm8.2", "1 systemd /usr/lib/systemd/systemd"));
        return a;
    }

    @Test
    void theDocumentedExampleIsWhatIsSent() throws Exception {
        String doc = java.nio.file.Files.readString(
                java.nio.file.Path.of("..").toAbsolutePath().normalize().resolve("docs/alert-outputs.md"));
        int start = doc.indexOf("```json\n");
        assertTrue(start >= 0, "docs/alert-outputs.md has a json example");
        String example = doc.substring(start + 8, doc.indexOf("```", start + 8));
        assertEquals(JSON.readTree(example), JSON.readTree(AlertJson.line(documented())));
        String syslog = Syslog.message(documented(), "{\"class_uid\":2004,...}");
        assertTrue(doc.contains("\n" + syslog + "\n"), "the documented syslog line: " + syslog);
    }

    @Test
    void withoutEvidencesTheirCountIsKept() throws Exception {
        JsonNode j = JSON.readTree(AlertJson.lineWithoutEvidences(reverseShell()));
        assertFalse(j.has("evidences"));
        assertEquals(1, j.at("/unmapped/evidences_left_out").asInt());
    }
}
