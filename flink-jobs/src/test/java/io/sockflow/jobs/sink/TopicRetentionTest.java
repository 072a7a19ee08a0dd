package io.sockflow.jobs.sink;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.embedded.LocalStack;
import io.sockflow.jobs.SockflowJob;
import io.sockflow.jobs.config.JobConfig;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every topic of the jobs gets a bounded retention on the real embedded broker: topics the jobs create, topics that
 * were there before with the broker's default, and not a value an operator set on a topic by hand.
 */
class TopicRetentionTest {
    static final String WEEK_MS = Long.toString(7L * 24 * 3600 * 1000);
    static final String HALF_GIB = Long.toString(512L << 20);

    static LocalStack stack;
    static Admin admin;

    @BeforeAll
    static void start() {
        stack = LocalStack.shared();
        admin = Admin.create(Map.of("bootstrap.servers", stack.bootstrapServers()));
    }

    @AfterAll
    static void stop() {
        admin.close();
    }

    /** The jobs' settings with topics of their own, no lake. */
    static JobConfig config(String run, Map<String, String> more) {
        Map<String, String> m = new HashMap<>();
        m.put("bootstrap.servers", stack.bootstrapServers());
        m.put("sink.iceberg", "false");
        for (String t : List.of("events", "lifecycles", "flows", "alerts", "dead-letter")) {
            m.put("topic." + t, t + "-" + run);
        }
        m.putAll(more);
        return JobConfig.of(m);
    }

    static List<String> topics(JobConfig cfg) {
        return List.of(
                cfg.get(JobConfig.EVENTS_TOPIC),
                cfg.get(JobConfig.LIFECYCLES_TOPIC),
                cfg.get(JobConfig.FLOWS_TOPIC),
                cfg.get(JobConfig.ALERTS_TOPIC),
                cfg.get(JobConfig.DEAD_LETTER_TOPIC));
    }

    /** What the broker says of a topic's key: its value and where it comes from. */
    static ConfigEntry describe(String topic, String key) throws Exception {
        ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        Map<ConfigResource, Config> c = admin.describeConfigs(List.of(r)).all().get(30, TimeUnit.SECONDS);
        return c.get(r).get(key);
    }

    /**
     * A topic's value of {@code key}, once it is {@code expected} or after 10 s: the broker's metadata follows the
     * controller's a moment after a change, so a value read at once can be the one before.
     */
    static String settled(String topic, String key, String expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String v = describe(topic, key).value();
        while (!expected.equals(v) && System.nanoTime() < deadline) {
            Thread.sleep(20);
            v = describe(topic, key).value();
        }
        return v;
    }

