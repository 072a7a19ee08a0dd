package io.sockflow.runner.alerts;

import io.sockflow.schemas.Alert;
import io.sockflow.schemas.registry.ConfluentAvro;
import io.sockflow.schemas.registry.RegistryClient;
import io.sockflow.schemas.registry.RegistryException;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Forwards the committed alerts of a topic (read_committed) to the webhook and syslog destinations, at least once:
 * the group's offset moves past an alert only once every destination has taken it or has failed it every attempt.
 * An alert a destination failed is counted there and logged in one line; a record that is no readable alert is
 * skipped, counted and logged; neither stops the forwarder. A schema registry that cannot answer is waited for (the
 * record is not at fault). The group's partitions are assigned, not balanced: one forwarder per group.
 */
public final class AlertForwarder implements Runnable, AutoCloseable {
    /** How often the topic's partitions are looked up again (a topic may be made, or grow, while it runs). */
    private static final Duration PARTITIONS_EVERY = Duration.ofSeconds(30);

    private final Properties kafka;
    private final RegistryClient.Config registry;
    private final String topic;
    private final AlertOutputs.Config config;
    private final List<AlertOutputs.Destination> destinations;
    private final PrintStream log;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final CountDownLatch done = new CountDownLatch(1);
    private final Map<AlertOutputs.Destination, AtomicLong> delivered = new HashMap<>();
    private final Map<AlertOutputs.Destination, AtomicLong> undelivered = new HashMap<>();
    private final AtomicLong forwarded = new AtomicLong();
    private final AtomicLong skipped = new AtomicLong();
    private volatile KafkaConsumer<byte[], byte[]> consumer;

    /** What it has done so far. */
    public record Counts(long forwarded, long delivered, long undelivered, long skipped) {}

    /**
     * @param kafkaClient the Kafka client settings (bootstrap.servers and credentials); the consumer's own are added
     */
    public AlertForwarder(
            Map<String, ?> kafkaClient,
            RegistryClient.Config registry,
            String topic,
            AlertOutputs.Config config,
            List<AlertOutputs.Destination> destinations,
            PrintStream log) {
        this.kafka = new Properties();
        kafka.putAll(kafkaClient);
        kafka.put("group.id", config.group());
        kafka.put("isolation.level", "read_committed");
        kafka.put("enable.auto.commit", "false");
        kafka.put("auto.offset.reset", config.start());
        kafka.put("max.poll.records", "50");
        this.registry = registry;
        this.topic = topic;
        this.config = config;
        this.destinations = List.copyOf(destinations);
        this.log = log;
        for (AlertOutputs.Destination d : destinations) {
            delivered.put(d, new AtomicLong());
            undelivered.put(d, new AtomicLong());
        }
    }

    public Counts counts() {
        return new Counts(
                forwarded.get(),
                delivered.values().stream().mapToLong(AtomicLong::get).sum(),
                undelivered.values().stream().mapToLong(AtomicLong::get).sum(),
                skipped.get());
    }

    /** Where it forwards to, for a line of text. */
    public String destinations() {
        return String.join(
                ", ",
                destinations.stream().map(AlertOutputs.Destination::describe).toList());
    }

    /** One line for the live view: each destination's deliveries and failures, and the records skipped. */
    public String status() {
        StringBuilder b = new StringBuilder("alerts out");
        for (AlertOutputs.Destination d : destinations) {
            b.append(String.format(
                    Locale.ROOT,
                    "  %s %,d delivered %,d undelivered",
                    d.describe(),
                    delivered.get(d).get(),
                    undelivered.get(d).get()));
        }
        return b.append(String.format(Locale.ROOT, "  %,d unreadable skipped", skipped.get()))
                .toString();
    }

