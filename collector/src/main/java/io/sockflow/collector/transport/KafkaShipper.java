package io.sockflow.collector.transport;

import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Moves serialized records to Kafka without losing any: the capture thread {@link #offer}s them; a shipper thread
 * hands them to an idempotent producer (acks=all) that retries for as long as it takes. When the broker is away
 * the producer's memory fills, the shipper blocks, its queue fills, and from then on records go to the on-disk
 * {@link Spool}, in order, until the shipper has sent everything spooled. At stop, whatever Kafka has not
 * acknowledged is spooled for the next run. Per key, Kafka receives records exactly once and in order.
 */
public final class KafkaShipper implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaShipper.class);

    private record Pending(long seq, byte[] key, byte[] value, long spoolSegment, long offeredNs) {
    }

    private final String topic;
    private final KafkaProducer<byte[], byte[]> producer;
    private final ArrayBlockingQueue<Pending> queue;
    private final Spool spool;
    /** Records the producer gave back unsent at close, to be spooled in their original order. */
    private final java.util.concurrent.ConcurrentLinkedQueue<Pending> abandoned = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final AtomicLong sent = new AtomicLong();
    private final Thread thread;
    private final AtomicLong acked = new AtomicLong();
    private final AtomicLong ackedBytes = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong latencyNsSum = new AtomicLong();
    private final AtomicLong latencyCount = new AtomicLong();
    private final AtomicLong offered = new AtomicLong();
    private volatile boolean spooling;
    private volatile boolean running = true;
    private long seq;

    public KafkaShipper(String topic, Map<String, Object> producerConfig, Spool spool, int queueCapacity) {
        this.topic = topic;
        this.spool = spool;
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        Map<String, Object> p = new HashMap<>(defaults());
        p.putAll(producerConfig);
        this.producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        // records left spooled by an earlier run go first
        this.spooling = spool.hasUnread();
        this.thread = Thread.ofPlatform().name("sockflow-shipper").daemon().start(this::run);
    }

    /** Producer settings for no loss and no duplicates; the caller's settings override them. */
    public static Map<String, Object> defaults() {
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put("max.in.flight.requests.per.connection", 5);
        p.put(ProducerConfig.RETRIES_CONFIG, Integer.MAX_VALUE);
        // a broker away for a while is normal: keep retrying instead of failing records
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Integer.MAX_VALUE);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Long.MAX_VALUE);
        p.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1_000);
        p.put("retry.backoff.max.ms", 1_000);
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 64L << 20);
        return p;
    }

    /** Called by the capture thread; never blocks. Returns false when the spool's policy dropped the record. */
    public boolean offer(byte[] key, byte[] value) {
        offered.incrementAndGet();
        if (!spooling && queue.offer(new Pending(0, key, value, -1, System.nanoTime()))) {
            return true;
        }
        // under the lock the shipper takes to leave spool mode, so no record can slip in behind its check
        synchronized (this) {
            if (!spooling) {
                if (queue.offer(new Pending(0, key, value, -1, System.nanoTime()))) {
                    return true;
                }
                spooling = true;
                LOG.warn("Kafka is not keeping up (broker away?): spooling records to disk");
            }
            return spool.append(key, value);
        }
    }

    private void run() {
        while (running || !queue.isEmpty()) {
            try {
                Pending p = queue.poll(10, TimeUnit.MILLISECONDS);
                if (p != null) {
                    send(p);
                    continue;
                }
                if (spooling) {
                    drainSpool();
                }
            } catch (InterruptedException e) {
                if (!running) {
                    break;
                }
            } catch (RuntimeException e) {
                if (running) {
                    LOG.error("shipper: {}", e.toString());
                }
                break;
            }
        }
    }

    /** Sends spooled records in order; leaves spool mode once the spool is read and the queue is empty. */
    private void drainSpool() {
        int n = 0;
        Spool.Entry e;
        while (running && n < 10_000 && (e = spool.next()) != null) {
            send(new Pending(0, e.key(), e.value(), e.segment(), System.nanoTime()));
            n++;
        }
        if (n == 0) {
            synchronized (this) {
                if (!spool.hasUnread() && queue.isEmpty()) {
                    spooling = false;
                    LOG.warn("spool drained: records go straight to Kafka again");
                }
            }
        }
    }

    private void send(Pending p) {
        Pending tracked = new Pending(++seq, p.key(), p.value(), p.spoolSegment(), p.offeredNs());
        sent.incrementAndGet();
        producer.send(new ProducerRecord<>(topic, p.key(), p.value()), new Ack(tracked));
    }

    private final class Ack implements Callback {
        private final Pending p;

        Ack(Pending p) {
            this.p = p;
        }

        @Override
        public void onCompletion(RecordMetadata metadata, Exception e) {
            if (e != null) {
                if (running) {
                    failed.incrementAndGet();
                    LOG.error("Kafka refused a record ({}): it is dropped and counted", e.toString());
                } else {
                    abandoned.add(p); // aborted by close: spooled for the next run
                }
                return;
            }
            acked.incrementAndGet();
            ackedBytes.addAndGet(p.value().length);
            latencyNsSum.addAndGet(System.nanoTime() - p.offeredNs());
            latencyCount.incrementAndGet();
            if (p.spoolSegment() >= 0) {
                spool.acknowledge(p.spoolSegment());
            }
        }
    }

    /** What has happened so far. */
    public record Stats(long offered, long acked, long ackedBytes, long failed, long queued, long inFlight,
            long spoolDepth, long spoolBytes, long spoolDropped, long spoolCorrupt, double meanLatencyMs) {
    }

    public Stats stats() {
        long n = latencyCount.get();
        return new Stats(offered.get(), acked.get(), ackedBytes.get(), failed.get(), queue.size(), inFlight(),
                spool.depth(), spool.bytes(), spool.dropped(), spool.corrupt(),
                n == 0 ? 0 : latencyNsSum.get() / (double) n / 1e6);
    }

    private long inFlight() {
        return sent.get() - acked.get() - failed.get() - abandoned.size();
    }

    public boolean spooling() {
        return spooling;
    }

    /** Waits until everything offered so far is acknowledged, or the timeout passes. */
    public boolean awaitAcked(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (queue.isEmpty() && inFlight() == 0 && !spool.hasUnread() && spool.depth() == 0) {
                return true;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }

    /**
     * Stops: gives Kafka {@code grace} to acknowledge what is pending, then spools whatever it has not (in flight
     * first, then queued), so the next run sends it.
     */
    public void close(Duration grace) {
        boolean done = awaitAcked(grace);
        running = false;
        thread.interrupt();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        producer.close(done ? Duration.ofSeconds(5) : Duration.ZERO);
        List<Pending> aborted = new ArrayList<>(abandoned);
        aborted.sort(java.util.Comparator.comparingLong(Pending::seq));
        List<byte[][]> front = new ArrayList<>();
        for (Pending p : aborted) {
            if (p.spoolSegment() < 0) {
                front.add(new byte[][] {p.key(), p.value()}); // not in the spool yet: keep it, before the rest
            }
        }
        abandoned.clear();
        int kept = spool.prepend(front);
        int queued = 0;
        for (Pending p; (p = queue.poll()) != null; ) {
            queued += spool.append(p.key(), p.value()) ? 1 : 0;
        }
        spool.rewind();
        spool.close();
        if (kept + queued > 0) {
            LOG.warn("{} records Kafka had not acknowledged are spooled for the next run", kept + queued);
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(10));
    }
}
