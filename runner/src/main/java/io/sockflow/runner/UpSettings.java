package io.sockflow.runner;

import io.sockflow.runner.alerts.AlertOutputs;
import io.sockflow.schemas.config.Validators;
import java.util.Set;
import org.apache.kafka.common.config.ConfigDef;

/**
 * Every setting of {@code sockflow up}, declared once for its flag parser, its checks and {@code sockflow config
 * --explain}. Job settings reach the jobs through {@code --set key=value}, checked against the jobs' declarations.
 */
final class UpSettings {
    static final String DATA = "data";
    static final String FRESH = "fresh";
    static final String REPLAY = "replay";
    static final String HEADLESS = "headless";
    static final String VERBOSE = "verbose";
    static final String DURATION = "duration";
    static final String KAFKA_PORT = "kafka.port";
    static final String REGISTRY_PORT = "registry.port";
    static final String METRICS_PORT = "metrics.port";
    static final String USER = "user";
    static final String REGISTRY_ADDRESS = "registry.address";
    static final String METRICS_ADDRESS = "metrics.address";
    /** Repeatable, so read before the other flags; declared here for the explain text. */
    static final String SET = "set";

    /**
     * Job settings that {@code up} gives itself (where its Kafka, registry and data folder are, and its own consumer
     * group and transactional ids): {@code --set} cannot change them without breaking the pipeline.
     */
    static final Set<String> OWN_JOB_SETTINGS = Set.of(
            "bootstrap.servers",
            "registry.url",
            "registry.basic.auth.user.info",
            "warehouse",
            "checkpoint.dir",
            "group.id",
            "transactional.id.prefix",
            "restore",
            "kafka.config");

    static final ConfigDef DEFINITION = AlertOutputs.defineOn(new ConfigDef()
            .define(
                    DATA,
                    ConfigDef.Type.STRING,
                    "data",
                    new ConfigDef.NonEmptyString(),
                    ConfigDef.Importance.HIGH,
                    "Where Kafka, the lake (Iceberg), the checkpoints and the spool live: a folder of the runtime user's, "
                            + "made 0700 (a symbolic link is refused).")
            .define(FRESH, ConfigDef.Type.BOOLEAN, false, ConfigDef.Importance.MEDIUM, "Delete the data folder first.")
            .define(
                    REPLAY,
                    ConfigDef.Type.STRING,
                    null,
                    ConfigDef.Importance.MEDIUM,
                    "Play a recorded capture (sockflow collect --output file) instead of capturing; 'sample' plays the one "
                            + "that ships with sockflow.")
            .define(
                    HEADLESS,
                    ConfigDef.Type.BOOLEAN,
                    false,
                    ConfigDef.Importance.LOW,
                    "Print the view as plain text blocks, one a second (no terminal control), e.g. into a log.")
            .define(
                    VERBOSE,
                    ConfigDef.Type.BOOLEAN,
                    false,
                    ConfigDef.Importance.LOW,
                    "Show Kafka's, Flink's and Iceberg's warnings on the console too; without it they go only to the log "
                            + "files under the data folder (logs/, 0600).")
            .define(
                    DURATION,
                    ConfigDef.Type.STRING,
                    "0",
                    Validators.duration(),
                    ConfigDef.Importance.MEDIUM,
                    "Stop after this long of live view (e.g. 60s); 0 runs until Ctrl-C or SIGTERM.")
            .define(
                    KAFKA_PORT,
                    ConfigDef.Type.INT,
                    9092,
                    ConfigDef.Range.between(0, 65534),
                    ConfigDef.Importance.MEDIUM,
                    "The broker's port; its controller uses the next one; 0 takes free ones.")
            .define(
                    REGISTRY_PORT,
                    ConfigDef.Type.INT,
                    8081,
                    ConfigDef.Range.between(0, 65535),
                    ConfigDef.Importance.MEDIUM,
                    "The schema registry's port; 0 takes a free one.")
            .define(
                    METRICS_PORT,
                    ConfigDef.Type.INT,
                    9464,
                    ConfigDef.Range.between(0, 65535),
                    ConfigDef.Importance.MEDIUM,
                    "The collector's Prometheus endpoint; 0 serves none.")
            .define(
                    USER,
                    ConfigDef.Type.STRING,
                    null,
                    ConfigDef.Importance.MEDIUM,
                    "Who runs Kafka, the registry, the jobs and (once attached) the collector when up runs as root: a user "
                            + "name or uid[:gid], never root. Default: the user who ran sudo, else nobody.")
            .define(
                    REGISTRY_ADDRESS,
                    ConfigDef.Type.STRING,
                    "127.0.0.1",
                    new ConfigDef.NonEmptyString(),
                    ConfigDef.Importance.LOW,
                    "Where the registry listens; beyond loopback only with " + Up.REGISTRY_AUTH_ENV
                            + "=user:password in the environment, which every client then sends.")
            .define(
                    METRICS_ADDRESS,
                    ConfigDef.Type.STRING,
                    "127.0.0.1",
                    new ConfigDef.NonEmptyString(),
                    ConfigDef.Importance.LOW,
                    "Where the collector's metrics listen; beyond loopback only with " + Up.METRICS_AUTH_ENV
                            + "=user:password in the environment.")
            .define(
                    SET,
                    ConfigDef.Type.LIST,
                    "",
                    ConfigDef.Importance.MEDIUM,
                    "A job setting, KEY=VALUE, on the command line (repeatable), e.g. --set detect.portscan.ports=30: "
                            + "any of the jobs' settings (sockflow config --explain jobs) except those up gives itself ("
                            + String.join(", ", new java.util.TreeSet<>(OWN_JOB_SETTINGS))
                            + "). Checked when up starts."));

    private UpSettings() {}
}
