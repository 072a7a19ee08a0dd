package io.sockflow.collector.transport;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.embedded.LocalStack;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A producer that gets no acknowledgement for too long is replaced, and nothing it held is lost or reordered: the
 * path that gets a collector past a producer wedged after a broker restart (the broker answering a partition's
 * batches with OutOfOrderSequenceException while the producer retries them for ever). Here the broker is simply away
 * while the producer holds records, which takes the same path.
 */
@Tag("slow")
class ProducerRestartTest {

    @Test
    void aProducerWithNoAcknowledgementForTooLongIsReplacedAndWhatItHeldArrivesInOrder(@TempDir Path dir)
            throws Exception {
        LocalStack stack = LocalStack.shared();
        String topic = "wedge-" + UUID.randomUUID();
        try (Admin a = Admin.create(Map.of("bootstrap.servers", stack.bootstrapServers()))) {
            a.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get();
        }
        Spool spool = new Spool(dir, 64L << 20, Spool.FullPolicy.DROP_NEWEST);
        // the producer keeps the topic's metadata while the broker is away (it could otherwise forget it and refuse
        // records at once, to the spool), so that it holds records unacknowledged, as it does when a broker answers
        // without acknowledging: the case the restart is for
        KafkaShipper shipper = new KafkaShipper(
                topic,
                Map.of("bootstrap.servers", stack.bootstrapServers(), "metadata.recovery.strategy", "none"),
                spool,
                128 * 1024,
                Duration.ofSeconds(2));
        int warm = 100;
        int n = 3_000 + warm;
        int accepted = 0;
        for (int i = 0; i < warm; i++) { // while the broker is there: the producer knows the topic's partitions
            accepted += shipper.offer(key(i), ("v" + i).getBytes(StandardCharsets.UTF_8)) ? 1 : 0;
        }
        assertTrue(shipper.awaitAcked(Duration.ofSeconds(60)), "the first records acknowledged: " + shipper.stats());
        KafkaShipper.Stats wedged;
        stack.kafka().stop();
        try {
            for (int i = warm; i < n; i++) {
                accepted += shipper.offer(key(i), ("v" + i).getBytes(StandardCharsets.UTF_8)) ? 1 : 0;
                if (i == warm + (n - warm) / 2) {
                    Thread.sleep(3_000); // the first producer holds the first half when it is replaced
                }
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (shipper.stats().producerRestarts() < 1 && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            wedged = shipper.stats();
        } finally {
            stack.kafka().start();
        }
        assertEquals(n, accepted, "nothing dropped");
        assertTrue(wedged.producerRestarts() >= 1, "the producer was replaced: " + wedged);
        assertEquals(0, wedged.failed(), "nothing counted as refused: " + wedged);
        assertTrue(wedged.spoolDepth() > 0, "what it held went to the spool: " + wedged);

        assertTrue(shipper.awaitAcked(Duration.ofSeconds(90)), "everything acknowledged: " + shipper.stats());
        KafkaShipper.Stats after = shipper.stats();
        shipper.close(Duration.ofSeconds(5));
        assertEquals(0, after.spoolDropped());
        assertEquals(0, after.failed());
        assertEquals(0, after.spoolDepth(), "the spool emptied");

        List<ConsumerRecord<byte[], byte[]>> records =
                KafkaTransportTest.readAll(stack, topic, n, Duration.ofSeconds(60));
        Set<String> values = new HashSet<>();
        Map<String, List<Integer>> firstSeenPerKey = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            String v = new String(r.value(), StandardCharsets.UTF_8);
            if (values.add(v)) {
                firstSeenPerKey
                        .computeIfAbsent(new String(r.key(), StandardCharsets.UTF_8), k -> new ArrayList<>())
                        .add(Integer.parseInt(v.substring(1)));
            }
        }
        assertEquals(n, values.size(), "every record arrived (" + records.size() + " with duplicates)");
        for (Map.Entry<String, List<Integer>> e : firstSeenPerKey.entrySet()) {
            List<Integer> sorted = new ArrayList<>(e.getValue());
            sorted.sort(null);
            assertEquals(sorted, e.getValue(), "in order per key " + e.getKey());
        }
    }

    private static byte[] key(int i) {
        return ("k" + (i % 7)).getBytes(StandardCharsets.UTF_8);
    }
}
