package io.sockflow.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The embedded infrastructure of the local default: a Kafka broker and the schema registry, with their data under
 * one folder. {@link #shared()} gives the tests of one JVM a single instance, started once.
 */
public final class LocalStack implements AutoCloseable {
    private static LocalStack shared;

    private final EmbeddedKafka kafka;
    private EmbeddedSchemaRegistry registry;
    private final EmbeddedSchemaRegistry.Options registryOptions;

    private LocalStack(Path dataDir, int kafkaPort, int registryPort) {
        this(dataDir, kafkaPort, 0, EmbeddedSchemaRegistry.Options.defaults().withPort(registryPort));
    }

    private LocalStack(Path dataDir, int kafkaPort, int controllerPort, EmbeddedSchemaRegistry.Options registry) {
        this(dataDir, kafkaPort, controllerPort, registry, null);
    }

    private LocalStack(
            Path dataDir,
            int kafkaPort,
            int controllerPort,
            EmbeddedSchemaRegistry.Options registry,
            KafkaCredentials auth) {
        this.kafka = EmbeddedKafka.start(dataDir.resolve("kafka"), kafkaPort, controllerPort, auth);
        this.registryOptions = registry;
        this.registry = EmbeddedSchemaRegistry.start(kafka.bootstrapServers(), kafka.clientProperties(), registry);
    }

    /** As below, the broker asking for the credentials {@code auth} (see {@link KafkaCredentials}). */
    public static LocalStack start(
            Path dataDir,
            int kafkaPort,
            int controllerPort,
            EmbeddedSchemaRegistry.Options registry,
            KafkaCredentials auth) {
        return new LocalStack(dataDir, kafkaPort, controllerPort, registry, auth);
    }

    /** A stack kept in {@code dataDir} across runs: the controller's port is fixed too. */
    public static LocalStack start(Path dataDir, int kafkaPort, int registryPort, int controllerPort) {
        return new LocalStack(
                dataDir,
                kafkaPort,
                controllerPort,
                EmbeddedSchemaRegistry.Options.defaults().withPort(registryPort));
    }

    /** As above, with the registry's bind address, limits and users given. */
    public static LocalStack start(
            Path dataDir, int kafkaPort, int controllerPort, EmbeddedSchemaRegistry.Options registry) {
        return new LocalStack(dataDir, kafkaPort, controllerPort, registry);
    }

    public static LocalStack start(Path dataDir, int kafkaPort, int registryPort) {
        return new LocalStack(dataDir, kafkaPort, registryPort);
    }

    /** One stack for every test in this JVM, in a temporary folder, stopped when the JVM exits. */
    public static synchronized LocalStack shared() {
        if (shared == null) {
            try {
                Path dir = Files.createTempDirectory("sockflow-test-stack");
                shared = new LocalStack(dir, 0, 0);
                Runtime.getRuntime().addShutdownHook(new Thread(shared::close));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return shared;
    }

    public EmbeddedKafka kafka() {
        return kafka;
    }

    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    public synchronized String registryUrl() {
        return registry.url();
    }

    /** Stops the registry and starts a new one on the same topic and port, as a restart would. */
    public synchronized void restartRegistry() {
        String url = registry.url();
        int port = Integer.parseInt(url.substring(url.lastIndexOf(':') + 1));
        registry.close();
        registry = EmbeddedSchemaRegistry.start(
                kafka.bootstrapServers(), kafka.clientProperties(), registryOptions.withPort(port));
    }

    @Override
    public synchronized void close() {
        registry.close();
        kafka.close();
    }
}
