package io.sockflow.jobs.sink;

import io.sockflow.jobs.config.JobConfig;
import io.sockflow.jobs.input.DeadLetter;
import java.nio.charset.StandardCharsets;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.metrics.Counter;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * A dead letter goes out as it came in (same key and value bytes), with where it came from and why it could not be
 * read in headers, named like Kafka Connect's dead-letter headers so the same tools read them. One that would not
 * fit {@code sink.max-record-bytes} with its headers (an input record near the broker's limit) keeps its first
 * bytes, says how long it was in {@code sockflow.error.value.length} (and {@code .key.length}), and is counted as
 * {@code deadLettersCut}: the broker would refuse it whole, and the job would fail on it at every restart.
 */
public final class DeadLetterSerializer implements KafkaRecordSerializationSchema<DeadLetter> {
    private static final long serialVersionUID = 1L;
    /** A reason is one line: this is plenty, and bounds the headers. */
    static final int MAX_REASON_CHARS = 1024;

    private final String topic;
    private final int maxRecordBytes;
    private transient Counter cut;

    public DeadLetterSerializer(String topic) {
        this(topic, JobConfig.defaults().getInt(JobConfig.MAX_RECORD_BYTES));
    }

    public DeadLetterSerializer(String topic, int maxRecordBytes) {
        this.topic = topic;
        this.maxRecordBytes = maxRecordBytes;
    }

    @Override
    public void open(SerializationSchema.InitializationContext context, KafkaSinkContext sinkContext) {
        // opened more than once on one metric group by the Kafka writer: one counter, registered once
        if (cut == null) {
            cut = context.getMetricGroup().counter("deadLettersCut");
        }
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(DeadLetter d, KafkaSinkContext context, Long timestamp) {
        String reason = d.reason == null ? "" : Oversize.cutString(d.reason, MAX_REASON_CHARS);
        RecordHeaders h = new RecordHeaders();
        h.add("__connect.errors.topic", bytes(d.record.topic));
        h.add("__connect.errors.partition", bytes(Integer.toString(d.record.partition)));
        h.add("__connect.errors.offset", bytes(Long.toString(d.record.offset)));
        h.add("__connect.errors.exception.message", bytes(reason));
        h.add("sockflow.error.reason", bytes(reason));
        byte[] key = d.record.key;
        byte[] value = d.record.value;
        int keyLength = key == null ? 0 : key.length;
        int valueLength = value == null ? 0 : value.length;
        // room for the two length headers a cut adds
        int room = maxRecordBytes - Oversize.KAFKA_OVERHEAD - headerBytes(h) - 128;
        if (keyLength + valueLength > room) {
            // the key gets up to half the room, more when the value leaves it
            int keyKeep = Math.min(keyLength, Math.max(room / 2, room - valueLength));
            key = Oversize.head(key, keyKeep);
            value = Oversize.head(value, room - keyKeep);
            h.add("sockflow.error.key.length", bytes(Integer.toString(keyLength)));
            h.add("sockflow.error.value.length", bytes(Integer.toString(valueLength)));
            if (cut != null) {
                cut.inc();
            }
        }
        // the time it is written, not the source record's: a dead letter of an old record (a backlog, a replay, a
        // restore days later) would otherwise be past the topic's retention and deleted at once; the source's time
        // is in its header
        if (d.record.timestamp >= 0) {
            h.add("sockflow.source.timestamp", bytes(Long.toString(d.record.timestamp)));
        }
        return new ProducerRecord<>(topic, null, null, key, value, h);
    }

    private static int headerBytes(RecordHeaders h) {
        int n = 0;
        for (Header x : h) {
            n += x.key().length() * 3 + (x.value() == null ? 0 : x.value().length) + 10;
        }
        return n;
    }

    private static byte[] bytes(String s) {
        return s == null ? new byte[0] : s.getBytes(StandardCharsets.UTF_8);
    }
}
