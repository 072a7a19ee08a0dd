package io.sockflow.jobs.types;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.jobs.Workload;
import io.sockflow.jobs.lifecycle.SocketKeys;
import io.sockflow.jobs.lifecycle.SocketLifecycleState;
import io.sockflow.schemas.LifecycleStatus;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.SocketLifecycle;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

/** The shuffle serializers of result records and lifecycle changes: what goes in comes out, whole; damage is refused. */
class RecordSerializerTest {
    /** The workload's sockets folded into lifecycle records, as the lifecycle function makes them. */
    static List<SocketLifecycle> lifecycles() {
        Map<String, SocketLifecycleState> sockets = new LinkedHashMap<>();
        for (SocketEvent e : Workload.events(10)) {
            for (SocketEvent in : SocketKeys.lifecycleInputs(e)) {
                sockets.computeIfAbsent(SocketKeys.key(in), k -> new SocketLifecycleState())
                        .apply(in);
            }
        }
        List<SocketLifecycle> out = new ArrayList<>();
        sockets.values()
                .forEach(s -> out.add(s.toRecord(s.closed() ? LifecycleStatus.CLOSED : LifecycleStatus.OPEN, null)));
        return out;
    }

    @Test
    void lifecyclesAndChangesComeBackEqualThroughBytesAndCopies() throws Exception {
        List<SocketLifecycle> records = lifecycles();
        assertTrue(records.size() > 20, "sockets of every role");
        TypeSerializer<SocketLifecycle> s =
                BinaryTypeInfo.records(SocketLifecycle.class).createSerializer(null);
        TypeSerializer<LifecycleChange> c = BinaryTypeInfo.lifecycleChanges().createSerializer(null);
        DataOutputSerializer out = new DataOutputSerializer(256);
        for (int i = 0; i < records.size(); i++) {
            s.serialize(records.get(i), out);
            c.serialize(new LifecycleChange(records.get(i), i % 2 == 0), out);
        }
        // copied record by record without decoding, as Flink does when it spills, then read back
        DataInputDeserializer in = new DataInputDeserializer(out.getCopyOfBuffer());
        DataOutputSerializer copied = new DataOutputSerializer(1 << 20);
        for (int i = 0; i < records.size(); i++) {
            s.copy(in, copied);
            c.copy(in, copied);
        }
        DataInputDeserializer back = new DataInputDeserializer(copied.getCopyOfBuffer());
        for (int i = 0; i < records.size(); i++) {
            SocketLifecycle r = records.get(i);
            assertEquals(r, s.deserialize(back));
            LifecycleChange ch = c.deserialize(back);
            assertEquals(r, ch.record);
            assertEquals(i % 2 == 0, ch.published);
            assertNotSame(r, s.copy(r));
            assertEquals(r, s.copy(r));
            assertEquals(r, c.copy(new LifecycleChange(r, true)).record);
        }
        assertEquals(0, back.available(), "nothing left over");
    }

    @Test
    void aDamagedRecordIsAnIoErrorNotAWrongRecord() throws Exception {
        TypeSerializer<SocketLifecycle> s = new RecordSerializer<>(SocketLifecycle.class);
        DataOutputSerializer out = new DataOutputSerializer(256);
        s.serialize(lifecycles().get(3), out);
        byte[] b = out.getCopyOfBuffer();
        byte[] cut = java.util.Arrays.copyOf(b, b.length - 3);
        ByteBuffer.wrap(cut).putInt(0, b.length - 4 - 3);
        assertThrows(IOException.class, () -> s.deserialize(new DataInputDeserializer(cut)));
        byte[] negative = {(byte) 0xFF, 0, 0, 0};
        assertThrows(IOException.class, () -> s.deserialize(new DataInputDeserializer(negative)));
    }

    @Test
    void snapshotsRestoreEqualSerializersAndTellRecordTypesApart() throws Exception {
        RecordSerializer<SocketLifecycle> s = new RecordSerializer<>(SocketLifecycle.class);
        TypeSerializerSnapshot<SocketLifecycle> snap = s.snapshotConfiguration();
        DataOutputSerializer out = new DataOutputSerializer(64);
        TypeSerializerSnapshot.writeVersionedSnapshot(out, snap);
        TypeSerializerSnapshot<SocketLifecycle> read = TypeSerializerSnapshot.readVersionedSnapshot(
                new DataInputDeserializer(out.getCopyOfBuffer()), getClass().getClassLoader());
        assertEquals(s, read.restoreSerializer());
        assertTrue(read.resolveSchemaCompatibility(snap).isCompatibleAsIs());
        @SuppressWarnings({"unchecked", "rawtypes"})
        TypeSerializerSnapshot<SocketLifecycle> flows =
                (TypeSerializerSnapshot) new RecordSerializer<>(io.sockflow.schemas.Flow.class).snapshotConfiguration();
        assertTrue(read.resolveSchemaCompatibility(flows).isIncompatible());
        assertNotEquals(s, new RecordSerializer<>(io.sockflow.schemas.Flow.class));
        assertNotSame(s, s.duplicate());
        assertEquals(s, s.duplicate());
        assertEquals(new SocketLifecycle(), s.createInstance());
        LifecycleChangeSerializer c = new LifecycleChangeSerializer();
        out.clear();
        TypeSerializerSnapshot.writeVersionedSnapshot(out, c.snapshotConfiguration());
        assertEquals(
                c,
                TypeSerializerSnapshot.<LifecycleChange>readVersionedSnapshot(
                                new DataInputDeserializer(out.getCopyOfBuffer()),
                                getClass().getClassLoader())
                        .restoreSerializer());
    }
}
