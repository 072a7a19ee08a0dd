package io.sockflow.jobs.bench;

import io.sockflow.embedded.LocalStack;
import io.sockflow.jobs.Results;
import io.sockflow.jobs.SockflowJob;
import io.sockflow.jobs.Workload;
import io.sockflow.jobs.config.JobConfig;
import io.sockflow.schemas.Flow;
import io.sockflow.schemas.FlowRecordType;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.registry.ConfluentAvro;
import io.sockflow.schemas.registry.RegistryClient;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The jobs' cost on a MiniCluster, against the embedded broker and registry in this JVM:
 * <ol>
 * <li>throughput: a backlog of generated events (the hand-made workload, scaled up) read by the lifecycle and flow
 * jobs with their Kafka and Iceberg sinks, exactly once; events and connections per second of wall time and per
 * core, the core being the CPU time of the job's own threads (tasks, Kafka fetchers and producers; not the
 * broker's). {@code bench.shape} is what the collector sends: {@code aggregate} (its default data path: 11 records
 * per connection, totals on the releases and one SOCK_TOTALS per end on the way when {@code bench.exchanges} is
 * above 0) or {@code per-call} (a record per send and receive, {@code bench.exchanges} extra request/response rounds
 * of 4 records each; 50 records per connection at the default 10);</li>
 * <li>latency: events produced at a steady rate with their kernel time set to now; for every flow's NEW record,
 * the time from its connect event to the record being readable on Kafka (read_committed), p50 and p99, at the
 * default 5 s checkpoint interval (results become visible at checkpoints).</li>
 * </ol>
 * {@code FlinkBench OUT.json REPETITIONS}
 */
public final class FlinkBench {
    /** Runs over the backlog before the measured ones. */
    static final int WARM_UPS = 2;

    private FlinkBench() {}

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        int reps = Integer.parseInt(args.length > 1 ? args[1] : "3");
        int connections = Integer.parseInt(System.getProperty("bench.connections", "20000"));
        int exchanges = Integer.parseInt(System.getProperty("bench.exchanges", "10"));
        String shape = System.getProperty("bench.shape", "aggregate");
        if (!shape.equals("aggregate") && !shape.equals("per-call")) {
            throw new IllegalArgumentException("bench.shape must be aggregate or per-call, not " + shape);
        }
        boolean aggregate = shape.equals("aggregate");
        LocalStack stack = LocalStack.shared();
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();

        String input = "bench-events-" + UUID.randomUUID();
        JobConfig base = config(stack, input, "warm", Map.of());
        SockflowJob.prepare(base);
        List<SocketEvent> events = Workload.events(connections, exchanges, aggregate);
        System.err.printf(
                "producing %,d events (%,d connections, %d request/response rounds each, %s data path)...%n",
                events.size(), connections, exchanges + 1, shape);
        produce(stack, input, events, null);

