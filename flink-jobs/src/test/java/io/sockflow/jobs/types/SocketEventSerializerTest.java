package io.sockflow.jobs.types;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.jobs.Workload;
import io.sockflow.schemas.SocketEvent;
import java.io.IOException;
import java.util.List;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

/** The shuffle serializer of SocketEvents: what goes in comes out, whole, and what is damaged is refused. */
class SocketEventSerializerTest {
    static final List<SocketEvent> EVENTS = Workload.events(30);

    @Test
    void everyEventOfTheWorkloadComesBackEqualThroughBytesAndCopies() throws Exception {
        TypeSerializer<SocketEvent> s = BinaryTypeInfo.socketEvents().createSerializer(null);
        DataOutputSerializer out = new DataOutputSerializer(256);
        for (SocketEvent e : EVENTS) {
            s.serialize(e, out);
        }
        // the stream copied record by record without decoding, as Flink does when it spills, then read back
        DataInputDeserializer in = new DataInputDeserializer(out.getCopyOfBuffer());
        DataOutputSerializer copied = new DataOutputSerializer(1 << 20); // copying from a view does not grow it
        for (int i = 0; i < EVENTS.size(); i++) {
            s.copy(in, copied);
        }
        DataInputDeserializer back = new DataInputDeserializer(copied.getCopyOfBuffer());
        for (SocketEvent e : EVENTS) {
            SocketEvent got = s.deserialize(back);
            assertEquals(e, got);
            assertNotSame(e, s.copy(e));
            assertEquals(e, s.copy(e, new SocketEvent()));
        }
        assertEquals(0, back.available(), "nothing left over");
    }

    @Test
    void aDamagedRecordIsAnIoErrorNotAWrongEvent() throws Exception {
        TypeSerializer<SocketEvent> s = new SocketEventSerializer();
        DataOutputSerializer out = new DataOutputSerializer(256);
        s.serialize(EVENTS.get(3), out);
        byte[] b = out.getCopyOfBuffer();
        // the length says what is there, the record inside is cut short
        byte[] cut = java.util.Arrays.copyOf(b, b.length - 3);
        java.nio.ByteBuffer.wrap(cut).putInt(0, b.length - 4 - 3);
        assertThrows(IOException.class, () -> s.deserialize(new DataInputDeserializer(cut)));
        byte[] negative = {(byte) 0xFF, 0, 0, 0};
        assertThrows(IOException.class, () -> s.deserialize(new DataInputDeserializer(negative)));
    }

    @Test
    void itsSnapshotRestoresAnEqualSerializerAndDuplicatesAreIndependent() throws Exception {
        SocketEventSerializer s = new SocketEventSerializer();
        TypeSerializerSnapshot<SocketEvent> snap = s.snapshotConfiguration();
        DataOutputSerializer out = new DataOutputSerializer(64);
        TypeSerializerSnapshot.writeVersionedSnapshot(out, snap);
        TypeSerializerSnapshot<SocketEvent> read = TypeSerializerSnapshot.readVersionedSnapshot(
                new DataInputDeserializer(out.getCopyOfBuffer()), getClass().getClassLoader());
        assertEquals(s, read.restoreSerializer());
        assertTrue(read.resolveSchemaCompatibility(snap).isCompatibleAsIs());
        assertNotSame(s, s.duplicate());
        assertEquals(s, s.duplicate());
    }
}
