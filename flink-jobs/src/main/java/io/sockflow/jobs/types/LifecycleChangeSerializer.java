package io.sockflow.jobs.types;

import io.sockflow.jobs.lifecycle.LifecycleChange;
import io.sockflow.schemas.SocketLifecycle;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;

/** The lifecycle-to-flow shuffle's serializer: whether the record is published, then the record as {@link RecordSerializer} writes it. */
public final class LifecycleChangeSerializer extends TypeSerializer<LifecycleChange> {
    private static final long serialVersionUID = 1L;
    private final RecordSerializer<SocketLifecycle> records = new RecordSerializer<>(SocketLifecycle.class);

    @Override
    public boolean isImmutableType() {
        return false;
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
    public LifecycleChange copy(LifecycleChange from) {
        return new LifecycleChange(records.copy(from.record), from.published);
    }

    @Override
    public LifecycleChange copy(LifecycleChange from, LifecycleChange reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(LifecycleChange c, DataOutputView target) throws IOException {
        target.writeBoolean(c.published);
        records.write(c.record, target);
    }

    @Override
    public LifecycleChange deserialize(DataInputView source) throws IOException {
        boolean published = source.readBoolean();
        return new LifecycleChange(records.read(source), published);
    }

    @Override
    public LifecycleChange deserialize(LifecycleChange reuse, DataInputView source) throws IOException {
        return deserialize(source);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        target.writeBoolean(source.readBoolean());
        records.copy(source, target);
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
