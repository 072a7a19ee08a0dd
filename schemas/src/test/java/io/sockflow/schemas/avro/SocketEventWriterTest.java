package io.sockflow.schemas.avro;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;

/** The hand-written writer against Avro's own, byte for byte. */
class SocketEventWriterTest {
    static SocketEvent random(Random r) {
        SocketEvent e = new SocketEvent();
        for (Schema.Field f : SocketEvent.getClassSchema().getFields()) {
            Schema t = f.schema();
            boolean nullable = t.getType() == Schema.Type.UNION;
            if (nullable && r.nextInt(3) == 0) {
                e.put(f.pos(), null);
                continue;
            }
            Schema v = nullable ? t.getTypes().get(1) : t;
            Object value = switch (v.getType()) {
                case STRING -> r.nextBoolean() ? "" : "s-" + r.nextInt() + (r.nextBoolean() ? "é€" : "");
                case INT -> r.nextInt();
                case LONG ->
                    v.getLogicalType() != null
                            ? Instant.ofEpochSecond(
                                    1_700_000_000L + r.nextInt(100_000_000), r.nextInt(1_000_000) * 1000L)
                            : r.nextLong();
                case BYTES -> {
                    byte[] b = new byte[r.nextInt(129)];
                    r.nextBytes(b);
                    ByteBuffer bb = ByteBuffer.allocate(b.length + 4);
                    bb.position(2);
                    bb.put(b);
                    bb.flip();
                    bb.position(2); // not at 0: the writer must honour position
                    yield bb;
                }
                case ENUM -> EventKind.values()[r.nextInt(EventKind.values().length)];
                case BOOLEAN -> r.nextBoolean();
                default -> throw new IllegalStateException(v.toString());
            };
            e.put(f.pos(), value);
        }
        return e;
    }

    @Test
    void writesExactlyWhatAvroWrites() throws Exception {
        AvroBinaryBuffer fast = new AvroBinaryBuffer(64);
        Random r = new Random(42);
        for (int i = 0; i < 5_000; i++) {
            SocketEvent e = random(r);
            assertWritesWhatAvroWrites(e, fast, "event " + i);
            SocketEvent back = new SpecificDatumReader<>(SocketEvent.class)
                    .read(null, DecoderFactory.get().binaryDecoder(fast.toByteArray(), null));
            assertEquals(e, back);
        }
    }

    @Test
    void repeatedStringsAreWrittenAsTheyAreEvenWhenTheirSlotsCollide() throws Exception {
        // events whose strings are the same few instances, as a collector's are (host, process names, addresses):
        // the buffer copies their encodings from its cache; 700 instances over its 256 slots make them collide and
        // replace each other, and some are long or not ASCII
        List<String> pool = new ArrayList<>();
        for (int i = 0; i < 700; i++) {
            pool.add(
                    switch (i % 4) {
                        case 0 -> "10.0." + i + ".1";
                        case 1 -> "proc-" + i + "-é";
                        case 2 -> "x".repeat(40 + i % 60);
                        default -> i % 8 == 3 ? "" : "s" + i;
                    });
        }
        AvroBinaryBuffer fast = new AvroBinaryBuffer(64);
        Random r = new Random(7);
        for (int i = 0; i < 5_000; i++) {
            SocketEvent e = random(r);
            for (Schema.Field f : SocketEvent.getClassSchema().getFields()) {
                if (e.get(f.pos()) instanceof String) {
                    e.put(f.pos(), pool.get(r.nextInt(pool.size())));
                }
            }
            assertWritesWhatAvroWrites(e, fast, "event " + i);
        }
    }

    /** The fast writer's bytes for {@code e} (through {@code fast}, whose caches carry over) against Avro's. */
    static void assertWritesWhatAvroWrites(SocketEvent e, AvroBinaryBuffer fast, String what) throws Exception {
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(expected, null);
        new SpecificDatumWriter<>(SocketEvent.getClassSchema()).write(e, enc);
        enc.flush();
        fast.reset();
        SocketEventWriter.write(e, fast);
        assertArrayEquals(expected.toByteArray(), fast.toByteArray(), what);
    }

    @Test
    void followsTheSchemasFields() {
        assertEquals(
                SocketEvent.getClassSchema().getFields().stream()
                        .map(Schema.Field::name)
                        .toList(),
                SocketEventWriter.FIELDS,
                "a field was added, removed or moved: update SocketEventWriter");
    }
}