        double[] perCore = new double[reps];
        double[] perSecond = new double[reps];
        // the first runs are not counted: the JIT compiles the job's code in them, as it has long done in a running job
        // (one was not enough: the JIT was still compiling seconds' worth in the next, which came out 20-37 % slower
        // than the one after it)
        for (int r = -WARM_UPS; r < reps; r++) {
            JobConfig cfg = config(
                    stack,
                    input,
                    r < 0 ? "tpwarm" + -r : "tp" + r,
                    Map.of("bounded", "true", "jobs", "lifecycle,flow"));
            Map<Long, Long> before = jobThreadCpu(threads);
            // task threads end with the job: their CPU time is sampled while they run (every 10 ms)
            Map<Long, Long> latest = new java.util.concurrent.ConcurrentHashMap<>(before);
            java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
            Thread sampler = new Thread(
                    () -> {
                        while (running.get()) {
                            jobThreadCpu(threads).forEach((id, ns) -> latest.merge(id, ns, Math::max));
                            try {
                                Thread.sleep(10);
                            } catch (InterruptedException e) {
                                return;
                            }
                        }
                    },
                    "bench-cpu-sampler");
            sampler.start();
            long t0 = System.nanoTime();
            Configuration conf = new Configuration();
            conf.setString("restart-strategy.type", "none");
            SockflowJob.run(StreamExecutionEnvironment.createLocalEnvironment(1, conf), cfg);
            double wall = (System.nanoTime() - t0) / 1e9;
            running.set(false);
            sampler.join();
            double cpu = cpuDelta(before, latest) / 1e9;
            // a figure over records the jobs set aside would measure nothing: every one must have been read
            int dead = Results.readCommitted(stack.bootstrapServers(), cfg.get(JobConfig.DEAD_LETTER_TOPIC))
                    .size();
            if (dead > 0) {
                throw new IllegalStateException(dead + " of the workload's events went to the dead-letter topic");
            }
            if (r < 0) {
                System.err.printf(
                        "warm-up (not counted): %,.0f events/s wall, %,.0f events/s per core%n",
                        events.size() / wall, events.size() / cpu);
                continue;
            }
            perSecond[r] = events.size() / wall;
            perCore[r] = events.size() / cpu;
            System.err.printf(
                    "run %d: %,.0f events/s wall, %,.0f events/s per core, %,.0f connections/s per core (%.1f s wall,"
                            + " %.1f s job CPU)%n",
                    r + 1, perSecond[r], perCore[r], connections / cpu, wall, cpu);
        }

