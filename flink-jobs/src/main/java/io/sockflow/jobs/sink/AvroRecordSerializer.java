package io.sockflow.jobs.sink;

import io.sockflow.jobs.config.JobConfig;
import io.sockflow.jobs.input.EventDecoder;
import io.sockflow.schemas.avro.RecordCodec;
import io.sockflow.schemas.registry.ConfluentAvro;
import java.nio.charset.StandardCharsets;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.metrics.Counter;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Writes a result record in the Confluent wire format under the topic's {@code <topic>-value} subject (registered
 * at the task's start), keyed by a string the caller chooses so a socket's or flow's records stay on one
 * partition, in order. A record larger than {@code sink.max-record-bytes} would be refused by the broker (and fail
 * the job at every restart): it is written with its long strings, lists and maps cut, and counted
 * ({@code resultsCut}); one that no cut makes small enough is left out and counted ({@code resultsDropped}).
 * Records carry the time they are written as their Kafka timestamp, so a topic's retention counts from then.
 */
public final class AvroRecordSerializer<T extends SpecificRecord> implements KafkaRecordSerializationSchema<T> {
    private static final long serialVersionUID = 1L;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(AvroRecordSerializer.class);

    /** The record's key. */
    public interface KeyOf<T> extends java.io.Serializable {
        String key(T record);
    }

    private final String topic;
    private final String schemaJson;
    private final EventDecoder.RegistrySupplier registry;
    private final KeyOf<T> keyOf;
    private final int maxRecordBytes;
    private transient ConfluentAvro.Serializer<T> serializer;
    private transient Counter cut;
    private transient Counter dropped;
    private transient long lastLogNanos;

    public AvroRecordSerializer(String topic, Schema schema, EventDecoder.RegistrySupplier registry, KeyOf<T> keyOf) {
        this(topic, schema, registry, keyOf, JobConfig.defaults().getInt(JobConfig.MAX_RECORD_BYTES));
    }

    public AvroRecordSerializer(
            String topic, Schema schema, EventDecoder.RegistrySupplier registry, KeyOf<T> keyOf, int maxRecordBytes) {
        this.topic = topic;
        this.schemaJson = schema.toString();
        this.registry = registry;
        this.keyOf = keyOf;
        this.maxRecordBytes = maxRecordBytes;
    }

    @Override
    public void open(SerializationSchema.InitializationContext context, KafkaSinkContext sinkContext) {
        Schema schema = new Schema.Parser().parse(schemaJson);
        @SuppressWarnings("unchecked")
        Class<T> type = (Class<T>) SpecificData.get().getClass(schema);
        // written by a codec planned from the schema, byte for byte what Avro's writer writes, at a fraction of its
        // cost
        RecordCodec<T> codec = RecordCodec.of(type);
        serializer = new ConfluentAvro.Serializer<>(registry.get(), topic, schema, codec::write);
        serializer.register();
        // the Kafka writer opens its schema more than once on one metric group: a second counter of the same name
        // would be refused (and logged) by Flink
        if (cut == null) {
            cut = context.getMetricGroup().counter("resultsCut");
            dropped = context.getMetricGroup().counter("resultsDropped");
        }
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(T element, KafkaSinkContext context, Long timestamp) {
        byte[] key = keyOf.key(element).getBytes(StandardCharsets.UTF_8);
        byte[] value = serializer.serialize(element);
        if (!fits(key, value)) {
            int size = key.length + value.length;
            key = Oversize.head(key, maxRecordBytes / 4);
            value = null;
            // from generous to harsh: most records fit at the first cut, which keeps 4 KiB of each string
            for (int chars = 4096, items = 256; chars >= 16; chars /= 4, items = Math.max(1, items / 4)) {
                byte[] v = serializer.serialize(Oversize.cut(element, chars, items));
                if (fits(key, v)) {
                    value = v;
                    break;
                }
            }
            if (value == null) {
                dropped.inc();
                log("left out a " + topic + " record of " + size
                        + " bytes that no cut makes smaller than sink.max-record-bytes (" + maxRecordBytes + ")");
                return null;
            }
            cut.inc();
            log("cut a " + topic + " record of " + size + " bytes to " + (key.length + value.length)
                    + " to fit sink.max-record-bytes (" + maxRecordBytes + ")");
        }
        // no timestamp: the producer stamps the record with the time it is written. Not the event time Flink hands in
        // (a socket's close, a timer's): the broker keeps and rolls a topic's segments by its records' timestamps, and
        // results of events older than the topic's retention (a replay, a job restored days later, a test's fixed
        // clock) were deleted at its next retention check, right after they were committed. The event time is in
        // the record itself.
        return new ProducerRecord<>(topic, null, null, key, value);
    }

    private boolean fits(byte[] key, byte[] value) {
        return key.length + value.length + Oversize.KAFKA_OVERHEAD <= maxRecordBytes;
    }

    /** At most one line a minute: a flood of huge records must not become a flood of log lines. */
    private void log(String line) {
        long now = System.nanoTime();
        if (lastLogNanos == 0 || now - lastLogNanos > 60_000_000_000L) {
            lastLogNanos = now;
            LOG.warn("{} (counted as resultsCut and resultsDropped)", line);
        }
    }
}
