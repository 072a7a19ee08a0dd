package io.sockflow.embedded;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A single-node Kafka cluster (one process that is both KRaft controller and broker) inside this JVM, with its log
 * in a folder that outlives it: start it again on the same folder and the topics are still there. Ports are kept
 * across {@link #stop()} and {@link #start()} so that clients can reconnect.
 */
public final class EmbeddedKafka implements AutoCloseable {
    private final Path dir;
    private final int port;
    private final int controllerPort;
    private final KafkaCredentials auth;
    private KafkaRaftServer server;

    private EmbeddedKafka(Path dir, int port, int controllerPort, KafkaCredentials auth) {
        this.dir = dir;
        this.port = port;
        this.controllerPort = controllerPort;
        this.auth = auth;
    }

    /** Formats {@code dir} on first use and starts the broker on {@code port} (0: any free port). */
    public static EmbeddedKafka start(Path dir, int port) {
        return start(dir, port, 0);
    }

    /** With a fixed controller port too (a broker restarted on the same folder by a later process). */
    public static EmbeddedKafka start(Path dir, int port, int controllerPort) {
        return start(dir, port, controllerPort, null);
    }

    /**
     * With {@code auth}: every listener asks for SASL/PLAIN, and the ACL authorizer lets only those accounts in
     * ({@link KafkaCredentials#ADMIN} a super user; the others only what {@link #grant} gives them).
     */
    public static EmbeddedKafka start(Path dir, int port, int controllerPort, KafkaCredentials auth) {
        int[] free = LoopbackPorts.free(2);
        EmbeddedKafka k = new EmbeddedKafka(
                dir, port == 0 ? free[0] : port, controllerPort == 0 ? free[1] : controllerPort, auth);
        k.start();
        return k;
    }

    private Properties config() {
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        if (auth != null) {
            secure(p);
        }
        p.put("log.dirs", dir.toAbsolutePath().toString());
        p.put("num.partitions", "1");
        p.put("auto.create.topics.enable", "false");
        // a single node: every internal topic has one replica, or consumers and transactions wait for ever
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "4");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "4");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("log.segment.bytes", Integer.toString(64 << 20));
        p.put("transaction.max.timeout.ms", Integer.toString(60 * 60 * 1000));
        return p;
    }

    /** SASL/PLAIN on both listeners and ACLs ({@link KafkaCredentials#brokerSettings}). */
    private void secure(Properties p) {
        p.putAll(auth.brokerSettings("127.0.0.1", port, controllerPort));
    }

    /** The admin's client settings (empty without authentication): what sockflow's own clients add to theirs. */
    public Map<String, String> clientProperties() {
        return auth == null ? Map.of() : auth.adminClient();
    }

    public boolean authenticated() {
        return auth != null;
    }

    /**
     * Lets the reader account read (and describe) {@code topics} and use consumer groups named
     * {@value KafkaCredentials#READER_GROUP_PREFIX}*, and nothing else. Granting again is harmless.
     */
    public void grantReader(java.util.Collection<String> topics) {
        grant(KafkaAcls.reader(topics));
    }

    /** Adds {@code acls} (see {@link KafkaAcls}); nothing without authentication. Granting again is harmless. */
    public void grant(List<AclBinding> acls) {
        if (auth == null) {
            return;
        }
        try (Admin admin = Admin.create(adminConfig())) {
            admin.createAcls(acls).all().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(
                    "cannot grant sockflow's Kafka accounts their rights: " + e.getMessage(), e);
        }
    }

    private Map<String, Object> adminConfig() {
        Map<String, Object> c = new HashMap<>(clientProperties());
        c.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        return c;
    }

    private void format() {
        if (Files.exists(dir.resolve("meta.properties"))) {
            return;
        }
        try {
            Files.createDirectories(dir);
            new Formatter()
                    .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                    .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
                    // transaction.version 2 (Kafka 4.2's default) bumps the producer epoch per transaction, and
                    // Flink's Kafka committer then fails to commit a restored checkpoint's transactions: data loss
                    .setFeatureLevel("transaction.version", (short) 1)
                    .setNodeId(1)
                    .setClusterId(Uuid.randomUuid().toString())
                    .addDirectory(dir.toAbsolutePath().toString())
                    .setMetadataLogDirectory(dir.toAbsolutePath().toString())
                    .setReleaseVersion(MetadataVersion.latestProduction())
                    .setControllerListenerName("CONTROLLER")
                    .run();
        } catch (Exception e) {
            throw new IllegalStateException("cannot format the Kafka log folder " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Starts (again) and waits until the broker answers. */
    public synchronized void start() {
        if (server != null) {
            return;
        }
        format();
        server = new KafkaRaftServer(new KafkaConfig(config(), false), Time.SYSTEM);
        server.startup();
        try (Admin admin = Admin.create(adminConfig())) {
            admin.describeCluster().nodes().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("the embedded Kafka broker did not come up: " + e.getMessage(), e);
        }
    }

    /** Stops the broker; its data stays in the folder. */
    public synchronized void stop() {
        if (server == null) {
            return;
        }
        server.shutdown();
        server.awaitShutdown();
        server = null;
    }

    public boolean running() {
        return server != null;
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    public Path directory() {
        return dir;
    }

    @Override
    public void close() {
        stop();
    }
}
