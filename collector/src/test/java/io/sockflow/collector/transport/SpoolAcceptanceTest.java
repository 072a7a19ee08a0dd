package io.sockflow.collector.transport;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.collector.cli.CollectCommand;
import io.sockflow.embedded.LocalStack;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The spool as the collector uses it, the collector running as users run it (a separate process, attached to this
 * kernel, writing to Kafka): the broker goes away so that it spools; then either it is killed with SIGKILL in the
 * middle of writing and one whole segment is destroyed, or it is stopped with SIGTERM. The next run, with the
 * broker back, must deliver every record the spool's intact segments held, and count and say what was lost.
 */
@Tag("root")
class SpoolAcceptanceTest {
    static LocalStack stack;

    @BeforeAll
    static void start() {
        stack = LocalStack.shared();
    }

    /** UDP sends from a process of its own, so that the collector (told to watch it alone) has events to spool. */
    static Process load() throws IOException {
        return new ProcessBuilder(
                        "/usr/bin/python3",
                        "-c",
                        String.join(
                                "\n",
                                "import socket, time",
                                "while True:",
                                "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
                                "    s.sendto(b'sockflow spool test', ('127.0.0.1', 9))",
                                "    s.close()",
                                "    time.sleep(0.0005)"))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
    }

    static Process collector(String topic, Path spool, long pid, int metricsPort, Path err) throws IOException {
        List<String> cp = new ArrayList<>();
        cp.add(Path.of("target/classes").toAbsolutePath().toString());
        cp.addAll(
                List.of(Files.readString(Path.of("target/classpath.txt")).trim().split(":")));
        List<String> cmd = new ArrayList<>(List.of(
                ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED",
                "-XX:+UseSerialGC",
                "-cp",
                String.join(":", cp),
                "io.sockflow.collector.cli.Main",
                "collect",
                "--output",
                "kafka",
                "--bootstrap-servers",
                stack.bootstrapServers(),
                "--registry-url",
                stack.registryUrl(),
                "--topic",
                topic,
                "--topic-partitions",
                "3",
                "--spool-dir",
                spool.toString(),
                // a small producer buffer, so that records reach the spool at once; segments of 1 MiB
                "--buffer-memory-bytes",
                "65536",
                "--spool-max-bytes",
                Long.toString(8L << 20),
                "--pid-include",
                Long.toString(pid),
                "--tracepoint-groups",
                "",
                "--metrics-port",
                Integer.toString(metricsPort)));
        return new ProcessBuilder(cmd)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(err.toFile())
                .start();
    }

    static int freePort() {
        return io.sockflow.embedded.LoopbackPorts.free();
    }

