package io.sockflow.jobs.input;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.embedded.LocalStack;
import io.sockflow.jobs.Ev;
import io.sockflow.jobs.Poison;
import io.sockflow.jobs.RegistryProxy;
import io.sockflow.jobs.Workload;
import io.sockflow.jobs.types.SocketEventSerializer;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.registry.ConfluentAvro;
import io.sockflow.schemas.registry.RegistryClient;
import io.sockflow.schemas.registry.RegistryException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.flink.util.SimpleUserCodeClassLoader;
import org.apache.flink.util.UserCodeClassLoader;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The source's decoder against the embedded registry: events in the current schema are decoded and their bytes go
 * on to the shuffle as they are; events in an older schema are resolved and encoded again; what cannot be decoded
 * becomes a dead letter with its reason.
 */
@Tag("slow")
class EventDecoderTest {
    static LocalStack stack;
    static RegistryClient registry;

    @BeforeAll
    static void start() throws Exception {
        stack = LocalStack.shared();
        registry = new RegistryClient(RegistryClient.Config.of(stack.registryUrl()));
    }

    static EventDecoder decoder() {
        String url = stack.registryUrl();
        return decoder(() -> new RegistryClient(RegistryClient.Config.of(url)));
    }

    static EventDecoder decoder(EventDecoder.RegistrySupplier registry) {
        EventDecoder d = new EventDecoder(registry);
        d.open(new DeserializationSchema.InitializationContext() {
            @Override
            public MetricGroup getMetricGroup() {
                return new UnregisteredMetricsGroup();
            }

            @Override
            public UserCodeClassLoader getUserCodeClassLoader() {
                return SimpleUserCodeClassLoader.create(EventDecoderTest.class.getClassLoader());
            }
        });
        return d;
    }

    /** What the collector writes, to a topic of the test's own. */
    static ConfluentAvro.Serializer<SocketEvent> collectorSide() {
        return new ConfluentAvro.Serializer<>(registry, "decoder-" + UUID.randomUUID(), SocketEvent.getClassSchema());
    }

