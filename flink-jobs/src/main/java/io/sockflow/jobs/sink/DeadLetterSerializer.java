package io.sockflow.jobs.sink;

import io.sockflow.jobs.input.DeadLetter;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

import java.nio.charset.StandardCharsets;

/**
 * A dead letter goes out as it came in (same key and value bytes), with where it came from and why it could not be
 * read in headers, named like Kafka Connect's dead-letter headers so the same tools read them.
 */
public final class DeadLetterSerializer implements KafkaRecordSerializationSchema<DeadLetter> {
    private static final long serialVersionUID = 1L;
    private final String topic;

    public DeadLetterSerializer(String topic) {
        this.topic = topic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(DeadLetter d, KafkaSinkContext context, Long timestamp) {
        RecordHeaders h = new RecordHeaders();
        h.add("__connect.errors.topic", bytes(d.record.topic));
        h.add("__connect.errors.partition", bytes(Integer.toString(d.record.partition)));
        h.add("__connect.errors.offset", bytes(Long.toString(d.record.offset)));
        h.add("__connect.errors.exception.message", bytes(d.reason));
        h.add("sockflow.error.reason", bytes(d.reason));
        return new ProducerRecord<>(topic, null, d.record.timestamp, d.record.key, d.record.value, h);
    }

    private static byte[] bytes(String s) {
        return s == null ? new byte[0] : s.getBytes(StandardCharsets.UTF_8);
    }
}
