package io.sockflow.runner;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.schemas.Alert;
import io.sockflow.schemas.Flow;
import io.sockflow.schemas.FlowRecordType;
import io.sockflow.schemas.LifecycleStatus;
import io.sockflow.schemas.Severity;
import io.sockflow.schemas.SocketLifecycle;
import io.sockflow.schemas.SocketRole;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The live view renders what it reads: names from the capture cannot drive the terminal, and listeners are live ones. */
class LiveViewTest {
    static final String HOST = read("/proc/sys/kernel/hostname");
    static final String BOOT = read("/proc/sys/kernel/random/boot_id");
    /** Clears the screen, sets the window title, rings the bell, and turns text right to left. */
    static final String EVIL = "evil\u001b[2J\u001b]0;pwned\u0007\u202eexe.";

    static String read(String f) {
        try {
            return Files.readString(Path.of(f)).strip();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static SocketLifecycle listener(long cookie, String comm, LifecycleStatus status, String boot) {
        SocketLifecycle l = new SocketLifecycle();
        l.setHost(HOST);
        l.setBootId(boot);
        l.setSocketInode(1000 + cookie);
        l.setSocketCookie(cookie);
        l.setRole(SocketRole.LISTENER);
        l.setStatus(status);
        l.setComm(comm);
        l.setPid(42);
        l.setLocalAddress("127.0.0.1");
        l.setLocalPort((int) (8000 + cookie));
        return l;
    }

    /** The collector's status file goes at its stop (and a restarted collector counts from zero): no false figure. */
    @Test
    void aCollectorWithNoStatusIsSaidToBeSoAndARestartShowsNoNegativeRate() throws Exception {
        try (LiveView view = new LiveView()) {
            String starting = view.render(LiveView.Collector.of(java.util.Map.of()), () -> "test", Instant.now());
            assertTrue(starting.contains("collector  no status: starting, or stopped"), starting);
            view.render(
                    LiveView.Collector.of(java.util.Map.of("received", "5000", "acked", "5000")),
                    () -> "test",
                    Instant.now());
            Thread.sleep(20);
            String stopped = view.render(LiveView.Collector.of(java.util.Map.of()), () -> "test", Instant.now());
            assertTrue(stopped.contains("no status"), stopped);
            assertFalse(stopped.contains("-"), "no negative figure: " + stopped);
            Thread.sleep(20);
            String restarted = view.render(
                    LiveView.Collector.of(java.util.Map.of("received", "10", "acked", "10")),
                    () -> "test",
                    Instant.now());
            assertTrue(restarted.contains("collector  0 events/s  10 events"), restarted);
        }
    }

    @Test
    void aProcessNamedWithEscapeSequencesIsRenderedEscaped() {
        try (LiveView view = new LiveView()) {
            Flow f = new Flow();
            f.setFlowId("f1");
            f.setHost(HOST + "\u001b[31m");
            f.setRecordType(FlowRecordType.NEW);
            f.setNetworkTransport("tcp");
            f.setSourceComm(EVIL);
            f.setSourcePid(7);
            f.setDestinationAddress("10.0.0.1\r\n");
            f.setDestinationPort(443);
            f.setSourceBytes(100);
            f.setStart(Instant.now());
            f.setEnd(Instant.now());
            view.accept(f);
            view.accept(listener(1, EVIL, LifecycleStatus.OPEN, BOOT));
            Alert a = new Alert();
            a.setRule("socket-recon");
            a.setSeverity(Severity.HIGH);
            a.setTimestamp(Instant.now());
            a.setSummary("hostname changed to " + EVIL);
            view.accept(a);
            String text = view.render(null, () -> "test", Instant.now());
            for (char c : text.toCharArray()) {
                assertTrue(
                        c == '\n' || c >= 0x20 && c != 0x7f && !(c >= 0x80 && c < 0xa0) && c != '\u202e',
                        "no control character reaches the terminal: U+" + Integer.toHexString(c) + " in\n" + text);
            }
            assertTrue(text.contains("evil\\x1b[2J\\x1b]0;pwned\\x07\\u202eexe."), text);
            assertTrue(text.contains("10.0.0.1\\x0d\\x0a:443"), text);
            assertEquals(
                    3,
                    text.lines().filter(l -> l.contains("evil\\x1b")).count(),
                    "the flow, the listener and the alert:\n" + text);
        }
        assertEquals(
                "a\\\\x1bb",
                LiveView.safe("a\\x1bb"),
                "a backslash in a name is doubled, so no name can fake an escape");
        assertEquals("plain name-1 ünïcødé", LiveView.safe("plain name-1 ünïcødé"));
    }

    @Test
    void listenersAreTheSocketsWhoseLatestRecordIsAnOpenListenerOfThisBoot() {
        try (LiveView view = new LiveView()) {
            view.accept(listener(1, "nginx", LifecycleStatus.OPEN, BOOT));
            view.accept(listener(2, "sshd", LifecycleStatus.OPEN, BOOT));
            view.accept(listener(3, "redis", LifecycleStatus.OPEN, BOOT));
            view.accept(listener(4, "oldboot", LifecycleStatus.OPEN, "00000000-0000-0000-0000-000000000000"));
            view.accept(listener(2, "sshd", LifecycleStatus.CLOSED, BOOT)); // released by the kernel
            view.accept(listener(3, "redis", LifecycleStatus.TIMED_OUT, BOOT));
            SocketLifecycle notListening = listener(1, "nginx", LifecycleStatus.OPEN, BOOT);
            notListening.setRole(
                    SocketRole.ACCEPTED); // not the listener any more (its identity reused by a record of another role)
            view.accept(listener(5, "postgres", LifecycleStatus.OPEN, BOOT));
            String text = view.render(null, () -> "test", Instant.now());
            String listeners = text.substring(text.indexOf("LISTENERS"), text.indexOf("LATEST ALERTS"));
            assertTrue(listeners.contains("nginx (42)") && listeners.contains("127.0.0.1:8001"), listeners);
            assertTrue(listeners.contains("postgres (42)"), listeners);
            assertFalse(listeners.contains("sshd"), "a CLOSED record removes it:\n" + listeners);
            assertFalse(listeners.contains("redis"), "so does TIMED_OUT:\n" + listeners);
            assertFalse(listeners.contains("oldboot"), "a listener of an earlier boot is not open:\n" + listeners);
            view.accept(notListening);
            String after = view.render(null, () -> "test", Instant.now());
            assertFalse(
                    after.substring(after.indexOf("LISTENERS"), after.indexOf("LATEST ALERTS"))
                            .contains("nginx"),
                    after);
        }
    }
}
