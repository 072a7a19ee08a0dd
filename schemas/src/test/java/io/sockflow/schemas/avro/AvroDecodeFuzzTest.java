package io.sockflow.schemas.avro;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.schemas.Alert;
import io.sockflow.schemas.Flow;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.SocketLifecycle;
import io.sockflow.schemas.registry.ConfluentAvro;
import io.sockflow.schemas.registry.RegistryException;
import io.sockflow.schemas.registry.StubRegistry;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecordBase;

/**
 * Fuzzing every path that decodes Avro from outside the jobs: the fast SocketEvent reader, the planned codec of the
 * result records, and the Confluent deserializer (framing, registry lookup, fast and resolving readers, with a
 * writer schema that has arrays and maps for the resolving reader to skip). Inputs are random bytes and valid
 * records mutated (bytes flipped, cut, repeated; hostile lengths near 2^31, negative, Long.MIN_VALUE written in).
 * Each decode returns a record or throws the documented decode exception ({@link IllegalArgumentException}, or a
 * 404 {@link RegistryException} for an id the registry does not know), and allocates no more than a small record
 * needs; anything else, an Error included, fails.
 * Bounded by tries (a few seconds in all), with a new seed each run; jqwik prints the seed of a failure.
 */
class AvroDecodeFuzzTest {
    static final long[] HOSTILE = {
        Integer.MAX_VALUE,
        Integer.MAX_VALUE - 8,
        1L << 31,
        (1L << 31) + 1,
        -1,
        -2,
        Integer.MIN_VALUE,
        Long.MIN_VALUE,
        Long.MAX_VALUE,
        1L << 62,
        65_536,
        1 << 20
    };
    static final List<Class<? extends SpecificRecordBase>> RESULTS =
            List.of(SocketLifecycle.class, Flow.class, Alert.class);

    static StubRegistry registry;
    static int currentId;
    static int olderId;
    static int extrasId;
    static ConfluentAvro.Deserializer<SocketEvent> deserializer;

    @BeforeContainer
    static void start() {
        registry = new StubRegistry();
        currentId = registry.add(SocketEvent.getClassSchema());
        olderId = registry.add(older());
        extrasId = registry.add(withExtras());
        deserializer = new ConfluentAvro.Deserializer<>(
                registry.client(1), SocketEvent.getClassSchema(), SocketEventReader::read);
    }

    @AfterContainer
    static void stop() {
        registry.close();
    }

    /** SocketEvent without its last field. */
    static Schema older() {
        Schema current = SocketEvent.getClassSchema();
        return record(current.getFields().subList(0, current.getFields().size() - 1), List.of());
    }

    /** SocketEvent with an array, a map and an array of nulls after its fields: the reader skips them. */
    static Schema withExtras() {
        Schema nulls = Schema.createArray(Schema.create(Schema.Type.NULL));
        return record(
                SocketEvent.getClassSchema().getFields(),
                List.of(
                        new Schema.Field(
                                "extraLongs", Schema.createArray(Schema.create(Schema.Type.LONG)), null, List.of()),
                        new Schema.Field(
                                "extraMap",
                                Schema.createMap(Schema.create(Schema.Type.STRING)),
                                null,
                                java.util.Map.of()),
                        new Schema.Field("extraNulls", nulls, null, List.of())));
    }

    static Schema record(List<Schema.Field> fields, List<Schema.Field> more) {
        Schema current = SocketEvent.getClassSchema();
        List<Schema.Field> all = new ArrayList<>();
        fields.forEach(f -> all.add(new Schema.Field(f.name(), f.schema(), f.doc(), f.defaultVal())));
        all.addAll(more);
        return Schema.createRecord(current.getName(), current.getDoc(), current.getNamespace(), false, all);
    }

    static byte[] varint(long v) {
        AvroBinaryBuffer b = new AvroBinaryBuffer(10);
        b.writeLong(v);
        return b.toByteArray();
    }

