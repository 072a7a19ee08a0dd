package io.sockflow.jobs.types;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * What a checkpoint keeps of a serializer of Avro records: the record class and the schema its state was written
 * with. A new build that reads state written with an older schema migrates it (Avro schema resolution: fields added
 * with a default, fields removed), and refuses it with a clear reason when the schemas cannot be resolved.
 * Snapshots written before the schema was kept (the legacy versions) are read with the schema of the last build that
 * wrote them, kept in this package's {@code legacy/} resources.
 */
abstract class AvroStateSnapshot<T extends SpecificRecord> implements TypeSerializerSnapshot<T> {
    /** a schema's JSON is never longer: a damaged length cannot make a restore allocate more */
    private static final int MAX_SCHEMA_BYTES = 1 << 20;

    protected Class<T> type;
    protected Schema writer;

    protected AvroStateSnapshot() {}

    protected AvroStateSnapshot(Class<T> type) {
        this(type, SpecificData.get().getSchema(type));
    }

    protected AvroStateSnapshot(Class<T> type, Schema writer) {
        this.type = type;
        this.writer = writer;
    }

    /** The serializer of this build for the type. */
    protected abstract TypeSerializer<T> current();

    static void writeSchema(DataOutputView out, Schema s) throws IOException {
        byte[] b = s.toString().getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    static Schema readSchema(DataInputView in) throws IOException {
        int n = in.readInt();
        if (n <= 0 || n > MAX_SCHEMA_BYTES) {
            throw new IOException("a checkpointed schema of " + n + " bytes: the checkpoint is damaged");
        }
        byte[] b = new byte[n];
        in.readFully(b);
        try {
            return new Schema.Parser().parse(new String(b, StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            throw new IOException("a checkpointed schema that does not parse: " + e.getMessage(), e);
        }
    }

    /** The schema the last build without schemas in its snapshots wrote {@code simpleName} records with. */
    static Schema legacy(String simpleName) throws IOException {
        String resource = "legacy/" + simpleName + ".avsc";
        try (InputStream s = AvroStateSnapshot.class.getResourceAsStream(resource)) {
            if (s == null) {
                throw new IOException("state of " + simpleName + " written before its schema was kept in checkpoints"
                        + " cannot be read: no legacy schema for it; start without that checkpoint");
            }
            return new Schema.Parser().parse(s);
        }
    }

    protected static boolean sameSchema(Schema a, Schema b) {
        return SchemaNormalization.parsingFingerprint64(a) == SchemaNormalization.parsingFingerprint64(b);
    }

    @Override
    public TypeSerializer<T> restoreSerializer() {
        Schema now = SpecificData.get().getSchema(type);
        return sameSchema(writer, now) ? current() : new SchemaMigratingSerializer<>(type, writer);
    }

    @Override
    public TypeSerializerSchemaCompatibility<T> resolveSchemaCompatibility(TypeSerializerSnapshot<T> old) {
        if (!(old instanceof AvroStateSnapshot<?> o) || o.type != type) {
            return TypeSerializerSchemaCompatibility.incompatible();
        }
        Schema now = SpecificData.get().getSchema(type);
        if (sameSchema(o.writer, now)) {
            return TypeSerializerSchemaCompatibility.compatibleAsIs();
        }
        SchemaCompatibility.SchemaPairCompatibility c =
                SchemaCompatibility.checkReaderWriterCompatibility(now, o.writer);
        return c.getType() == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE
                ? TypeSerializerSchemaCompatibility.compatibleAfterMigration()
                : TypeSerializerSchemaCompatibility.incompatible();
    }
}
