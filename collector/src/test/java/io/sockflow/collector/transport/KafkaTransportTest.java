package io.sockflow.collector.transport;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sockflow.collector.Sys;
import io.sockflow.collector.capture.Capture;
import io.sockflow.collector.capture.CaptureOptions;
import io.sockflow.collector.decode.HostInfo;
import io.sockflow.collector.decode.SocketEventDecoder;
import io.sockflow.embedded.LocalStack;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.registry.ConfluentAvro;
import io.sockflow.schemas.registry.RegistryClient;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.avro.Schema;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Live capture to the embedded broker through the embedded registry, read back by Java and by Confluent's client. */
@Tag("root")
class KafkaTransportTest {
    static LocalStack stack;

    @BeforeAll
    static void start() {
        stack = LocalStack.shared();
    }

    static KafkaOutput output(String topic, Path spool, long spoolBytes, Spool.FullPolicy policy, long buffer) {
        return new KafkaOutput(
                new KafkaOutput.Options(
                        stack.bootstrapServers(), topic, 3, (short) 1, Map.of(), spool, spoolBytes, policy, buffer),
                new RegistryClient(RegistryClient.Config.of(stack.registryUrl())));
    }

    static List<ConsumerRecord<byte[], byte[]>> readAll(String topic, int expected, Duration timeout) {
        return readAll(stack, topic, expected, timeout);
    }

