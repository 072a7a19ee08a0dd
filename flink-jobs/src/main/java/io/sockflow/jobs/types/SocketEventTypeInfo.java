package io.sockflow.jobs.types;

import io.sockflow.schemas.SocketEvent;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/** The type of a stream of {@link SocketEvent}s: serialized by {@link SocketEventSerializer}. */
public final class SocketEventTypeInfo extends TypeInformation<SocketEvent> {
    private static final long serialVersionUID = 1L;

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
    public Class<SocketEvent> getTypeClass() {
        return SocketEvent.class;
    }

    @Override
    public boolean isKeyType() {
        return false;
    }

    @Override
    public TypeSerializer<SocketEvent> createSerializer(SerializerConfig config) {
        return new SocketEventSerializer();
    }

    @Override
    public String toString() {
        return "SocketEvent (sockflow binary)";
    }

    @Override
    public boolean equals(Object obj) {
        return obj instanceof SocketEventTypeInfo;
    }

    @Override
    public int hashCode() {
        return SocketEventTypeInfo.class.hashCode();
    }

    @Override
    public boolean canEqual(Object obj) {
        return obj instanceof SocketEventTypeInfo;
    }
}
