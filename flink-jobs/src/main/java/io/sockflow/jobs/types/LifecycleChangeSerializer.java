package io.sockflow.jobs.types;

import io.sockflow.schemas.SocketLifecycle;
import io.sockflow.schemas.avro.AvroBinaryBuffer;
import io.sockflow.schemas.avro.AvroBinaryInput;
import io.sockflow.schemas.avro.RecordCodec;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;

/**
 * The lifecycle-to-flow shuffle's serializer: a length, then whether the record is published (an Avro boolean) and
 * the record as {@link RecordSerializer} encodes it.
 */
public final class LifecycleChangeSerializer extends LengthPrefixedSerializer<LifecycleChange> {
    private static final long serialVersionUID = 1L;
    private transient RecordCodec<SocketLifecycle> codec;

    private RecordCodec<SocketLifecycle> codec() {
        if (codec == null) {
            codec = RecordCodec.of(SocketLifecycle.class);
        }
        return codec;
    }

    @Override
    protected void encode(LifecycleChange c, AvroBinaryBuffer out) {
        out.writeBoolean(c.published);
        codec().write(c.record, out);
    }

    @Override
    protected LifecycleChange decode(AvroBinaryInput in) {
        boolean published = in.readBoolean();
        return new LifecycleChange(codec().read(in), published);
    }

    @Override
    protected String typeName() {
        return "LifecycleChange";
    }

    @Override
    public TypeSerializer<LifecycleChange> duplicate() {
        return new LifecycleChangeSerializer();
    }

    @Override
    public LifecycleChange createInstance() {
        return new LifecycleChange();
    }

    @Override
    public boolean equals(Object obj) {
        return obj instanceof LifecycleChangeSerializer;
    }

    @Override
    public int hashCode() {
        return LifecycleChangeSerializer.class.hashCode();
    }

    @Override
    public TypeSerializerSnapshot<LifecycleChange> snapshotConfiguration() {
        return new Snapshot();
    }

    /** No configuration: the schema is the one compiled in. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<LifecycleChange> {
        public Snapshot() {
            super(LifecycleChangeSerializer::new);
        }
    }
}
