package io.sockflow.collector.transport;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Partition keys are host/inode, written without a String per event. */
class KafkaKeyTest {
    @Test
    void keysAreTheHostAndTheDecimalId() {
        for (long id : new long[] {0, 7, 9, 10, 99, 100, 999_999, 1_000_000, 123_456_789_012L, Long.MAX_VALUE,
            999_999_999_999_999_999L, -5}) {
            assertEquals("h1/" + id, new String(KafkaOutput.keyBytes("h1/", id), StandardCharsets.UTF_8));
        }
        assertEquals("other/pid/42", new String(KafkaOutput.keyBytes("other/pid/", 42), StandardCharsets.UTF_8));
    }
}
