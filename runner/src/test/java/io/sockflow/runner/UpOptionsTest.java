package io.sockflow.runner;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.collector.sys.Libc;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every bad value given to {@code up} gets one line naming it and the fix, and exit code 2; nothing starts. */
@Tag("root")
class UpOptionsTest {
    @TempDir
    Path dir;

    private PrintStream err;
    private int umask;

    @BeforeEach
    void captureStandardError() {
        err = System.err;
        umask = Libc.umask(022);
        Libc.umask(umask);
    }

    @AfterEach
    void restore() {
        System.setErr(err);
        Libc.umask(umask); // up sets 077 for its own process
    }

    /** Runs up in-process; returns its exit code and what it wrote to standard error. */
    private Object[] up(String... args) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        int rc = Up.run(args, new PrintStream(new ByteArrayOutputStream()));
        System.setErr(err);
        return new Object[] {rc, buf.toString(StandardCharsets.UTF_8)};
    }

    private void refused(String expected, String... args) {
        Object[] r = up(args);
        String out = (String) r[1];
        assertEquals(2, r[0], String.join(" ", args) + ": " + out);
        assertEquals(1, out.lines().count(), "one line: " + out);
        assertTrue(out.startsWith("sockflow up: ") && out.contains(expected), out);
        assertFalse(out.contains("Exception") || out.contains("\tat "), "no stack trace: " + out);
    }

    /** A listening socket whose port's previous port is free (that one is given as --kafka-port). */
    static java.net.ServerSocket heldWithFreePortBelow() throws Exception {
        for (int i = 0; ; i++) {
            java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
            try (java.net.ServerSocket below =
                    new java.net.ServerSocket(s.getLocalPort() - 1, 1, java.net.InetAddress.getLoopbackAddress())) {
                return s;
            } catch (java.io.IOException taken) {
                s.close();
                assertTrue(i < 50, "no port with a free one below it");
            }
        }
    }

    @Test
    void aFixedPortAnotherProcessHoldsIsOneLineBeforeAnythingStarts() throws Exception {
        try (java.net.ServerSocket held = heldWithFreePortBelow()) {
            int p = held.getLocalPort();
            String data = dir.resolve("data").toString();
            refused(
                    "port " + p + " (--kafka-port) is in use on 127.0.0.1",
                    "--replay",
                    "sample",
                    "--data",
                    data,
                    "--kafka-port",
                    Integer.toString(p));
            refused(
                    "port " + p + " (Kafka's controller: --kafka-port + 1) is in use",
                    "--replay",
                    "sample",
                    "--data",
                    data,
                    "--kafka-port",
                    Integer.toString(p - 1));
            refused(
                    "port " + p + " (--registry-port) is in use on 127.0.0.1",
                    "--replay",
                    "sample",
                    "--data",
                    data,
                    "--registry-port",
                    Integer.toString(p));
            assertFalse(java.nio.file.Files.exists(dir.resolve("data")), "nothing started, no data folder made");
        }
    }

    @Test
    void badFlagsAreOneLineAndExitCode2() {
        refused("bad value 'abc' for kafka.port: expected a whole number", "--kafka-port", "abc");
        refused("bad value '70000' for registry.port: allowed: [0,...,65535]", "--registry-port", "70000");
        refused("bad value '-1' for metrics.port: allowed: [0,...,65535]", "--metrics-port", "-1");
        refused("bad value 'soon' for duration: expected a duration such as 500ms, 30s", "--duration", "soon");
        refused("--data needs a value", "--data");
        refused("unknown setting --bogus", "--bogus");
        refused("unexpected argument 'stray'", "stray");
        refused("--user", "--user", "no-such-user-here");
        refused("--user 0 is root", "--user", "0");
        refused("--replay /nonexistent/capture.avro is not a readable file", "--replay", "/nonexistent/capture.avro");
        if (System.getenv(Up.REGISTRY_AUTH_ENV) == null) {
            refused(
                    "--registry-address 0.0.0.0 opens it beyond this host: set SOCKFLOW_REGISTRY_BASIC_AUTH_USER_INFO",
                    "--registry-address",
                    "0.0.0.0");
        }
        if (System.getenv(Up.METRICS_AUTH_ENV) == null) {
            refused("--metrics-address 10.0.0.1 opens it beyond this host", "--metrics-address", "10.0.0.1");
        }
        refused("--kafka-address: the embedded broker's passwords travel without TLS", "--kafka-address", "0.0.0.0");
        Up.Options opened = Up.Options.parse(
                new String[] {"--registry-address", "0.0.0.0"},
                java.util.Map.of(Up.REGISTRY_AUTH_ENV, "sockflow:secret"));
        assertEquals("0.0.0.0", opened.registryAddress(), "opened on purpose, with credentials");
    }

    @Test
    void aJobSettingThatCannotWorkFailsAtOnceWithOneLine() {
        refused(
                "--set detect.portscan.portz=30: no job setting 'detect.portscan.portz': ./sockflow config --explain lists them",
                "--replay",
                "sample",
                "--set",
                "detect.portscan.portz=30");
        refused(
                "--set detect.portscan.ports=many: bad value 'many' for detect.portscan.ports: expected a whole number",
                "--replay",
                "sample",
                "--set",
                "detect.portscan.ports=many");
        refused(
                "--set detect.portscan.window=soon: bad value 'soon' for detect.portscan.window: expected a duration",
                "--replay",
                "sample",
                "--set=detect.portscan.window=soon");
        refused(
                "--set detect.portscan.ports: needs key=value, e.g. --set detect.portscan.ports=30",
                "--set",
                "detect.portscan.ports");
        refused("--set needs key=value", "--replay", "sample", "--set");
        try {
            Path file = Files.writeString(dir.resolve("up.properties"), "set=detect.portscan.ports=30\n");
            refused(
                    "set in a --config file: give job settings as --set KEY=VALUE on the command line",
                    "--config",
                    file.toString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        refused(
                "--set bootstrap.servers=10.0.0.1:9092: up sets bootstrap.servers itself",
                "--set",
                "bootstrap.servers=10.0.0.1:9092");
        // the jobs log in to up's broker with the data folder's credentials: another file would lock them out
        refused("--set kafka.config=/tmp/x: up sets kafka.config itself", "--set", "kafka.config=/tmp/x");
    }

    @Test
    void aGoodJobSettingReachesTheJobsConfigThroughThePipelinesArguments() {
        Up.Options o = Up.Options.parse(
                new String[] {
                    "--replay",
                    "sample",
                    "--set",
                    "detect.portscan.ports=30",
                    "--set=detect.shells=sh,bash",
                    "--headless"
                },
                java.util.Map.of());
        assertEquals(java.util.Map.of("detect.portscan.ports", "30", "detect.shells", "sh,bash"), o.jobSettings());
        // what up hands the pipeline process, read back there as the pipeline reads it
        Pipeline.Options handed = new Pipeline.Options(
                dir, 9092, 9093, 8081, o.replay(), o.headless(), false, 0, "127.0.0.1", "127.0.0.1", o.jobSettings());
        Pipeline.Options read = Pipeline.Options.parse(handed.args().toArray(String[]::new));
        assertEquals(handed, read);
        io.sockflow.jobs.config.JobConfig cfg =
                Pipeline.jobConfig("127.0.0.1:9092", "http://127.0.0.1:8081", null, dir, read.jobSettings());
        assertEquals(30, cfg.getInt(io.sockflow.jobs.config.JobConfig.SCAN_PORTS));
        assertEquals(List.of("sh", "bash"), cfg.getList(io.sockflow.jobs.config.JobConfig.SHELLS));
        assertEquals(
                20,
                Pipeline.jobConfig("127.0.0.1:9092", "http://127.0.0.1:8081", null, dir, java.util.Map.of())
                        .getInt(io.sockflow.jobs.config.JobConfig.SCAN_PORTS),
                "the default without --set");
        assertEquals("sockflow-up", cfg.get(io.sockflow.jobs.config.JobConfig.GROUP_ID), "up's own settings stay");
    }

    @Test
    void theCollectorIsDrivenByTypedValuesRenderedOnceAndCheckedByItsOwnDeclarations() {
        CollectorLaunch launch = new CollectorLaunch(
                "127.0.0.1:9092",
                "http://127.0.0.1:8081",
                "sockflow.events",
                "127.0.0.1",
                9464,
                dir.resolve("spool"),
                dir.resolve("run/collector.status"),
                4242,
                "65534",
                77L);
        io.sockflow.collector.cli.Settings s = launch.check(java.util.Map.of());
        assertEquals(
                List.of("collect", "--output", "kafka", "--bootstrap-servers", "127.0.0.1:9092"),
                launch.args().subList(0, 5));
        assertEquals("kafka", s.getString(io.sockflow.collector.cli.Settings.OUTPUT));
        assertEquals(List.of(77L), s.longs(io.sockflow.collector.cli.Settings.CGROUP_EXCLUDE));
        assertEquals(4242L, s.getLong(io.sockflow.collector.cli.Settings.EXIT_WITH_PID));
        assertEquals(java.time.Duration.ofSeconds(5), s.duration(io.sockflow.collector.cli.Settings.COUNTERS_INTERVAL));
        assertEquals(
                null, s.getString(io.sockflow.collector.cli.Settings.KAFKA_CONFIG), "no client settings file given");
        CollectorLaunch authenticated = new CollectorLaunch(
                "127.0.0.1:9092",
                "http://127.0.0.1:8081",
                "sockflow.events",
                "127.0.0.1",
                9464,
                dir.resolve("spool"),
                dir.resolve("s"),
                1,
                null,
                null,
                dir.resolve("kafka-collector.properties"));
        assertEquals(
                dir.resolve("kafka-collector.properties").toString(),
                authenticated.check(java.util.Map.of()).getString(io.sockflow.collector.cli.Settings.KAFKA_CONFIG),
                "the broker's credentials reach the collector as a file name, never on its command line as text");
        CollectorLaunch opened = new CollectorLaunch(
                "127.0.0.1:9092",
                "http://127.0.0.1:8081",
                "sockflow.events",
                "10.0.0.1",
                9464,
                dir.resolve("spool"),
                dir.resolve("s"),
                1,
                null,
                null);
        org.apache.kafka.common.config.ConfigException e = assertThrows(
                org.apache.kafka.common.config.ConfigException.class,
                () -> opened.check(java.util.Map.of()),
                "metrics opened without credentials");
        assertTrue(e.getMessage().contains("--metrics-address 10.0.0.1"), e.getMessage());
        opened.check(java.util.Map.of(
                io.sockflow.collector.cli.Settings.envName(io.sockflow.collector.cli.Settings.METRICS_USER_INFO),
                "u:p")); // the credentials travel in the environment, as up passes them
    }

    @Test
    void badAlertOutputSettingsAreOneLineNamingTheSettingAndTheFix() throws Exception {
        refused(
                "bad value 'ftp://hooks.example.com/x' for alerts.webhook.url: expected an http:// or https:// URL",
                "--replay",
                "sample",
                "--alerts-webhook-url",
                "ftp://hooks.example.com/x");
        refused(
                "bad value 'http://bad host/' for alerts.webhook.url: expected an http:// or https:// URL",
                "--alerts-webhook-url",
                "http://bad host/");
        refused(
                "bad value 'syslog://127.0.0.1:514' for alerts.syslog: expected udp://HOST:PORT or tcp://HOST:PORT",
                "--alerts-syslog",
                "syslog://127.0.0.1:514");
        refused(
                "bad value 'udp://127.0.0.1' for alerts.syslog: expected udp://HOST:PORT",
                "--alerts-syslog",
                "udp://127.0.0.1");
        refused(
                "alerts.webhook.auth-file is set without alerts.webhook.url",
                "--alerts-webhook-auth-file",
                dir.resolve("none").toString());
        refused(
                "alerts.webhook.auth-file " + dir.resolve("none") + " cannot be read",
                "--alerts-webhook-url",
                "https://127.0.0.1/hook",
                "--alerts-webhook-auth-file",
                dir.resolve("none").toString());
        Up.Options o = Up.Options.parse(
                new String[] {"--replay", "sample", "--alerts-syslog", "tcp://127.0.0.1:6514"}, java.util.Map.of());
        assertEquals(java.util.Map.of("alerts.syslog", "tcp://127.0.0.1:6514"), o.alerts());
        assertEquals(
                java.util.Map.of(),
                Up.Options.parse(new String[] {}, java.util.Map.of()).alerts(),
                "off by default");
    }

    @Test
    void configExplainPrintsEverySettingOfEveryPartGrouped() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        assertEquals(
                0, ConfigCommand.run(new String[] {"--explain"}, new PrintStream(buf, true, StandardCharsets.UTF_8)));
        String text = buf.toString(StandardCharsets.UTF_8);
        int up = text.indexOf("== up: ");
        int collector = text.indexOf("== collector: ");
        int jobs = text.indexOf("== jobs: ");
        assertTrue(up >= 0 && collector > up && jobs > collector, text);
        for (String name : UpSettings.DEFINITION.names()) {
            assertTrue(text.substring(up, collector).contains("\n" + name + "  ("), name);
        }
        for (String name : io.sockflow.collector.cli.Settings.DEFINITION.names()) {
            assertTrue(text.substring(collector, jobs).contains("\n" + name + "  ("), name);
        }
        for (String name : io.sockflow.jobs.config.JobConfig.DEFINITION.names()) {
            assertTrue(text.substring(jobs).contains("\n" + name + "  ("), name);
        }
        assertTrue(
                text.contains("detect.portscan.ports  (int, default 20)\n    flag --detect-portscan-ports, env "
                        + "SOCKFLOW_JOBS_DETECT_PORTSCAN_PORTS\n"),
                text);
        assertTrue(
                text.contains("ring.buffer.bytes  (int, default 16777216)\n    flag --ring-buffer-bytes, env "
                        + "SOCKFLOW_RING_BUFFER_BYTES; allowed: a power of two from 4096 to 1073741824\n"),
                text);
        assertTrue(text.contains("duration  (duration, default 0)"), text);
        ByteArrayOutputStream jobsOnly = new ByteArrayOutputStream();
        assertEquals(
                0,
                ConfigCommand.run(
                        new String[] {"--explain", "jobs"}, new PrintStream(jobsOnly, true, StandardCharsets.UTF_8)));
        assertTrue(jobsOnly.toString(StandardCharsets.UTF_8).startsWith("== jobs: "));
        assertEquals(
                2, ConfigCommand.run(new String[] {"--explain", "nope"}, new PrintStream(new ByteArrayOutputStream())));
        ByteArrayOutputStream help = new ByteArrayOutputStream();
        assertEquals(0, Up.run(new String[] {"--help"}, new PrintStream(help, true, StandardCharsets.UTF_8)));
        for (String name : UpSettings.DEFINITION.names()) {
            assertTrue(
                    help.toString(StandardCharsets.UTF_8).contains(io.sockflow.schemas.config.Flags.flagName(name)),
                    name);
        }
    }

    @Test
    void aDataFolderThatIsASymlinkOrSomeoneElsesIsRefused() throws Exception {
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Path real = Files.createDirectory(dir.resolve("real"));
        Path link = Files.createSymbolicLink(dir.resolve("link"), real);
        refused("--data " + link + " is a symbolic link", "--replay", "sample", "--data", link.toString());
        Path other = Files.createDirectory(dir.resolve("other"));
        Files.setAttribute(other, "unix:uid", 12345);
        refused(
                "--data " + other + " belongs to uid 12345, not to uid 65534",
                "--replay",
                "sample",
                "--data",
                other.toString());
        Path closed = Files.createDirectories(dir.resolve("closed/inner"));
        Files.setPosixFilePermissions(
                dir.resolve("closed"), java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        refused(
                "uid 65534, who runs the pipeline, cannot enter " + dir.resolve("closed"),
                "--replay",
                "sample",
                "--data",
                closed.resolve("data").toString());
        assertEquals(List.of(), List.of(real.toFile().list()), "nothing was made in the folder a link points to");
    }
}
