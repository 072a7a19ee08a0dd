package io.sockflow.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded broker with authentication on: without credentials nothing, the collector writes the events only, the
 * jobs read the events and write the results in their own transactions, the reader reads the result topics only, the
 * admin everything. A real broker, real clients.
 */
@Tag("slow")
class KafkaAuthTest {
    static final String EVENTS = "sockflow.events";
    static final String LIFECYCLES = "sockflow.lifecycles";
    static final String FLOWS = "sockflow.flows";
    static final String GROUP = "sockflow-up";
    static final String TX = "sockflow-up";

    @TempDir
    static Path data;

    static KafkaCredentials creds;
    static EmbeddedKafka kafka;

    @BeforeAll
    static void start() throws Exception {
        creds = KafkaCredentials.loadOrCreate(data);
        kafka = EmbeddedKafka.start(data.resolve("kafka"), 0, 0, creds);
        kafka.grantReader(List.of(LIFECYCLES, "sockflow.flows", "sockflow.alerts"));
        kafka.grant(KafkaAcls.collector(EVENTS));
        kafka.grant(KafkaAcls.jobs(
                EVENTS, List.of(LIFECYCLES, "sockflow.flows", "sockflow.alerts", "sockflow.dead-letters"), GROUP, TX));
        try (Admin admin = Admin.create(with(creds.adminClient(), Map.of()))) {
            admin.createTopics(List.of(
                            new NewTopic(EVENTS, 1, (short) 1),
                            new NewTopic(LIFECYCLES, 1, (short) 1),
                            new NewTopic(FLOWS, 1, (short) 1)))
                    .all()
                    .get(30, TimeUnit.SECONDS);
        }
        // the admin writes one record to each: what the others try to read
        try (KafkaProducer<String, String> p = producer(creds.adminClient())) {
            p.send(new ProducerRecord<>(EVENTS, "e", "event")).get(30, TimeUnit.SECONDS);
            p.send(new ProducerRecord<>(LIFECYCLES, "l", "lifecycle")).get(30, TimeUnit.SECONDS);
        }
    }

    @AfterAll
    static void stop() {
        if (kafka != null) {
            kafka.close();
        }
    }

    static Map<String, Object> with(Map<String, String> client, Map<String, Object> more) {
        Map<String, Object> m = new HashMap<>(client);
        m.put("bootstrap.servers", kafka.bootstrapServers());
        m.put("default.api.timeout.ms", 15_000);
        m.put("max.block.ms", 15_000);
        m.put("delivery.timeout.ms", 15_000);
        m.put("request.timeout.ms", 10_000);
        m.putAll(more);
        return m;
    }

    static KafkaProducer<String, String> producer(Map<String, String> client) {
        return producer(client, Map.of());
    }

    static KafkaProducer<String, String> producer(Map<String, String> client, Map<String, Object> more) {
        Map<String, Object> m = new HashMap<>(more);
        m.put("acks", "all");
        return new KafkaProducer<>(with(client, m), new StringSerializer(), new StringSerializer());
    }

    static KafkaConsumer<String, String> consumer(Map<String, String> client, String group) {
        Map<String, Object> more = new HashMap<>();
        more.put("auto.offset.reset", "earliest");
        if (group != null) {
            more.put("group.id", group);
        }
        return new KafkaConsumer<>(with(client, more), new StringDeserializer(), new StringDeserializer());
    }

