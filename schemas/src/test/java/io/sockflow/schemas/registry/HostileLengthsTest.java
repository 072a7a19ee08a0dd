package io.sockflow.schemas.registry;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.schemas.Alert;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.avro.AvroBinaryBuffer;
import io.sockflow.schemas.avro.AvroBinaryInput;
import io.sockflow.schemas.avro.RecordCodec;
import io.sockflow.schemas.avro.SocketEventReader;
import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A string, bytes, array or map length near 2^31, or negative, on every path that decodes Avro from outside: the
 * Confluent framing, the fast SocketEvent reader, Avro's resolving reader (through the check that runs before it)
 * and the planned codec. Each is refused with an IllegalArgumentException, and the refusal allocates next to
 * nothing: the length is bounded by the record's bytes before anything is sized from it.
 */
class HostileLengthsTest {
    static final long NEAR_2_31 = Integer.MAX_VALUE - 8;
    /** Far below any allocation sized from a hostile length, far above what a refusal needs. */
    static final long ALLOCATION_LIMIT = 4 << 20;

    /** A record with each kind of length Avro has, and a self-nesting one. */
    static final Schema PROBE = new Schema.Parser().parse("""
            {"type": "record", "name": "Probe", "namespace": "test", "fields": [
              {"name": "s", "type": "string"},
              {"name": "b", "type": "bytes"},
              {"name": "a", "type": {"type": "array", "items": "long"}},
              {"name": "m", "type": {"type": "map", "values": "string"}},
              {"name": "n", "type": {"type": "array", "items": "null"}},
              {"name": "next", "type": ["null", "Probe"]}
            ]}""");

    static StubRegistry registry;
    static int probeId;
    static int currentEventId;
    static int olderEventId;

    @BeforeAll
    static void start() {
        registry = new StubRegistry();
        probeId = registry.add(PROBE);
        currentEventId = registry.add(SocketEvent.getClassSchema());
        olderEventId = registry.add(olderSocketEvent());
    }

    @AfterAll
    static void stop() {
        registry.close();
    }

    /** SocketEvent without its last field (which has a default): a version the resolving reader reads. */
    static Schema olderSocketEvent() {
        Schema current = SocketEvent.getClassSchema();
        List<Schema.Field> fields = current
                .getFields()
                .subList(0, current.getFields().size() - 1)
                .stream()
                .map(f -> new Schema.Field(f.name(), f.schema(), f.doc(), f.defaultVal()))
                .toList();
        return Schema.createRecord(current.getName(), current.getDoc(), current.getNamespace(), false, fields);
    }

    static byte[] framed(int id, byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0);
        out.writeBytes(ByteBuffer.allocate(4).putInt(id).array());
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** Avro's zig-zag varint of {@code v}. */
    static byte[] varint(long v) {
        AvroBinaryBuffer b = new AvroBinaryBuffer(10);
        b.writeLong(v);
        return b.toByteArray();
    }

