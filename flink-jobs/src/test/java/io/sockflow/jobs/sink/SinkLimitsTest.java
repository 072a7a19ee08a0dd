package io.sockflow.jobs.sink;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.embedded.LocalStack;
import io.sockflow.jobs.Results;
import io.sockflow.jobs.config.JobConfig;
import io.sockflow.jobs.input.DeadLetter;
import io.sockflow.jobs.input.RawRecord;
import io.sockflow.schemas.Alert;
import io.sockflow.schemas.Severity;
import io.sockflow.schemas.registry.RegistryClient;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.flink.util.SimpleUserCodeClassLoader;
import org.apache.flink.util.UserCodeClassLoader;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The Kafka sinks never hand the broker a record it refuses for its size (which failed the job at every restart):
 * records as large as the broker takes, and larger, are written to the embedded broker with its default limits,
 * through a producer with Kafka's default limits.
 */
@Tag("slow")
class SinkLimitsTest {
    static LocalStack stack;
    static final int LIMIT = JobConfig.defaults().getInt(JobConfig.MAX_RECORD_BYTES);

    @BeforeAll
    static void start() {
        stack = LocalStack.shared();
    }

    static String topic() throws Exception {
        String t = "limits-" + UUID.randomUUID();
        try (Admin a = Admin.create(Map.of("bootstrap.servers", stack.bootstrapServers()))) {
            a.createTopics(List.of(new NewTopic(t, 1, (short) 1))).all().get();
        }
        return t;
    }

    static SerializationSchema.InitializationContext context() {
        return new SerializationSchema.InitializationContext() {
            @Override
            public MetricGroup getMetricGroup() {
                return new UnregisteredMetricsGroup();
            }

            @Override
            public UserCodeClassLoader getUserCodeClassLoader() {
                return SimpleUserCodeClassLoader.create(SinkLimitsTest.class.getClassLoader());
            }
        };
    }

    /** Sends through a producer with Kafka's default max.request.size, and waits for the broker's answer. */
    static void send(ProducerRecord<byte[], byte[]> r) throws Exception {
        try (KafkaProducer<byte[], byte[]> p = Results.producer(stack.bootstrapServers())) {
            p.send(r).get();
        }
    }

    @Test
    void aDeadLetterAsLargeAsTheBrokerTakesKeepsItsHeadAndSaysHowLongItWas() throws Exception {
        String topic = topic();
        DeadLetterSerializer s = new DeadLetterSerializer(topic, LIMIT);
        s.open(context(), null);
        byte[] value = new byte[1_040_000];
        value[0] = 0;
        value[1] = 42;
        // a reason that quotes a lot, and a record without a timestamp (-1), which Kafka refuses as it is
        DeadLetter d = new DeadLetter(
                new RawRecord("sockflow.events", 2, 77, -1, "k".getBytes(StandardCharsets.UTF_8), value),
                "x".repeat(50_000));
        send(s.serialize(d, null, null));
        // a key and a value each larger than the limit (no broker sent these, but no input is trusted)
        send(s.serialize(
                new DeadLetter(
                        new RawRecord("sockflow.events", 0, 1, 5, new byte[2_000_000], new byte[3_000_000]), "big"),
                null,
                null));
        List<ConsumerRecord<byte[], byte[]>> got = Results.readCommitted(stack.bootstrapServers(), topic);
        assertEquals(2, got.size());
        ConsumerRecord<byte[], byte[]> first = got.get(0);
        assertEquals(42, first.value()[1], "the record's head is kept");
        assertTrue(
                first.value().length < value.length && first.value().length > 900_000,
                first.value().length + " bytes kept");
        assertEquals("1040000", header(first, "sockflow.error.value.length"));
        assertEquals("1", header(first, "sockflow.error.key.length"));
        assertArrayEquals("k".getBytes(StandardCharsets.UTF_8), first.key(), "a short key is kept whole");
        assertTrue(header(first, "sockflow.error.reason").length() < 1100);
        assertEquals("77", header(first, "__connect.errors.offset"));
        ConsumerRecord<byte[], byte[]> second = got.get(1);
        assertEquals("2000000", header(second, "sockflow.error.key.length"));
        assertEquals("3000000", header(second, "sockflow.error.value.length"));
        assertTrue(second.key().length + second.value().length < LIMIT);
        assertNotEquals(5, second.timestamp(), "written now: an old source time would be past retention at once");
        assertEquals("5", header(second, "sockflow.source.timestamp"), "the source's time is kept in a header");
    }

    static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        return new String(r.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }

    static Alert alert(String id) {
        return Alert.newBuilder()
                .setAlertId(id)
                .setRule("test")
                .setSeverity(Severity.LOW)
                .setTimestamp(Instant.parse("2026-11-25T10:00:00Z"))
                .setHost("web-1")
                .setSummary("a summary")
                .setEvidence(new ArrayList<>())
                .setAttributes(new HashMap<>())
                .build();
    }

    @Test
    void aResultTooLargeForTheBrokerIsWrittenWithItsLongPartsCutAndCounted() throws Exception {
        String topic = topic();
        String url = stack.registryUrl();
        AvroRecordSerializer<Alert> s = new AvroRecordSerializer<>(
                topic,
                Alert.getClassSchema(),
                () -> new RegistryClient(RegistryClient.Config.of(url)),
                Alert::getAlertId,
                LIMIT);
        s.open(context(), null);
        Alert small = alert("small");
        Alert huge = alert("huge");
        for (int i = 0; i < 3; i++) {
            huge.getEvidence().add(("event " + i + " ").repeat(60_000));
        }
        for (int i = 0; i < 5_000; i++) {
            huge.getEvidence().add("e" + i);
            huge.getAttributes().put("k" + i, "v".repeat(100));
        }
        huge.setSummary("s".repeat(2_000));
        assertNull(
                s.serialize(small, null, 1_000L).timestamp(),
                "written at the producer's time, not the event time (old results would be past the topic's retention)");
        send(s.serialize(small, null, 1_000L));
        send(s.serialize(huge, null, -5L));
        assertEquals(5_003, huge.getEvidence().size(), "the original is not changed (it may go to another sink too)");
        List<Alert> got =
                Results.decode(url, Results.readCommitted(stack.bootstrapServers(), topic), Alert.getClassSchema());
        assertEquals(List.of(small), got.subList(0, 1));
        Alert cut = got.get(1);
        assertEquals("huge", cut.getAlertId());
        assertEquals("s".repeat(2_000), cut.getSummary(), "a string shorter than the first cut is kept");
        assertTrue(cut.getEvidence().get(0).startsWith("event 0 event 0"));
        assertTrue(
                cut.getEvidence().get(0).endsWith("more characters cut]"),
                cut.getEvidence().get(0).substring(4000));
        assertTrue(
                cut.getEvidence().getLast().matches("\\[\\d+ more items cut]"),
                cut.getEvidence().getLast());
        assertTrue(cut.getAttributes().containsKey("sockflow.cut"));

        // a record no cut makes small enough (a limit below Kafka's own framing) is left out, not sent to fail
        AvroRecordSerializer<Alert> tiny = new AvroRecordSerializer<>(
                topic,
                Alert.getClassSchema(),
                () -> new RegistryClient(RegistryClient.Config.of(url)),
                Alert::getAlertId,
                600);
        tiny.open(context(), null);
        assertNull(tiny.serialize(huge, null, 1L));
    }
}
