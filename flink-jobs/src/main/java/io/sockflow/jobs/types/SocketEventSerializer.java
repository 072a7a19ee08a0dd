package io.sockflow.jobs.types;

import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.avro.AvroBinaryBuffer;
import io.sockflow.schemas.avro.AvroBinaryInput;
import io.sockflow.schemas.avro.SocketEventReader;
import io.sockflow.schemas.avro.SocketEventWriter;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;

/**
 * Flink's serializer for {@link SocketEvent} on the keyed shuffles (and in window state): a length and the record's
 * Avro binary encoding, written and read by the hand-written {@link SocketEventWriter} and {@link SocketEventReader}
 * instead of Avro's generic datum writer and reader. An instance reuses its buffers: Flink duplicates it per thread.
 */
public final class SocketEventSerializer extends TypeSerializer<SocketEvent> {
    private static final long serialVersionUID = 1L;
    private transient AvroBinaryBuffer out;
    private transient AvroBinaryInput in;
    private transient byte[] scratch;

    private AvroBinaryBuffer out() {
        if (out == null) {
            out = new AvroBinaryBuffer(512);
        }
        out.reset();
        return out;
    }

    private SocketEvent read(byte[] b, int len) {
        if (in == null) {
            in = new AvroBinaryInput();
        }
        return SocketEventReader.read(in.reset(b, 0, len));
    }

    private byte[] scratch(int n) {
        if (scratch == null || scratch.length < n) {
            scratch = new byte[Math.max(n, 512)];
        }
        return scratch;
    }

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public TypeSerializer<SocketEvent> duplicate() {
        return new SocketEventSerializer();
    }

    @Override
    public SocketEvent createInstance() {
        return new SocketEvent();
    }

    @Override
    public SocketEvent copy(SocketEvent from) {
        AvroBinaryBuffer o = out();
        SocketEventWriter.write(from, o);
        byte[] b = o.toByteArray();
        return read(b, b.length);
    }

    @Override
    public SocketEvent copy(SocketEvent from, SocketEvent reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(SocketEvent record, DataOutputView target) throws IOException {
        AvroBinaryBuffer o = out();
        SocketEventWriter.write(record, o);
        target.writeInt(o.size());
        o.writeTo(target);
    }

    @Override
    public SocketEvent deserialize(DataInputView source) throws IOException {
        int n = source.readInt();
        if (n < 0) {
            throw new IOException("a SocketEvent of " + n + " bytes");
        }
        byte[] b = scratch(n);
        source.readFully(b, 0, n);
        try {
            return read(b, n);
        } catch (IllegalArgumentException e) {
            throw new IOException("corrupt SocketEvent: " + e.getMessage(), e);
        }
    }

    @Override
    public SocketEvent deserialize(SocketEvent reuse, DataInputView source) throws IOException {
        return deserialize(source);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        int n = source.readInt();
        target.writeInt(n);
        target.write(source, n);
    }

    @Override
    public boolean equals(Object obj) {
        return obj instanceof SocketEventSerializer;
    }

    @Override
    public int hashCode() {
        return SocketEventSerializer.class.hashCode();
    }

    @Override
    public TypeSerializerSnapshot<SocketEvent> snapshotConfiguration() {
        return new Snapshot();
    }

    /** No configuration: the schema is the one compiled in (a new schema version is a new serializer version). */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<SocketEvent> {
        public Snapshot() {
            super(SocketEventSerializer::new);
        }
    }
}