    static byte[] bytes(int... b) {
        byte[] out = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = (byte) b[i];
        }
        return out;
    }

    static long allocatedByThisThread() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    /** Refused with an IllegalArgumentException whose message contains {@code says}, allocating next to nothing. */
    static void refused(String says, Runnable decode) {
        long before = allocatedByThisThread();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, decode::run);
        long allocated = allocatedByThisThread() - before;
        assertTrue(e.getMessage().contains(says), e.getMessage());
        assertTrue(allocated < ALLOCATION_LIMIT, allocated + " bytes allocated to refuse: " + e.getMessage());
    }

    static ConfluentAvro.Deserializer<SocketEvent> events() {
        return new ConfluentAvro.Deserializer<>(
                registry.client(2), SocketEvent.getClassSchema(), SocketEventReader::read);
    }

    static ConfluentAvro.Deserializer<SpecificRecord> probes() {
        return new ConfluentAvro.Deserializer<>(registry.client(2), PROBE);
    }

    @Test
    void theFastReaderBoundsAStringLengthByTheRecord() {
        ConfluentAvro.Deserializer<SocketEvent> d = events();
        refused(
                "a length of " + NEAR_2_31,
                () -> d.deserialize(framed(currentEventId, varint(NEAR_2_31), bytes('w', 'e', 'b'))));
        refused("a length of -5", () -> d.deserialize(framed(currentEventId, varint(-5), bytes('w'))));
        refused(
                "a length of " + Long.MAX_VALUE,
                () -> SocketEventReader.read(new AvroBinaryInput().reset(varint(Long.MAX_VALUE), 0, 10)));
    }

    @Test
    void theResolvingReaderIsCheckedBeforeAvroSizesAnything() {
        ConfluentAvro.Deserializer<SocketEvent> d = events();
        // an older SocketEvent: Avro's resolving reader, which would allocate the host's length at once
        refused(
                "a length of " + NEAR_2_31,
                () -> d.deserialize(framed(olderEventId, varint(NEAR_2_31), bytes('w', 'e', 'b'))));
        refused("a length of -2", () -> d.deserialize(framed(olderEventId, varint(-2))));

        ConfluentAvro.Deserializer<SpecificRecord> p = probes();
        byte[] empty = bytes(0);
        refused("a length of " + NEAR_2_31, () -> p.deserialize(framed(probeId, varint(NEAR_2_31), bytes('x'))));
        refused(
                "a length of " + NEAR_2_31,
                () -> p.deserialize(framed(probeId, empty, varint(NEAR_2_31), bytes(1, 2, 3))));
        // arrays and maps: a block count near 2^31, and a negative count whose block size is hostile
        refused(
                "a block of " + NEAR_2_31 + " items",
                () -> p.deserialize(framed(probeId, empty, empty, varint(NEAR_2_31), bytes(2, 0))));
        refused(
                "a block of " + NEAR_2_31 + " bytes",
                () -> p.deserialize(framed(probeId, empty, empty, varint(-1), varint(NEAR_2_31), bytes(2, 0))));
        refused(
                "a block count of " + Long.MIN_VALUE,
                () -> p.deserialize(framed(probeId, empty, empty, varint(Long.MIN_VALUE))));
        refused(
                "a block of " + NEAR_2_31 + " items",
                () -> p.deserialize(framed(probeId, empty, empty, empty, varint(NEAR_2_31), bytes(2, 'k'))));
        // nulls take no bytes: their count is bounded by a budget instead of the bytes left
        refused(
                "array items that take no bytes",
                () -> p.deserialize(framed(probeId, empty, empty, empty, empty, varint(NEAR_2_31), empty, empty)));
        // a union branch that does not exist, and a record nested in itself without end
        refused("a union branch 7", () -> p.deserialize(framed(probeId, empty, empty, empty, empty, empty, varint(7))));
        ByteArrayOutputStream deep = new ByteArrayOutputStream();
        for (int i = 0; i < 100_000; i++) {
            deep.writeBytes(bytes(0, 0, 0, 0, 0, 2)); // empty s, b, a, m, n; then the "Probe" branch of next
        }
        refused("nested more than", () -> p.deserialize(framed(probeId, deep.toByteArray())));
        // what the check lets through Avro reads whole
        byte[] ok = framed(
                probeId,
                varint(2),
                bytes('h', 'i'),
                empty,
                varint(2),
                varint(7),
                varint(9),
                empty,
                empty,
                varint(3),
                empty,
                empty);
        new io.sockflow.schemas.avro.AvroBinaryCheck(PROBE).check(ok, 5, ok.length - 5);
        org.apache.avro.generic.GenericRecord r;
        try {
            r = new org.apache.avro.generic.GenericDatumReader<org.apache.avro.generic.GenericRecord>(PROBE)
                    .read(null, org.apache.avro.io.DecoderFactory.get().binaryDecoder(ok, 5, ok.length - 5, null));
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        assertEquals("hi", r.get("s").toString());
        assertEquals(List.of(7L, 9L), r.get("a"));
        assertEquals(3, ((List<?>) r.get("n")).size());
        refused(
                "1 bytes after the end",
                () -> p.deserialize(framed(probeId, empty, empty, empty, empty, empty, empty, bytes(9))));
    }

    @Test
    void thePlannedCodecBoundsBlockCountsByTheRecord() {
        RecordCodec<Alert> codec = RecordCodec.of(Alert.class);
        // an Alert's ten fields before its evidence, each empty, zero or null
        byte[] head = new byte[10];
        refused("a block of " + NEAR_2_31 + " items", () -> read(codec, head, varint(NEAR_2_31), bytes(2, 'x')));
        refused(
                "a block of " + NEAR_2_31 + " bytes",
                () -> read(codec, head, varint(-1), varint(NEAR_2_31), bytes(2, 'x')));
        refused("a block count of " + Long.MIN_VALUE, () -> read(codec, head, varint(Long.MIN_VALUE)));
        refused("a length of " + NEAR_2_31, () -> read(codec, head, varint(1), varint(NEAR_2_31), bytes('x')));
        refused(
                "a block of " + NEAR_2_31 + " items",
                () -> read(codec, head, bytes(0), varint(NEAR_2_31), bytes(2, 'k')));
    }

    static Alert read(RecordCodec<Alert> codec, byte[]... parts) {
        byte[] all = framed(0, parts);
        return codec.read(new AvroBinaryInput().reset(all, 5, all.length - 5));
    }

    @Test
    void framingThatIsNotConfluentsOrAnIdNoRegistryGivesIsRefusedWithoutAskingTheRegistry() {
        ConfluentAvro.Deserializer<SocketEvent> d = events();
        refused("null", () -> d.deserialize(null));
        refused("3 bytes", () -> d.deserialize(new byte[3]));
        refused("magic byte 1", () -> d.deserialize(bytes(1, 0, 0, 0, 1, 0)));
        refused("schema id -1 is not a registry id", () -> d.deserialize(bytes(0, 0xff, 0xff, 0xff, 0xff, 0)));
        RegistryException unknown =
                assertThrows(RegistryException.class, () -> d.deserialize(framed(999_999, bytes(0))));
        assertEquals(404, unknown.status());
    }

    @Test
    void aRegistryAnswerThatIsNotASchemaIsTheIdsFaultAndAFailingRegistryIsNot() {
        int garbage = registry.addText(
                "{\"type\": \"record\", \"name\": \"X\", \"fields\": [{\"name\": \"a\", \"type\": \"nope\"}]}");
        ConfluentAvro.Deserializer<SocketEvent> d = events();
        refused("not a usable Avro schema", () -> d.deserialize(framed(garbage, bytes(0))));
        ConfluentAvro.Deserializer<SocketEvent> fresh = events();
        registry.failWith(503);
        try {
            RegistryException e =
                    assertThrows(RegistryException.class, () -> fresh.deserialize(framed(olderEventId, bytes(0))));
            assertEquals(503, e.status());
        } finally {
            registry.failWith(0);
        }
    }
}
