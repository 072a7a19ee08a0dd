package io.sockflow.schemas.avro;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.avro.LogicalType;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * Avro binary for a generated record class, planned once from its schema: each field is an operation code (with
 * the position of null in its union, the enum's constants), so writing a record is a loop over its fields with no
 * schema lookups, union resolution by name or conversion objects, which is where Avro's generic writer and reader
 * spend their time. For the result records (lifecycles, flows, alerts) on the jobs' shuffles and Kafka sinks.
 * Supports what sockflow's schemas use: string, enum, int, long, boolean, float, double, bytes, timestamp-millis and
 * timestamp-micros (as {@link Instant}), nested records of generated classes, unions of null and one of those, arrays
 * and maps of those; anything else is refused when the codec is made. Byte for byte what Avro writes: RecordCodecTest holds them together.
 */
public final class RecordCodec<T extends SpecificRecord> {
    private static final int STRING = 1;
    private static final int INT = 2;
    private static final int LONG = 3;
    private static final int BOOLEAN = 4;
    private static final int FLOAT = 5;
    private static final int DOUBLE = 6;
    private static final int BYTES = 7;
    private static final int ENUM = 8;
    private static final int MICROS = 9;
    private static final int MILLIS = 10;
    private static final int ARRAY = 11;
    private static final int MAP = 12;
    private static final int RECORD = 13;

    /**
     * One value's encoding: its code, where null is in its union (-1: not nullable), and what it holds (an enum's
     * constants, an array's or map's items, a nested record's codec).
     */
    private record Op(int code, int nullIndex, Object[] constants, Op items, RecordCodec<?> nested) {
        Op(int code, int nullIndex, Object[] constants, Op items) {
            this(code, nullIndex, constants, items, null);
        }
    }

    private final Schema schema;
    private final Supplier<T> factory;
    private final Op[] ops;

    private RecordCodec(Schema schema, Supplier<T> factory, Op[] ops) {
        this.schema = schema;
        this.factory = factory;
        this.ops = ops;
    }

    /** The codec of a generated record class; refuses a schema with a type it does not support. */
    public static <T extends SpecificRecord> RecordCodec<T> of(Class<T> type) {
        Schema schema = SpecificData.get().getSchema(type);
        List<Schema.Field> fields = schema.getFields();
        Op[] ops = new Op[fields.size()];
        for (Schema.Field f : fields) {
            try {
                ops[f.pos()] = plan(f.schema(), true);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(schema.getName() + "." + f.name() + ": " + e.getMessage());
            }
        }
        java.lang.reflect.Constructor<T> constructor;
        try {
            constructor = type.getConstructor();
        } catch (NoSuchMethodException e) {
            throw new IllegalArgumentException(type.getName() + " has no public no-argument constructor");
        }
        return new RecordCodec<>(
                schema,
                () -> {
                    try {
                        return constructor.newInstance();
                    } catch (ReflectiveOperationException e) {
                        throw new IllegalStateException("cannot make a " + type.getName(), e);
                    }
                },
                ops);
    }

    private static Op plan(Schema s, boolean unionAllowed) {
        if (s.getType() == Schema.Type.UNION) {
            List<Schema> branches = s.getTypes();
            if (!unionAllowed || branches.size() != 2) {
                throw new IllegalArgumentException("only unions of null and one type are supported: " + s);
            }
            int nullAt = branches.get(0).getType() == Schema.Type.NULL
                    ? 0
                    : branches.get(1).getType() == Schema.Type.NULL ? 1 : -1;
            if (nullAt < 0) {
                throw new IllegalArgumentException("only unions of null and one type are supported: " + s);
            }
            Op inner = plan(branches.get(1 - nullAt), false);
            return new Op(inner.code, nullAt, inner.constants, inner.items, inner.nested);
        }
        LogicalType logical = s.getLogicalType();
        return switch (s.getType()) {
            case STRING -> new Op(STRING, -1, null, null);
            case INT -> {
                if (logical != null) {
                    throw new IllegalArgumentException("logical type " + logical.getName() + " is not supported");
                }
                yield new Op(INT, -1, null, null);
            }
            case LONG -> {
                if (logical == null) {
                    yield new Op(LONG, -1, null, null);
                }
                yield switch (logical.getName()) {
                    case "timestamp-micros" -> new Op(MICROS, -1, null, null);
                    case "timestamp-millis" -> new Op(MILLIS, -1, null, null);
                    default ->
                        throw new IllegalArgumentException("logical type " + logical.getName() + " is not supported");
                };
            }
            case BOOLEAN -> new Op(BOOLEAN, -1, null, null);
            case FLOAT -> new Op(FLOAT, -1, null, null);
            case DOUBLE -> new Op(DOUBLE, -1, null, null);
            case BYTES -> new Op(BYTES, -1, null, null);
            case ENUM -> new Op(ENUM, -1, enumConstants(s), null);
            case ARRAY -> new Op(ARRAY, -1, null, plan(s.getElementType(), false));
            case MAP -> new Op(MAP, -1, null, plan(s.getValueType(), false));
            case RECORD -> {
                Class<?> c = SpecificData.get().getClass(s);
                if (c == null || !SpecificRecord.class.isAssignableFrom(c)) {
                    throw new IllegalArgumentException("no generated record class for " + s.getFullName());
                }
                @SuppressWarnings("unchecked")
                Class<? extends SpecificRecord> rc = (Class<? extends SpecificRecord>) c;
                yield new Op(RECORD, -1, null, null, of(rc));
            }
            default -> throw new IllegalArgumentException(s.getType() + " is not supported");
        };
    }

    private static Object[] enumConstants(Schema s) {
        Class<?> c = SpecificData.get().getClass(s);
        if (c == null || !c.isEnum()) {
            throw new IllegalArgumentException("no generated enum class for " + s.getFullName());
        }
        Object[] constants = c.getEnumConstants();
        List<String> symbols = s.getEnumSymbols();
        if (constants.length != symbols.size()) {
            throw new IllegalArgumentException(c.getName() + " does not have the schema's symbols " + symbols);
        }
        for (int i = 0; i < constants.length; i++) {
            if (!((Enum<?>) constants[i]).name().equals(symbols.get(i))) {
                throw new IllegalArgumentException(c.getName() + " does not have the schema's symbols " + symbols);
            }
        }
        return constants;
    }

    public Schema schema() {
        return schema;
    }

    /** A new, empty record of the codec's class. */
    public T newRecord() {
        return factory.get();
    }

    /** Appends the record's Avro binary encoding to {@code out}. */
    public void write(T record, AvroBinaryBuffer out) {
        Op[] ops = this.ops;
        for (int i = 0; i < ops.length; i++) {
            write(ops[i], record.get(i), out, i);
        }
    }

    private void write(Op op, Object v, AvroBinaryBuffer out, int field) {
        if (op.nullIndex >= 0) {
            if (v == null) {
                out.writeRawByte(op.nullIndex << 1); // the branch index, zig-zag encoded
                return;
            }
            out.writeRawByte((1 - op.nullIndex) << 1);
        } else if (v == null) {
            throw new NullPointerException(
                    schema.getName() + "." + schema.getFields().get(field).name() + " is required but null");
        }
        switch (op.code) {
            case STRING -> out.writeString(v.toString());
            case INT -> out.writeInt((Integer) v);
            case LONG -> out.writeLong((Long) v);
            case BOOLEAN -> out.writeBoolean((Boolean) v);
            case FLOAT -> writeFixed(out, Float.floatToRawIntBits((Float) v), 4);
            case DOUBLE -> writeFixed(out, Double.doubleToRawLongBits((Double) v), 8);
            case BYTES -> out.writeBytes((ByteBuffer) v);
            case ENUM -> out.writeInt(((Enum<?>) v).ordinal());
            case MICROS -> out.writeLong(SocketEventWriter.micros((Instant) v));
            case MILLIS -> out.writeLong(((Instant) v).toEpochMilli());
            case ARRAY -> {
                List<?> list = (List<?>) v;
                if (!list.isEmpty()) {
                    out.writeLong(list.size());
                    for (Object item : list) {
                        write(op.items, item, out, field);
                    }
                }
                out.writeLong(0);
            }
            case RECORD -> writeNested(op.nested, v, out);
            case MAP -> {
                Map<?, ?> map = (Map<?, ?>) v;
                if (!map.isEmpty()) {
                    out.writeLong(map.size());
                    for (Map.Entry<?, ?> e : map.entrySet()) {
                        out.writeString(e.getKey().toString());
                        write(op.items, e.getValue(), out, field);
                    }
                }
                out.writeLong(0);
            }
            default -> throw new IllegalStateException("op " + op.code);
        }
    }

    @SuppressWarnings("unchecked")
    private static <R extends SpecificRecord> void writeNested(RecordCodec<R> codec, Object v, AvroBinaryBuffer out) {
        codec.write((R) v, out);
    }

    private static void writeFixed(AvroBinaryBuffer out, long bits, int bytes) {
        for (int i = 0; i < bytes; i++) {
            out.writeRawByte((int) (bits >>> (8 * i)));
        }
    }

    /** Reads one record, which must end where {@code in} ends. */
    public T read(AvroBinaryInput in) {
        T r = readFields(in);
        if (!in.atEnd()) {
            throw new IllegalArgumentException(in.remaining() + " bytes after the end of a " + schema.getName());
        }
        return r;
    }

    private T readFields(AvroBinaryInput in) {
        T r = factory.get();
        Op[] ops = this.ops;
        for (int i = 0; i < ops.length; i++) {
            r.put(i, read(ops[i], in));
        }
        return r;
    }

    private static Object read(Op op, AvroBinaryInput in) {
        if (op.nullIndex >= 0 && in.readIndex() == op.nullIndex) {
            return null;
        }
        return switch (op.code) {
            case STRING -> in.readString();
            case INT -> in.readInt();
            case LONG -> in.readLong();
            case BOOLEAN -> in.readBoolean();
            case FLOAT -> Float.intBitsToFloat((int) in.readFixed(4));
            case DOUBLE -> Double.longBitsToDouble(in.readFixed(8));
            case BYTES -> in.readBytes();
            case ENUM -> {
                int i = in.readInt();
                if (i < 0 || i >= op.constants.length) {
                    throw new IllegalArgumentException("enum index " + i + " of " + op.constants.length + " symbols");
                }
                yield op.constants[i];
            }
            case MICROS -> SocketEventReader.instant(in.readLong());
            case MILLIS -> Instant.ofEpochMilli(in.readLong());
            case ARRAY -> {
                List<Object> list = new ArrayList<>();
                for (long n = blockCount(in); n != 0; n = blockCount(in)) {
                    for (long k = 0; k < n; k++) {
                        list.add(read(op.items, in));
                    }
                }
                yield list;
            }
            case RECORD -> op.nested.readFields(in);
            case MAP -> {
                Map<String, Object> map = new HashMap<>();
                for (long n = blockCount(in); n != 0; n = blockCount(in)) {
                    for (long k = 0; k < n; k++) {
                        String key = in.readString();
                        map.put(key, read(op.items, in));
                    }
                }
                yield map;
            }
            default -> throw new IllegalStateException("op " + op.code);
        };
    }

    /** An array's or map's next block: its item count (a negative count is followed by the block's size). */
    private static long blockCount(AvroBinaryInput in) {
        long n = in.readLong();
        if (n < 0) {
            if (n == Long.MIN_VALUE) {
                throw new IllegalArgumentException("a block count of " + n);
            }
            n = -n;
            long size = in.readLong();
            if (size < 0 || size > in.remaining()) {
                throw new IllegalArgumentException(
                        "a block of " + size + " bytes with " + in.remaining() + " bytes left");
            }
        }
        // every item this codec reads takes at least one byte: a count beyond the bytes left is a lie
        if (n > in.remaining()) {
            throw new IllegalArgumentException("a block of " + n + " items with " + in.remaining() + " bytes left");
        }
        return n;
    }
}