    /** Reads what {@code topic}'s one partition holds from the start (no group: assigned). */
    static List<String> read(Map<String, String> client, String topic) {
        try (KafkaConsumer<String, String> c = consumer(client, null)) {
            TopicPartition tp = new TopicPartition(topic, 0);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            List<String> got = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (got.isEmpty() && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) {
                    got.add(r.value());
                }
            }
            return got;
        }
    }

    static Throwable produce(Map<String, String> client, String topic) {
        return produce(client, topic, Map.of());
    }

    static Throwable produce(Map<String, String> client, String topic, Map<String, Object> more) {
        try (KafkaProducer<String, String> p = producer(client, more)) {
            p.send(new ProducerRecord<>(topic, "k", "v")).get(30, TimeUnit.SECONDS);
            return null;
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (Exception e) {
            return e;
        }
    }

    @Test
    void withoutCredentialsAClientCannotReadOrWriteAnyTopic() {
        // a client that speaks no SASL: the broker answers nothing it can use, so it gets no metadata at all
        for (String topic : List.of(EVENTS, LIFECYCLES)) {
            Throwable w = produce(Map.of(), topic, Map.of("max.block.ms", 5_000));
            assertInstanceOf(org.apache.kafka.common.errors.TimeoutException.class, w, "produce to " + topic);
            assertThrows(
                    org.apache.kafka.common.errors.TimeoutException.class,
                    () -> {
                        try (KafkaConsumer<String, String> c = consumer(Map.of(), null)) {
                            c.partitionsFor(topic, Duration.ofSeconds(5));
                        }
                    },
                    "read " + topic);
        }
        // a client that speaks SASL with a wrong password: refused by name
        Map<String, String> wrong = KafkaCredentials.client(KafkaCredentials.READER, "not-the-password");
        for (String topic : List.of(EVENTS, LIFECYCLES)) {
            assertInstanceOf(SaslAuthenticationException.class, produce(wrong, topic), "produce to " + topic);
            assertThrows(SaslAuthenticationException.class, () -> read(wrong, topic), "read " + topic);
        }
    }

    @Test
    void theReaderReadsTheResultsOnly() {
        Map<String, String> reader = creds.readerClient();
        assertEquals(List.of("lifecycle"), read(reader, LIFECYCLES));
        TopicAuthorizationException e = assertThrows(TopicAuthorizationException.class, () -> read(reader, EVENTS));
        assertTrue(e.unauthorizedTopics().contains(EVENTS), e.toString());
        for (String topic : List.of(EVENTS, LIFECYCLES)) {
            // a plain producer reaches the topic's ACL; an idempotent one (the default) may be stopped before that, at
            // the cluster (it needs IDEMPOTENT_WRITE) when the topic is one the reader can describe
            assertInstanceOf(
                    TopicAuthorizationException.class,
                    produce(reader, topic, Map.of("enable.idempotence", false)),
                    "produce to " + topic);
            Throwable idempotent = produce(reader, topic);
            assertTrue(
                    idempotent instanceof TopicAuthorizationException
                            || idempotent instanceof ClusterAuthorizationException,
                    "idempotent produce to " + topic + ": " + idempotent);
        }
    }

    @Test
    void theReaderUsesGroupsUnderItsOwnPrefixOnly() {
        Map<String, String> reader = creds.readerClient();
        try (KafkaConsumer<String, String> c = consumer(reader, KafkaCredentials.READER_GROUP_PREFIX + "-test")) {
            c.subscribe(List.of(LIFECYCLES));
            List<String> got = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (got.isEmpty() && System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(500)).forEach(r -> got.add(r.value()));
            }
            assertEquals(List.of("lifecycle"), got);
            c.commitSync();
        }
        try (KafkaConsumer<String, String> c = consumer(reader, "sockflow-up")) {
            c.subscribe(List.of(LIFECYCLES));
            assertThrows(GroupAuthorizationException.class, () -> c.poll(Duration.ofSeconds(15)));
        }
    }

    @Test
    void theAdminReadsAndWritesEverything() {
        Map<String, String> admin = creds.adminClient();
        assertEquals(null, produce(admin, EVENTS));
        assertEquals("event", read(admin, EVENTS).get(0));
        assertEquals("lifecycle", read(admin, LIFECYCLES).get(0));
    }

    @Test
    void theCollectorWritesTheEventsOnly() throws Exception {
        Map<String, String> collector = creds.clientOf(KafkaCredentials.COLLECTOR);
        assertEquals(null, produce(collector, EVENTS), "an idempotent producer, as the collector's is");
        // what the collector does at its start: make the topic, which exists; told so, not refused
        try (Admin a = Admin.create(with(collector, Map.of()))) {
            ExecutionException e = assertThrows(
                    ExecutionException.class,
                    () -> a.createTopics(List.of(new NewTopic(EVENTS, 1, (short) 1)))
                            .all()
                            .get(30, TimeUnit.SECONDS));
            assertInstanceOf(org.apache.kafka.common.errors.TopicExistsException.class, e.getCause());
        }
        assertInstanceOf(
                TopicAuthorizationException.class,
                produce(collector, LIFECYCLES, Map.of("enable.idempotence", false)),
                "a collector cannot forge results");
        assertThrows(TopicAuthorizationException.class, () -> read(collector, EVENTS), "nor read other hosts' events");
        assertThrows(TopicAuthorizationException.class, () -> read(collector, LIFECYCLES));
    }

    @Test
    void theJobsReadTheEventsAndWriteTheResultsInTheirOwnTransactionsOnly() throws Exception {
        Map<String, String> jobs = creds.clientOf(KafkaCredentials.JOBS);
        assertTrue(read(jobs, EVENTS).contains("event"));
        try (KafkaConsumer<String, String> c = consumer(jobs, GROUP)) {
            c.subscribe(List.of(EVENTS));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            int got = 0;
            while (got == 0 && System.nanoTime() < deadline) {
                got = c.poll(Duration.ofMillis(500)).count();
            }
            assertTrue(got > 0, "reads in its own group");
            c.commitSync();
        }
        try (KafkaConsumer<String, String> c = consumer(jobs, "someone-else")) {
            c.subscribe(List.of(EVENTS));
            assertThrows(GroupAuthorizationException.class, () -> c.poll(Duration.ofSeconds(15)));
        }
        try (KafkaProducer<String, String> p = producer(jobs, Map.of("transactional.id", TX + "-lifecycles-0-1"))) {
            p.initTransactions();
            p.beginTransaction();
            p.send(new ProducerRecord<>(FLOWS, "f", "from the jobs")).get(30, TimeUnit.SECONDS);
            p.commitTransaction();
        }
        try (KafkaProducer<String, String> p = producer(jobs, Map.of("transactional.id", "not-theirs-1"))) {
            assertThrows(
                    org.apache.kafka.common.errors.TransactionalIdAuthorizationException.class, p::initTransactions);
        }
        assertInstanceOf(
                TopicAuthorizationException.class,
                produce(jobs, EVENTS, Map.of("enable.idempotence", false)),
                "the jobs cannot write the events");
    }

    @Test
    void theCredentialsAreKeptOwnerOnlyAndReusedByTheFolder() throws Exception {
        for (String f : List.of(
                KafkaCredentials.ADMIN_FILE,
                KafkaCredentials.COLLECTOR_FILE,
                KafkaCredentials.JOBS_FILE,
                KafkaCredentials.READER_FILE)) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve(f))), f);
        }
        assertEquals(creds, KafkaCredentials.loadOrCreate(data));
        assertEquals(4, new java.util.HashSet<>(creds.passwords().values()).size(), "four accounts, four passwords");
        assertTrue(Files.readString(data.resolve(KafkaCredentials.READER_FILE)).contains("username=\"reader\""));
    }

    @Test
    void aFolderOfTwoAccountsGetsTheOthersAndKeepsItsPasswords(@TempDir Path older) throws Exception {
        KafkaCredentials first = KafkaCredentials.loadOrCreate(older);
        Files.delete(older.resolve(KafkaCredentials.COLLECTOR_FILE));
        Files.delete(older.resolve(KafkaCredentials.JOBS_FILE));
        KafkaCredentials again = KafkaCredentials.loadOrCreate(older);
        assertEquals(first.adminPassword(), again.adminPassword());
        assertEquals(first.readerPassword(), again.readerPassword());
        assertNotEquals(
                first.passwords().get(KafkaCredentials.JOBS), again.passwords().get(KafkaCredentials.JOBS));
        assertTrue(Files.exists(older.resolve(KafkaCredentials.JOBS_FILE)));
    }
}
