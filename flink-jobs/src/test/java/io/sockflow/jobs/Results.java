package io.sockflow.jobs;

import io.sockflow.jobs.sink.IcebergTables;
import io.sockflow.schemas.registry.ConfluentAvro;
import io.sockflow.schemas.registry.RegistryClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.avro.specific.SpecificRecord;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Reading what the jobs wrote, the way a consumer would: Kafka with read_committed, Iceberg through its catalog. */
public final class Results {
    private Results() {}

    public static KafkaProducer<byte[], byte[]> producer(String bootstrap) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("acks", "all");
        p.put("linger.ms", "5");
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    public static void send(KafkaProducer<byte[], byte[]> p, String topic, byte[] key, byte[] value) {
        try {
            p.send(new ProducerRecord<>(topic, key, value)).get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static final Map<String, Map<String, String>> LOGINS = new java.util.concurrent.ConcurrentHashMap<>();

    /** Client settings (credentials) that every client made here for {@code bootstrap} uses from now on. */
    public static void login(String bootstrap, Map<String, String> settings) {
        LOGINS.put(bootstrap, Map.copyOf(settings));
    }

    /** The client settings given to {@link #login} for {@code bootstrap}; none without. */
    public static Map<String, String> loginOf(String bootstrap) {
        return LOGINS.getOrDefault(bootstrap, Map.of());
    }

    /** Every committed record of a topic, in partition order (transactions in flight or aborted are not seen). */
    public static List<ConsumerRecord<byte[], byte[]>> readCommitted(String bootstrap, String topic) {
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = consumer(bootstrap, "read_committed")) {
            List<TopicPartition> parts = c.partitionsFor(topic, Duration.ofSeconds(10)).stream()
                    .map(i -> new TopicPartition(topic, i.partition()))
                    .toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("could not read " + topic + " to its end");
                }
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }

    /**
     * Where read_committed readers of these topics are held back, for a failure message: each partition whose last
     * stable offset is behind its end (a transaction still open there), and the transactions the broker has not
     * finished, by transactional id and state.
     */
    public static String openTransactions(String bootstrap, List<String> topics) {
        Properties p = new Properties();
        p.putAll(loginOf(bootstrap));
        p.put("bootstrap.servers", bootstrap);
        StringBuilder out = new StringBuilder();
        try (KafkaConsumer<byte[], byte[]> committed = consumer(bootstrap, "read_committed");
                KafkaConsumer<byte[], byte[]> all = consumer(bootstrap, "read_uncommitted");
                Admin admin = Admin.create(p)) {
            for (String topic : topics) {
                List<TopicPartition> parts = all.partitionsFor(topic, Duration.ofSeconds(10)).stream()
                        .map(i -> new TopicPartition(topic, i.partition()))
                        .toList();
                Map<TopicPartition, Long> stable = committed.endOffsets(parts);
                Map<TopicPartition, Long> end = all.endOffsets(parts);
                parts.stream()
                        .filter(tp -> stable.get(tp) < end.get(tp))
                        .forEach(tp -> out.append(String.format(
                                "%n  %s: stable up to offset %d of %d", tp, stable.get(tp), end.get(tp))));
            }
            for (TransactionListing t : admin.listTransactions().all().get(10, TimeUnit.SECONDS)) {
                if (t.state() != TransactionState.COMPLETE_COMMIT
                        && t.state() != TransactionState.COMPLETE_ABORT
                        && t.state() != TransactionState.EMPTY) {
                    out.append(String.format(
                            "%n  transaction %s (producer %d): %s", t.transactionalId(), t.producerId(), t.state()));
                }
            }
        } catch (Exception e) {
            out.append("\n  (could not look: ").append(e).append(')');
        }
        return out.isEmpty() ? "\n  no transaction holds these topics back" : out.toString();
    }

    private static KafkaConsumer<byte[], byte[]> consumer(String bootstrap, String isolation) {
        Properties p = new Properties();
        p.putAll(loginOf(bootstrap));
        p.put("bootstrap.servers", bootstrap);
        p.put("isolation.level", isolation);
        p.put("enable.auto.commit", "false");
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    public static <T extends SpecificRecord> List<T> decode(
            String registryUrl, List<ConsumerRecord<byte[], byte[]>> records, org.apache.avro.Schema schema) {
        ConfluentAvro.Deserializer<T> d =
                new ConfluentAvro.Deserializer<>(new RegistryClient(RegistryClient.Config.of(registryUrl)), schema);
        List<T> out = new ArrayList<>();
        records.forEach(r -> out.add(d.deserialize(r.value())));
        return out;
    }

    /** Rows of a lake table as column-name maps. */
    public static List<Map<String, Object>> lake(String warehouse, String namespace, String table) {
        Table t = IcebergTables.catalog(warehouse).loadCatalog().loadTable(TableIdentifier.of(namespace, table));
        List<Map<String, Object>> rows = new ArrayList<>();
        try (CloseableIterable<Record> it = IcebergGenerics.read(t).build()) {
            for (Record r : it) {
                Map<String, Object> m = new HashMap<>();
                for (var f : t.schema().columns()) {
                    m.put(f.name(), r.getField(f.name()));
                }
                rows.add(m);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return rows;
    }
}
