package io.sockflow.collector.transport;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves serialized records to Kafka without losing any. The capture thread hands each record straight to an
 * idempotent producer (acks=all) that never blocks: when its memory is full or the broker is unknown the record is
 * refused on the spot, and from then on records go to the on-disk {@link Spool}, in order, until a shipper thread
 * has sent everything spooled. The producer retries what it holds for as long as the broker is away. At stop,
 * whatever Kafka has not acknowledged is spooled for the next run. Per key, Kafka gets records once and in order.
 *
 * <p>A producer can also wedge: after a broker restart the broker may answer every batch of a partition with
 * OutOfOrderSequenceException while the producer, which retries for ever, keeps resending them. So when records are
 * in flight and nothing at all is acknowledged for {@link #RESTART_AFTER} (doubling while it lasts, up to ten
 * minutes), the producer is replaced: what it held is spooled, in order, ahead of what was spooled already, and a
 * new producer (a new producer id, so new sequences) sends it. Records the broker had written but not acknowledged
 * are then sent twice; the jobs fold duplicates once.
 */
public final class KafkaShipper implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaShipper.class);

    private final String topic;
    private final Map<String, Object> config;
    private final Duration restartAfter;
    /** the current producer; replaced by the shipper's thread when it wedges (see the class comment) */
    private volatile Generation current;

    private final Spool spool;
    private final ConcurrentLinkedQueue<Ack> abandoned = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private final LongAdder sent = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final LongAdder offered = new LongAdder();
    private final AckCounts acks = new AckCounts();
    private volatile boolean spooling;
    private volatile boolean running = true;
    private final AtomicLong seq = new AtomicLong();
    /** records an abandoned producer held, spooled again while running (no longer in flight) */
    private final LongAdder respooled = new LongAdder();

    private final LongAdder restarts = new LongAdder();
    /** held while a producer is being replaced, and by {@link #close(Duration)} */
    private final Object producerLock = new Object();

    private Spool.Entry retry;

    /** One producer and whether it is being closed (its aborted records are then spooled, not counted failed). */
    private static final class Generation {
        final KafkaProducer<byte[], byte[]> producer;
        volatile boolean closing;

        Generation(KafkaProducer<byte[], byte[]> producer) {
            this.producer = producer;
        }
    }

    public KafkaShipper(String topic, Map<String, Object> producerConfig, Spool spool, long bufferBytes) {
        this(topic, producerConfig, spool, bufferBytes, RESTART_AFTER);
    }

    /** {@code restartAfter}: how long records may go unacknowledged before the producer is replaced. */
    public KafkaShipper(
            String topic, Map<String, Object> producerConfig, Spool spool, long bufferBytes, Duration restartAfter) {
        this.topic = topic;
        this.spool = spool;
        this.restartAfter = restartAfter;
        Map<String, Object> p = new HashMap<>(defaults());
        p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, bufferBytes);
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, (int) Math.min(256 * 1024, bufferBytes / 4));
        p.putAll(producerConfig);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 0); // never block the capture thread: refusals go to the spool
        this.config = Map.copyOf(p);
        this.current =
                new Generation(new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer()));
        awaitMetadata(current.producer);
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
        p.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1_000);
        p.put("retry.backoff.max.ms", 1_000);
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        return p;
    }

    /** With max.block.ms=0 the first sends would be refused until the producer knows the topic: learn it first. */
    private void awaitMetadata(KafkaProducer<byte[], byte[]> producer) {
        long deadline = System.nanoTime() + 15_000_000_000L;
        while (System.nanoTime() < deadline && running) {
            try {
                producer.partitionsFor(topic);
                return;
            } catch (RuntimeException e) {
                LockSupport.parkNanos(50_000_000L);
            }
        }
        LOG.warn("no metadata for topic {} yet: records are spooled until the broker answers", topic);
    }

    /** The topic's partitions as the producer knows them now; 0 when it does not know yet (it never waits). */
    public int partitions() {
        try {
            return current.producer.partitionsFor(topic).size();
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /** Called by the capture thread; never blocks. Returns false when the spool's policy dropped the record. */
    public boolean offer(byte[] key, byte[] value) {
        offered.increment();
        if (!spooling && trySend(key, value, -1)) {
            return true;
        }
        // under the lock the shipper takes to leave spool mode, so no record slips in behind its check
        synchronized (this) {
            if (!spooling) {
                if (trySend(key, value, -1)) {
                    return true;
                }
                spooling = true;
                LOG.warn("Kafka is not taking records (broker away?): spooling them to disk");
            }
            return spool.append(key, value);
        }
    }

    /** Hands one record to the producer; false when the producer refused it on the spot (full, or no metadata). */
    private boolean trySend(byte[] key, byte[] value, long spoolSegment) {
        long n = seq.incrementAndGet();
        // the produce latency is sampled (one record in 64): a clock read per record shows in the profile
        Generation g = current;
        Ack ack =
                new Ack(n, key, value, spoolSegment, (n & 63) == 0 ? System.nanoTime() : 0L, Thread.currentThread(), g);
        try {
            g.producer.send(new ProducerRecord<>(topic, key, value), ack);
        } catch (IllegalStateException | org.apache.kafka.common.KafkaException closed) {
            if (!g.closing) {
                throw closed;
            }
            return false; // the producer was closed under us (being replaced): the caller spools the record
        }
        ack.returned = true;
        if (ack.refused) {
            return false;
        }
        sent.increment();
        return true;
    }

    private void run() {
        Stall stall = new Stall();
        while (running) {
            if (stall.check()) {
                restartProducer(stall.waited());
            }
            if (!spooling) {
                LockSupport.parkNanos(10_000_000L);
                continue;
            }
            if (!drainSpool()) {
                LockSupport.parkNanos(20_000_000L); // the producer is full or the broker away: try again soon
            }
        }
    }

    /** Watches for records in flight with no acknowledgement; the wait before a restart doubles while it lasts. */
    private final class Stall {
        long progress = -1;
        long since = System.nanoTime();
        long limit = restartAfter.toNanos();
        long waited;

        /** True when the producer should be replaced now. */
        boolean check() {
            long now = System.nanoTime();
            long p = acks.acked() + failed.sum();
            if (p != progress || inFlight() == 0) {
                if (p != progress && progress >= 0) {
                    limit = restartAfter.toNanos(); // it moves again
                }
                progress = p;
                since = now;
                return false;
            }
            if (now - since < limit) {
                return false;
            }
            since = now;
            waited = limit;
            limit = Math.min(
                    limit * 2,
                    Math.max(restartAfter.toNanos(), Duration.ofMinutes(10).toNanos()));
            return true;
        }

        Duration waited() {
            return Duration.ofNanos(waited);
        }
    }

    /**
     * Replaces a producer that has had records in flight without an acknowledgement for too long: records go to the
     * spool meanwhile; the old producer is closed at once (its callbacks complete, aborted, before close returns);
     * what it held, and the spooled record waiting to be retried, are spooled again in the order they were sent,
     * ahead of the rest; a new producer sends them.
     */
    private void restartProducer(Duration waited) {
        synchronized (producerLock) {
            if (!running) {
                return;
            }
            long held = inFlight();
            synchronized (this) {
                spooling = true;
            }
            Generation old = current;
            old.closing = true;
            old.producer.close(Duration.ZERO);
            List<Ack> aborted = new ArrayList<>(abandoned);
            abandoned.clear();
            aborted.sort(Comparator.comparingLong(a -> a.seq));
            List<byte[][]> front = new ArrayList<>();
            for (Ack a : aborted) {
                front.add(new byte[][] {a.key, a.value});
                if (a.spoolSegment >= 0) {
                    spool.acknowledge(a.spoolSegment); // its copy moves to the new front segment
                }
            }
            respooled.add(aborted.size());
            if (retry != null) {
                front.add(new byte[][] {retry.key(), retry.value()});
                spool.acknowledge(retry.segment());
                retry = null;
            }
            spool.prepend(front);
            spool.restartReading();
            restarts.increment();
            LOG.warn(
                    "Kafka acknowledged nothing for {} s with {} records in flight: the producer is restarted, "
                            + "what it held ({} records) is spooled and sent again",
                    waited.toSeconds(),
                    held,
                    aborted.size());
            current = new Generation(new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer()));
            awaitMetadata(current.producer);
        }
    }

    /** Sends spooled records in order; leaves spool mode once everything spooled was handed over. */
    private boolean drainSpool() {
        if (retry != null) {
            if (!trySend(retry.key(), retry.value(), retry.segment())) {
                return false;
            }
            retry = null;
        }
        for (int n = 0; n < 10_000 && running; n++) {
            Spool.Entry e = spool.next();
            if (e == null) {
                synchronized (this) {
                    if (!spool.hasUnread()) {
                        spooling = false;
                        LOG.warn("spool drained: records go straight to Kafka again");
                    }
                }
                return true;
            }
            if (!trySend(e.key(), e.value(), e.segment())) {
                retry = e;
                return false;
            }
        }
        return true;
    }

    private final class Ack implements Callback {
        final long seq;
        final byte[] key;
        final byte[] value;
        final int valueLength; // read on acknowledgement instead of the array's header, long out of the cache by then
        final long spoolSegment;
        final long offeredNs;
        final Thread caller;
        final Generation generation;
        // read and written by the sending thread only: a refusal is reported on that thread, inside send()
        boolean returned;
        boolean refused;

        Ack(long seq, byte[] key, byte[] value, long spoolSegment, long offeredNs, Thread caller, Generation g) {
            this.seq = seq;
            this.key = key;
            this.value = value;
            this.valueLength = value.length;
            this.spoolSegment = spoolSegment;
            this.offeredNs = offeredNs;
            this.caller = caller;
            this.generation = g;
        }

        @Override
        public void onCompletion(RecordMetadata metadata, Exception e) {
            if (e != null) {
                boolean synchronous = !returned && Thread.currentThread() == caller;
                if (synchronous && !(e instanceof RecordTooLargeException) && !(e instanceof SerializationException)) {
                    refused = true; // full or no metadata: the caller spools it
                    return;
                }
                if (synchronous || (running && !generation.closing)) {
                    failed.increment();
                    LOG.error("Kafka refused a record ({}): it is dropped and counted", e.toString());
                    if (spoolSegment >= 0) {
                        spool.acknowledge(spoolSegment);
                    }
                } else {
                    abandoned.add(this); // aborted by close: spooled for the next run
                }
                return;
            }
            acks.add(valueLength, offeredNs == 0 ? 0 : System.nanoTime() - offeredNs);
            if (spoolSegment >= 0) {
                spool.acknowledge(spoolSegment);
            }
        }
    }

    /**
     * What has happened so far; spoolCorrupt and spoolLostBytes: records and bytes lost to spool damage; spoolShed:
     * records not spooled because its file system was nearly full.
     */
    public record Stats(
            long offered,
            long acked,
            long ackedBytes,
            long failed,
            long queued,
            long inFlight,
            long spoolDepth,
            long spoolBytes,
            long spoolDropped,
            long spoolCorrupt,
            double meanLatencyMs,
            long spoolLostBytes,
            long producerRestarts,
            long spoolShed) {}

    public Stats stats() {
        long samples = acks.latencySamples();
        return new Stats(
                offered.sum(),
                acks.acked(),
                acks.bytes(),
                failed.sum(),
                0,
                inFlight(),
                spool.depth(),
                spool.bytes(),
                spool.dropped(),
                spool.corrupt(),
                samples == 0 ? 0 : acks.latencyNsSum() / (double) samples / 1e6,
                spool.lostBytes(),
                restarts.sum(),
                spool.shed());
    }

    private long inFlight() {
        return sent.sum() - acks.acked() - failed.sum() - abandoned.size() - respooled.sum();
    }

    /** Padding before {@link AckCountFields}: superclass fields come first in HotSpot's layout. */
    @SuppressWarnings("unused")
    private static class AckPadBefore {
        long p0, p1, p2, p3, p4, p5, p6, p7;
    }

    private static class AckCountFields extends AckPadBefore {
        long acked;
        long bytes;
        long latencyNsSum;
        long latencySamples;
    }

    /**
     * What Kafka acknowledged, counted by the producer's network thread on cache lines of their own. Next to the
     * capture thread's counters (as LongAdders allocated together were) every acknowledgement fought the capture
     * thread for the line: half the network thread's time went there. Atomic adds keep the counts exact whichever
     * thread completes a record; readers see them a moment late at worst.
     */
    @SuppressWarnings("unused")
    private static final class AckCounts extends AckCountFields {
        private static final VarHandle ACKED;
        private static final VarHandle BYTES;
        private static final VarHandle LATENCY_SUM;
        private static final VarHandle LATENCY_SAMPLES;

        static {
            try {
                MethodHandles.Lookup l = MethodHandles.lookup();
                ACKED = l.findVarHandle(AckCountFields.class, "acked", long.class);
                BYTES = l.findVarHandle(AckCountFields.class, "bytes", long.class);
                LATENCY_SUM = l.findVarHandle(AckCountFields.class, "latencyNsSum", long.class);
                LATENCY_SAMPLES = l.findVarHandle(AckCountFields.class, "latencySamples", long.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        long q0, q1, q2, q3, q4, q5, q6, q7;

        void add(int valueBytes, long latencyNs) {
            BYTES.getAndAdd(this, (long) valueBytes);
            if (latencyNs != 0) {
                LATENCY_SUM.getAndAdd(this, latencyNs);
                LATENCY_SAMPLES.getAndAdd(this, 1L);
            }
            ACKED.getAndAdd(this, 1L); // last: a reader that sees a record acknowledged sees its bytes too
        }

        long acked() {
            return (long) ACKED.getVolatile(this);
        }

        long bytes() {
            return (long) BYTES.getVolatile(this);
        }

        long latencyNsSum() {
            return (long) LATENCY_SUM.getVolatile(this);
        }

        long latencySamples() {
            return (long) LATENCY_SAMPLES.getVolatile(this);
        }
    }

    public boolean spooling() {
        return spooling;
    }

    /** Waits until everything offered so far is acknowledged, or the timeout passes. */
    public boolean awaitAcked(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!spooling && inFlight() == 0 && spool.depth() == 0) {
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

    /** How long the shipper's thread may take to stop: it checks between records and sleeps 20 ms at most. */
    static final Duration THREAD_STOP = Duration.ofSeconds(2);
    /** How long the producer may take to close once everything was acknowledged (otherwise it is aborted at once). */
    static final Duration PRODUCER_CLOSE = Duration.ofSeconds(5);
    /**
     * How long saving to the spool may take: what the producer held (at most its buffer.memory, 64 MiB by default)
     * written and fsynced, the open segment sealed and fsynced. bench/spool measures it (about a second here).
     */
    static final Duration SPOOL_SAVE = Duration.ofSeconds(15);
    /** With records in flight, no acknowledgement at all for this long replaces the producer (see the class). */
    public static final Duration RESTART_AFTER = Duration.ofMinutes(1);
    /** With records pending, no acknowledgement for this long means the broker is away: stop waiting for it. */
    static final Duration ACK_STALL = Duration.ofSeconds(3);

    /** The most {@link #close(Duration)} takes with this grace: each step's budget, added up. */
    public static Duration stopBudget(Duration grace) {
        return grace.plus(THREAD_STOP).plus(PRODUCER_CLOSE).plus(SPOOL_SAVE);
    }

    /**
     * Stops, in steps with a budget each (see {@link #stopBudget}): gives Kafka up to {@code grace} to acknowledge
     * what is pending (less when nothing is acknowledged for {@link #ACK_STALL}: the broker is away), stops the
     * shipper's thread, closes the producer (aborting what it still holds), then spools what Kafka did not
     * acknowledge (what the producer held goes before what was spooled already) and closes the spool, which fsyncs
     * it, so that the next run sends it.
     */
    public void close(Duration grace) {
        boolean done = awaitAckedOrStalled(grace);
        running = false;
        try {
            thread.join(THREAD_STOP.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (producerLock) {
            Generation g = current;
            g.closing = true;
            g.producer.close(done ? PRODUCER_CLOSE : Duration.ZERO);
        }
        List<Ack> aborted = new ArrayList<>(abandoned);
        aborted.sort(Comparator.comparingLong(a -> a.seq));
        List<byte[][]> front = new ArrayList<>();
        for (Ack a : aborted) {
            if (a.spoolSegment < 0) {
                front.add(new byte[][] {a.key, a.value}); // not in the spool yet: keep it, before the rest
            }
        }
        abandoned.clear();
        int kept = spool.prepend(front);
        spool.rewind();
        spool.close();
        if (kept > 0 || spool.depth() > 0) {
            LOG.warn("{} records Kafka had not acknowledged are spooled for the next run", spool.depth());
        }
    }

    /** {@link #awaitAcked}, but gives up early once acknowledgements stop coming while records are pending. */
    private boolean awaitAckedOrStalled(Duration grace) {
        long deadline = System.nanoTime() + grace.toNanos();
        long lastAcked = acks.acked() + failed.sum();
        long lastProgress = System.nanoTime();
        while (System.nanoTime() < deadline) {
            if (!spooling && inFlight() == 0 && spool.depth() == 0) {
                return true;
            }
            long now = System.nanoTime();
            long progress = acks.acked() + failed.sum();
            if (progress != lastAcked) {
                lastAcked = progress;
                lastProgress = now;
            } else if (now - lastProgress > ACK_STALL.toNanos()) {
                return false;
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

    @Override
    public void close() {
        close(Duration.ofSeconds(10));
    }
}
