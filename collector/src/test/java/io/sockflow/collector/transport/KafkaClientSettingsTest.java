package io.sockflow.collector.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The collector's Kafka client settings file (--kafka-config): read as the client's own settings, but a partitioner of
 * the user's is refused in one line, since the records of a socket must share a partition and a quiet partition's
 * clock record is sent with a key Kafka's default partitioner puts there.
 */
class KafkaClientSettingsTest {
    @TempDir
    Path dir;

    @Test
    void ordinarySettingsAreRead() throws Exception {
        Path f = dir.resolve("kafka.properties");
        Files.writeString(f, "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nlinger.ms=50\n");
        var m = KafkaOutput.clientConfig(f);
        assertEquals("SASL_PLAINTEXT", m.get("security.protocol"));
        assertEquals("50", m.get("linger.ms"));
    }

    @Test
    void aPartitionerOfTheUsersIsRefusedInOneLine() throws Exception {
        for (String line : new String[] {
            "partitioner.class=org.apache.kafka.clients.producer.RoundRobinPartitioner", "partitioner.ignore.keys=true"
        }) {
            Path f = dir.resolve("kafka.properties");
            Files.writeString(f, "acks=all\n" + line + "\n");
            TransportException e = assertThrows(TransportException.class, () -> KafkaOutput.clientConfig(f));
            String key = line.substring(0, line.indexOf('='));
            assertTrue(e.getMessage().contains(key) && e.getMessage().endsWith("remove it"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), "one line");
        }
    }
}
