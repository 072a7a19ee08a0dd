package io.sockflow.jobs.types;

import io.sockflow.schemas.SocketEvent;
import java.io.Serializable;
import java.util.function.Supplier;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/**
 * The type of a stream whose records Flink moves as sockflow's own Avro binary: SocketEvents
 * ({@link SocketEventSerializer}), result records ({@link RecordSerializer}) and lifecycle changes
 * ({@link LifecycleChangeSerializer}).
 */
public final class BinaryTypeInfo<T> extends TypeInformation<T> {
    private static final long serialVersionUID = 1L;

    /** A serializable way to make the serializer. */
    public interface Factory<T> extends Supplier<TypeSerializer<T>>, Serializable {}

    private final Class<T> type;
    private final String name;
    private final Factory<T> serializer;

    private BinaryTypeInfo(Class<T> type, String name, Factory<T> serializer) {
        this.type = type;
        this.name = name;
        this.serializer = serializer;
    }

    public static BinaryTypeInfo<SocketEvent> socketEvents() {
        return new BinaryTypeInfo<>(SocketEvent.class, "SocketEvent", SocketEventSerializer::new);
    }

    public static <T extends SpecificRecord> BinaryTypeInfo<T> records(Class<T> type) {
        return new BinaryTypeInfo<>(type, type.getSimpleName(), () -> new RecordSerializer<>(type));
    }

    public static BinaryTypeInfo<LifecycleChange> lifecycleChanges() {
        return new BinaryTypeInfo<>(LifecycleChange.class, "LifecycleChange", LifecycleChangeSerializer::new);
    }

    @Override
    public boolean isBasicType() {
        return false;
    }

    @Override
    public boolean isTupleType() {
        return false;
    }

    @Override
    public int getArity() {
        return 1;
    }

    @Override
    public int getTotalFields() {
        return 1;
    }

    @Override
    public Class<T> getTypeClass() {
        return type;
    }

    @Override
    public boolean isKeyType() {
        return false;
    }

    @Override
    public TypeSerializer<T> createSerializer(SerializerConfig config) {
        return serializer.get();
    }

    @Override
    public String toString() {
        return name + " (sockflow binary)";
    }

    @Override
    public boolean equals(Object obj) {
        return obj instanceof BinaryTypeInfo<?> other && other.type == type;
    }

    @Override
    public int hashCode() {
        return type.hashCode();
    }

    @Override
    public boolean canEqual(Object obj) {
        return obj instanceof BinaryTypeInfo;
    }
}