    static byte[] event(Random r) {
        AvroBinaryBuffer out = new AvroBinaryBuffer(256);
        SocketEventWriter.write(SocketEventWriterTest.random(r), out);
        return out.toByteArray();
    }

    /** The extras' encoding: a few longs, a few map entries, a few nulls, each in one or two blocks. */
    static byte[] extras(Random r) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int n = r.nextInt(4);
        if (n > 0) {
            ByteArrayOutputStream items = new ByteArrayOutputStream();
            for (int i = 0; i < n; i++) {
                items.writeBytes(varint(r.nextLong()));
            }
            // a block with its size in bytes (which a skipping reader uses), or without
            out.writeBytes(r.nextBoolean() ? varint(n) : concat(varint(-n), varint(items.size())));
            out.writeBytes(items.toByteArray());
        }
        out.write(0);
        n = r.nextInt(3);
        if (n > 0) {
            out.writeBytes(varint(n));
            for (int i = 0; i < n; i++) {
                out.writeBytes(concat(varint(2), new byte[] {'k', (byte) ('0' + i)}, varint(0)));
            }
        }
        out.write(0);
        n = r.nextInt(5);
        if (n > 0) {
            out.writeBytes(varint(n));
        }
        out.write(0);
        return out.toByteArray();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** One to three of: a byte flipped, a cut, a hostile length written over or into, a slice repeated, bytes added. */
    static byte[] mutate(byte[] b, Random r) {
        for (int m = 1 + r.nextInt(3); m > 0; m--) {
            int at = b.length == 0 ? 0 : r.nextInt(b.length);
            b = switch (r.nextInt(6)) {
                case 0 -> {
                    byte[] c = b.clone();
                    if (c.length > 0) {
                        c[at] ^= (byte) (1 + r.nextInt(255));
                    }
                    yield c;
                }
                case 1 -> Arrays.copyOf(b, at);
                case 2 -> { // a hostile length in place of what was there
                    byte[] v = varint(HOSTILE[r.nextInt(HOSTILE.length)]);
                    byte[] c = Arrays.copyOf(b, Math.max(b.length, at + v.length));
                    System.arraycopy(v, 0, c, at, v.length);
                    yield c;
                }
                case 3 ->
                    concat(
                            Arrays.copyOf(b, at),
                            varint(HOSTILE[r.nextInt(HOSTILE.length)]),
                            Arrays.copyOfRange(b, at, b.length));
                case 4 -> {
                    int len = b.length == 0 ? 0 : r.nextInt(Math.min(32, b.length - at) + 1);
                    yield concat(Arrays.copyOf(b, at + len), Arrays.copyOfRange(b, at, b.length));
                }
                default -> {
                    byte[] more = new byte[1 + r.nextInt(16)];
                    r.nextBytes(more);
                    yield concat(b, more);
                }
            };
        }
        return b;
    }

    static byte[] framed(int id, byte[] body) {
        return concat(new byte[] {0}, ByteBuffer.allocate(4).putInt(id).array(), body);
    }

