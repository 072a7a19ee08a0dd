package io.sockflow.jobs;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.embedded.LocalStack;
import io.sockflow.jobs.config.JobConfig;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.registry.ConfluentAvro;
import io.sockflow.schemas.registry.RegistryClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Event time after one burst of input and then silence, through live jobs on the embedded Kafka: a host's
 * connections, a silence longer than the idleness timeout (every partition goes idle), one burst of clock records
 * (ten seconds of the host's time on every partition), then nothing more. The watermark of the lifecycle and flow
 * operators (read from their metrics) reaches the burst's time less the out-of-orderness bound, and every end that
 * waits for it comes out: each socket's lifecycle END and each connection's flow END.
 */
@Tag("slow")
class WatermarkStallTest {
    static final int TICKS = 10;

    @TempDir
    static Path dir;

    record Run(JobConfig cfg, String input, ConfluentAvro.Serializer<SocketEvent> ser) {}

    static Run setUp(String name, int parallelism, int partitions) {
        LocalStack stack = LocalStack.shared();
        String input = "wm-" + name + "-" + UUID.randomUUID();
        Map<String, String> m = TestPipelines.settings(stack, input, dir, "300ms");
        m.put("topic.partitions", String.valueOf(partitions));
        m.put("checkpoint.dir", dir.resolve("checkpoints-" + input).toString());
        m.put("bounded", "false");
        m.put("jobs", "lifecycle,flow");
        m.put("sink.iceberg", "false");
        m.put("parallelism", String.valueOf(parallelism));
        // a short timeout: the partitions go idle (and the operators after them) within the test's silence
        m.put("watermark.idleness", "1s");
        m.put("group.id", "g-" + input);
        JobConfig cfg = JobConfig.of(m);
        SockflowJob.prepare(cfg);
        RegistryClient registry = new RegistryClient(RegistryClient.Config.of(stack.registryUrl()));
        ConfluentAvro.Serializer<SocketEvent> ser =
                new ConfluentAvro.Serializer<>(registry, input, SocketEvent.getClassSchema());
        ser.register();
        return new Run(cfg, input, ser);
    }

    static JobClient start(JobConfig cfg) throws Exception {
        Configuration conf = WatermarkProbe.install(new Configuration());
        conf.setString("restart-strategy.type", "none");
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.createLocalEnvironment(cfg.getInt(JobConfig.PARALLELISM), conf);
        SockflowJob.build(env, cfg);
        return env.executeAsync("watermark after one burst");
    }

    static void sendEvents(Run r, int connections) {
        try (KafkaProducer<byte[], byte[]> p =
                Results.producer(LocalStack.shared().bootstrapServers())) {
            for (SocketEvent e : Workload.events(connections)) {
                String key =
                        e.getHost() + "/" + (e.getSocketInode() != null ? e.getSocketInode() : "pid/" + e.getPid());
                p.send(new ProducerRecord<>(r.input, key.getBytes(StandardCharsets.UTF_8), r.ser.serialize(e)));
            }
            p.flush();
        }
    }

    /** One burst: TICKS clock records a second of event time apart, on each partition from {@code from} on. */
    static void burst(Run r, int connections, int from) {
        try (KafkaProducer<byte[], byte[]> p =
                Results.producer(LocalStack.shared().bootstrapServers())) {
            int partitions = p.partitionsFor(r.input).size();
            for (int s = 1; s <= TICKS; s++) {
                SocketEvent tick = Ev.of(EventKind.CLOCK, 0, "", Workload.lastMillis(connections) + s * 1000L)
                        .get();
                tick.setAttribution(null);
                for (int part = from; part < partitions; part++) {
                    p.send(new ProducerRecord<>(
                            r.input,
                            part,
                            ("web-1/clock/" + part).getBytes(StandardCharsets.UTF_8),
                            r.ser.serialize(tick)));
                }
            }
            p.flush();
        }
    }

    /** The watermark the burst carries the operators to: its last tick less the out-of-orderness bound. */
    static long burstWatermark(int connections) {
        return Ev.T0.toEpochMilli() + Workload.lastMillis(connections) + TICKS * 1000L - 2000 - 1;
    }

    static void awaitWatermark(String what, long want, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Long lifecycle = WatermarkProbe.inputWatermark("lifecycle");
            Long flow = WatermarkProbe.inputWatermark("flow");
            if (lifecycle != null && flow != null && lifecycle >= want && flow >= want) {
                return;
            }
            if (System.nanoTime() > deadline) {
                WatermarkProbe.now().forEach((k, v) -> System.out.println("  " + k + " = " + v));
                fail(what + ": the watermark stopped short of the burst's " + want + ": lifecycle " + lifecycle
                        + ", flow " + flow);
            }
            Thread.sleep(500);
        }
    }

    /** Every socket's lifecycle END and every connection's flow END. */
    static void awaitEnds(String what, JobConfig cfg, int connections, Duration timeout) throws Exception {
        LocalStack stack = LocalStack.shared();
        long deadline = System.nanoTime() + timeout.toNanos();
        int lifecycles = 0;
        long flows = 0;
        while (System.nanoTime() < deadline) {
            lifecycles = ClockRecordsTest.ends(stack, cfg).size();
            flows = ClockRecordsTest.flowEnds(stack, cfg).stream()
                    .filter(f -> f.getDestinationPort() != null && f.getDestinationPort() == Workload.PORT)
                    .count();
            if (lifecycles >= Workload.sockets(connections) && flows >= connections) {
                return;
            }
            Thread.sleep(1000);
        }
        fail(what + ": with the watermark past them all, " + lifecycles + " of " + Workload.sockets(connections)
                + " lifecycle ENDs and " + flows + " of " + connections + " flow ENDs came out");
    }

    static void oneBurstAfterSilence(String name, int parallelism, int connections) throws Exception {
        WatermarkProbe.clear();
        Run r = setUp(name, parallelism, 3);
        JobClient job = start(r.cfg);
        try {
            sendEvents(r, connections);
            ClockRecordsTest.awaitCommitted(
                    LocalStack.shared().bootstrapServers(), "g-" + r.input, r.input, Duration.ofSeconds(90));
            Thread.sleep(3000); // silence: every partition idle, and the operators after them
            burst(r, connections, 0);
            awaitWatermark(name, burstWatermark(connections), Duration.ofSeconds(40));
            awaitEnds(name, r.cfg, connections, Duration.ofSeconds(20));
        } finally {
            job.cancel().get(1, TimeUnit.MINUTES);
        }
    }

    /**
     * The flow function's inputs are the lifecycle function's records and notices from each of its subtasks. Had
     * these channels gone idle in the silence, the first to wake with the burst's watermark would carry the flow
     * function past the lifecycle ENDs still on their way on the others: all 86 lifecycle ENDs came out, and 5 of
     * 40 flow ENDs.
     */
    @Test
    void everyFlowEndsAfterOneBurstFollowingASilence() throws Exception {
        for (int round = 0; round < 3; round++) {
            oneBurstAfterSilence("p2-" + round, 2, 40);
        }
        oneBurstAfterSilence("p1", 1, 40);
    }

    /**
     * A job restored from a checkpoint of everything before the burst: the restored splits start again without a
     * watermark, and one of them gets nothing more. It holds event time back until it is idle, and no longer.
     */
    @Test
    void aRestoredJobReachesTheBurstWhenAPartitionGetsNothingMore() throws Exception {
        int connections = 2;
        WatermarkProbe.clear();
        Run r = setUp("restored", 2, 3);
        JobClient first = start(r.cfg);
        try {
            sendEvents(r, connections);
            ClockRecordsTest.awaitCommitted(
                    LocalStack.shared().bootstrapServers(), "g-" + r.input, r.input, Duration.ofSeconds(90));
        } finally {
            first.cancel().get(1, TimeUnit.MINUTES);
        }
        burst(r, connections, 1); // partition 0 gets nothing after the checkpoint
        Map<String, String> m = new HashMap<>(r.cfg.values());
        m.put("restore", "latest");
        JobConfig second = JobConfig.of(m);
        WatermarkProbe.clear();
        JobClient job = start(second);
        try {
            awaitWatermark("restored", burstWatermark(connections), Duration.ofSeconds(40));
            awaitEnds("restored", second, connections, Duration.ofSeconds(20));
        } finally {
            job.cancel().get(1, TimeUnit.MINUTES);
        }
    }
}
