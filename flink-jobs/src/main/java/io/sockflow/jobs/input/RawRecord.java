package io.sockflow.jobs.input;

/**
 * One Kafka record as read, before decoding: where it came from and its bytes. A POJO, so Flink copies it cheaply
 * between chained operators and a record that cannot be decoded can be sent on unchanged.
 */
public class RawRecord {
    public String topic;
    public int partition;
    public long offset;
    public long timestamp;
    public byte[] key;
    public byte[] value;

    public RawRecord() {}

    public RawRecord(String topic, int partition, long offset, long timestamp, byte[] key, byte[] value) {
        this.topic = topic;
        this.partition = partition;
        this.offset = offset;
        this.timestamp = timestamp;
        this.key = key;
        this.value = value;
    }
}
