package io.sockflow.jobs.detect;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.schemas.Alert;
import io.sockflow.schemas.Severity;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** A thousand alerts of one finding are one alert, then one more with the count and the time span. */
class AlertSuppressionTest {
    static final long MIN = 60_000;

    static Alert alert(String rule, int pid, long t, String summary) {
        Alert a = new Alert();
        a.setRule(rule);
        a.setSeverity(Severity.HIGH);
        a.setTimestamp(Instant.ofEpochMilli(t));
        a.setHost("web-1");
        a.setPid(pid);
        a.setProcessStartNs(1000L * pid);
        a.setComm("nc");
        a.setSummary(summary);
        a.setEvidence(List.of("evidence at " + t));
        a.setAttributes(Map.of("port", String.valueOf(t % 1000)));
        a.setAncestry(List.of());
        a.setAlertId(Alerts.id(rule + pid + t));
        return a;
    }

    /** Fed in this order, each with its timestamp; the watermark follows {@code watermarks} (time → after index). */
    static List<Alert> run(Duration window, List<Alert> in, long... watermarkAfterEach) throws Exception {
        var h = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new AlertSuppression(window)), AlertSuppression::key, Types.STRING);
        h.open();
        for (int i = 0; i < in.size(); i++) {
            Alert a = in.get(i);
            h.processElement(new StreamRecord<>(a, a.getTimestamp().toEpochMilli()));
            if (i < watermarkAfterEach.length && watermarkAfterEach[i] > 0) {
                h.processWatermark(watermarkAfterEach[i]);
            }
        }
        h.processWatermark(Long.MAX_VALUE);
        List<Alert> out = new ArrayList<>(h.extractOutputValues());
        h.close();
        return out;
    }

    @Test
    void aThousandOfOneFindingAreTheFirstThenOneWithTheCountAndSpan() throws Exception {
        List<Alert> in = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            in.add(alert("raw-socket", 7, 1_000 + i * 300L, "nc (pid 7) opened a AF_PACKET SOCK_RAW socket"));
        }
        List<Alert> out = run(Duration.ofMinutes(10), in);
        assertEquals(2, out.size(), out.toString());
        assertEquals(in.get(0), out.get(0), "the first goes out as it is, at once");
        Alert f = out.get(1);
        assertEquals("999", f.getAttributes().get(AlertSuppression.FOLDED));
        assertEquals(Instant.ofEpochMilli(1_300).toString(), f.getAttributes().get(AlertSuppression.FOLDED_FIRST));
        assertEquals(in.get(999).getTimestamp().toString(), f.getAttributes().get(AlertSuppression.FOLDED_LAST));
        assertTrue(f.getSummary().startsWith("999 more like this between "), f.getSummary());
        assertEquals(in.get(999).getEvidence(), f.getEvidence(), "the newest is the sample");
        assertNotEquals(in.get(0).getAlertId(), f.getAlertId());
    }

    @Test
    void otherFindingsOtherProcessesAndOtherRulesAreNotFolded() throws Exception {
        List<Alert> out = run(
                Duration.ofMinutes(10),
                List.of(
                        alert("raw-socket", 7, 1_000, "nc (pid 7) opened a AF_INET SOCK_RAW socket"),
                        alert("raw-socket", 7, 2_000, "nc (pid 7) opened a AF_INET6 SOCK_RAW socket"),
                        alert("raw-socket", 7, 3_000, "nc (pid 7) opened a AF_PACKET SOCK_RAW socket"),
                        alert("raw-socket", 8, 4_000, "nc (pid 8) opened a AF_INET SOCK_RAW socket"),
                        alert("so-debug", 7, 5_000, "nc (pid 7) opened a AF_INET SOCK_RAW socket")));
        assertEquals(5, out.size(), out.toString());
        assertTrue(out.stream().noneMatch(a -> a.getAttributes().containsKey(AlertSuppression.FOLDED)));
    }

    @Test
    void afterTheWindowTheFindingIsNewsAgainAndTheFoldedOneComesAtTheWindowsEnd() throws Exception {
        List<Alert> in = List.of(
                alert("reverse-shell", 7, 0, "bash on 10.0.0.9:4444"),
                alert("reverse-shell", 7, 1 * MIN, "bash on 10.0.0.9:4444"),
                alert("reverse-shell", 7, 2 * MIN, "bash on 10.0.0.9:4444"),
                alert("reverse-shell", 7, 11 * MIN, "bash on 10.0.0.9:4444"));
        // the watermark passes the first window's end before the fourth arrives
        List<Alert> out = run(Duration.ofMinutes(10), in, 0, 0, 10 * MIN);
        assertEquals(
                List.of("bash on 10.0.0.9:4444", "2 more like this", "bash on 10.0.0.9:4444"),
                out.stream()
                        .map(a -> a.getSummary().startsWith("2 more") ? "2 more like this" : a.getSummary())
                        .toList());
        // the same when the fourth comes before the watermark has closed the window (another partition is behind)
        List<Alert> early = run(Duration.ofMinutes(10), in);
        assertEquals(3, early.size(), early.toString());
        assertEquals("2", early.get(1).getAttributes().get(AlertSuppression.FOLDED));
        assertEquals("bash on 10.0.0.9:4444", early.get(2).getSummary());
        assertFalse(early.get(2).getAttributes().containsKey(AlertSuppression.FOLDED));
    }

    @Test
    void findingsThatDifferInADetailAreEachTheirOwnAndAWindowOfZeroFoldsNothing() throws Exception {
        List<Alert> in = List.of(
                alert("new-listener", 7, 0, "nc (pid 7) listens on 0.0.0.0:8080"),
                alert("new-listener", 7, 1_000, "nc (pid 7) listens on 0.0.0.0:31337"),
                alert("port-scan", 7, 2_000, "nc (pid 7) failed to connect to 50 ports of 10.0.0.1"),
                alert("port-scan", 7, 3_000, "nc (pid 7) failed to connect to 50 ports of 10.0.0.2"));
        assertEquals(4, run(Duration.ofMinutes(10), in).size(), "another port, another target: news each");
        List<Alert> same =
                List.of(alert("so-debug", 7, 0, "x"), alert("so-debug", 7, 1, "x"), alert("so-debug", 7, 2, "x"));
        assertEquals(same, run(Duration.ZERO, same), "0: every alert as it is");
    }

    @Test
    void aLoneAlertIsJustItselfAndTheSameInputGivesTheSameIds() throws Exception {
        List<Alert> in = List.of(
                alert("hostname-change", 7, 0, "sethostname('x')"),
                alert("port-scan", 9, 0, "scan 50"),
                alert("port-scan", 9, 1000, "scan 51"));
        List<Alert> a = run(Duration.ofMinutes(10), in);
        List<Alert> b = run(Duration.ofMinutes(10), in);
        assertEquals(3, a.size());
        assertEquals(
                a.stream().map(Alert::getAlertId).sorted().toList(),
                b.stream().map(Alert::getAlertId).sorted().toList(),
                "a replay of the same input gives the same alert ids (no duplicates downstream)");
    }
}
