package io.sockflow.schemas.avro;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.schemas.Alert;
import io.sockflow.schemas.Flow;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.SocketLifecycle;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.avro.specific.SpecificRecordBase;
import org.junit.jupiter.api.Test;

/** The planned codec against Avro's own writer, on random records of every sockflow schema, and on malformed input. */
class RecordCodecTest {
    static final List<Class<? extends SpecificRecordBase>> TYPES =
            List.of(SocketLifecycle.class, Flow.class, Alert.class, SocketEvent.class);

    static <T extends SpecificRecord> byte[] avroBytes(T r) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
        new SpecificDatumWriter<T>(r.getSchema()).write(r, enc);
        enc.flush();
        return out.toByteArray();
    }

    /** A record with every field set at random from its schema (nulls, empty and non-ASCII strings, extremes). */
    static <T extends SpecificRecord> T random(Class<T> type, Random r) throws Exception {
        T rec = type.getConstructor().newInstance();
        for (Schema.Field f : rec.getSchema().getFields()) {
            rec.put(f.pos(), value(f.schema(), r));
        }
        return rec;
    }

    private static Object value(Schema s, Random r) {
        return switch (s.getType()) {
            case UNION ->
                r.nextInt(3) == 0
                        ? null
                        : value(s.getTypes().get(s.getTypes().get(0).getType() == Schema.Type.NULL ? 1 : 0), r);
            case STRING ->
                switch (r.nextInt(5)) {
                    case 0 -> "";
                    case 1 -> "héllo-wörld-" + r.nextInt(100);
                    case 2 -> "x".repeat(r.nextInt(200));
                    default -> "host-" + r.nextInt(10);
                };
            case INT ->
                switch (r.nextInt(4)) {
                    case 0 -> Integer.MIN_VALUE;
                    case 1 -> Integer.MAX_VALUE;
                    default -> r.nextInt(2000) - 1000;
                };
            case LONG -> {
                if (s.getLogicalType() != null) {
                    long micros = r.nextLong(4_000_000_000_000_000L) - 1_000_000_000_000_000L;
                    yield s.getLogicalType().getName().equals("timestamp-millis")
                            ? Instant.ofEpochMilli(micros / 1000)
                            : Instant.ofEpochSecond(
                                    Math.floorDiv(micros, 1_000_000), Math.floorMod(micros, 1_000_000) * 1000L);
                }
                yield switch (r.nextInt(4)) {
                    case 0 -> Long.MIN_VALUE;
                    case 1 -> Long.MAX_VALUE;
                    default -> r.nextLong(1L << 40) - (1L << 39);
                };
            }
            case BOOLEAN -> r.nextBoolean();
            case FLOAT -> r.nextFloat() * 1000 - 500;
            case DOUBLE -> r.nextInt(5) == 0 ? Double.NaN : r.nextDouble() * 1e6 - 5e5;
            case BYTES -> {
                byte[] b = new byte[r.nextInt(40)];
                r.nextBytes(b);
                yield ByteBuffer.wrap(b);
            }
            case ENUM -> {
                Object[] constants = SpecificData.get().getClass(s).getEnumConstants();
                yield constants[r.nextInt(constants.length)];
            }
            case ARRAY -> {
                List<Object> l = new ArrayList<>();
                for (int i = r.nextInt(4); i > 0; i--) {
                    l.add(value(s.getElementType(), r));
                }
                yield l;
            }
            case MAP -> {
                Map<String, Object> m = new HashMap<>();
                for (int i = r.nextInt(4); i > 0; i--) {
                    m.put("k" + r.nextInt(100), value(s.getValueType(), r));
                }
                yield m;
            }
            case RECORD -> {
                SpecificRecord nested;
                try {
                    nested = (SpecificRecord) ((Class<?>) SpecificData.get().getClass(s))
                            .getConstructor()
                            .newInstance();
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
                for (Schema.Field f : s.getFields()) {
                    nested.put(f.pos(), value(f.schema(), r));
                }
                yield nested;
            }
            default -> throw new IllegalArgumentException(s.toString());
        };
    }

    @Test
    void writesWhatAvroWritesAndReadsItBackForEverySchema() throws Exception {
        Random r = new Random(17);
        for (Class<? extends SpecificRecordBase> type : TYPES) {
            roundTrips(type, r);
        }
    }

    private static <T extends SpecificRecordBase> void roundTrips(Class<T> type, Random r) throws Exception {
        RecordCodec<T> codec = RecordCodec.of(type);
        AvroBinaryBuffer out = new AvroBinaryBuffer(16);
        AvroBinaryInput in = new AvroBinaryInput(); // one input for all: its string cache carries over
        for (int i = 0; i < 2_000; i++) {
            T rec = random(type, r);
            out.reset();
            codec.write(rec, out);
            byte[] ours = out.toByteArray();
            assertArrayEquals(avroBytes(rec), ours, type.getSimpleName() + " " + i);
            // framed as on Kafka: the record does not start at 0 and is followed by other bytes
            byte[] framed = new byte[ours.length + 9];
            System.arraycopy(ours, 0, framed, 5, ours.length);
            assertEquals(rec, codec.read(in.reset(framed, 5, ours.length)), type.getSimpleName() + " " + i);
        }
    }

    @Test
    void malformedRecordsAreRefusedNotMisread() throws Exception {
        Random r = new Random(3);
        RecordCodec<SocketLifecycle> codec = RecordCodec.of(SocketLifecycle.class);
        AvroBinaryInput in = new AvroBinaryInput();
        int refused = 0;
        for (int i = 0; i < 2_000; i++) {
            byte[] b = avroBytes(random(SocketLifecycle.class, r));
            byte[] cut = Arrays.copyOf(b, r.nextInt(b.length));
            assertThrows(IllegalArgumentException.class, () -> codec.read(in.reset(cut, 0, cut.length)));
            byte[] longer = Arrays.copyOf(b, b.length + 1);
            assertThrows(IllegalArgumentException.class, () -> codec.read(in.reset(longer, 0, longer.length)));
            byte[] flipped = b.clone();
            flipped[r.nextInt(b.length)] ^= (byte) (1 + r.nextInt(255));
            try {
                codec.read(in.reset(flipped, 0, flipped.length));
            } catch (IllegalArgumentException expected) {
                refused++;
            }
        }
        assertTrue(refused > 0);
    }

    @Test
    void aRequiredFieldLeftNullIsNamedWhenWritten() {
        RecordCodec<Flow> codec = RecordCodec.of(Flow.class);
        Flow f = new Flow();
        NullPointerException e =
                assertThrows(NullPointerException.class, () -> codec.write(f, new AvroBinaryBuffer(16)));
        assertTrue(e.getMessage().startsWith("Flow."), e.getMessage());
    }
}
