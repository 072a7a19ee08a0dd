package io.sockflow.jobs.input;

import io.sockflow.jobs.types.SocketEventSerializer;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.registry.ConfluentAvro;
import io.sockflow.schemas.registry.RegistryClient;
import io.sockflow.schemas.registry.RegistryException;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.util.function.Supplier;

/**
 * Decodes in the Kafka source itself, so event-time watermarks are kept per partition (a partition that lags or
 * goes quiet does not hold the others back beyond the idleness timeout). Confluent wire format (magic 0, schema id,
 * Avro binary) to {@link SocketEvent}, resolved from the writer's schema (fetched by id from the registry, cached)
 * to this build's. A record that cannot be decoded (bad magic, unknown id, truncated or corrupt Avro, required
 * fields missing) becomes a dead letter with the reason, and the job goes on; the registry being unreachable is
 * not the record's fault and fails the task instead (it is retried from the last checkpoint).
 */
public final class EventDecoder implements KafkaRecordDeserializationSchema<Decoded> {
    private static final long serialVersionUID = 1L;

    /** Serializable way to make the registry client in the task. */
    public interface RegistrySupplier extends Supplier<RegistryClient>, java.io.Serializable {
    }

    private final RegistrySupplier registry;
    private transient ConfluentAvro.Deserializer<SocketEvent> deserializer;
    private transient Counter decoded;
    private transient Counter dead;

    public EventDecoder(RegistrySupplier registry) {
        this.registry = registry;
    }

    @Override
    public void open(DeserializationSchema.InitializationContext ctx) {
        deserializer = new ConfluentAvro.Deserializer<>(registry.get(), SocketEvent.getClassSchema(),
                io.sockflow.schemas.avro.SocketEventReader::read);
        decoded = ctx.getMetricGroup().counter("eventsDecoded");
        dead = ctx.getMetricGroup().counter("eventsDeadLettered");
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> r, Collector<Decoded> out) {
        Decoded d = decode(r.value());
        if (d.event != null) {
            decoded.inc();
        } else {
            dead.inc();
            d.dead.record = new RawRecord(r.topic(), r.partition(), r.offset(), r.timestamp(), r.key(), r.value());
        }
        out.collect(d);
    }

    Decoded decode(byte[] value) {
        String reason = problem(value);
        if (reason == null) {
            try {
                SocketEvent e = deserializer.deserialize(value);
                if (e.getHost() == null || e.getKind() == null || e.getTimestamp() == null) {
                    reason = "decoded record lacks host, kind or timestamp";
                } else {
                    if (deserializer.lastWasCurrentSchema()) {
                        // the shuffles can send these bytes as they are instead of encoding the event again
                        SocketEventSerializer.rememberEncoding(e, value, ConfluentAvro.HEADER, value.length - ConfluentAvro.HEADER);
                    }
                    return Decoded.of(e);
                }
            } catch (RegistryException ex) {
                if (ex.status() != 404) {
                    throw ex; // the registry is away or failing: retry the task, do not lose the record
                }
                reason = "schema id " + ConfluentAvro.schemaId(value) + " is not in the registry (" + ex.getMessage() + ")";
            } catch (IllegalArgumentException ex) {
                reason = "undecodable Avro: " + ex.getMessage();
            }
        }
        return Decoded.dead(null, reason);
    }

    private static String problem(byte[] value) {
        if (value == null) {
            return "empty value (tombstone)";
        }
        if (value.length < ConfluentAvro.HEADER + 1) {
            return "too short for the Confluent wire format (" + value.length + " bytes)";
        }
        if (value[0] != ConfluentAvro.MAGIC) {
            return "magic byte " + value[0] + " is not the Confluent wire format's 0";
        }
        return null;
    }

    @Override
    public TypeInformation<Decoded> getProducedType() {
        return TypeInformation.of(Decoded.class);
    }

    /** Splits decoded events from dead letters (a side output). */
    public static final class Split extends ProcessFunction<Decoded, SocketEvent> {
        private static final long serialVersionUID = 1L;
        public static final OutputTag<DeadLetter> DEAD_LETTERS = new OutputTag<>("dead-letters",
                TypeInformation.of(DeadLetter.class)) {
        };

        @Override
        public void processElement(Decoded d, Context ctx, Collector<SocketEvent> out) {
            if (d.event != null) {
                out.collect(d.event);
            } else {
                ctx.output(DEAD_LETTERS, d.dead);
            }
        }
    }
}
