package io.sockflow.jobs.types;

import io.sockflow.schemas.avro.AvroBinaryBuffer;
import io.sockflow.schemas.avro.AvroBinaryInput;
import java.io.IOException;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * What sockflow's binary serializers share: a record is a length and its Avro binary, encoded into and decoded from
 * buffers the instance reuses (Flink duplicates a serializer per thread); a damaged record is an IOException.
 * Subclasses say how a record is encoded and decoded.
 */
abstract class LengthPrefixedSerializer<T> extends TypeSerializer<T> {
    private static final long serialVersionUID = 1L;
    private transient AvroBinaryBuffer out;
    private transient AvroBinaryInput in;
    private transient byte[] scratch;

    /** Appends the record's encoding to {@code out}. */
    protected abstract void encode(T record, AvroBinaryBuffer out);

    /** Reads one record, which must fill {@code in}; malformed input is an IllegalArgumentException. */
    protected abstract T decode(AvroBinaryInput in);

    /** The record type's name, for error messages. */
    protected abstract String typeName();

    /** This instance's input, to decode bytes of one's own. */
    protected final AvroBinaryInput input() {
        if (in == null) {
            in = new AvroBinaryInput();
        }
        return in;
    }

    private AvroBinaryBuffer encoded(T record) {
        if (out == null) {
            out = new AvroBinaryBuffer(512);
        }
        out.reset();
        encode(record, out);
        return out;
    }

    @Override
    public void serialize(T record, DataOutputView target) throws IOException {
        AvroBinaryBuffer o = encoded(record);
        target.writeInt(o.size());
        o.writeTo(target);
    }

    @Override
    public T deserialize(DataInputView source) throws IOException {
        int n = source.readInt();
        if (n < 0) {
            throw new IOException("a " + typeName() + " of " + n + " bytes");
        }
        if (scratch == null || scratch.length < n) {
            scratch = new byte[Math.max(n, 512)];
        }
        source.readFully(scratch, 0, n);
        try {
            return decode(input().reset(scratch, 0, n));
        } catch (IllegalArgumentException e) {
            throw new IOException("corrupt " + typeName() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public T deserialize(T reuse, DataInputView source) throws IOException {
        return deserialize(source);
    }

    /** A deep copy: encoded and decoded again. */
    @Override
    public T copy(T from) {
        byte[] b = encoded(from).toByteArray();
        return decode(input().reset(b, 0, b.length));
    }

    @Override
    public T copy(T from, T reuse) {
        return copy(from);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        int n = source.readInt();
        target.writeInt(n);
        target.write(source, n);
    }

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public int getLength() {
        return -1;
    }
}
