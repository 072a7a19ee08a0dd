package io.sockflow.runner;

import io.sockflow.collector.output.CaptureFile;
import io.sockflow.collector.transport.KafkaOutput;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.registry.ConfluentAvro;
import io.sockflow.schemas.registry.RegistryClient;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Plays a recorded capture back onto {@code sockflow.events} as the collector would have written it (same keys,
 * same wire format), moved to the present: the first event gets the time of the replay's start and the others
 * keep their spacing, so windows, timeouts and the live view behave as they did when it was recorded.
 */
public final class Replay implements Runnable {
    /** The capture that ships with sockflow (a python workload: TCP connections, refused connects, UDP, a socketpair). */
    public static final String SAMPLE = "sample";

    private final List<SocketEvent> events;
    private final String bootstrap;
    private final RegistryClient.Config registry;
    private final String topic;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong lost = new AtomicLong();
    private final java.util.Map<String, String> kafkaClient;

    public Replay(List<SocketEvent> events, String bootstrap, String registryUrl, String topic) {
        this(events, bootstrap, RegistryClient.Config.of(registryUrl), topic);
    }

    public Replay(List<SocketEvent> events, String bootstrap, RegistryClient.Config registry, String topic) {
        this(events, bootstrap, java.util.Map.of(), registry, topic);
    }

    /** With extra Kafka client settings (the broker's credentials). */
    public Replay(
            List<SocketEvent> events,
            String bootstrap,
            java.util.Map<String, String> kafkaClient,
            RegistryClient.Config registry,
            String topic) {
        this.kafkaClient = java.util.Map.copyOf(kafkaClient);
        this.events = events;
        this.bootstrap = bootstrap;
        this.registry = registry;
        this.topic = topic;
    }

    /** Events of a capture file, or of the shipped sample for {@value #SAMPLE}. */
    public static List<SocketEvent> load(String file) {
        if (SAMPLE.equals(file)) {
            try (InputStream in = Replay.class.getResourceAsStream("sample-capture.avro")) {
                return CaptureFile.read(in, "the shipped sample");
            } catch (java.io.IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return CaptureFile.read(Path.of(file));
    }

    /** Events the broker acknowledged. */
    public long sent() {
        return sent.get();
    }

    /** Events the broker did not take (after the producer's retries). */
    public long lost() {
        return lost.get();
    }

    public void stop() {
        stop.set(true);
    }

    @Override
    public void run() {
        Properties p = new Properties();
        p.putAll(kafkaClient);
        p.put("bootstrap.servers", bootstrap);
        p.put("acks", "all");
        p.put("enable.idempotence", "true");
        p.put("linger.ms", "20");
        // one request in flight: a refused batch is retried in order, not overtaken by the ones behind it
        p.put("max.in.flight.requests.per.connection", "1");
        ConfluentAvro.Serializer<SocketEvent> ser =
                new ConfluentAvro.Serializer<>(new RegistryClient(registry), topic, SocketEvent.getClassSchema());
        if (events.isEmpty()) {
            return;
        }
        long firstMicros = micros(events.get(0).getTimestamp());
        long firstMono = events.get(0).getMonotonicNs();
        long startMicros = micros(Instant.now());
        long startNanos = System.nanoTime();
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (SocketEvent e : events) {
                if (stop.get()) {
                    break;
                }
                long offsetMicros = micros(e.getTimestamp()) - firstMicros;
                long due = startNanos + offsetMicros * 1000;
                while (System.nanoTime() < due && !stop.get()) {
                    try {
                        Thread.sleep(Math.max(1, Math.min(100, (due - System.nanoTime()) / 1_000_000)));
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
                SocketEvent copy = SocketEvent.newBuilder(e).build();
                long t = startMicros + offsetMicros;
                copy.setTimestamp(
                        Instant.ofEpochSecond(Math.floorDiv(t, 1_000_000L), Math.floorMod(t, 1_000_000L) * 1000));
                copy.setMonotonicNs(e.getMonotonicNs() - firstMono + startNanos);
                producer.send(
                        new ProducerRecord<>(topic, KafkaOutput.key(copy), ser.serialize(copy)),
                        (meta, failed) -> (failed == null ? sent : lost).incrementAndGet());
            }
            producer.flush();
            // the recording's clock stops with it: from then on a clock tick every second, two minutes on and
            // moving, lets its windows (port scans, bursts) and grace periods complete as time going on would on
            // a live host (and keeps the partition it lands on from going idle, so its watermark counts)
            SocketEvent last = events.get(events.size() - 1);
            long endNanos = System.nanoTime();
            while (!stop.get()) {
                SocketEvent tick = SocketEvent.newBuilder(last).build();
                long t = startMicros
                        + micros(last.getTimestamp())
                        - firstMicros
                        + 120_000_000L
                        + (System.nanoTime() - endNanos) / 1000;
                tick.setTimestamp(
                        Instant.ofEpochSecond(Math.floorDiv(t, 1_000_000L), Math.floorMod(t, 1_000_000L) * 1000));
                tick.setKind(io.sockflow.schemas.EventKind.UNKNOWN);
                tick.setSocketInode(null);
                tick.setSocketKernelAddress(null);
                tick.setRelatedSocketInode(null);
                tick.setRelatedSocketKernelAddress(null);
                tick.setPid(0);
                tick.setComm("replay-clock");
                producer.send(new ProducerRecord<>(topic, KafkaOutput.key(tick), ser.serialize(tick)));
                producer.flush();
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            producer.flush();
        }
    }

    private static long micros(Instant t) {
        return t.getEpochSecond() * 1_000_000L + t.getNano() / 1000;
    }
}
