package io.sockflow.collector.transport;

import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.SocketIdentity;
import io.sockflow.schemas.registry.ConfluentAvro;
import io.sockflow.schemas.registry.RegistryClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The collector's Kafka output: SocketEvents as Avro in the Confluent wire format (schema registered under
 * {@code <topic>-value}), keyed by host and socket identity so that one socket's events stay in order on one
 * partition, shipped by a {@link KafkaShipper} that spools to disk while the broker is away.
 */
public final class KafkaOutput implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaOutput.class);
    private static final String STATE_FILE = "collector.state";

    private final ConfluentAvro.Serializer<SocketEvent> serializer;
    private final KafkaShipper shipper;
    private final Path stateFile;
    private final String previousRunReport;
    private final String topic;
    /** Partitions written to since the last clock tick; null until the first event names the host. */
    private PartitionClock clock;

    private int partitions;
    private volatile long clockRecords; // one writer (the capturing thread)

    /**
     * Where and how to write; spoolFsyncInterval: the most time between spooling a record and its fsync;
     * diskMinFreeBytes: new records are shed rather than spooled while the spool's file system has less free space
     * ({@link DiskGuard#AUTO}: the larger of 2 GiB and 5%, {@link DiskGuard#OFF}: never).
     */
    public record Options(
            String bootstrapServers,
            String topic,
            int partitions,
            short replicationFactor,
            Map<String, Object> clientConfig,
            Path spoolDir,
            long spoolMaxBytes,
            Spool.FullPolicy spoolPolicy,
            long bufferBytes,
            Duration spoolFsyncInterval,
            long diskMinFreeBytes) {
        /** With the disk guard's default minimum ({@link DiskGuard#AUTO}). */
        public Options(
                String bootstrapServers,
                String topic,
                int partitions,
                short replicationFactor,
                Map<String, Object> clientConfig,
                Path spoolDir,
                long spoolMaxBytes,
                Spool.FullPolicy spoolPolicy,
                long bufferBytes,
                Duration spoolFsyncInterval) {
            this(
                    bootstrapServers,
                    topic,
                    partitions,
                    replicationFactor,
                    clientConfig,
                    spoolDir,
                    spoolMaxBytes,
                    spoolPolicy,
                    bufferBytes,
                    spoolFsyncInterval,
                    DiskGuard.AUTO);
        }

        public Options(
                String bootstrapServers,
                String topic,
                int partitions,
                short replicationFactor,
                Map<String, Object> clientConfig,
                Path spoolDir,
                long spoolMaxBytes,
                Spool.FullPolicy spoolPolicy,
                long bufferBytes) {
            this(
                    bootstrapServers,
                    topic,
                    partitions,
                    replicationFactor,
                    clientConfig,
                    spoolDir,
                    spoolMaxBytes,
                    spoolPolicy,
                    bufferBytes,
                    Spool.DEFAULT_FSYNC_INTERVAL);
        }
    }

    public KafkaOutput(Options o, RegistryClient registry) {
        Map<String, Object> client = new HashMap<>(o.clientConfig());
        client.put("bootstrap.servers", o.bootstrapServers());
        this.stateFile = o.spoolDir().resolve(STATE_FILE);
        this.previousRunReport = readPreviousRun(stateFile);
        this.topic = o.topic();
        ensureTopic(client, o.topic(), o.partitions(), o.replicationFactor());
        this.serializer = new ConfluentAvro.Serializer<>(
                registry, o.topic(), SocketEvent.getClassSchema(), io.sockflow.schemas.avro.SocketEventWriter::write);
        serializer.register();
        Spool spool = new Spool(o.spoolDir(), o.spoolMaxBytes(), o.spoolPolicy(), o.spoolFsyncInterval())
                .guard(DiskGuard.of(o.spoolDir(), o.diskMinFreeBytes()));
        this.shipper = new KafkaShipper(o.topic(), client, spool, o.bufferBytes());
        // an existing topic keeps its own partitions, whatever the setting says
        int known = shipper.partitions();
        this.partitions = known > 0 ? known : o.partitions();
        writeState(false);
    }

    /** Creates the topic with the configured partitions when it is missing; an existing topic is left as it is. */
    static void ensureTopic(Map<String, Object> client, String topic, int partitions, short rf) {
        Map<String, Object> admin = new HashMap<>(client);
        admin.put("request.timeout.ms", 15_000);
        admin.put("default.api.timeout.ms", 15_000);
        try (Admin a = Admin.create(admin)) {
            a.createTopics(List.of(
                            new NewTopic(topic, Optional.of(partitions), rf > 0 ? Optional.of(rf) : Optional.empty())))
                    .all()
                    .get(20, TimeUnit.SECONDS);
            LOG.info("created topic {} with {} partitions", topic, partitions);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException) {
                // the admin client's own deadline came first: the same situation as ours below
                throw new TransportException("Kafka at " + client.get("bootstrap.servers") + " did not answer within "
                        + "15 s: check --bootstrap-servers and that the broker is up");
            }
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new TransportException("Kafka at " + client.get("bootstrap.servers") + " cannot create topic "
                        + topic + ": " + e.getCause().getMessage() + ": check --bootstrap-servers, the broker's "
                        + "permissions and --topic-partitions");
            }
        } catch (java.util.concurrent.TimeoutException e) {
            throw new TransportException("Kafka at " + client.get("bootstrap.servers") + " did not answer within 15 s: "
                    + "check --bootstrap-servers and that the broker is up");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransportException("interrupted while creating topic " + topic);
        }
    }

    /** The partition key: host and socket inode (or pid for calls without a socket). */
    public static byte[] key(SocketEvent e) {
        return keyed(e).key();
    }

    private static CachedKey keyed(SocketEvent e) {
        String host = e.getHost();
        KeyPrefixes p = lastPrefixes;
        if (p == null || p.host != host && !p.host.equals(host)) {
            p = new KeyPrefixes(
                    host,
                    (host + "/c").getBytes(StandardCharsets.UTF_8),
                    (host + "/i").getBytes(StandardCharsets.UTF_8),
                    (host + "/pid/").getBytes(StandardCharsets.UTF_8));
            lastPrefixes = p;
        }
        // the socket's identity (SocketIdentity): its cookie for an inet socket, its inode otherwise
        Long cookie = e.getSocketCookie();
        if (SocketIdentity.byCookie(e.getFamily(), cookie)) {
            return cachedKey(p.cookie, cookie);
        }
        Long inode = e.getSocketInode();
        return inode != null && inode != 0 ? cachedKey(p.inode, inode) : cachedKey(p.pid, e.getPid());
    }

    /**
     * Recent keys, by id: a socket's events come in runs, and writing the decimal digits of its inode anew for each
     * was a tenth of the path to Kafka. Entries are immutable and the arrays are never written after they are made
     * (neither the producer nor the spool changes a key), so records and threads share them without a lock.
     */
    private record CachedKey(byte[] prefix, long id, byte[] key, int murmur2) {}

    private static final int KEY_CACHE = 4096;
    private static final CachedKey[] KEYS = new CachedKey[KEY_CACHE];

    private static CachedKey cachedKey(byte[] prefix, long id) {
        int slot = (int) (id ^ id >>> 32) & (KEY_CACHE - 1);
        CachedKey c = KEYS[slot];
        if (c != null && c.id == id && c.prefix == prefix) {
            return c;
        }
        byte[] key = keyBytes(prefix, id);
        // its hash once, for the partition it goes to (the clock's record of which partitions got something)
        c = new CachedKey(prefix, id, key, org.apache.kafka.common.utils.Utils.murmur2(key));
        KEYS[slot] = c;
        return c;
    }

    /**
     * A host and its key prefixes ("host/c", "host/i" and "host/pid/"), encoded once: the host is the same String for
     * every event of a collector. Immutable, so threads may share the last one without a lock (at worst one re-encodes).
     */
    private record KeyPrefixes(String host, byte[] cookie, byte[] inode, byte[] pid) {}

    private static KeyPrefixes lastPrefixes;

    /** prefix + decimal id. */
    static byte[] keyBytes(String prefix, long id) {
        return keyBytes(prefix.getBytes(StandardCharsets.UTF_8), id);
    }

    private static byte[] keyBytes(byte[] p, long id) {
        if (id < 0) {
            byte[] digits = Long.toString(id).getBytes(StandardCharsets.US_ASCII);
            byte[] out = Arrays.copyOf(p, p.length + digits.length);
            System.arraycopy(digits, 0, out, p.length, digits.length);
            return out;
        }
        int digits = 1;
        for (long v = id; v >= 10; v /= 10) {
            digits++;
        }
        byte[] out = new byte[p.length + digits];
        System.arraycopy(p, 0, out, 0, p.length);
        for (int i = out.length - 1; i >= p.length; i--) {
            out[i] = (byte) ('0' + id % 10);
            id /= 10;
        }
        return out;
    }

    /** Serializes and hands over one event; false when the spool's policy dropped it. */
    public boolean write(SocketEvent e) {
        CachedKey k = keyed(e);
        if (clock == null) {
            clock = new PartitionClock(e.getHost(), partitions);
        }
        clock.wrote(k.murmur2());
        return shipper.offer(k.key(), serializer.serialize(e));
    }

    /**
     * One clock record (a CLOCK record the caller stamped) to each partition that got no record from this collector
     * since the last call; returns how many. Called from the thread that writes the events.
     */
    public int clock(SocketEvent tick) {
        if (clock == null) {
            clock = new PartitionClock(tick.getHost(), partitions);
        }
        int now = shipper.partitions();
        if (now > 0 && now != clock.partitions()) {
            LOG.info("topic {} has {} partitions now (was {})", topic, now, clock.partitions());
            partitions = now;
            clock.resize(now);
        }
        List<byte[]> quiet = clock.quiet();
        if (quiet.isEmpty()) {
            return 0;
        }
        byte[] value = serializer.serialize(tick);
        for (byte[] key : quiet) {
            shipper.offer(key, value);
        }
        clockRecords += quiet.size();
        return quiet.size();
    }

    /** Clock records written so far (not events: see {@link #clock}). */
    public long clockRecords() {
        return clockRecords;
    }

    public KafkaShipper.Stats stats() {
        return shipper.stats();
    }

    public KafkaShipper shipper() {
        return shipper;
    }

    /** What an earlier run that did not stop cleanly left behind, or null. */
    public String previousRunReport() {
        return previousRunReport;
    }

    /** Records how much is held in memory, so that a crash can be accounted for at the next start. */
    public void checkpoint() {
        writeState(false);
    }

    private void writeState(boolean clean) {
        KafkaShipper.Stats s = shipper == null ? null : shipper.stats();
        Properties p = new Properties();
        p.setProperty("clean", Boolean.toString(clean));
        p.setProperty("inMemory", Long.toString(s == null ? 0 : s.inFlight()));
        p.setProperty("acked", Long.toString(s == null ? 0 : s.acked()));
        p.setProperty("time", java.time.Instant.now().toString());
        try {
            Files.createDirectories(stateFile.getParent());
            Path tmp = stateFile.resolveSibling(STATE_FILE + ".tmp");
            try (var w = Files.newBufferedWriter(tmp)) {
                p.store(w, "sockflow collector state");
            }
            Files.move(
                    tmp,
                    stateFile,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            LOG.warn("cannot write {}: {}", stateFile, e.getMessage());
        }
    }

    static String readPreviousRun(Path stateFile) {
        if (!Files.exists(stateFile)) {
            return null;
        }
        Properties p = new Properties();
        try (var r = Files.newBufferedReader(stateFile)) {
            p.load(r);
        } catch (IOException e) {
            return "the previous run's state file " + stateFile + " is unreadable: how much it lost is unknown";
        }
        if (Boolean.parseBoolean(p.getProperty("clean", "false"))) {
            return null;
        }
        return "the previous run stopped without a clean shutdown (last checkpoint " + p.getProperty("time")
                + "): up to " + p.getProperty("inMemory", "?") + " records it held in memory, not yet acknowledged "
                + "by Kafka nor spooled, were lost, plus what it captured in its last second";
    }

    private boolean closed;

    public synchronized void close(Duration grace) {
        if (closed) {
            return;
        }
        closed = true;
        shipper.close(grace);
        writeState(true);
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(10));
    }

    /** Loads extra client settings (security, SASL, TLS) from a properties file. */
    public static Map<String, Object> clientConfig(Path file) {
        Map<String, Object> m = new HashMap<>();
        if (file == null) {
            return m;
        }
        Properties p = new Properties();
        try (var r = Files.newBufferedReader(file)) {
            p.load(r);
        } catch (IOException e) {
            throw new TransportException("cannot read Kafka client settings " + file + ": " + e.getMessage());
        }
        p.stringPropertyNames().forEach(k -> m.put(k, p.getProperty(k)));
        for (String fixed : List.of("partitioner.class", "partitioner.ignore.keys")) {
            if (m.containsKey(fixed)) {
                // the records of one socket share a partition, and a quiet partition's clock record is sent with a
                // key the default partitioner puts there: another partitioner would break both
                throw new TransportException("Kafka client settings " + file + " set " + fixed
                        + ", which the collector does not allow (it partitions by socket, with Kafka's default"
                        + " partitioner): remove it");
            }
        }
        return m;
    }
}