    /** Records on the topic, as a count per value (values are unique: each holds its event's time and thread). */
    static Map<ByteBuffer, Integer> onTopic(String topic, Map<ByteBuffer, Integer> until, Duration timeout) {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", stack.bootstrapServers());
        c.put("group.id", "t-" + UUID.randomUUID());
        c.put("auto.offset.reset", "earliest");
        Map<ByteBuffer, Integer> seen = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    seen.merge(ByteBuffer.wrap(r.value()), 1, Integer::sum);
                }
                if (!seen.isEmpty() && missing(until, seen) == 0) {
                    break;
                }
            }
        }
        return seen;
    }

    static long missing(Map<ByteBuffer, Integer> expected, Map<ByteBuffer, Integer> seen) {
        long n = 0;
        for (var e : expected.entrySet()) {
            n += Math.max(0, e.getValue() - seen.getOrDefault(e.getKey(), 0));
        }
        return n;
    }

    static void awaitSealed(Path spool, int n, Process collector, Path err) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (sealedNames(spool) < n) {
            assertTrue(collector.isAlive(), () -> "the collector ended: " + read(err));
            assertTrue(System.nanoTime() < deadline, () -> "no " + n + " sealed segments in 120 s: " + read(err));
            Thread.sleep(100);
        }
    }

    /** Waits until a segment that is not sealed yet holds more than its header. */
    static void awaitOpenWithRecords(Path spool, Process collector, Path err) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try (var files = Files.list(spool)) {
                boolean open = files.anyMatch(f -> {
                    try {
                        return f.getFileName().toString().matches("spool-\\d+\\.seg") && Files.size(f) > 64;
                    } catch (IOException gone) {
                        return false; // renamed while this looked
                    }
                });
                if (open) {
                    return;
                }
            }
            assertTrue(collector.isAlive(), () -> "the collector ended: " + read(err));
            assertTrue(System.nanoTime() < deadline, () -> "no segment being written in 60 s: " + read(err));
            Thread.sleep(5);
        }
    }

    /** Sealed segments by their names alone: the collector renames them while this looks. */
    static long sealedNames(Path spool) throws IOException {
        try (var files = Files.list(spool)) {
            return files.filter(f -> f.getFileName().toString().matches("spool-\\d+-\\d+\\.seg"))
                    .count();
        }
    }

    /** Starts the load and the collector, waits until events reach Kafka, then stops the broker: it spools. */
    static Process[] spooling(String topic, Path spool, Path err) throws Exception {
        Process load = load();
        Process c = collector(topic, spool, load.pid(), 0, err);
        Map<ByteBuffer, Integer> any = onTopic(topic, Map.of(), Duration.ofSeconds(90));
        assertFalse(any.isEmpty(), () -> "the collector sends to Kafka: " + read(err));
        stack.kafka().stop();
        return new Process[] {load, c};
    }

    static Map<ByteBuffer, Integer> values(List<SpoolFiles.Segment> segments) {
        Map<ByteBuffer, Integer> m = new HashMap<>();
        for (SpoolFiles.Segment s : segments) {
            for (byte[][] r : s.records()) {
                m.merge(ByteBuffer.wrap(r[1]), 1, Integer::sum);
            }
        }
        return m;
    }

    static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return e.toString();
        }
    }

    static long metric(int port, String name) throws Exception {
        String body = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        Matcher m = Pattern.compile("(?m)^" + name + " ([0-9.eE+]+)$").matcher(body);
        assertTrue(m.find(), name + " in " + body);
        return (long) Double.parseDouble(m.group(1));
    }

    @Test
    void killedMidWriteWithOneSegmentDestroyedTheNextRunDeliversEveryIntactRecordAndSaysWhatWasLost(
            @TempDir Path spool, @TempDir Path logs) throws Exception {
        String topic = "spool-crash-" + UUID.randomUUID();
        Path err1 = logs.resolve("first.err");
        Path err2 = logs.resolve("second.err");
        Map<ByteBuffer, Integer> intact;
        SpoolFiles.Segment victim;
        long tornRecords;
        Process[] p = spooling(topic, spool, err1);
        try {
            awaitSealed(spool, 4, p[1], err1);
            // the next segment begins with the next record after a seal: kill once it is being written, not in
            // the moment between the two (which is when the seal is seen)
            awaitOpenWithRecords(spool, p[1], err1);
            p[1].destroyForcibly(); // SIGKILL, while the load still runs: in the middle of writing
            assertTrue(p[1].waitFor(30, TimeUnit.SECONDS));
            p[0].destroyForcibly();
            p[0].waitFor();

            List<SpoolFiles.Segment> segments = SpoolFiles.segments(spool);
            for (SpoolFiles.Segment s : segments) {
                if (s.sealed()) {
                    assertEquals(s.claimed(), s.records().size(), s.path() + " holds what its name says");
                    assertEquals(0, s.leftover(), s.path() + " ends after its last record");
                }
            }
            SpoolFiles.Segment open = segments.getLast();
            assertFalse(open.sealed(), "the segment being written when the collector was killed: " + segments);
            // a record the kill cut short is one record; a segment only just created holds none
            tornRecords = open.leftover() > 0 && Files.size(open.path()) > 8 ? 1 : 0;
            List<SpoolFiles.Segment> sealed =
                    segments.stream().filter(SpoolFiles.Segment::sealed).toList();
            victim = sealed.get(sealed.size() / 2);
            assertTrue(victim.records().size() > 100, "a segment with records: " + victim);
            List<SpoolFiles.Segment> others = new ArrayList<>(segments);
            others.remove(victim);
            intact = values(others);
            byte[] noise = new byte[(int) Files.size(victim.path())];
            new Random(17).nextBytes(noise);
            Files.write(victim.path(), noise); // destroyed whole
        } finally {
            p[1].destroyForcibly();
            p[0].destroyForcibly();
            stack.kafka().start();
        }

        int port = freePort();
        Process again = collector(topic, spool, p[0].pid(), port, err2); // watches the load's pid: nothing new
        try {
            Map<ByteBuffer, Integer> seen = onTopic(topic, intact, Duration.ofSeconds(180));
            assertEquals(
                    0,
                    missing(intact, seen),
                    () -> "every record of the intact segments delivered ("
                            + intact.values().stream()
                                    .mapToInt(Integer::intValue)
                                    .sum() + "): " + read(err2));
            long lost = victim.records().size() + tornRecords;
            assertEquals(lost, metric(port, "sockflow_spool_lost_events_total"), "the loss counted, as a metric");
            assertFalse(Files.exists(victim.path()), "nothing readable was left in it");
        } finally {
            again.destroy(); // SIGTERM
            assertTrue(again.waitFor(CollectCommand.stopBudget().plusSeconds(10).toSeconds(), TimeUnit.SECONDS));
        }
        String said = read(err2);
        assertTrue(again.exitValue() == 0 || again.exitValue() == 143, said); // 143: the JVM's status after SIGTERM
        String line = said.lines()
                .filter(l -> l.contains("damaged segment"))
                .findFirst()
                .orElse("");
        System.out.println("the restarted collector said: " + line);
        assertTrue(
                line.contains(victim.path().getFileName() + ": no readable record in it, "
                        + String.format(
                                java.util.Locale.ROOT,
                                "%,d records",
                                victim.records().size()) + " ("),
                said);
        assertTrue(said.contains("the previous run stopped without a clean shutdown"), said);
        assertTrue(
                said.matches("(?s).*, " + (victim.records().size() + tornRecords) + " lost to spool damage.*"), said);
    }

    @Test
    void aCleanStopWhileTheBrokerIsAwayKeepsEveryRecordForTheNextRun(@TempDir Path spool, @TempDir Path logs)
            throws Exception {
        String topic = "spool-stop-" + UUID.randomUUID();
        Path err1 = logs.resolve("first.err");
        Path err2 = logs.resolve("second.err");
        Map<ByteBuffer, Integer> spooled;
        Process[] p = spooling(topic, spool, err1);
        try {
            awaitSealed(spool, 2, p[1], err1);
            p[1].destroy(); // SIGTERM, while the load still runs
            assertTrue(
                    p[1].waitFor(CollectCommand.stopBudget().plusSeconds(10).toSeconds(), TimeUnit.SECONDS),
                    "stopped within its budget");
            p[0].destroyForcibly();
            String said = read(err1);
            assertTrue(p[1].exitValue() == 0 || p[1].exitValue() == 143, said);
            Matcher m = Pattern.compile("spool (\\d+) records").matcher(said);
            assertTrue(m.find(), said);
            long reported = Long.parseLong(m.group(1));
            List<SpoolFiles.Segment> segments = SpoolFiles.segments(spool);
            long onDisk = 0;
            for (SpoolFiles.Segment s : segments) {
                assertTrue(s.sealed(), s.path() + " sealed by the stop");
                assertEquals(s.claimed(), s.records().size(), s.path() + " holds what its name says");
                onDisk += s.records().size();
            }
            assertEquals(reported, onDisk, "what the stop reported spooled is on disk: " + said);
            assertTrue(Files.readString(spool.resolve("collector.state")).contains("clean=true"));
            spooled = values(segments);
        } finally {
            p[1].destroyForcibly();
            p[0].destroyForcibly();
            stack.kafka().start();
        }
        Process again = collector(topic, spool, p[0].pid(), 0, err2);
        try {
            Map<ByteBuffer, Integer> seen = onTopic(topic, spooled, Duration.ofSeconds(180));
            assertEquals(0, missing(spooled, seen), () -> "every spooled record delivered: " + read(err2));
        } finally {
            again.destroy();
            assertTrue(again.waitFor(CollectCommand.stopBudget().plusSeconds(10).toSeconds(), TimeUnit.SECONDS));
        }
        assertFalse(read(err2).contains("damaged"), read(err2));
    }
}
