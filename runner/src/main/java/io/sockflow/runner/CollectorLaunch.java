package io.sockflow.runner;

import io.sockflow.collector.cli.Settings;
import io.sockflow.schemas.config.Flags;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The collector as {@code up} runs it, as typed values: rendered to the collector's settings (named by its own
 * {@link Settings} constants) and to its argument list in this one place, and checked by the collector's own
 * declarations before it starts. Credentials never appear here: they reach the collector through its environment, or (Kafka's) through a file of
 * the data folder that only its runtime user can read.
 */
record CollectorLaunch(
        String bootstrapServers,
        String registryUrl,
        String topic,
        String metricsAddress,
        int metricsPort,
        Path spoolDir,
        Path statusFile,
        long exitWithPid,
        String runAs,
        Long cgroupExclude,
        Path kafkaConfig) {

    /** Without a Kafka client settings file (a broker without authentication). */
    CollectorLaunch(
            String bootstrapServers,
            String registryUrl,
            String topic,
            String metricsAddress,
            int metricsPort,
            Path spoolDir,
            Path statusFile,
            long exitWithPid,
            String runAs,
            Long cgroupExclude) {
        this(
                bootstrapServers,
                registryUrl,
                topic,
                metricsAddress,
                metricsPort,
                spoolDir,
                statusFile,
                exitWithPid,
                runAs,
                cgroupExclude,
                null);
    }

    /** How often up has the collector read the kernel's counters: the live view shows them. */
    static final String COUNTERS_INTERVAL = "5s";

    /** The collector's settings by name, as text. */
    Map<String, String> settings() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put(Settings.OUTPUT, "kafka");
        s.put(Settings.BOOTSTRAP_SERVERS, bootstrapServers);
        s.put(Settings.REGISTRY_URL, registryUrl);
        s.put(Settings.TOPIC, topic);
        s.put(Settings.METRICS_ADDRESS, metricsAddress);
        s.put(Settings.METRICS_PORT, Integer.toString(metricsPort));
        s.put(Settings.SPOOL_DIR, spoolDir.toString());
        s.put(Settings.COUNTERS_INTERVAL, COUNTERS_INTERVAL);
        s.put(Settings.STATUS_FILE, statusFile.toString());
        s.put(Settings.EXIT_WITH_PID, Long.toString(exitWithPid));
        if (runAs != null) {
            s.put(Settings.RUN_AS, runAs);
        }
        if (cgroupExclude != null) {
            s.put(Settings.CGROUP_EXCLUDE, Long.toString(cgroupExclude));
        }
        if (kafkaConfig != null) {
            s.put(Settings.KAFKA_CONFIG, kafkaConfig.toString());
        }
        return s;
    }

    /** {@code collect --name value ...}: the command line of {@code io.sockflow.collector.cli.Main}. */
    List<String> args() {
        List<String> a = new ArrayList<>(List.of("collect"));
        a.addAll(Flags.render(settings()));
        return a;
    }

    /**
     * The collector's own parser and checks over these arguments, with the environment it will get: a bad value
     * fails here, in up, with the collector's one-line error, before anything attaches.
     */
    Settings check(Map<String, String> env) {
        List<String> a = args();
        return Settings.parse(a.subList(1, a.size()), env);
    }
}