    @Override
    public void run() {
        try (KafkaConsumer<byte[], byte[]> c =
                new KafkaConsumer<>(kafka, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer = c;
            if (stopped.getCount() == 0) {
                return;
            }
            ConfluentAvro.Deserializer<Alert> decoder =
                    new ConfluentAvro.Deserializer<>(new RegistryClient(registry), Alert.getClassSchema());
            Set<TopicPartition> assigned = new HashSet<>();
            long nextLookup = 0;
            boolean registryDown = false;
            while (stopped.getCount() > 0) {
                if (System.nanoTime() >= nextLookup) {
                    assign(c, assigned);
                    nextLookup = System.nanoTime() + PARTITIONS_EVERY.toNanos();
                }
                if (assigned.isEmpty()) {
                    stopped.await(1, TimeUnit.SECONDS);
                    nextLookup = 0;
                    continue;
                }
                ConsumerRecords<byte[], byte[]> records = c.poll(Duration.ofMillis(500));
                Map<TopicPartition, Long> rewind = new HashMap<>();
                for (TopicPartition tp : records.partitions()) {
                    for (ConsumerRecord<byte[], byte[]> r : records.records(tp)) {
                        if (!rewind.isEmpty() || stopped.getCount() == 0) {
                            rewind.putIfAbsent(tp, r.offset());
                            break;
                        }
                        Alert a;
                        try {
                            a = decoder.deserialize(r.value());
                            if (registryDown) {
                                log.println("sockflow alerts: the schema registry answers again");
                                registryDown = false;
                            }
                        } catch (RegistryException e) {
                            if (e.status() != 404) {
                                // not the record's fault: it is read again once the registry answers
                                if (!registryDown) {
                                    log.println("sockflow alerts: the schema registry cannot answer ("
                                            + printable(e.getMessage()) + "): waiting for it");
                                    registryDown = true;
                                }
                                rewind.put(tp, r.offset());
                                break;
                            }
                            a = null;
                            skip(r, e);
                        } catch (RuntimeException e) {
                            a = null;
                            skip(r, e);
                        }
                        if (a != null && !deliver(a)) {
                            rewind.put(tp, r.offset()); // stopped while trying it: it goes again at the next start
                            break;
                        }
                        commit(c, tp, r.offset() + 1);
                    }
                }
                rewind.forEach(c::seek);
                if (registryDown) {
                    stopped.await(2, TimeUnit.SECONDS);
                }
            }
        } catch (WakeupException e) {
            // stopped
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.println("sockflow alerts: the forwarder stopped: " + printable(String.valueOf(e.getMessage())));
        } finally {
            consumer = null;
            for (AlertOutputs.Destination d : destinations) {
                d.close();
            }
            done.countDown();
        }
    }

    private void assign(KafkaConsumer<byte[], byte[]> c, Set<TopicPartition> assigned) {
        List<TopicPartition> now = new ArrayList<>();
        try {
            c.partitionsFor(topic, Duration.ofSeconds(10))
                    .forEach(i -> now.add(new TopicPartition(topic, i.partition())));
        } catch (KafkaException e) {
            if (e instanceof WakeupException w) {
                throw w;
            }
            return; // the broker is away: the partitions stay as they were, and are looked up again later
        }
        if (!now.isEmpty() && !assigned.equals(new HashSet<>(now))) {
            c.assign(now);
            assigned.clear();
            assigned.addAll(now);
        }
    }

    private void skip(ConsumerRecord<byte[], byte[]> r, RuntimeException e) {
        skipped.incrementAndGet();
        log.println("sockflow alerts: record " + r.topic() + "/" + r.partition() + "@" + r.offset()
                + " is no alert that can be read, skipped: " + printable(String.valueOf(e.getMessage())));
    }

    /** To every destination, each tried up to the attempts given; false when stopped before it was done. */
    private boolean deliver(Alert a) throws InterruptedException {
        for (AlertOutputs.Destination d : destinations) {
            Duration wait = config.backoff();
            for (int attempt = 1; ; attempt++) {
                try {
                    d.send(a);
                    delivered.get(d).incrementAndGet();
                    break;
                } catch (java.io.InterruptedIOException e) {
                    return false;
                } catch (IOException | RuntimeException e) {
                    // a runtime failure of one destination (a name that does not resolve yet, a library's refusal)
                    // is a failed attempt like any other: the forwarder and the other destinations go on
                    boolean retry = !(e instanceof Webhook.Failure f) || f.retry();
                    if (!retry || attempt >= config.attempts()) {
                        undelivered.get(d).incrementAndGet();
                        log.println("sockflow alerts: alert " + a.getAlertId() + " (" + a.getRule()
                                + ") not delivered to " + d.describe() + " after " + attempt
                                + (attempt == 1 ? " attempt: " : " attempts: ")
                                + printable(e.getMessage() != null ? e.getMessage() : e.toString()));
                        break;
                    }
                    if (stopped.await(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                        return false;
                    }
                    wait = wait.multipliedBy(2).compareTo(AlertOutputs.MAX_BACKOFF) > 0
                            ? AlertOutputs.MAX_BACKOFF
                            : wait.multipliedBy(2);
                }
            }
        }
        forwarded.incrementAndGet();
        return true;
    }

    private void commit(KafkaConsumer<byte[], byte[]> c, TopicPartition tp, long next) {
        try {
            c.commitSync(Map.of(tp, new OffsetAndMetadata(next)), Duration.ofSeconds(10));
        } catch (WakeupException e) {
            throw e;
        } catch (KafkaException e) {
            // the next commit covers this one; if none comes, the alert is forwarded again (at least once)
            log.println("sockflow alerts: cannot commit the forwarded position (" + printable(e.getMessage())
                    + "): the alerts since the last commit may be forwarded again");
        }
    }

    /** Stops it: an alert being tried is not committed, and goes again at the next start. */
    public void stop() {
        stopped.countDown();
        KafkaConsumer<byte[], byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
    }

    /** Whether {@link #stop} was called. */
    public boolean stopping() {
        return stopped.getCount() == 0;
    }

    /** Waits for {@link #run} to end after {@link #stop}. */
    public boolean await(Duration d) throws InterruptedException {
        return done.await(d.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        stop();
    }

    /** A log line's text with control characters escaped: a message cannot forge another line. */
    static String printable(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            int type = Character.getType(c);
            if (c == '\\') {
                b.append("\\\\");
            } else if (type == Character.CONTROL || type == Character.FORMAT) {
                b.append(String.format(Locale.ROOT, c < 0x100 ? "\\x%02x" : "\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