    static List<ConsumerRecord<byte[], byte[]>> readAll(
            LocalStack stack, String topic, int expected, Duration timeout) {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", stack.bootstrapServers());
        c.put("group.id", "t-" + UUID.randomUUID());
        c.put("auto.offset.reset", "earliest");
        c.put("isolation.level", "read_committed");
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
                if (out.size() >= expected) {
                    // a little longer, to see duplicates if there were any
                    consumer.poll(Duration.ofMillis(500)).forEach(out::add);
                    break;
                }
            }
        }
        return out;
    }

    /** Captures this JVM's calls into Kafka while {@code work} runs; returns what the kernel delivered. */
    static List<SocketEvent> captureTo(KafkaOutput out, Runnable work) {
        List<SocketEvent> delivered = new CopyOnWriteArrayList<>();
        SocketEventDecoder decoder = new SocketEventDecoder(HostInfo.local(null));
        CaptureOptions o = CaptureOptions.defaults().withExcludeSelf(false).withPidInclude(List.of((int)
                ProcessHandle.current().pid()));
        try (Capture c = Capture.open(o, rec -> {
                    SocketEvent e = decoder.decode(rec);
                    delivered.add(e);
                    out.write(e);
                })
                .start()) {
            work.run();
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return delivered;
    }

    static void someCalls(int n) {
        try (Arena a = Arena.ofConfined()) {
            for (int i = 0; i < n; i++) {
                long fd = Sys.ok(Sys.SOCKET, Sys.AF_INET, Sys.SOCK_DGRAM, 0);
                Sys.ok(Sys.BIND, fd, Sys.addr(Sys.sockaddrIn(a, new byte[] {127, 0, 0, 1}, 0)), 16);
                Sys.ok(
                        Sys.SENDTO,
                        fd,
                        Sys.addr(a.allocate(8)),
                        8,
                        0,
                        Sys.addr(Sys.sockaddrIn(a, new byte[] {127, 0, 0, 1}, 9)),
                        16);
                Sys.ok(Sys.CLOSE, fd);
            }
        }
    }

    @Test
    void eventsArriveAsConfluentFramedAvroKeyedBySocket(@TempDir Path spool) {
        String topic = "events-" + UUID.randomUUID();
        KafkaOutput out = output(topic, spool, 1 << 20, Spool.FullPolicy.DROP_NEWEST, 32L << 20);
        List<SocketEvent> delivered = captureTo(out, () -> someCalls(20));
        out.close(Duration.ofSeconds(20));
        assertTrue(delivered.size() >= 80);
        List<ConsumerRecord<byte[], byte[]>> records = readAll(topic, delivered.size(), Duration.ofSeconds(30));
        assertEquals(delivered.size(), records.size(), "exactly once");
        RegistryClient registry = new RegistryClient(RegistryClient.Config.of(stack.registryUrl()));
        ConfluentAvro.Deserializer<SocketEvent> de =
                new ConfluentAvro.Deserializer<>(registry, SocketEvent.getClassSchema());
        Map<String, Integer> partitionOfKey = new HashMap<>();
        List<SocketEvent> read = new ArrayList<>();
        int withSocket = 0;
        for (ConsumerRecord<byte[], byte[]> r : records) {
            assertEquals(0, r.value()[0], "magic byte");
            int id = ByteBuffer.wrap(r.value(), 1, 4).getInt();
            assertEquals(registry.latest(topic + "-value").id(), id);
            SocketEvent e = de.deserialize(r.value());
            read.add(e);
            String key = new String(r.key(), StandardCharsets.UTF_8);
            // A socket's events are keyed by host and its identity (the cookie of an inet socket, else the inode); a
            // call with no socket to its name (the JVM's other threads are captured too, and some of their calls name
            // none) by host and pid.
            String expected = io.sockflow.schemas.SocketIdentity.byCookie(e.getFamily(), e.getSocketCookie())
                    ? e.getHost() + "/c" + e.getSocketCookie()
                    : e.getSocketInode() != null
                            ? e.getHost() + "/i" + e.getSocketInode()
                            : e.getHost() + "/pid/" + e.getPid();
            assertEquals(expected, key, () -> "key of " + e);
            if (e.getSocketInode() != null) {
                withSocket++;
            }
            Integer before = partitionOfKey.put(key, r.partition());
            assertTrue(before == null || before == r.partition(), "one socket, one partition");
        }
        assertTrue(withSocket >= 80, "the 20 sockets' 4 calls each are keyed by the socket: " + withSocket);
        assertEquals(new java.util.HashSet<>(delivered), new java.util.HashSet<>(read));
    }

    @Test
    void confluentsPythonClientDecodesEveryField(@TempDir Path spool) throws Exception {
        String topic = "py-" + UUID.randomUUID();
        KafkaOutput out = output(topic, spool, 1 << 20, Spool.FullPolicy.DROP_NEWEST, 32L << 20);
        List<SocketEvent> delivered = captureTo(out, () -> someCalls(5));
        out.close(Duration.ofSeconds(20));
        Path script = Files.createTempFile("confluent_consume", ".py");
        try (var in = getClass().getResourceAsStream("/confluent_consume.py")) {
            Files.write(script, in.readAllBytes());
        }
        Process p = new ProcessBuilder(
                        "/usr/bin/python3",
                        script.toString(),
                        stack.bootstrapServers(),
                        stack.registryUrl(),
                        topic,
                        Integer.toString(delivered.size()),
                        "60")
                .start();
        String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String stderr = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), stderr);
        ObjectMapper json = new ObjectMapper();
        Map<String, JsonNode> byId = new LinkedHashMap<>();
        for (String line : stdout.split("\n")) {
            JsonNode v = json.readTree(line).get("value");
            byId.put(v.get("tid").asText() + "/" + v.get("monotonicNs").asText(), v);
        }
        assertEquals(delivered.size(), byId.size());
        List<Schema.Field> fields = SocketEvent.getClassSchema().getFields();
        for (SocketEvent e : delivered) {
            JsonNode v = byId.get(e.getTid() + "/" + e.getMonotonicNs());
            assertNotNull(v, "Python read " + e.getKind() + " " + e.getMonotonicNs());
            for (Schema.Field f : fields) {
                Object jv = e.get(f.pos());
                JsonNode py = v.get(f.name());
                assertNotNull(py, "field " + f.name() + " decoded by Python");
                String where = f.name() + " of " + e.getKind();
                switch (jv) {
                    case null -> assertTrue(py.isNull(), where);
                    case Integer i -> assertEquals((long) i, py.asLong(), where);
                    case Long l -> assertEquals((long) l, py.asLong(), where);
                    case java.time.Instant t -> assertEquals(t, java.time.Instant.parse(py.asText()), where);
                    case ByteBuffer bb -> {
                        byte[] bytes = new byte[bb.remaining()];
                        bb.duplicate().get(bytes);
                        assertEquals(Base64.getEncoder().encodeToString(bytes), py.asText(), where);
                    }
                    default -> assertEquals(jv.toString(), py.asText(), where);
                }
            }
        }
    }

    @Test
    void aBrokerAwayForThirtySecondsLosesNothingAndDuplicatesNothing(@TempDir Path spool) throws Exception {
        String topic = "outage-" + UUID.randomUUID();
        // a small producer buffer, so that the outage reaches the disk spool too
        KafkaOutput out = output(topic, spool, 256L << 20, Spool.FullPolicy.DROP_NEWEST, 128 * 1024);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicBoolean sawSpooling = new AtomicBoolean();
        List<SocketEvent> delivered = captureTo(out, () -> {
            Thread load = Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    someCalls(5);
                    if (out.shipper().spooling()) {
                        sawSpooling.set(true);
                    }
                    try {
                        Thread.sleep(2);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            try {
                Thread.sleep(3_000);
                stack.kafka().stop();
                Thread.sleep(30_000);
                stack.kafka().start();
                Thread.sleep(3_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                stop.set(true);
                try {
                    load.join();
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        assertTrue(out.shipper().awaitAcked(Duration.ofSeconds(120)), "everything acknowledged after the outage");
        KafkaShipper.Stats s = out.stats();
        out.close(Duration.ofSeconds(10));
        assertTrue(sawSpooling.get(), "the outage went through the disk spool");
        assertEquals(0, s.spoolDropped());
        assertEquals(delivered.size(), s.acked());
        List<ConsumerRecord<byte[], byte[]>> records = readAll(topic, delivered.size(), Duration.ofSeconds(60));
        RegistryClient registry = new RegistryClient(RegistryClient.Config.of(stack.registryUrl()));
        ConfluentAvro.Deserializer<SocketEvent> de =
                new ConfluentAvro.Deserializer<>(registry, SocketEvent.getClassSchema());
        Map<String, List<Long>> perSocketOnTopic = new HashMap<>();
        Map<String, String> seen = new HashMap<>();
        List<String> duplicates = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            SocketEvent e;
            try {
                e = de.deserialize(r.value());
            } catch (IllegalArgumentException bad) {
                duplicates.add("undecodable " + r.partition() + "@" + r.offset() + " len " + r.value().length + " key "
                        + new String(r.key(), StandardCharsets.UTF_8));
                continue;
            }
            String where = r.partition() + "@" + r.offset();
            String before = seen.put(e.getTid() + "/" + e.getMonotonicNs(), where);
            if (before != null) {
                duplicates.add(e.getKind() + " at " + before + " and " + where);
            }
            perSocketOnTopic
                    .computeIfAbsent(new String(r.key(), StandardCharsets.UTF_8), k -> new ArrayList<>())
                    .add(e.getMonotonicNs());
        }
        assertEquals(List.of(), duplicates, "no duplicates");
        assertEquals(delivered.size(), records.size(), "every delivered event exactly once");
        Map<String, List<Long>> perSocketDelivered = new HashMap<>();
        for (SocketEvent e : delivered) {
            perSocketDelivered
                    .computeIfAbsent(new String(KafkaOutput.key(e), StandardCharsets.UTF_8), k -> new ArrayList<>())
                    .add(e.getMonotonicNs());
        }
        assertEquals(perSocketDelivered, perSocketOnTopic, "in order per socket");
    }

    @Test
    void aTinySpoolDropsByPolicyAndCountsEveryDrop(@TempDir Path spool) throws Exception {
        String topic = "tiny-" + UUID.randomUUID();
        KafkaOutput out = output(topic, spool, 64 * 1024, Spool.FullPolicy.DROP_NEWEST, 64 * 1024);
        stack.kafka().stop();
        int offered = 20_000;
        int accepted = 0;
        try {
            byte[] value = new ConfluentAvro.Serializer<SocketEvent>(
                            new RegistryClient(RegistryClient.Config.of(stack.registryUrl())),
                            topic,
                            SocketEvent.getClassSchema())
                    .serialize(sample());
            for (int i = 0; i < offered; i++) {
                accepted += out.shipper().offer(("k" + (i % 7)).getBytes(StandardCharsets.UTF_8), value) ? 1 : 0;
            }
            KafkaShipper.Stats during = out.stats();
            assertTrue(during.spoolDropped() > 0, "64 KiB cannot hold them all: " + during);
            assertEquals(offered - accepted, during.spoolDropped(), "every dropped record counted");
        } finally {
            stack.kafka().start();
        }
        assertTrue(out.shipper().awaitAcked(Duration.ofSeconds(120)));
        KafkaShipper.Stats after = out.stats();
        out.close(Duration.ofSeconds(10));
        assertEquals(offered, after.acked() + after.spoolDropped(), "acknowledged + dropped = offered: " + after);
        assertEquals(
                after.acked(),
                readAll(topic, (int) after.acked(), Duration.ofSeconds(60)).size());
    }

    static SocketEvent sample() {
        SocketEvent e = new SocketEvent();
        e.setHost("h");
        e.setBootId("b");
        e.setTimestamp(java.time.Instant.parse("2026-01-01T00:00:00Z"));
        e.setKind(io.sockflow.schemas.EventKind.SOCKET);
        e.setComm("x");
        return e;
    }
}
