package io.sockflow.jobs.types;

import io.sockflow.schemas.avro.AvroBinaryBuffer;
import io.sockflow.schemas.avro.AvroBinaryInput;
import io.sockflow.schemas.avro.RecordCodec;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;

/**
 * Flink's serializer for a generated result record (lifecycle, flow, alert) on the jobs' shuffles: a length and the
 * record's Avro binary encoding, written and read by a {@link RecordCodec} planned from the record's schema instead
 * of Avro's generic datum writer and reader. An instance reuses its buffers: Flink duplicates it per thread.
 */
public final class RecordSerializer<T extends SpecificRecord> extends TypeSerializer<T> {
    private static final long serialVersionUID = 1L;
    private final Class<T> type;
    private transient RecordCodec<T> codec;
    private transient AvroBinaryBuffer out;
    private transient AvroBinaryInput in;
    private transient byte[] scratch;

    public RecordSerializer(Class<T> type) {
        this.type = type;
    }

    private RecordCodec<T> codec() {
        if (codec == null) {
            codec = RecordCodec.of(type);
        }
        return codec;
    }

    /** Writes {@code record} as a length and its Avro binary. */
    void write(T record, DataOutputView target) throws IOException {
        if (out == null) {
            out = new AvroBinaryBuffer(512);
        }
        out.reset();
        codec().write(record, out);
        target.writeInt(out.size());
        out.writeTo(target);
    }

    /** Reads what {@link #write} wrote; a damaged record is an IOException. */
    T read(DataInputView source) throws IOException {
        int n = source.readInt();
        if (n < 0) {
            throw new IOException("a " + type.getSimpleName() + " of " + n + " bytes");
        }
        if (scratch == null || scratch.length < n) {
            scratch = new byte[Math.max(n, 512)];
        }
        source.readFully(scratch, 0, n);
        if (in == null) {
            in = new AvroBinaryInput();
        }
        try {
            return codec().read(in.reset(scratch, 0, n));
        } catch (IllegalArgumentException e) {
            throw new IOException("corrupt " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public TypeSerializer<T> duplicate() {
        return new RecordSerializer<>(type);
    }

    @Override
    public T createInstance() {
        try {
            return type.getConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot make a " + type.getName(), e);
        }
    }

    @Override
    public T copy(T from) {
        if (out == null) {
            out = new AvroBinaryBuffer(512);
        }
        out.reset();
        codec().write(from, out);
        byte[] b = out.toByteArray();
        if (in == null) {
            in = new AvroBinaryInput();
        }
        return codec().read(in.reset(b, 0, b.length));
    }

    @Override
    public T copy(T from, T reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(T record, DataOutputView target) throws IOException {
        write(record, target);
    }

    @Override
    public T deserialize(DataInputView source) throws IOException {
        return read(source);
    }

    @Override
    public T deserialize(T reuse, DataInputView source) throws IOException {
        return read(source);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        int n = source.readInt();
        target.writeInt(n);
        target.write(source, n);
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

        public Snapshot() {
        }

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
            return old instanceof Snapshot<?> s && s.type == type ? TypeSerializerSchemaCompatibility.compatibleAsIs()
                    : TypeSerializerSchemaCompatibility.incompatible();
        }
    }
}
