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
 * <p>
 * An event just decoded from Kafka is not encoded again: the source remembers (per thread, for the latest event
 * only) the Avro bytes it was read from when they are in the current schema, and this serializer sends those bytes
 * as they are when it is handed that very event. This holds because no function changes an event it did not make
 * (the jobs run with object reuse on that promise); an event made or copied anywhere is encoded as usual.
 */
public final class SocketEventSerializer extends TypeSerializer<SocketEvent> {
    private static final long serialVersionUID = 1L;
    private transient AvroBinaryBuffer out;
    private transient AvroBinaryInput in;
    private transient byte[] scratch;

    /** The latest event decoded on this thread and the bytes it was decoded from. */
    private static final class Encoding {
        SocketEvent event;
        byte[] bytes;
        int off;
        int len;
    }

    private static final ThreadLocal<Encoding> DECODED = ThreadLocal.withInitial(Encoding::new);

    /**
     * Remembers that {@code e} was just decoded from {@code len} bytes of {@code b} at {@code off}, Avro binary in
     * the current schema; only the latest event of each thread is remembered. The caller must not change the
     * bytes, and no one may change the event afterwards.
     */
    public static void rememberEncoding(SocketEvent e, byte[] b, int off, int len) {
        Encoding enc = DECODED.get();
        enc.event = e;
        enc.bytes = b;
        enc.off = off;
        enc.len = len;
    }

    /** The bytes {@code e} was decoded from, when it is the latest event decoded on this thread; otherwise null. */
    private static Encoding encodingOf(SocketEvent e) {
        Encoding enc = DECODED.get();
        return enc.event == e ? enc : null;
    }

    private AvroBinaryBuffer out() {
        if (out == null) {
            out = new AvroBinaryBuffer(512);
        }
        out.reset();
        return out;
    }

    private AvroBinaryInput input() {
        if (in == null) {
            in = new AvroBinaryInput();
        }
        return in;
    }

    private SocketEvent read(byte[] b, int len) {
        return SocketEventReader.read(input().reset(b, 0, len));
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
        Encoding enc = encodingOf(from);
        if (enc != null) {
            return SocketEventReader.read(input().reset(enc.bytes, enc.off, enc.len));
        }
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
        Encoding enc = encodingOf(record);
        if (enc != null) {
            target.writeInt(enc.len);
            target.write(enc.bytes, enc.off, enc.len);
            return;
        }
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
