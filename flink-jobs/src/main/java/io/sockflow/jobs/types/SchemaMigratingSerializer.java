package io.sockflow.jobs.types;

import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.avro.AvroBinaryBuffer;
import io.sockflow.schemas.avro.AvroBinaryInput;
import java.io.IOException;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Reads state that an earlier build wrote with an earlier schema of {@code T} (the same length-prefixed Avro binary)
 * into this build's records, by Avro schema resolution: the restore side of a state migration. Flink writes the
 * migrated state with this build's serializer; this one never writes.
 */
final class SchemaMigratingSerializer<T extends SpecificRecord> extends LengthPrefixedSerializer<T> {
    private static final long serialVersionUID = 1L;
    private final Class<T> type;
    private final String writerJson;
    private transient SpecificDatumReader<T> reader;
    private transient BinaryDecoder decoder;

    SchemaMigratingSerializer(Class<T> type, Schema writer) {
        this.type = type;
        this.writerJson = writer.toString();
    }

    private Schema writer() {
        return new Schema.Parser().parse(writerJson);
    }

    private SpecificDatumReader<T> reader() {
        if (reader == null) {
            reader = new SpecificDatumReader<>(writer(), SpecificData.get().getSchema(type));
        }
        return reader;
    }

    @Override
    protected void encode(T record, AvroBinaryBuffer out) {
        throw new UnsupportedOperationException("reads state of an earlier schema only; it never writes");
    }

    @Override
    protected T decode(AvroBinaryInput in) {
        throw new UnsupportedOperationException("decodes through Avro's resolving reader");
    }

    @Override
    protected String typeName() {
        return type.getSimpleName() + " (earlier schema)";
    }

    @Override
    public T deserialize(DataInputView source) throws IOException {
        int n = source.readInt();
        if (n < 0) {
            throw new IOException("a " + typeName() + " of " + n + " bytes");
        }
        byte[] b = new byte[n];
        source.readFully(b);
        decoder = DecoderFactory.get().binaryDecoder(b, decoder);
        try {
            return reader().read(null, decoder);
        } catch (RuntimeException e) {
            throw new IOException("corrupt " + typeName() + ": " + e, e);
        }
    }

    @Override
    public void serialize(T record, DataOutputView target) {
        throw new UnsupportedOperationException("reads state of an earlier schema only; it never writes");
    }

    @Override
    public T copy(T from) {
        return SpecificData.get().deepCopy(SpecificData.get().getSchema(type), from);
    }

    @Override
    public T createInstance() {
        @SuppressWarnings("unchecked")
        T t = (T) SpecificData.get().newRecord(null, SpecificData.get().getSchema(type));
        return t;
    }

    @Override
    public TypeSerializer<T> duplicate() {
        return new SchemaMigratingSerializer<>(type, writer());
    }

    @Override
    public boolean equals(Object obj) {
        return obj instanceof SchemaMigratingSerializer<?> o && o.type == type && o.writerJson.equals(writerJson);
    }

    @Override
    public int hashCode() {
        return type.hashCode() * 31 + writerJson.hashCode();
    }

    @Override
    @SuppressWarnings("unchecked")
    public TypeSerializerSnapshot<T> snapshotConfiguration() {
        return type == SocketEvent.class
                ? (TypeSerializerSnapshot<T>) new SocketEventSerializer.Snapshot(writer())
                : new RecordSerializer.Snapshot<>(type, writer());
    }
}
