package io.sockflow.runner.alerts;

import io.sockflow.schemas.config.Check;
import io.sockflow.schemas.config.Explain;
import io.sockflow.schemas.config.Flags;
import io.sockflow.schemas.config.Validators;
import io.sockflow.schemas.registry.RegistryClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/**
 * {@code sockflow alerts-forward}: the alert outputs on their own, for alerts that jobs on a cluster write. Runs in
 * the foreground until Ctrl-C or SIGTERM, then says what it forwarded.
 */
public final class AlertsForward {
    public static final String ENV_PREFIX = "SOCKFLOW_";
    static final String BOOTSTRAP = "bootstrap.servers";
    static final String REGISTRY = "registry.url";
    static final String KAFKA_CONFIG = "kafka.config";
    static final String TOPIC = "topic.alerts";
    /** The registry's credentials, from the environment as for up and sql. */
    static final String REGISTRY_AUTH_ENV = "SOCKFLOW_REGISTRY_BASIC_AUTH_USER_INFO";

    public static final ConfigDef DEFINITION = AlertOutputs.defineOn(new ConfigDef()
            .define(
                    BOOTSTRAP,
                    ConfigDef.Type.STRING,
                    "127.0.0.1:9092",
                    Validators.hostPorts(),
                    ConfigDef.Importance.HIGH,
                    "The Kafka brokers the alerts topic is on.")
            .define(
                    REGISTRY,
                    ConfigDef.Type.STRING,
                    "http://127.0.0.1:8081",
                    Validators.urls(),
                    ConfigDef.Importance.HIGH,
                    "The schema registry the alerts were written with (credentials: " + REGISTRY_AUTH_ENV
                            + "=user:password in the environment).")
            .define(
                    KAFKA_CONFIG,
                    ConfigDef.Type.STRING,
                    null,
                    ConfigDef.Importance.MEDIUM,
                    "A properties file of Kafka client settings (TLS, SASL), e.g. DATA/kafka-admin.properties of up.")
            .define(
                    TOPIC,
                    ConfigDef.Type.STRING,
                    "sockflow.alerts",
                    new ConfigDef.NonEmptyString(),
                    ConfigDef.Importance.MEDIUM,
                    "The alerts topic."));

    static final String USAGE = """
            usage: sockflow alerts-forward [--bootstrap-servers H:P] [--registry-url URL] [--alerts-webhook-url URL]
                                           [--alerts-syslog udp://H:P|tcp://H:P] [--config FILE] [...]

            Reads the committed alerts of a topic and sends each to a webhook (JSON) and a syslog receiver (RFC 5424),
            at least once (docs/alert-outputs.md). Runs until Ctrl-C.
            """ + Explain.help(DEFINITION, ENV_PREFIX);

    private AlertsForward() {}

    public static void main(String[] args) {
        System.exit(run(args, System.getenv(), System.out, System.err, null));
    }

    /** Runs until SIGTERM, or until {@code stop} counts down (tests). */
    static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err, CountDownLatch stop) {
        if (List.of(args).contains("--help") || List.of(args).contains("-h")) {
            out.print(USAGE);
            return 0;
        }
        Map<String, Object> v;
        AlertOutputs.Config cfg;
        List<AlertOutputs.Destination> destinations;
        Map<String, Object> client = new HashMap<>();
        try {
            Map<String, String> given = Flags.collect(DEFINITION, List.of(args), env, ENV_PREFIX);
            Check.values(DEFINITION, given);
            v = DEFINITION.parse(given);
            cfg = AlertOutputs.Config.of(v);
            if (!cfg.any()) {
                throw new IllegalArgumentException(
                        "nothing to forward to: give " + Flags.flagName(AlertOutputs.WEBHOOK_URL) + " URL, "
                                + Flags.flagName(AlertOutputs.SYSLOG) + " udp://HOST:PORT, or both");
            }
            if (v.get(KAFKA_CONFIG) != null) {
                Path file = Path.of((String) v.get(KAFKA_CONFIG));
                Properties p = new Properties();
                try (InputStream in = Files.newInputStream(file)) {
                    p.load(in);
                } catch (IOException e) {
                    throw new IllegalArgumentException("cannot read Kafka client settings " + file + " ("
                            + e.getMessage() + "): check --kafka-config");
                }
                p.forEach((k, val) -> client.put(k.toString(), val));
            }
            destinations = cfg.destinations();
        } catch (ConfigException | IllegalArgumentException e) {
            err.println("sockflow alerts-forward: " + e.getMessage());
            return 2;
        }
        client.put("bootstrap.servers", v.get(BOOTSTRAP));
        RegistryClient.Config registry = RegistryClient.Config.of((String) v.get(REGISTRY));
        String auth = env.get(REGISTRY_AUTH_ENV);
        if (auth != null && auth.indexOf(':') > 0) {
            registry = registry.withBasicAuth(auth);
        }
        String topic = (String) v.get(TOPIC);
        AlertForwarder f = new AlertForwarder(client, registry, topic, cfg, destinations, err);
        out.println("sockflow alerts-forward: " + topic + " (group " + cfg.group() + ") to "
                + String.join(
                        ", ",
                        destinations.stream()
                                .map(AlertOutputs.Destination::describe)
                                .toList()));
        out.flush();
        CountDownLatch done = new CountDownLatch(1);
        Thread hook = new Thread(
                () -> {
                    f.stop();
                    try {
                        done.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException ignored) {
                        Thread.currentThread().interrupt();
                    }
                },
                "sockflow-alerts-forward-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        Thread worker = Thread.ofPlatform().name("sockflow-alerts-forward").start(f);
        try {
            while (worker.isAlive()) {
                if (stop != null && stop.await(200, TimeUnit.MILLISECONDS)) {
                    f.stop();
                }
                worker.join(stop == null ? 1000 : 1);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            f.stop();
        } finally {
            try {
                f.await(Duration.ofSeconds(30));
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
            AlertForwarder.Counts n = f.counts();
            out.printf(
                    "sockflow alerts-forward: stopped; %d alerts forwarded, %d deliveries failed, %d unreadable records skipped%n",
                    n.forwarded(), n.undelivered(), n.skipped());
            out.flush();
            done.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // stopped by a signal
            }
        }
        return f.stopping() ? 0 : 1;
    }
}