        double[] latency = latency(stack, aggregate);
        Arrays.sort(perCore);
        Arrays.sort(perSecond);
        String json = String.format(
                java.util.Locale.ROOT,
                """
                {
                  "events": %d,
                  "shape": "%s",
                  "events_per_connection": %d,
                  "connections_per_sec_per_core": %.0f,
                  "events_per_sec_per_core": {"median": %.0f, "min": %.0f, "max": %.0f},
                  "events_per_sec_wall": %.0f,
                  "latency_connect_to_flow_on_kafka_ms": {"p50": %.0f, "p99": %.0f, "samples": %.0f, "checkpoint_interval_ms": 5000},
                  "target_events_per_sec_per_core": 250000,
                  "target_p99_ms": 6000
                }
                """,
                events.size(),
                shape,
                events.size() / connections,
                perCore[reps / 2] * connections / events.size(),
                perCore[reps / 2],
                perCore[0],
                perCore[reps - 1],
                perSecond[reps / 2],
                latency[0],
                latency[1],
                latency[2]);
        Files.createDirectories(out.getParent());
        Files.writeString(out, json);
        System.out.print(json);
        System.exit(0);
    }

    static JobConfig config(LocalStack stack, String input, String run, Map<String, String> more) {
        Map<String, String> m = new HashMap<>();
        m.put("bootstrap.servers", stack.bootstrapServers());
        m.put("registry.url", stack.registryUrl());
        m.put("topic.events", input);
        m.put("topic.lifecycles", input + "-lifecycles-" + run);
        m.put("topic.flows", input + "-flows-" + run);
        m.put("topic.alerts", input + "-alerts-" + run);
        m.put("topic.dead-letter", input + "-dlq-" + run);
        m.put("warehouse", System.getProperty("java.io.tmpdir") + "/sockflow-bench-warehouse");
        m.put("iceberg.namespace", "bench_" + run);
        m.put("checkpoint.dir", System.getProperty("java.io.tmpdir") + "/sockflow-bench-checkpoints");
        m.put("transactional.id.prefix", input + "-" + run);
        m.put("group.id", input + "-" + run);
        m.put("lake.events", System.getProperty("bench.lake-events", "true")); // the events table, on by default
        m.putAll(more);
        return JobConfig.of(m);
    }

    /** Serializes and produces; with {@code stampNow} the events' time is rewritten to the moment of producing. */
    static void produce(LocalStack stack, String topic, List<SocketEvent> events, Long ratePerSec) throws Exception {
        RegistryClient registry = new RegistryClient(RegistryClient.Config.of(stack.registryUrl()));
        ConfluentAvro.Serializer<SocketEvent> ser =
                new ConfluentAvro.Serializer<>(registry, topic, SocketEvent.getClassSchema());
        try (KafkaProducer<byte[], byte[]> p = Results.producer(stack.bootstrapServers())) {
            long start = System.nanoTime();
            for (int i = 0; i < events.size(); i++) {
                SocketEvent e = events.get(i);
                if (ratePerSec != null) {
                    long due = start + i * 1_000_000_000L / ratePerSec;
                    while (System.nanoTime() < due) {
                        Thread.onSpinWait();
                    }
                    Instant now = Instant.now();
                    e.setTimestamp(now);
                    e.setMonotonicNs(System.nanoTime());
                }
                String key =
                        e.getHost() + "/" + (e.getSocketInode() != null ? e.getSocketInode() : "pid/" + e.getPid());
                p.send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), ser.serialize(e)));
            }
            p.flush();
        }
    }

    /** p50, p99 and sample count of connect event → NEW flow readable, in ms. */
    static double[] latency(LocalStack stack, boolean aggregate) throws Exception {
        String input = "bench-latency-" + UUID.randomUUID();
        JobConfig cfg = config(stack, input, "lat", Map.of("jobs", "lifecycle,flow", "starting.offsets", "latest"));
        SockflowJob.prepare(cfg);
        Configuration conf = new Configuration();
        conf.setString("restart-strategy.type", "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
        SockflowJob.build(env, cfg);
        JobClient job = env.executeAsync("sockflow latency bench");
        Thread.sleep(8000); // the job is up and its source positioned
        int connections = 3000;
        List<SocketEvent> events = Workload.events(connections, 0, aggregate);
        Thread producer = new Thread(() -> {
            try {
                produce(stack, input, events, 5_000L); // 5,000 events/s, about 20 s
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        producer.start();
        List<Double> samples = new ArrayList<>();
        Properties p = new Properties();
        p.put("bootstrap.servers", stack.bootstrapServers());
        p.put("isolation.level", "read_committed");
        String flows = cfg.get(JobConfig.FLOWS_TOPIC);
        var decoder = new ConfluentAvro.Deserializer<Flow>(
                new RegistryClient(RegistryClient.Config.of(stack.registryUrl())), Flow.getClassSchema());
        try (KafkaConsumer<byte[], byte[]> c =
                new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = c.partitionsFor(flows).stream()
                    .map(i -> new TopicPartition(flows, i.partition()))
                    .toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (samples.size() < connections && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(50))) {
                    Flow f = decoder.deserialize(r.value());
                    if (f.getRecordType() == FlowRecordType.NEW) {
                        samples.add((double)
                                Duration.between(f.getStart(), Instant.now()).toMillis());
                    }
                }
            }
        }
        producer.join();
        job.cancel().get();
        samples.sort(Double::compare);
        if (samples.isEmpty()) {
            return new double[] {-1, -1, 0};
        }
        return new double[] {
            samples.get(samples.size() / 2),
            samples.get((int) Math.min(samples.size() - 1, Math.ceil(samples.size() * 0.99) - 1)),
            samples.size()
        };
    }

    static boolean isJobThread(String name) {
        return name.contains("(1/1)")
                || name.startsWith("Source Data Fetcher")
                || name.startsWith("kafka-producer-network-thread")
                || name.startsWith("Iceberg");
    }

    static Map<Long, Long> jobThreadCpu(ThreadMXBean threads) {
        Map<Long, Long> m = new HashMap<>();
        for (ThreadInfo t : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (t != null && isJobThread(t.getThreadName())) {
                long ns = threads.getThreadCpuTime(t.getThreadId());
                if (ns > 0) {
                    m.put(t.getThreadId(), ns);
                }
            }
        }
        return m;
    }

    /** CPU of the job's threads between two snapshots (the last one sampled while they ran). */
    static long cpuDelta(Map<Long, Long> before, Map<Long, Long> after) {
        long sum = 0;
        for (Map.Entry<Long, Long> e : after.entrySet()) {
            sum += e.getValue() - before.getOrDefault(e.getKey(), 0L);
        }
        return sum;
    }
}
