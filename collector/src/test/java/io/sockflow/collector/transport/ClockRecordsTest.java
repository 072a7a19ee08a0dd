package io.sockflow.collector.transport;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.collector.decode.HostInfo;
import io.sockflow.embedded.LocalStack;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.registry.ConfluentAvro;
import io.sockflow.schemas.registry.RegistryClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The collector's clock records on the embedded broker: each tick, one CLOCK record to every partition of the topic
 * that got no record from the collector since the last tick, stamped as given, and none to a partition that did.
 */
class ClockRecordsTest {
    static final int PARTITIONS = 4;
    static final HostInfo HOST = new HostInfo("clock-host", "boot-c", 1_700_000_000_000_000_000L);
    static LocalStack stack;
    static RegistryClient registry;

    @TempDir
    Path spool;

    @BeforeAll
    static void start() {
        stack = LocalStack.shared();
        registry = new RegistryClient(RegistryClient.Config.of(stack.registryUrl()));
    }

    KafkaOutput output(String topic) {
        return new KafkaOutput(
                new KafkaOutput.Options(
                        stack.bootstrapServers(),
                        topic,
                        PARTITIONS,
                        (short) 1,
                        Map.of(),
                        spool,
                        1 << 26,
                        Spool.FullPolicy.DROP_NEWEST,
                        1 << 22),
                registry);
    }

    /** Every record of the topic, decoded, by partition in offset order. */
    static Map<Integer, List<SocketEvent>> byPartition(String topic, int expected) {
        List<ConsumerRecord<byte[], byte[]>> records =
                KafkaTransportTest.readAll(stack, topic, expected, Duration.ofSeconds(30));
        ConfluentAvro.Deserializer<SocketEvent> de =
                new ConfluentAvro.Deserializer<>(registry, SocketEvent.getClassSchema());
        return records.stream()
                .collect(Collectors.groupingBy(
                        ConsumerRecord::partition,
                        TreeMap::new,
                        Collectors.mapping(r -> de.deserialize(r.value()), Collectors.toList())));
    }

    static SocketEvent event(long bootNs, long inode) {
        SocketEvent e = HOST.ownRecord(EventKind.SOCKET, bootNs);
        e.setPid(42);
        e.setComm("curl");
        e.setSocketInode(inode);
        e.setFamily("AF_UNIX");
        return e;
    }

    @Test
    void aQuietCollectorWritesOneClockRecordToEveryPartitionEachTickStampedAsGiven() {
        String topic = "clock-" + UUID.randomUUID();
        try (KafkaOutput out = output(topic)) {
            assertEquals(PARTITIONS, out.clock(HOST.ownRecord(EventKind.CLOCK, 1_000_000_000L)));
            assertEquals(PARTITIONS, out.clock(HOST.ownRecord(EventKind.CLOCK, 2_000_000_000L)));
            assertEquals(2L * PARTITIONS, out.clockRecords());
            assertTrue(out.shipper().awaitAcked(Duration.ofSeconds(30)));
        }
        Map<Integer, List<SocketEvent>> got = byPartition(topic, 2 * PARTITIONS);
        assertEquals(PARTITIONS, got.size(), "every partition got its clock: " + got.keySet());
        for (var p : got.entrySet()) {
            assertEquals(
                    List.of(HOST.toInstant(1_000_000_000L), HOST.toInstant(2_000_000_000L)),
                    p.getValue().stream().map(SocketEvent::getTimestamp).toList(),
                    "partition " + p.getKey() + ": one clock record per tick, in order");
            for (SocketEvent e : p.getValue()) {
                assertEquals(EventKind.CLOCK, e.getKind());
                assertEquals("clock-host", e.getHost());
                assertEquals(0, e.getPid());
                assertNull(e.getSocketInode());
            }
        }
    }

    @Test
    void aPartitionThatGotAnEventSinceTheLastTickGetsNoClockRecordAndTheNextQuietTickItGetsOne() {
        String topic = "clock-" + UUID.randomUUID();
        SocketEvent e = event(1_500_000_000L, 77);
        try (KafkaOutput out = output(topic)) {
            out.write(e);
            assertEquals(PARTITIONS - 1, out.clock(HOST.ownRecord(EventKind.CLOCK, 2_000_000_000L)));
            assertEquals(PARTITIONS, out.clock(HOST.ownRecord(EventKind.CLOCK, 3_000_000_000L)));
            assertTrue(out.shipper().awaitAcked(Duration.ofSeconds(30)));
        }
        Map<Integer, List<SocketEvent>> got = byPartition(topic, 2 * PARTITIONS);
        int eventPartition = got.entrySet().stream()
                .filter(p -> p.getValue().stream().anyMatch(x -> x.getKind() == EventKind.SOCKET))
                .mapToInt(Map.Entry::getKey)
                .findFirst()
                .orElseThrow();
        for (var p : got.entrySet()) {
            List<String> seen = p.getValue().stream()
                    .map(x -> x.getKind() + "@" + x.getMonotonicNs())
                    .toList();
            if (p.getKey() == eventPartition) {
                assertEquals(
                        List.of("SOCKET@1500000000", "CLOCK@3000000000"),
                        seen,
                        "the event's partition: no clock in the tick it got the event, one in the next");
            } else {
                assertEquals(
                        List.of("CLOCK@2000000000", "CLOCK@3000000000"),
                        seen,
                        "partition " + p.getKey() + ": one clock record each tick");
            }
        }
    }

    @Test
    void eachPartitionsClockKeyIsOneTheDefaultPartitionerSendsThere() {
        PartitionClock c = new PartitionClock("web-1", 7);
        for (int p = 0; p < 7; p++) {
            byte[] key = c.key(p);
            assertEquals(p, PartitionClock.partition(org.apache.kafka.common.utils.Utils.murmur2(key), 7));
        }
    }
}