    @Provide
    Arbitrary<byte[]> anyBytes() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(400);
    }

    @Provide
    Arbitrary<byte[]> mutatedEvents() {
        return Arbitraries.randomValue(r -> mutate(event(r), r));
    }

    @Provide
    Arbitrary<byte[]> mutatedFramed() {
        return Arbitraries.randomValue(r -> {
            int kind = r.nextInt(10);
            byte[] framed = switch (kind) {
                case 0, 1, 2 -> framed(currentId, event(r));
                case 3, 4 -> {
                    // the older schema lacks the last field: an event without it is written the same, less its last
                    // byte
                    byte[] e = event(r);
                    yield framed(olderId, Arrays.copyOf(e, e.length - 1));
                }
                case 5, 6, 7 -> framed(extrasId, concat(event(r), extras(r)));
                case 8 -> framed(r.nextBoolean() ? 999_999 : -r.nextInt(1000) - 1, event(r));
                default -> {
                    byte[] b = new byte[r.nextInt(40)];
                    r.nextBytes(b);
                    yield b;
                }
            };
            if (r.nextInt(8) == 0 && framed.length > 0) {
                framed[r.nextInt(Math.min(5, framed.length))] ^= (byte) (1 + r.nextInt(255)); // the header
            }
            return r.nextInt(6) == 0 ? framed : mutate(framed, r);
        });
    }

    @Provide
    Arbitrary<Object[]> mutatedResults() {
        return Arbitraries.randomValue(r -> {
            Class<? extends SpecificRecordBase> type = RESULTS.get(r.nextInt(RESULTS.size()));
            try {
                return new Object[] {type, mutate(RecordCodecTest.avroBytes(RecordCodecTest.random(type, r)), r)};
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    final AvroBinaryInput in = new AvroBinaryInput();

    @Property(tries = 3000)
    void theFastReaderOnAnyBytesReturnsAnEventOrRefusesIt(@ForAll("anyBytes") byte[] b) {
        try {
            SocketEventReader.read(in.reset(b, 0, b.length));
        } catch (IllegalArgumentException expected) {
            // the documented refusal
        }
    }

    @Property(tries = 3000)
    void theFastReaderOnMutatedEventsReturnsAnEventOrRefusesIt(@ForAll("mutatedEvents") byte[] b) {
        try {
            SocketEventReader.read(in.reset(b, 0, b.length));
        } catch (IllegalArgumentException expected) {
            // the documented refusal
        }
    }

    @Property(tries = 3000)
    void theConfluentDeserializerReturnsAnEventOrRefusesIt(@ForAll("mutatedFramed") byte[] framed) {
        long before = allocated();
        try {
            assertNotNull(deserializer.deserialize(framed));
        } catch (IllegalArgumentException expected) {
            // the documented refusal
        } catch (RegistryException e) {
            assertEquals(404, e.status(), "only an id the registry does not know: " + e.getMessage());
        }
        // a record of a few hundred bytes: nothing may be sized from a length it only claims
        long used = allocated() - before;
        assertTrue(used < ALLOCATION_LIMIT, used + " bytes allocated to decode " + framed.length);
    }

    /** Far above what decoding (or refusing) a small record takes, far below a buffer sized from a hostile length. */
    static final long ALLOCATION_LIMIT = 16 << 20;

    static long allocated() {
        return ((com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean())
                .getCurrentThreadAllocatedBytes();
    }

    @Property(tries = 2000)
    void theResultCodecReturnsARecordOrRefusesIt(@ForAll("mutatedResults") Object[] typeAndBytes) {
        @SuppressWarnings("unchecked")
        RecordCodec<SpecificRecordBase> codec = RecordCodec.of((Class<SpecificRecordBase>) typeAndBytes[0]);
        byte[] b = (byte[]) typeAndBytes[1];
        try {
            codec.read(in.reset(b, 0, b.length));
        } catch (IllegalArgumentException expected) {
            // the documented refusal
        }
    }

    /** The generators' unmutated records decode: the fuzzing starts from records each path reads. */
    @Example
    void unmutatedRecordsDecodeOnEveryPath() {
        Random r = new Random(5);
        for (int i = 0; i < 200; i++) {
            SocketEvent e = SocketEventWriterTest.random(r);
            AvroBinaryBuffer out = new AvroBinaryBuffer(256);
            SocketEventWriter.write(e, out);
            byte[] body = out.toByteArray();
            assertEquals(e, deserializer.deserialize(framed(currentId, body)));
            assertEquals(e, deserializer.deserialize(framed(extrasId, concat(body, extras(r)))));
            // the older schema lacks the last field: a null there is its one union-index byte at the end
            if (e.get(SocketEvent.getClassSchema().getFields().size() - 1) == null) {
                assertEquals(e, deserializer.deserialize(framed(olderId, Arrays.copyOf(body, body.length - 1))));
            }
        }
    }
}
