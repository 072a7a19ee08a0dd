package io.sockflow.jobs.types;

import io.sockflow.schemas.avro.AvroBinaryBuffer;
import io.sockflow.schemas.avro.AvroBinaryInput;
import io.sockflow.schemas.avro.RecordCodec;
import java.io.IOException;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Flink's serializer for a generated result record (lifecycle, flow, alert) on the jobs' shuffles: a length and the
 * record's Avro binary encoding, written and read by a {@link RecordCodec} planned from the record's schema instead
 * of Avro's generic datum writer and reader.
 */
public final class RecordSerializer<T extends SpecificRecord> extends LengthPrefixedSerializer<T> {
    private static final long serialVersionUID = 1L;
    private final Class<T> type;
    private transient RecordCodec<T> codec;

    public RecordSerializer(Class<T> type) {
        this.type = type;
    }

    RecordCodec<T> codec() {
        if (codec == null) {
            codec = RecordCodec.of(type);
        }
        return codec;
    }

    @Override
    protected void encode(T record, AvroBinaryBuffer out) {
        codec().write(record, out);
    }

    @Override
    protected T decode(AvroBinaryInput in) {
        return codec().read(in);
    }

    @Override
    protected String typeName() {
        return type.getSimpleName();
    }

    @Override
    public TypeSerializer<T> duplicate() {
        return new RecordSerializer<>(type);
    }

    @Override
    public T createInstance() {
        return codec().newRecord();
    }

    @Override
    public boolean equals(Object obj) {
        return obj instanceof RecordSerializer<?> other && other.type == type;
    }

    @Override
    public int hashCode() {
        return type.hashCode();
    }

    @Override
    public TypeSerializerSnapshot<T> snapshotConfiguration() {
        return new Snapshot<>(type);
    }

    /** The record class; the schema is the one compiled into it. */
    public static final class Snapshot<T extends SpecificRecord> implements TypeSerializerSnapshot<T> {
        private Class<T> type;

        public Snapshot() {}

        Snapshot(Class<T> type) {
            this.type = type;
        }

        @Override
        public int getCurrentVersion() {
            return 1;
        }

        @Override
        public void writeSnapshot(DataOutputView out) throws IOException {
            out.writeUTF(type.getName());
        }

        @Override
        @SuppressWarnings("unchecked")
        public void readSnapshot(int version, DataInputView in, ClassLoader loader) throws IOException {
            String name = in.readUTF();
            try {
                type = (Class<T>) Class.forName(name, false, loader);
            } catch (ClassNotFoundException e) {
                throw new IOException("record class " + name + " is not on the classpath", e);
            }
        }

        @Override
        public TypeSerializer<T> restoreSerializer() {
            return new RecordSerializer<>(type);
        }

        @Override
        public TypeSerializerSchemaCompatibility<T> resolveSchemaCompatibility(TypeSerializerSnapshot<T> old) {
            return old instanceof Snapshot<?> s && s.type == type
                    ? TypeSerializerSchemaCompatibility.compatibleAsIs()
                    : TypeSerializerSchemaCompatibility.incompatible();
        }
    }
}
