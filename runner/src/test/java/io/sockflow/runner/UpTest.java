package io.sockflow.runner;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sockflow up} driven headless, as a user would run it (its own JVM, as root): host traffic made by
 * python3 and curl shows up in the live view and in {@code ./sockflow sql} within 60 s; SIGTERM leaves no BPF
 * program and no child process; a second run finds the first run's data; without privileges it says why in one
 * line, and {@code --replay sample} brings the rest of the pipeline up.
 */
@Tag("root")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class UpTest {
    @TempDir
    static Path dir;

    static Path data;
    static int kafkaPort;
    static int registryPort;
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    /** A free port whose next one is free too: up's broker listens on the Kafka port and its controller on the next. */
    static int freeKafkaPort() {
        return io.sockflow.embedded.LoopbackPorts.freePair();
    }

    /** A free loopback port below the kernel's ephemeral range (see {@link io.sockflow.embedded.LoopbackPorts}). */
    static int freePort() {
        return io.sockflow.embedded.LoopbackPorts.free();
    }

    /** A running {@code up}: its output lines as they come. */
    static final class Running implements AutoCloseable {
        final Process process;
        final Path log;

        Running(List<String> prefix, String... args) throws Exception {
            this(System.getProperty("java.class.path"), prefix, args);
        }

        Running(String classpath, List<String> prefix, String... args) throws Exception {
            List<String> cmd = new ArrayList<>(prefix);
            cmd.addAll(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED",
                    "-Xmx2g",
                    "-cp",
                    classpath));
            cmd.addAll(List.of(System.getProperty("sockflow.opens", "").split(" ")).stream()
                    .filter(s -> !s.isBlank())
                    .toList());
            cmd.add("io.sockflow.runner.Up");
            cmd.addAll(List.of(args));
            log = Files.createTempFile(dir, "up", ".log");
            process = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
        }

        String output() {
            try {
                return Files.readString(log, StandardCharsets.ISO_8859_1);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        /** Waits until the output has a line matching, or fails with the output. */
        void await(Predicate<String> p, int seconds, String what) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (System.nanoTime() < deadline) {
                if (output().lines().anyMatch(p)) {
                    return;
                }
                if (!process.isAlive()) {
                    break;
                }
                Thread.sleep(200);
            }
            fail(what + " not seen within " + seconds + " s; output:\n" + tail(output()));
        }

        /** Stops up as a user would (SIGTERM), so that a failed test leaves no process behind either. */
        @Override
        public void close() throws Exception {
            List<ProcessHandle> children = process.descendants().toList();
            if (process.isAlive()) {
                process.destroy();
                if (!process.waitFor(150, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            }
            for (ProcessHandle c : children) {
                if (!c.onExit().isDone()) {
                    try {
                        c.onExit().get(20, TimeUnit.SECONDS);
                    } catch (java.util.concurrent.TimeoutException e) {
                        c.destroyForcibly();
                    }
                }
            }
        }
    }

    static String tail(String s) {
        return s.length() > 6000 ? s.substring(s.length() - 6000) : s;
    }

    /** The collector's programs still loaded, once the kernel has had up to 10 s to release those of a stopped one. */
    static List<String> awaitNoPrograms() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        List<String> left = sockflowPrograms();
        while (!left.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(200);
            left = sockflowPrograms();
        }
        return left;
    }

    static List<String> sockflowPrograms() throws Exception {
        Process p = new ProcessBuilder("bpftool", "prog", "show")
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        List<String> names = new ArrayList<>();
        for (String l : out.split("\n")) {
            // the collector's programs: sys_enter_*/sys_exit_* handlers and the tracepoint ones, all named sf_* or by
            // tracepoint
            if (l.matches("^\\d+: tracepoint +name (sys_enter_|sys_exit_|sock_|tcp_|skb_|net_|netif_|xdp_|udp_).*")) {
                names.add(l);
            }
        }
        return names;
    }

    @Test
    @Order(1)
    void upShowsHostTrafficInTheViewAndInSqlAndStopsCleanlyOnSigterm() throws Exception {
        // up runs its pipeline as nobody (root without sudo): nobody must be able to enter the folder above the data
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        data = dir.resolve("data");
        kafkaPort = freeKafkaPort();
        registryPort = freePort();
        assertEquals(List.of(), awaitNoPrograms(), "no sockflow programs before the test");
        int metricsPort = freePort();
        try (Running up = new Running(
                List.of(),
                "--headless",
                "--data",
                data.toString(),
                "--kafka-port",
                Integer.toString(kafkaPort),
                "--registry-port",
                Integer.toString(registryPort),
                "--metrics-port",
                Integer.toString(metricsPort))) {
            up.await(l -> l.startsWith("[5/5] live view"), 120, "the live view");
            assertTrue(sockflowPrograms().size() >= 42, "programs attached while up runs");
            long started = System.nanoTime();
            // traffic on the host: a python3 web server and curl
            int port = freePort();
            Process server = new ProcessBuilder(
                            "/usr/bin/python3", "-m", "http.server", Integer.toString(port), "--bind", "127.0.0.1")
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            try {
                for (int i = 0; i < 50 && !reachable(port); i++) {
                    Thread.sleep(100);
                }
                for (int i = 0; i < 3; i++) {
                    Process curl = new ProcessBuilder("curl", "-s", "-o", "/dev/null", "http://127.0.0.1:" + port + "/")
                            .redirectErrorStream(true)
                            .start();
                    assertEquals(0, curl.waitFor(), "curl");
                }
                up.await(
                        l -> l.contains("127.0.0.1:" + port) && l.startsWith("curl"),
                        60,
                        "curl's flow to port " + port + " in the view");
                double seconds = (System.nanoTime() - started) / 1e9;
                assertTrue(seconds < 60, "in the view after " + seconds + " s");
                System.out.printf("curl's flows in the view %.1f s after the traffic started%n", seconds);
                // the collector's Prometheus endpoint counts what it captured
                String metrics = new String(
                        java.net
                                .URI
                                .create("http://127.0.0.1:" + metricsPort + "/metrics")
                                .toURL()
                                .openStream()
                                .readAllBytes(),
                        StandardCharsets.UTF_8);
                assertTrue(
                        metrics.contains("sockflow_attached 1.0")
                                && metrics.contains("sockflow_events_total{kind=\"CONNECT\"}")
                                && metrics.contains("sockflow_kafka_acknowledged_events_total"),
                        metrics);
                // the same traffic in the lake, through ./sockflow sql
                String rows = "";
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (System.nanoTime() < deadline) {
                    Process sql = new ProcessBuilder(
                                    ROOT.resolve("sockflow").toString(),
                                    "sql",
                                    "--warehouse",
                                    data.resolve("warehouse").toString(),
                                    "-e",
                                    "SELECT sourceComm, COUNT(*) AS n FROM flows WHERE destinationPort = " + port
                                            + " AND recordType = 'NEW' GROUP BY sourceComm")
                            .redirectErrorStream(true)
                            .start();
                    rows = new String(sql.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    sql.waitFor();
                    if (rows.contains("curl")) {
                        break;
                    }
                    Thread.sleep(2000);
                }
                assertTrue(
                        rows.contains("curl") && rows.contains("3"),
                        "sockflow sql finds the three curl flows:\n" + rows);
            } finally {
                server.destroy();
                server.waitFor(10, TimeUnit.SECONDS);
            }
            // up runs everything in its own JVM; Hadoop's file system may run a short-lived helper (ls, chmod): none
            // of them may outlive it
            List<ProcessHandle> children = up.process.descendants().toList();
            up.process.destroy(); // SIGTERM
            assertTrue(up.process.waitFor(90, TimeUnit.SECONDS), "up stopped after SIGTERM");
            assertTrue(
                    up.output().contains("sockflow up: stopped; data kept in"),
                    "exit " + up.process.exitValue() + "\n" + tail(up.output()));
            for (ProcessHandle child : children) {
                child.onExit().get(10, TimeUnit.SECONDS);
                assertFalse(child.isAlive(), "a child process outlived up: " + child.info());
            }
        }
        assertEquals(List.of(), awaitNoPrograms(), "no sockflow BPF program left after SIGTERM");
    }

    /** The test classpath copied where an unprivileged user can read it (the build's files are root's). */
    static String worldReadableClasspath(Path to) throws Exception {
        Files.createDirectories(to);
        List<String> out = new ArrayList<>();
        int i = 0;
        for (String e : System.getProperty("java.class.path").split(":")) {
            Path src = Path.of(e);
            if (!Files.exists(src)) {
                continue;
            }
            Path dst = to.resolve((i++) + "-" + src.getFileName());
            new ProcessBuilder("cp", "-r", src.toString(), dst.toString())
                    .start()
                    .waitFor();
            out.add(dst.toString());
        }
        new ProcessBuilder("chmod", "-R", "a+rX", dir.toString()).start().waitFor();
        return String.join(":", out);
    }

    static boolean reachable(int port) {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    @Test
    @Order(2)
    void aSecondUpFindsThePreviousRunsDataGoesOnFromItsLastCheckpointAndSigintStopsItToo() throws Exception {
        assertNotNull(data, "runs after the first test");
        assertEquals(List.of(), awaitNoPrograms(), "no sockflow programs before the test");
        try (Running up = new Running(
                List.of(),
                "--headless",
                "--data",
                data.toString(),
                "--kafka-port",
                Integer.toString(kafkaPort),
                "--registry-port",
                Integer.toString(registryPort),
                "--metrics-port",
                "0")) {
            up.await(l -> l.contains("previous run's data found"), 60, "the previous run's data");
            // the first run was stopped by SIGTERM: its jobs' last checkpoint was kept, and the jobs go on from it
            up.await(
                    l -> l.contains("resuming from checkpoints/") && l.contains("/chk-"),
                    60,
                    "the jobs resuming from the first run's last checkpoint");
            up.await(
                    l -> l.startsWith("results") && !l.startsWith("results    0 flow records"),
                    90,
                    "the previous run's flows in the view");
            new ProcessBuilder("kill", "-INT", Long.toString(up.process.pid()))
                    .start()
                    .waitFor();
            assertTrue(up.process.waitFor(90, TimeUnit.SECONDS), "up stopped after SIGINT");
            assertTrue(up.output().contains("sockflow up: stopped"), tail(up.output()));
        }
        assertEquals(List.of(), awaitNoPrograms(), "no sockflow BPF program left after SIGINT");
    }

    @Test
    @Order(3)
    void withoutPrivilegesUpSaysWhyAndTheSampleReplayRunsTheRest() throws Exception {
        Path d = dir.resolve("unprivileged");
        Files.createDirectories(d);
        d.toFile().setWritable(true, false);
        dir.toFile().setExecutable(true, false);
        List<String> drop =
                List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--");
        String cp = worldReadableClasspath(dir.resolve("cp"));
        try (Running up = new Running(
                cp,
                drop,
                "--headless",
                "--data",
                d.resolve("data").toString(),
                "--kafka-port",
                Integer.toString(freeKafkaPort()),
                "--registry-port",
                Integer.toString(freePort()))) {
            assertTrue(up.process.waitFor(60, TimeUnit.SECONDS));
            assertEquals(4, up.process.exitValue(), up.output());
            String out = up.output().strip();
            String reason = out.lines()
                    .filter(l -> l.startsWith("sockflow up:"))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError(out));
            assertTrue(reason.contains("live capture cannot run here") && reason.contains("--replay sample"), reason);
        }
        try (Running up = new Running(
                cp,
                drop,
                "--headless",
                "--replay",
                "sample",
                "--duration",
                "45s",
                "--data",
                d.resolve("data").toString(),
                "--kafka-port",
                Integer.toString(freeKafkaPort()),
                "--registry-port",
                Integer.toString(freePort()))) {
            up.await(l -> l.startsWith("[3/5] replaying the sample capture"), 90, "the replay");
            up.await(
                    l -> l.startsWith("python3") && l.contains("tcp 127.0.0.1:"), 60, "the sample's flows in the view");
            up.await(l -> l.contains("port-scan") || l.contains("socket-recon"), 60, "the sample's alerts in the view");
            assertTrue(up.process.waitFor(90, TimeUnit.SECONDS));
            assertEquals(0, up.process.exitValue(), tail(up.output()));
        }
    }

    @Test
    @Order(4)
    void jobsThatCannotGoOnFromTheLastCheckpointStartAfreshAndSaySo() throws Exception {
        // the newest checkpoint under the data folder is damaged (as one written by another version would be
        // unreadable): the jobs resume from it, fail, and start again from the committed offsets
        Path d = dir.resolve("damaged");
        Path chk = Files.createDirectories(d.resolve("checkpoints/0123456789abcdef0123456789abcdef/chk-7"));
        Files.write(chk.resolve("_metadata"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        // the folder is the runtime user's (nobody, as up runs as root without sudo here)
        assertEquals(
                0,
                new ProcessBuilder("chown", "-R", "65534:65534", d.toString())
                        .start()
                        .waitFor());
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        try (Running up = new Running(
                List.of(),
                "--headless",
                "--replay",
                "sample",
                "--duration",
                "40s",
                "--data",
                d.toString(),
                "--kafka-port",
                Integer.toString(freeKafkaPort()),
                "--registry-port",
                Integer.toString(freePort()),
                "--metrics-port",
                "0")) {
            up.await(
                    l -> l.contains("resuming from checkpoints/0123456789abcdef0123456789abcdef/chk-7"),
                    90,
                    "the resume");
            up.await(
                    l -> l.startsWith("sockflow up: the jobs cannot go on from")
                            && l.contains("chk-7")
                            && l.contains("starting them afresh"),
                    90,
                    "the fresh start, said in one line");
            up.await(
                    l -> l.startsWith("python3") && l.contains("tcp 127.0.0.1:"), 90, "the sample's flows in the view");
            assertTrue(up.process.waitFor(120, TimeUnit.SECONDS));
            assertEquals(0, up.process.exitValue(), tail(up.output()));
        }
    }
}
