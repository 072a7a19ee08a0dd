package io.sockflow.collector.cli;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.embedded.LocalStack;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.registry.ConfluentAvro;
import io.sockflow.schemas.registry.RegistryClient;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A collector with nothing to capture (one sleeping process, no tracepoint groups) still tells the jobs its time: one
 * CLOCK record a second to every partition of its topic, except, in the tick it was written, the partition its
 * CAPTURE_START went to. Needs root.
 */
@Tag("root")
class QuietClockTest {
    static final int PARTITIONS = 3;

    @TempDir
    Path dir;

    @Test
    void aQuietCollectorWritesOneClockRecordPerPartitionPerIntervalAndNoneWhereItWroteAnEvent() throws Exception {
        LocalStack stack = LocalStack.shared();
        String topic = "quiet-" + UUID.randomUUID();
        Process sleeper = new ProcessBuilder("sleep", "120").start();
        CollectCommand c = CollectCommand.fromArgs(List.of(
                "--output",
                "kafka",
                "--bootstrap-servers",
                stack.bootstrapServers(),
                "--registry-url",
                stack.registryUrl(),
                "--topic",
                topic,
                "--topic-partitions",
                Integer.toString(PARTITIONS),
                "--spool-dir",
                dir.resolve("spool").toString(),
                "--run-as",
                "root",
                "--pid-include",
                Long.toString(sleeper.pid()),
                "--tracepoint-groups",
                "",
                "--sweep-interval",
                "0",
                "--clock-interval",
                "1s"));
        Thread t = new Thread(c::run);
        Instant stopped;
        try {
            t.start();
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (!c.health().attached() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertTrue(c.health().attached(), "attached");
            Thread.sleep(4500);
        } finally {
            c.stop();
            t.join(30_000);
            stopped = Instant.now();
            sleeper.destroy();
        }
        assertFalse(t.isAlive());

        Map<Integer, List<SocketEvent>> byPartition = read(stack, topic);
        List<SocketEvent> starts = byPartition.values().stream()
                .flatMap(List::stream)
                .filter(e -> e.getKind() == EventKind.CAPTURE_START)
                .toList();
        assertEquals(1, starts.size(), "one CAPTURE_START: " + byPartition);
        assertTrue(
                byPartition.values().stream()
                        .flatMap(List::stream)
                        .allMatch(e -> e.getKind() == EventKind.CAPTURE_START || e.getKind() == EventKind.CLOCK),
                "nothing else happened: " + byPartition);
        int startPartition = byPartition.entrySet().stream()
                .filter(p -> p.getValue().contains(starts.get(0)))
                .mapToInt(Map.Entry::getKey)
                .findFirst()
                .orElseThrow();
        Map<Integer, Integer> clocks = new TreeMap<>();
        for (int p = 0; p < PARTITIONS; p++) {
            List<SocketEvent> records = byPartition.getOrDefault(p, List.of());
            List<SocketEvent> ticks =
                    records.stream().filter(e -> e.getKind() == EventKind.CLOCK).toList();
            clocks.put(p, ticks.size());
            for (int i = 0; i < ticks.size(); i++) {
                SocketEvent tick = ticks.get(i);
                assertEquals(0, tick.getPid(), "no process: " + tick);
                assertNull(tick.getSocketInode(), "no socket: " + tick);
                assertFalse(tick.getTimestamp().isAfter(stopped), "the host's time, not later: " + tick);
                assertFalse(
                        tick.getTimestamp().isBefore(starts.get(0).getTimestamp()), "after the capture began: " + tick);
                if (i > 0) {
                    long gapMs = Duration.between(ticks.get(i - 1).getTimestamp(), tick.getTimestamp())
                            .toMillis();
                    assertTrue(gapMs >= 900 && gapMs <= 1600, "one a second on partition " + p + ": " + gapMs + " ms");
                }
            }
        }
        int others = clocks.entrySet().stream()
                .filter(x -> x.getKey() != startPartition)
                .mapToInt(Map.Entry::getValue)
                .max()
                .orElseThrow();
        assertTrue(others >= 3, "a clock record a second for 4.5 s: " + clocks);
        for (var x : clocks.entrySet()) {
            assertEquals(
                    x.getKey() == startPartition ? others - 1 : others,
                    x.getValue(),
                    "every partition a clock each tick; the CAPTURE_START's none in the tick it got it: " + clocks);
        }
        assertEquals(PARTITIONS * others - 1, c.clockRecords(), "counted as clock records");
        assertEquals(1, c.written(), "and not as events written");
    }

    static Map<Integer, List<SocketEvent>> read(LocalStack stack, String topic) {
        Map<String, Object> cfg = new HashMap<>();
        cfg.put("bootstrap.servers", stack.bootstrapServers());
        cfg.put("group.id", "t-" + UUID.randomUUID());
        cfg.put("auto.offset.reset", "earliest");
        ConfluentAvro.Deserializer<SocketEvent> de = new ConfluentAvro.Deserializer<>(
                new RegistryClient(RegistryClient.Config.of(stack.registryUrl())), SocketEvent.getClassSchema());
        List<ConsumerRecord<byte[], byte[]>> all = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(cfg, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(300)).forEach(all::add);
            }
        }
        Map<Integer, List<SocketEvent>> out = new TreeMap<>();
        all.stream()
                .sorted(java.util.Comparator.comparingLong(ConsumerRecord::offset))
                .forEach(r -> out.computeIfAbsent(r.partition(), p -> new ArrayList<>())
                        .add(de.deserialize(r.value())));
        return out;
    }
}
