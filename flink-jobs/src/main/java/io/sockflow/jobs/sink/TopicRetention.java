package io.sockflow.jobs.sink;

import io.sockflow.jobs.config.JobConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;

/**
 * The retention of sockflow's Kafka topics, so that a pipeline left running does not fill its disk: every topic gets
 * {@code retention.ms} from {@code topic.retention} and {@code retention.bytes} (per partition) from
 * {@code topic.retention.bytes}; 0 in either is Kafka's -1, no limit.
 *
 * <p>A topic the jobs create gets both at once. On a topic that exists already, a value is replaced when it is still
 * the broker's (not set on the topic) or when it is the one sockflow's defaults would set (an earlier sockflow set
 * it); any other value set on the topic is an operator's choice and is kept, with one line in the log that says so.
 */
public final class TopicRetention {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TopicRetention.class);

    public static final String MS = "retention.ms";
    public static final String BYTES = "retention.bytes";

    private TopicRetention() {}

    /** The topic configs the settings ask for: retention.ms and retention.bytes. */
    public static Map<String, String> configs(JobConfig cfg) {
        Duration d = cfg.getDuration(JobConfig.TOPIC_RETENTION);
        long bytes = cfg.getLong(JobConfig.TOPIC_RETENTION_BYTES);
        Map<String, String> m = new LinkedHashMap<>();
        m.put(MS, Long.toString(d.isZero() ? -1 : d.toMillis()));
        m.put(BYTES, Long.toString(bytes == 0 ? -1 : bytes));
        return m;
    }

    /** What a change would be made of, for the log and the tests: one topic's key and its old and new value. */
    public record Change(String topic, String key, String from, String to) {}

    /**
     * Sets the configured retention on each existing topic whose value is the broker's or sockflow's default, and
     * returns what it changed; values an operator set on a topic are kept.
     */
    public static List<Change> apply(Admin admin, Collection<String> topics, JobConfig cfg, Duration timeout)
            throws Exception {
        Map<String, String> want = configs(cfg);
        Map<String, String> sockflowDefaults = configs(JobConfig.defaults());
        List<ConfigResource> resources = new ArrayList<>();
        for (String t : topics) {
            resources.add(new ConfigResource(ConfigResource.Type.TOPIC, t));
        }
        Map<ConfigResource, Config> current =
                admin.describeConfigs(resources).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        Map<ConfigResource, Collection<AlterConfigOp>> ops = new LinkedHashMap<>();
        List<Change> changes = new ArrayList<>();
        for (ConfigResource r : resources) {
            Config c = current.get(r);
            for (Map.Entry<String, String> w : want.entrySet()) {
                ConfigEntry e = c == null ? null : c.get(w.getKey());
                String now = e == null ? null : e.value();
                if (w.getValue().equals(now)) {
                    continue;
                }
                boolean setOnTopic = e != null && e.source() == ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG;
                if (setOnTopic && !sockflowDefaults.get(w.getKey()).equals(now)) {
                    LOG.info(
                            "topic {} keeps its {}={} set on the topic (sockflow's setting is {}): change it with"
                                    + " kafka-configs --alter --entity-type topics --entity-name {} --add-config {}=...",
                            r.name(),
                            w.getKey(),
                            now,
                            w.getValue(),
                            r.name(),
                            w.getKey());
                    continue;
                }
                ops.computeIfAbsent(r, k -> new ArrayList<>())
                        .add(new AlterConfigOp(new ConfigEntry(w.getKey(), w.getValue()), AlterConfigOp.OpType.SET));
                changes.add(new Change(r.name(), w.getKey(), now, w.getValue()));
            }
        }
        if (!ops.isEmpty()) {
            admin.incrementalAlterConfigs(ops).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            for (Change ch : changes) {
                LOG.info("topic {}: {} {} (was {})", ch.topic(), ch.key(), ch.to(), ch.from());
            }
        }
        return changes;
    }
}
