package io.sockflow.runner.alerts;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sockflow.schemas.Alert;
import io.sockflow.schemas.Severity;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** RFC 5424 messages and RFC 6587 octet-counting frames, without a receiver. */
class SyslogTest {
    /** HEADER SP STRUCTURED-DATA SP MSG, as RFC 5424's ABNF has it. */
    static final Pattern RFC5424 = Pattern.compile(
            "<(\\d{1,3})>1 (\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(?:\\.\\d{1,6})?Z) ([!-~]{1,255}) ([!-~]{1,48})"
                    + " ([!-~]{1,128}) ([!-~]{1,32}) (-|\\[.*?\\]) (.*)",
            Pattern.DOTALL);

    /** The parts of an RFC 5424 message: PRI, time, host, app, procid, msgid, SD, MSG; fails when it is none. */
    static Matcher parse(String message) {
        Matcher m = RFC5424.matcher(message);
        assertTrue(m.matches(), "not an RFC 5424 message: " + message);
        return m;
    }

    @Test
    void anAlertIsAnRfc5424MessageWithItsJsonAsMsg() throws Exception {
        Alert a = AlertJsonTest.reverseShell();
        String msg = Syslog.message(a, AlertJson.line(a));
        Matcher m = parse(msg);
        assertEquals(16 * 8 + 2, Integer.parseInt(m.group(1)), "local0, crit");
        assertEquals("2025-03-04T05:06:07.123456Z", m.group(2));
        assertEquals("web-1", m.group(3));
        assertEquals("sockflow", m.group(4));
        assertEquals("-", m.group(5));
        assertEquals("reverse-shell", m.group(6));
        assertEquals("-", m.group(7));
        JsonNode j = new ObjectMapper().readTree(m.group(8));
        assertEquals("4f1c2a9e0b7d13c5a8e6f201", j.at("/finding_info/uid").asText());
        assertFalse(msg.contains("\n"), "one line");
    }

    @Test
    void severitiesAndOddHeaderValues() {
        assertEquals(3, Syslog.severity(Severity.HIGH));
        assertEquals(4, Syslog.severity(Severity.MEDIUM));
        assertEquals(5, Syslog.severity(Severity.LOW));
        assertEquals(6, Syslog.severity(Severity.INFO));
        Alert a = AlertJsonTest.reverseShell();
        a.setHost("host with spaces\u001b[2Jé");
        a.setRule("a-rule-name-longer-than-thirty-two-characters");
        a.setTimestamp(Instant.parse("2025-01-01T00:00:00Z"));
        Matcher m = parse(Syslog.message(a, "{}"));
        assertEquals("host_with_spaces_[2J_", m.group(3), "printable ASCII only");
        assertEquals("a-rule-name-longer-than-thirty-t", m.group(6), "MSGID is at most 32 characters");
        assertEquals("2025-01-01T00:00:00.000000Z", m.group(2));
        a.setHost("");
        assertEquals("-", parse(Syslog.message(a, "{}")).group(3), "an empty host is the NILVALUE");
    }

    @Test
    void octetCountingCountsBytesNotCharacters() {
        byte[] f = Syslog.frame("<134>1 - - - - - - ünï");
        String s = new String(f, StandardCharsets.UTF_8);
        int sp = s.indexOf(' ');
        int len = Integer.parseInt(s.substring(0, sp));
        assertEquals(f.length - sp - 1, len);
        assertEquals("<134>1 - - - - - - ünï".getBytes(StandardCharsets.UTF_8).length, len);
        assertEquals(24, len, "22 characters, two of them two bytes long");
        assertTrue(s.startsWith("24 <134>1 "), s);
    }

    /** A TCP receiver that accepts and then never reads cannot hold the forwarder: the send fails within its timeout. */
    @Test
    void aTcpReceiverThatStopsReadingFailsTheSendWithinTheTimeout() throws Exception {
        try (java.net.ServerSocket server =
                new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            server.setReceiveBufferSize(4096);
            Thread acceptor = Thread.ofPlatform().daemon().start(() -> {
                try {
                    java.net.Socket held = server.accept(); // accepted, never read
                    Thread.sleep(60_000);
                    held.close();
                } catch (Exception ignored) {
                    // the test ended
                }
            });
            Syslog out = new Syslog("test", true, "127.0.0.1", server.getLocalPort(), java.time.Duration.ofMillis(500));
            Alert a = AlertJsonTest.reverseShell();
            long start = System.nanoTime();
            java.io.IOException failed = null;
            for (int i = 0; i < 100_000 && failed == null; i++) {
                try {
                    out.send(a);
                } catch (java.io.IOException e) {
                    failed = e;
                }
            }
            long ms = (System.nanoTime() - start) / 1_000_000;
            out.close();
            acceptor.interrupt();
            assertNotNull(failed, "the kernel's buffers filled and the send gave up");
            assertInstanceOf(java.net.SocketTimeoutException.class, failed, failed.toString());
            assertTrue(failed.getMessage().contains("stopped reading"), failed.getMessage());
            assertTrue(ms < 20_000, "gave up in " + ms + " ms, not blocked for ever");
        }
    }
}
