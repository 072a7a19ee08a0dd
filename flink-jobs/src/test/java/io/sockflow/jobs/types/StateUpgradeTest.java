package io.sockflow.jobs.types;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.jobs.lifecycle.SocketLifecycleState;
import io.sockflow.schemas.Alert;
import io.sockflow.schemas.LifecycleStatus;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.avro.AvroBinaryBuffer;
import io.sockflow.schemas.avro.SocketEventWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshotSerializationUtil;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataInputViewStreamWrapper;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * State survives an upgrade: what a release wrote into Flink state (serializer snapshots and records, made by
 * {@link ReleaseState} with that release's jars, under src/test/resources/state/RELEASE) is read by this build, and
 * state written with an older schema is migrated, not misread.
 */
class StateUpgradeTest {
    /** The releases whose state this build must restore. */
    static final String LAST_RELEASE = "fc5b839";

    record Restored<T>(TypeSerializerSchemaCompatibility<T> compatibility, List<T> records) {}

    @SuppressWarnings("unchecked")
    static <T> Restored<T> restore(String release, String file, TypeSerializer<T> now) throws IOException {
        try (InputStream s = StateUpgradeTest.class.getResourceAsStream("/state/" + release + "/" + file)) {
            assertNotNull(s, "state of release " + release + ": " + file);
            DataInputViewStreamWrapper in = new DataInputViewStreamWrapper(s);
            TypeSerializerSnapshot<T> old = TypeSerializerSnapshotSerializationUtil.readSerializerSnapshot(
                    in, StateUpgradeTest.class.getClassLoader());
            TypeSerializerSchemaCompatibility<T> c = now.snapshotConfiguration().resolveSchemaCompatibility(old);
            TypeSerializer<T> reader = old.restoreSerializer();
            int n = in.readInt();
            List<T> out = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                out.add(reader.deserialize(in));
            }
            return new Restored<>(c, out);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {LAST_RELEASE})
    void theLastReleasesSocketEventStateIsRestored(String release) throws IOException {
        Restored<SocketEvent> r = restore(release, "SocketEvent.bin", new SocketEventSerializer());
        assertFalse(r.compatibility().isIncompatible(), r.compatibility().toString());
        assertEquals(ReleaseState.events(), r.records());
    }

    @ParameterizedTest
    @ValueSource(strings = {LAST_RELEASE})
    void theLastReleasesAlertStateIsRestored(String release) throws IOException {
        Restored<Alert> r = restore(release, "Alert.bin", new RecordSerializer<>(Alert.class));
        assertFalse(r.compatibility().isIncompatible(), r.compatibility().toString());
        assertEquals(ReleaseState.alerts(), r.records());
    }

    /**
     * The lifecycle state is kept by Flink's generic (Kryo) serializer, which knows nothing of versions: a change to
     * SocketLifecycleState's fields makes this fail, and such a change must come with a serializer that reads the
     * earlier layout.
     */
    @ParameterizedTest
    @ValueSource(strings = {LAST_RELEASE})
    void theLastReleasesLifecycleStateIsRestored(String release) throws IOException {
        Restored<SocketLifecycleState> r =
                restore(release, "SocketLifecycleState.bin", ReleaseState.lifecycleSerializer());
        assertFalse(r.compatibility().isIncompatible(), r.compatibility().toString());
        SocketLifecycleState restored = r.records().get(0);
        SocketLifecycleState fresh = ReleaseState.lifecycle();
        assertEquals(fresh.eventCount(), restored.eventCount());
        assertEquals(fresh.toRecord(LifecycleStatus.OPEN, null), restored.toRecord(LifecycleStatus.OPEN, null));
    }

    /** The oldest released SocketEvent schema lacks fields added since: its state migrates, new fields defaulted. */
    @Test
    void stateWrittenWithAnOlderSchemaIsMigratedWithTheNewFieldsDefaulted() throws IOException {
        Schema older = new Schema.Parser().parse(Files.readString(Path.of("../schemas/released/SocketEvent.avsc")));
        Schema now = SocketEvent.getClassSchema();
        List<String> added = new ArrayList<>();
        for (Schema.Field f : now.getFields()) {
            if (older.getField(f.name()) == null) {
                added.add(f.name());
            }
        }
        assertFalse(added.isEmpty(), "the released schema is older than the current one");

        // state as a build with the older schema wrote it: the same length-prefixed Avro binary, in that schema
        DataOutputSerializer out = new DataOutputSerializer(4096);
        TypeSerializerSnapshotSerializationUtil.writeSerializerSnapshot(out, new SocketEventSerializer.Snapshot(older));
        List<SocketEvent> events = ReleaseState.events();
        out.writeInt(events.size());
        for (SocketEvent e : events) {
            byte[] b = inSchema(e, older);
            out.writeInt(b.length);
            out.write(b);
        }

        DataInputDeserializer in = new DataInputDeserializer(out.getCopyOfBuffer());
        TypeSerializerSnapshot<SocketEvent> old = TypeSerializerSnapshotSerializationUtil.readSerializerSnapshot(
                in, getClass().getClassLoader());
        TypeSerializerSchemaCompatibility<SocketEvent> c =
                new SocketEventSerializer().snapshotConfiguration().resolveSchemaCompatibility(old);
        assertTrue(c.isCompatibleAfterMigration(), c.toString());
        TypeSerializer<SocketEvent> reader = old.restoreSerializer();
        assertInstanceOf(SchemaMigratingSerializer.class, reader);
        int n = in.readInt();
        for (int i = 0; i < n; i++) {
            SocketEvent migrated = reader.deserialize(in);
            SocketEvent expected = SocketEvent.newBuilder(events.get(i)).build();
            for (String f : added) {
                Schema.Field field = now.getField(f);
                expected.put(
                        field.pos(), org.apache.avro.specific.SpecificData.get().getDefaultValue(field));
            }
            assertEquals(expected, migrated, "event " + i + " (fields added since: " + added + ")");
        }
        // and migrated state is written with this build's serializer, which reads it back as it is
        SocketEventSerializer current = new SocketEventSerializer();
        DataOutputSerializer again = new DataOutputSerializer(512);
        current.serialize(events.get(0), again);
        assertEquals(events.get(0), current.deserialize(new DataInputDeserializer(again.getCopyOfBuffer())));
    }

    @Test
    void stateOfASchemaThatCannotBeResolvedIsRefusedNotMisread() {
        Schema unrelated = new Schema.Parser()
                .parse("{\"type\":\"record\",\"name\":\"SocketEvent\",\"namespace\":\"io.sockflow.schemas\","
                        + "\"fields\":[{\"name\":\"pid\",\"type\":\"string\"}]}");
        TypeSerializerSchemaCompatibility<SocketEvent> c = new SocketEventSerializer()
                .snapshotConfiguration()
                .resolveSchemaCompatibility(new SocketEventSerializer.Snapshot(unrelated));
        assertTrue(c.isIncompatible(), c.toString());
    }

    @Test
    void aSnapshotVersionNewerThanThisBuildIsAClearError() {
        IOException e = assertThrows(
                IOException.class,
                () -> new SocketEventSerializer.Snapshot()
                        .readSnapshot(
                                99,
                                new DataInputDeserializer(new byte[0]),
                                getClass().getClassLoader()));
        assertTrue(e.getMessage().contains("newer than this build reads"), e.getMessage());
    }

    /** {@code e}'s Avro binary in {@code schema}: encoded in the current schema, then resolved into the older one. */
    static byte[] inSchema(SocketEvent e, Schema schema) throws IOException {
        AvroBinaryBuffer b = new AvroBinaryBuffer(512);
        SocketEventWriter.write(e, b);
        byte[] current = b.toByteArray();
        GenericRecord r = new GenericDatumReader<GenericRecord>(SocketEvent.getClassSchema(), schema)
                .read(null, DecoderFactory.get().binaryDecoder(current, null));
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(o, null);
        new GenericDatumWriter<GenericRecord>(schema).write(r, enc);
        enc.flush();
        return o.toByteArray();
    }
}
