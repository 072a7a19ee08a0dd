package io.sockflow.jobs;

import io.sockflow.embedded.LocalStack;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** What the tests that run the jobs on a live pipeline share. */
public final class TestPipelines {
    private TestPipelines() {}

    /**
     * The jobs' settings for a pipeline of its own: input {@code topic}, outputs named after it ({@code .lifecycles},
     * {@code .flows}, {@code .alerts}, {@code .dlq}), lake and checkpoints under {@code dir}, its own transactional
     * ids, a checkpoint every {@code checkpointInterval}. A map the test adds its own settings to.
     */
    public static Map<String, String> settings(LocalStack stack, String topic, Path dir, String checkpointInterval) {
        Map<String, String> m = new HashMap<>();
        m.put("bootstrap.servers", stack.bootstrapServers());
        m.put("registry.url", stack.registryUrl());
        m.put("topic.events", topic);
        m.put("topic.lifecycles", topic + ".lifecycles");
        m.put("topic.flows", topic + ".flows");
        m.put("topic.alerts", topic + ".alerts");
        m.put("topic.dead-letter", topic + ".dlq");
        m.put("warehouse", dir.resolve("warehouse").toString());
        m.put("checkpoint.dir", dir.resolve("checkpoints").toString());
        m.put("checkpoint.interval", checkpointInterval);
        m.put("transactional.id.prefix", "tx-" + topic);
        return m;
    }
}
