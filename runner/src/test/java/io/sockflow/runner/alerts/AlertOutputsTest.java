package io.sockflow.runner.alerts;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.schemas.config.Check;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The outputs' settings: off by default, bad values refused in one line naming the setting, the auth file's forms. */
class AlertOutputsTest {
    static final ConfigDef DEF = AlertOutputs.defineOn(new ConfigDef());

    @TempDir
    Path dir;

    static AlertOutputs.Config config(Map<String, String> given) {
        Check.values(DEF, given);
        return AlertOutputs.Config.of(DEF.parse(given));
    }

    @Test
    void offByDefault() {
        AlertOutputs.Config c = config(Map.of());
        assertFalse(c.any());
        assertTrue(c.destinations().isEmpty());
        assertEquals(5, c.attempts());
        assertEquals(Duration.ofSeconds(1), c.backoff());
        assertEquals("earliest", c.start());
    }

    @Test
    void badUrlsAreRefusedNamingTheSettingAndWhatItTakes() {
        for (String[] bad : new String[][] {
            {AlertOutputs.WEBHOOK_URL, "ftp://h/x", "expected an http:// or https:// URL with a host"},
            {AlertOutputs.WEBHOOK_URL, "https://user:pw@h/x", "no user:password@"},
            {AlertOutputs.WEBHOOK_URL, "not a url", "expected an http:// or https:// URL"},
            {AlertOutputs.SYSLOG, "udp://127.0.0.1", "expected udp://HOST:PORT or tcp://HOST:PORT"},
            {AlertOutputs.SYSLOG, "tls://127.0.0.1:6514", "expected udp://HOST:PORT or tcp://HOST:PORT"},
            {AlertOutputs.SYSLOG, "127.0.0.1:514", "expected udp://HOST:PORT or tcp://HOST:PORT"},
            {AlertOutputs.START, "middle", "allowed"},
        }) {
            ConfigException e = assertThrows(ConfigException.class, () -> config(Map.of(bad[0], bad[1])), bad[1]);
            assertTrue(e.getMessage().startsWith("bad value '" + bad[1] + "' for " + bad[0] + ": "), e.getMessage());
            assertTrue(e.getMessage().contains(bad[2]), e.getMessage());
            assertEquals(1, e.getMessage().lines().count());
        }
        IllegalArgumentException zero =
                assertThrows(IllegalArgumentException.class, () -> config(Map.of(AlertOutputs.WEBHOOK_TIMEOUT, "0")));
        assertEquals(
                "bad value '0' for alerts.webhook.timeout: expected a duration above 0, e.g. 10s", zero.getMessage());
        AlertOutputs.Config ok = config(Map.of(
                AlertOutputs.WEBHOOK_URL,
                "https://hooks.example.com/a?key=s3cret",
                AlertOutputs.SYSLOG,
                "tcp://[::1]:6514"));
        assertTrue(ok.any());
        var d = ok.destinations();
        assertEquals("webhook https://hooks.example.com/a", d.get(0).describe(), "no query (it may hold a key)");
        assertEquals("syslog tcp://[::1]:6514", d.get(1).describe());
        d.forEach(AlertOutputs.Destination::close);
    }

    @Test
    void theAuthFileIsAHeaderOrABearerToken() throws Exception {
        Path token = Files.writeString(dir.resolve("token"), "abc.def-ghi\n");
        assertArrayEquals(new String[] {"Authorization", "Bearer abc.def-ghi"}, AlertOutputs.header(token));
        Path header = Files.writeString(dir.resolve("header"), "X-Api-Key: k3y value");
        assertArrayEquals(new String[] {"X-Api-Key", "k3y value"}, AlertOutputs.header(header));
        Path two = Files.writeString(dir.resolve("two"), "a\nb");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AlertOutputs.header(two));
        assertTrue(e.getMessage().startsWith(AlertOutputs.WEBHOOK_AUTH_FILE + " " + two + " must hold one line"));
        Path restricted = Files.writeString(dir.resolve("host"), "Host: evil");
        e = assertThrows(IllegalArgumentException.class, () -> AlertOutputs.header(restricted));
        assertTrue(e.getMessage().contains("cannot be sent"), e.getMessage());
        assertFalse(e.getMessage().contains("evil"), "the file's value is never shown");
        e = assertThrows(IllegalArgumentException.class, () -> AlertOutputs.header(dir.resolve("missing")));
        assertTrue(e.getMessage().contains("cannot be read"), e.getMessage());
        Webhook w = new Webhook(URI.create("http://127.0.0.1:1/"), Duration.ofSeconds(1), AlertOutputs.header(token));
        w.close();
    }

    @Test
    void alertsForwardWithoutADestinationOrWithABadOneSaysSoInOneLine() {
        for (String[] args : new String[][] {
            {},
            {"--alerts-syslog", "udp://nohost"},
            {"--alerts-webhook-url", "http://127.0.0.1/", "--bootstrap-servers", "nohostport"},
        }) {
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int rc = AlertsForward.run(
                    args,
                    Map.of(),
                    new PrintStream(new ByteArrayOutputStream()),
                    new PrintStream(err, true, StandardCharsets.UTF_8),
                    null);
            String text = err.toString(StandardCharsets.UTF_8);
            assertEquals(2, rc, text);
            assertEquals(1, text.lines().count(), text);
            assertTrue(text.startsWith("sockflow alerts-forward: "), text);
        }
        ByteArrayOutputStream help = new ByteArrayOutputStream();
        assertEquals(
                0,
                AlertsForward.run(
                        new String[] {"--help"},
                        Map.of(),
                        new PrintStream(help, true, StandardCharsets.UTF_8),
                        System.err,
                        null));
        assertTrue(help.toString(StandardCharsets.UTF_8).contains("--alerts-webhook-auth-file"));
    }
}