    static byte[] shuffled(SocketEvent e) throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(256);
        new SocketEventSerializer().serialize(e, out);
        return out.getCopyOfBuffer();
    }

    @Test
    void anEventInTheCurrentSchemaIsShuffledAsTheBytesItCameIn() throws Exception {
        ConfluentAvro.Serializer<SocketEvent> ser = collectorSide();
        EventDecoder d = decoder();
        SocketEventSerializer shuffle = new SocketEventSerializer();
        List<SocketEvent> events = Workload.events(5);
        for (SocketEvent original : events) {
            // the host's length written in two bytes where one would do: valid Avro that no encoder of ours writes,
            // so what reaches the shuffle shows whether it was passed on or encoded again
            byte[] minimal = ser.serialize(original);
            int len = minimal[ConfluentAvro.HEADER];
            assertTrue(len >= 0, "a host of fewer than 64 bytes");
            byte[] framed = new byte[minimal.length + 1];
            System.arraycopy(minimal, 0, framed, 0, ConfluentAvro.HEADER);
            framed[ConfluentAvro.HEADER] = (byte) (len | 0x80);
            framed[ConfluentAvro.HEADER + 1] = 0;
            System.arraycopy(
                    minimal,
                    ConfluentAvro.HEADER + 1,
                    framed,
                    ConfluentAvro.HEADER + 2,
                    minimal.length - ConfluentAvro.HEADER - 1);
            SocketEvent e = d.decode(framed).event;
            assertEquals(original, e);
            byte[] sent = shuffled(e);
            // a length, then the record's bytes exactly as they came from Kafka
            assertEquals(
                    framed.length - ConfluentAvro.HEADER, ByteBuffer.wrap(sent).getInt());
            assertArrayEquals(
                    Arrays.copyOfRange(framed, ConfluentAvro.HEADER, framed.length),
                    Arrays.copyOfRange(sent, 4, sent.length));
            assertEquals(original, shuffle.deserialize(new DataInputDeserializer(sent)));
        }
    }

    @Test
    void onlyTheLatestEventDecodedIsSentAsItsBytesAndAChangedCopyIsEncodedAfresh() throws Exception {
        ConfluentAvro.Serializer<SocketEvent> ser = collectorSide();
        EventDecoder d = decoder();
        SocketEventSerializer shuffle = new SocketEventSerializer();
        List<SocketEvent> events = Workload.events(2);
        SocketEvent first = d.decode(ser.serialize(events.get(0))).event;
        SocketEvent second = d.decode(ser.serialize(events.get(1))).event;
        // the first is no longer the latest: encoded by the writer, it still comes back whole
        assertEquals(events.get(0), shuffle.deserialize(new DataInputDeserializer(shuffled(first))));
        // a copy made from the latest (as the socketpair's second end is) with a field changed
        SocketEvent changed =
                SocketEvent.newBuilder(second).setPid(second.getPid() + 1).build();
        SocketEvent back = shuffle.deserialize(new DataInputDeserializer(shuffled(changed)));
        assertEquals(second.getPid() + 1, back.getPid());
        assertEquals(changed, back);
        assertEquals(events.get(1), shuffle.deserialize(new DataInputDeserializer(shuffled(second))));
        // another thread never sees this thread's latest event
        byte[][] fromOtherThread = new byte[1][];
        Thread t = new Thread(() -> {
            try {
                fromOtherThread[0] = shuffled(second);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        t.start();
        t.join();
        assertEquals(second, shuffle.deserialize(new DataInputDeserializer(fromOtherThread[0])));
    }

    @Test
    void anEventInAnOlderSchemaIsResolvedAndEncodedInTheCurrentOne() throws Exception {
        // an older SocketEvent: the current schema without its last field (which has a default)
        Schema current = SocketEvent.getClassSchema();
        List<Schema.Field> older = current
                .getFields()
                .subList(0, current.getFields().size() - 1)
                .stream()
                .map(f -> new Schema.Field(f.name(), f.schema(), f.doc(), f.defaultVal()))
                .toList();
        Schema old = Schema.createRecord(current.getName(), current.getDoc(), current.getNamespace(), false, older);
        assertTrue(current.getFields().getLast().hasDefaultValue(), "the test drops a field with a default");
        String topic = "decoder-" + UUID.randomUUID();
        int id = registry.register(topic + "-value", old);
        SocketEvent original = Workload.events(1).get(0);
        assertNull(original.get(current.getFields().size() - 1), "the dropped field is at its default in the event");
        GenericRecord r = new GenericData.Record(old);
        for (Schema.Field f : older) {
            r.put(f.name(), original.get(f.pos()));
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.write(0);
        bytes.write(ByteBuffer.allocate(4).putInt(id).array());
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(bytes, null);
        new GenericDatumWriter<GenericRecord>(old, specificAsGeneric()).write(r, enc);
        enc.flush();
        byte[] framed = bytes.toByteArray();
        EventDecoder d = decoder();
        SocketEvent e = d.decode(framed).event;
        assertEquals(original, e);
        byte[] sent = shuffled(e);
        assertNotEquals(
                framed.length - ConfluentAvro.HEADER, ByteBuffer.wrap(sent).getInt(), "encoded again, not passed on");
        assertEquals(e, new SocketEventSerializer().deserialize(new DataInputDeserializer(sent)));
    }

    private static GenericData specificAsGeneric() {
        GenericData g = new GenericData();
        g.addLogicalTypeConversion(new org.apache.avro.data.TimeConversions.TimestampMicrosConversion());
        return g;
    }

    @Test
    void whatCannotBeDecodedIsADeadLetterWithItsReason() throws Exception {
        EventDecoder d = decoder();
        assertTrue(d.decode(null).dead.reason.contains("tombstone"));
        assertTrue(d.decode(new byte[] {0, 0}).dead.reason.contains("too short"));
        assertTrue(d.decode(new byte[] {7, 0, 0, 0, 1, 2}).dead.reason.contains("magic byte 7"));
        byte[] framed = collectorSide().serialize(Workload.events(1).get(0));
        Decoded cut = d.decode(Arrays.copyOf(framed, framed.length - 4));
        assertNull(cut.event);
        assertTrue(cut.dead.reason.startsWith("undecodable Avro"), cut.dead.reason);
        byte[] unknown = framed.clone();
        ByteBuffer.wrap(unknown).putInt(1, 999_999);
        assertTrue(
                d.decode(unknown).dead.reason.contains("schema id 999999 is not in the registry"),
                d.decode(unknown).dead.reason);
    }

    @Test
    void everyKindOfPoisonIsADeadLetterWithItsReasonAndTheNextEventIsDecoded() throws Exception {
        EventDecoder d = decoder();
        ConfluentAvro.Serializer<SocketEvent> ser = collectorSide();
        SocketEvent next = Workload.events(1).get(1);
        List<Poison.Kind> kinds = Poison.all(registry, "decoder-" + UUID.randomUUID(), Ev.HOST, Instant.now());
        for (Poison.Kind k : kinds) {
            Decoded got = d.decode(k.value());
            assertNull(got.event, k.name());
            assertTrue(got.dead.reason.contains(k.reason()), k.name() + ": " + got.dead.reason);
            assertEquals(next, d.decode(ser.serialize(next)).event, "after " + k.name());
        }
        // AF_UNIX sockaddrs are paths, and times a little ahead are a clock's usual drift: both go on
        SocketEvent path = Ev.of(io.sockflow.schemas.EventKind.CONNECT, 9, "x", 0)
                .socket(77)
                .unix()
                .get();
        path.setSockaddrFamily("AF_UNIX");
        path.setSockaddrAddress("/run/systemd/notify");
        path.setTimestamp(Instant.now().plusSeconds(60));
        assertEquals(path, d.decode(ser.serialize(path)).event);
    }

    @Test
    void aClockRecordFarAheadIsDroppedAndCountedNotDeadLetteredWhileAnEventAsFarAheadIsADeadLetter() throws Exception {
        java.util.Map<String, org.apache.flink.metrics.SimpleCounter> counters = new java.util.HashMap<>();
        EventDecoder d = new EventDecoder(() -> new RegistryClient(RegistryClient.Config.of(stack.registryUrl())));
        d.open(new DeserializationSchema.InitializationContext() {
            @Override
            public MetricGroup getMetricGroup() {
                return new UnregisteredMetricsGroup() {
                    @Override
                    public org.apache.flink.metrics.Counter counter(String name) {
                        return counters.computeIfAbsent(name, n -> new org.apache.flink.metrics.SimpleCounter());
                    }
                };
            }

            @Override
            public UserCodeClassLoader getUserCodeClassLoader() {
                return SimpleUserCodeClassLoader.create(EventDecoderTest.class.getClassLoader());
            }
        });
        ConfluentAvro.Serializer<SocketEvent> ser = collectorSide();
        Instant hourAhead = Instant.now().plus(Duration.ofHours(1));
        SocketEvent clock = Ev.of(io.sockflow.schemas.EventKind.CLOCK, 0, "", 0).get();
        clock.setAttribution(null);
        clock.setTimestamp(hourAhead);
        SocketEvent event = Workload.events(1).get(0);
        event.setTimestamp(hourAhead);
        SocketEvent onTime =
                Ev.of(io.sockflow.schemas.EventKind.CLOCK, 0, "", 0).get();
        onTime.setAttribution(null);
        onTime.setTimestamp(Instant.now());
        List<Decoded> out = new java.util.ArrayList<>();
        org.apache.flink.util.Collector<Decoded> collect = new org.apache.flink.util.Collector<>() {
            @Override
            public void collect(Decoded x) {
                out.add(x);
            }

            @Override
            public void close() {}
        };
        for (SocketEvent e : List.of(clock, clock, event, onTime)) {
            d.deserialize(
                    new org.apache.kafka.clients.consumer.ConsumerRecord<>("events", 0, 0L, null, ser.serialize(e)),
                    collect);
        }
        assertEquals(2, out.size(), "the event far ahead (a dead letter) and the clock record on time: " + out);
        assertNull(out.get(0).event);
        assertTrue(out.get(0).dead.reason.contains("ahead of this job's clock"), out.get(0).dead.reason);
        assertEquals(onTime, out.get(1).event);
        assertEquals(2L, counters.get("clockRecordsDropped").getCount());
        assertEquals(1L, counters.get("clockRecords").getCount());
        assertEquals(1L, counters.get("eventsDeadLettered").getCount());
        assertEquals(3L, counters.get("eventsAheadOfClock").getCount(), "every record ahead is counted as such");
    }

    @Test
    void aRegistryThatFailsOrDoesNotAnswerFailsTheTaskInsteadOfDeadLetteringTheRecord() throws Exception {
        byte[] framed = collectorSide().serialize(Workload.events(1).get(0));
        try (RegistryProxy proxy = new RegistryProxy(stack.registryUrl())) {
            String url = proxy.url();
            // a client that gives up quickly: 2 attempts of 300 ms
            EventDecoder d = decoder(() -> new RegistryClient(new RegistryClient.Config(
                    List.of(url),
                    null,
                    null,
                    null,
                    Duration.ofMillis(300),
                    2,
                    Duration.ofMillis(10),
                    Duration.ofMillis(20))));
            proxy.failFor(Duration.ofMinutes(1));
            RegistryException failing = assertThrows(RegistryException.class, () -> d.decode(framed));
            assertEquals(500, failing.status());
            proxy.failFor(Duration.ZERO);
            proxy.stallFor(Duration.ofMinutes(1), Duration.ofSeconds(2));
            RegistryException silent = assertThrows(RegistryException.class, () -> d.decode(framed));
            assertTrue(silent.getMessage().contains("unreachable"), silent.getMessage());
            proxy.stallFor(Duration.ZERO, Duration.ZERO);
            assertEquals(Workload.events(1).get(0), d.decode(framed).event, "decoded once the registry answers");
            assertTrue(
                    proxy.failed() >= 2 && proxy.stalled() >= 2,
                    proxy.failed() + " failed, " + proxy.stalled() + " stalled");
        }
    }
}
