package io.sockflow.jobs.types;

import io.sockflow.schemas.avro.AvroBinaryBuffer;
import io.sockflow.schemas.avro.AvroBinaryInput;
import io.sockflow.schemas.avro.RecordCodec;
import java.io.IOException;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.typeutils.TypeSerializer;
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

    /**
     * The record class and the schema its state was written with (version 2). Version 1, written by builds before the
     * schema was kept, named the class only: it is read as the legacy schema (see {@link AvroStateSnapshot}).
     */
    public static final class Snapshot<T extends SpecificRecord> extends AvroStateSnapshot<T> {
        public Snapshot() {}

        Snapshot(Class<T> type) {
            super(type);
        }

        Snapshot(Class<T> type, Schema writer) {
            super(type, writer);
        }

        @Override
        protected TypeSerializer<T> current() {
            return new RecordSerializer<>(type);
        }

        @Override
        public int getCurrentVersion() {
            return 2;
        }

        @Override
        public void writeSnapshot(DataOutputView out) throws IOException {
            out.writeUTF(type.getName());
            writeSchema(out, writer);
        }

        @Override
        @SuppressWarnings("unchecked")
        public void readSnapshot(int version, DataInputView in, ClassLoader loader) throws IOException {
            if (version != 1 && version != 2) {
                throw new IOException("record state of snapshot version " + version
                        + ", newer than this build reads: restore it with the build that wrote it, or a newer one");
            }
            String name = in.readUTF();
            try {
                type = (Class<T>) Class.forName(name, false, loader);
            } catch (ClassNotFoundException e) {
                throw new IOException("record class " + name + " is not on the classpath", e);
            }
            writer = version == 1 ? legacy(type.getSimpleName()) : readSchema(in);
        }
    }
}