    static void create(Collection<String> topics, Map<String, String> configs) throws Exception {
        admin.createTopics(topics.stream()
                        .map(t -> new NewTopic(t, 1, (short) 1).configs(configs))
                        .toList())
                .all()
                .get(30, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (String t : topics) { // the broker answers for a new topic's configs a moment after creating it
            while (true) {
                try {
                    describe(t, "retention.ms");
                    break;
                } catch (java.util.concurrent.ExecutionException e) {
                    assertTrue(System.nanoTime() < deadline, "topic " + t + " is described within 30 s");
                    Thread.sleep(50);
                }
            }
        }
    }

    /** As an operator sets it, and until the broker describes it so (its metadata follows the controller's). */
    static void set(String topic, String key, String value) throws Exception {
        admin.incrementalAlterConfigs(Map.of(
                        new ConfigResource(ConfigResource.Type.TOPIC, topic),
                        List.of(new AlterConfigOp(new ConfigEntry(key, value), AlterConfigOp.OpType.SET))))
                .all()
                .get(30, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!value.equals(describe(topic, key).value())) {
            assertTrue(System.nanoTime() < deadline, topic + " " + key + " never described as " + value);
            Thread.sleep(20);
        }
    }

    @Test
    void topicsTheJobsCreateGetAWeekAndHalfAGibPerPartition() throws Exception {
        JobConfig cfg = config("fresh-" + UUID.randomUUID(), Map.of());
        SockflowJob.prepare(cfg);
        for (String t : topics(cfg)) {
            ConfigEntry ms = describe(t, "retention.ms");
            assertEquals(WEEK_MS, ms.value(), t);
            assertEquals(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, ms.source(), t + ": set on the topic");
            assertEquals(HALF_GIB, settled(t, "retention.bytes", HALF_GIB), t);
        }
    }

    @Test
    void existingTopicsWithTheBrokersDefaultGetTheSettingsAnOperatorsValueIsKept() throws Exception {
        String run = "old-" + UUID.randomUUID();
        JobConfig cfg = config(run, Map.of("topic.retention", "2d", "topic.retention.bytes", "104857600"));
        List<String> topics = topics(cfg);
        create(topics, Map.of());
        assertEquals("-1", describe(topics.get(0), "retention.bytes").value(), "the broker's default: no limit");
        assertNotEquals(
                ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG,
                describe(topics.get(0), "retention.bytes").source());
        // an operator chose an hour for the alerts, and no byte limit for the flows
        String alerts = cfg.get(JobConfig.ALERTS_TOPIC);
        String flows = cfg.get(JobConfig.FLOWS_TOPIC);
        set(alerts, "retention.ms", "3600000");
        set(flows, "retention.bytes", "-1");

        SockflowJob.prepare(cfg);
        for (String t : topics) {
            String ms = t.equals(alerts) ? "3600000" : "172800000";
            assertEquals(ms, settled(t, "retention.ms", ms), t);
            String bytes = t.equals(flows) ? "-1" : "104857600";
            assertEquals(bytes, settled(t, "retention.bytes", bytes), t);
        }

        // a second start with other settings: the topics kept the operator's values; others follow the settings
        // only where they still hold sockflow's default, so set one back to it as an earlier sockflow would have
        set(cfg.get(JobConfig.EVENTS_TOPIC), "retention.ms", WEEK_MS);
        List<TopicRetention.Change> changes = TopicRetention.apply(
                admin, topics, config(run, Map.of("topic.retention", "0")), java.time.Duration.ofSeconds(30));
        assertEquals(
                List.of(new TopicRetention.Change(cfg.get(JobConfig.EVENTS_TOPIC), "retention.ms", WEEK_MS, "-1")),
                changes,
                "only the value that was sockflow's own default changes (0: kept for good)");
        assertEquals("-1", settled(cfg.get(JobConfig.EVENTS_TOPIC), "retention.ms", "-1"));
        assertEquals("3600000", describe(alerts, "retention.ms").value());
        assertEquals(
                "172800000",
                describe(cfg.get(JobConfig.LIFECYCLES_TOPIC), "retention.ms").value());

        // settings equal to what the topics hold change nothing
        assertEquals(
                List.of(),
                TopicRetention.apply(
                        admin, List.of(cfg.get(JobConfig.LIFECYCLES_TOPIC)), cfg, java.time.Duration.ofSeconds(30)));
    }

    @Test
    void zeroMeansNoLimitAndBadValuesAreOneLineNamingTheSetting() {
        assertEquals(
                Map.of("retention.ms", "-1", "retention.bytes", "-1"),
                TopicRetention.configs(JobConfig.of(Map.of("topic.retention", "0", "topic.retention.bytes", "0"))));
        assertEquals(
                Map.of("retention.ms", WEEK_MS, "retention.bytes", HALF_GIB),
                TopicRetention.configs(JobConfig.defaults()));
        for (Map.Entry<String, String> bad : Map.of(
                        "topic.retention", "a week",
                        "topic.retention.bytes", "-5",
                        "topic-retention-bytes", "512MiB")
                .entrySet()) {
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class,
                    () -> JobConfig.fromArgs(new String[] {"--" + bad.getKey(), bad.getValue()}, Map.of()));
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            assertTrue(
                    e.getMessage()
                            .startsWith("bad value '" + bad.getValue() + "' for "
                                    + bad.getKey().replace('-', '.')),
                    e.getMessage());
        }
    }
}
