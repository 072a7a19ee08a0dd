package io.sockflow.jobs.types;

import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.avro.AvroBinaryBuffer;
import io.sockflow.schemas.avro.AvroBinaryInput;
import io.sockflow.schemas.avro.SocketEventReader;
import io.sockflow.schemas.avro.SocketEventWriter;
import java.io.IOException;
import org.apache.avro.Schema;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Flink's serializer for {@link SocketEvent} on the keyed shuffles (and in window state): a length and the record's
 * Avro binary encoding, written and read by the hand-written {@link SocketEventWriter} and {@link SocketEventReader}
 * instead of Avro's generic datum writer and reader.
 * <p>
 * An event just decoded from Kafka is not encoded again: the source remembers (per thread, for the latest event
 * only) the Avro bytes it was read from when they are in the current schema, and this serializer sends those bytes
 * as they are when it is handed that very event. This holds because no function changes an event it did not make
 * (the jobs run with object reuse on that promise); an event made or copied anywhere is encoded as usual.
 */
public final class SocketEventSerializer extends LengthPrefixedSerializer<SocketEvent> {
    private static final long serialVersionUID = 1L;

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

    @Override
    protected void encode(SocketEvent e, AvroBinaryBuffer out) {
        SocketEventWriter.write(e, out);
    }

    @Override
    protected SocketEvent decode(AvroBinaryInput in) {
        return SocketEventReader.read(in);
    }

    @Override
    protected String typeName() {
        return "SocketEvent";
    }

    @Override
    public void serialize(SocketEvent record, DataOutputView target) throws IOException {
        Encoding enc = encodingOf(record);
        if (enc != null) {
            target.writeInt(enc.len);
            target.write(enc.bytes, enc.off, enc.len);
            return;
        }
        super.serialize(record, target);
    }

    @Override
    public SocketEvent copy(SocketEvent from) {
        Encoding enc = encodingOf(from);
        if (enc != null) {
            return SocketEventReader.read(input().reset(enc.bytes, enc.off, enc.len));
        }
        return super.copy(from);
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

    /**
     * The schema the state was written with (version 4). Version 3, written by builds before the schema was kept, had
     * no content: it is read as the legacy schema (see {@link AvroStateSnapshot}).
     */
    public static final class Snapshot extends AvroStateSnapshot<SocketEvent> {
        private static final int LEGACY = 3;

        public Snapshot() {
            super(SocketEvent.class);
        }

        Snapshot(Schema writer) {
            super(SocketEvent.class, writer);
        }

        @Override
        protected TypeSerializer<SocketEvent> current() {
            return new SocketEventSerializer();
        }

        @Override
        public int getCurrentVersion() {
            return 4;
        }

        @Override
        public void writeSnapshot(DataOutputView out) throws IOException {
            writeSchema(out, writer);
        }

        @Override
        public void readSnapshot(int version, DataInputView in, ClassLoader loader) throws IOException {
            type = SocketEvent.class;
            if (version == LEGACY) {
                writer = legacy("SocketEvent");
            } else if (version == 4) {
                writer = readSchema(in);
            } else {
                throw new IOException("SocketEvent state of snapshot version " + version
                        + ", newer than this build reads: restore it with the build that wrote it, or a newer one");
            }
        }
    }
}
