package io.sockflow.jobs;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.embedded.LocalStack;
import io.sockflow.jobs.config.JobConfig;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.Flow;
import io.sockflow.schemas.FlowRecordType;
import io.sockflow.schemas.LifecycleStatus;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.SocketLifecycle;
import io.sockflow.schemas.registry.ConfluentAvro;
import io.sockflow.schemas.registry.RegistryClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The collector's clock records, through a live job on the embedded Kafka: a host's events stop, and the ends that
 * wait for the watermark (a socket's release plus the close grace, a flow's pair grace) come out only once clock
 * records carry the host's time on; the clock records themselves reach no operator (no lifecycle of their own, no
 * dead letter).
 */
@Tag("slow")
class ClockRecordsTest {
    static final int CONNECTIONS = 2;

    @TempDir
    static Path dir;

    @Test
    void endsThatWaitForTheWatermarkComeOutOnClockRecordsAloneAndNotWithoutThem() throws Exception {
        LocalStack stack = LocalStack.shared();
        String input = "clock-" + UUID.randomUUID();
        Map<String, String> m = io.sockflow.jobs.TestPipelines.settings(stack, input, dir, "300ms");
        m.put("bounded", "false");
        m.put("jobs", "lifecycle,flow");
        m.put("sink.iceberg", "false");
        m.put("group.id", "g-" + input);
        JobConfig cfg = JobConfig.of(m);
        SockflowJob.prepare(cfg); // the input topic too, with its partitions

        RegistryClient registry = new RegistryClient(RegistryClient.Config.of(stack.registryUrl()));
        ConfluentAvro.Serializer<SocketEvent> ser =
                new ConfluentAvro.Serializer<>(registry, input, SocketEvent.getClassSchema());
        ser.register();
        List<SocketEvent> events = Workload.events(CONNECTIONS);
        Set<Long> inodes = events.stream()
                .map(SocketEvent::getSocketInode)
                .filter(i -> i != null)
                .collect(Collectors.toSet());

        Configuration conf = new Configuration();
        conf.setString("restart-strategy.type", "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
        SockflowJob.build(env, cfg);
        JobClient job = env.executeAsync("clock records");
        try (KafkaProducer<byte[], byte[]> p = Results.producer(stack.bootstrapServers())) {
            for (SocketEvent e : events) {
                String key =
                        e.getHost() + "/" + (e.getSocketInode() != null ? e.getSocketInode() : "pid/" + e.getPid());
                Results.send(p, input, key.getBytes(StandardCharsets.UTF_8), ser.serialize(e));
            }
            // every event read and checkpointed (the source commits its offsets with each checkpoint), and a little
            // more: the host is quiet, and its watermark stays 2 s behind its last event
            awaitCommitted(stack.bootstrapServers(), "g-" + input, input, Duration.ofSeconds(90));
            Thread.sleep(2000);
            assertEquals(
                    List.of(),
                    ends(stack, cfg),
                    "without clock records no socket of the quiet host has ended: its releases are within the "
                            + "out-of-orderness bound of its last event");
            assertEquals(List.of(), flowEnds(stack, cfg), "nor has a flow");

            // the collector's clock, as a quiet collector sends it: a record on every partition, again and again, each
            // a second of event time later than the one before (here every 200 ms of real time, to be quick), until
            // the ends come out
            int partitions = p.partitionsFor(input).size();
            List<SocketLifecycle> ended = List.of();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            int ticks = 0;
            while (System.nanoTime() < deadline) {
                ticks++;
                SocketEvent tick = Ev.of(EventKind.CLOCK, 0, "", Workload.lastMillis(CONNECTIONS) + ticks * 1000L)
                        .get();
                tick.setAttribution(null);
                for (int part = 0; part < partitions; part++) {
                    p.send(new ProducerRecord<>(
                            input,
                            part,
                            ("web-1/clock/" + part).getBytes(StandardCharsets.UTF_8),
                            ser.serialize(tick)));
                }
                p.flush();
                ended = ends(stack, cfg);
                if (ended.size() >= Workload.sockets(CONNECTIONS)
                        && flowEnds(stack, cfg).size() >= CONNECTIONS) {
                    break;
                }
                Thread.sleep(200);
            }
            System.out.printf("the ends came out after %d clock ticks (%d s of event time)%n", ticks, ticks);
        }
        try {
            List<SocketLifecycle> ended = ends(stack, cfg);
            assertEquals(
                    Workload.sockets(CONNECTIONS),
                    ended.size(),
                    "every socket of the workload ended on the clock records: " + ended);
            assertTrue(
                    ended.stream().allMatch(l -> l.getStatus() == LifecycleStatus.CLOSED),
                    "released, not timed out: " + ended);
            List<SocketLifecycle> all = Results.decode(
                    stack.registryUrl(),
                    Results.readCommitted(stack.bootstrapServers(), cfg.get(JobConfig.LIFECYCLES_TOPIC)),
                    SocketLifecycle.getClassSchema());
            assertTrue(
                    all.stream().allMatch(l -> inodes.contains(l.getSocketInode())),
                    "no lifecycle of anything but the workload's sockets (none of a clock record): " + all);
            Set<Integer> clientPorts = flowEnds(stack, cfg).stream()
                    .filter(f -> f.getDestinationPort() != null && f.getDestinationPort() == Workload.PORT)
                    .map(Flow::getSourcePort)
                    .collect(Collectors.toSet());
            assertEquals(Set.of(40000, 40001), clientPorts, "each connection's flow ended on the clock records too");
            assertEquals(
                    0,
                    Results.readCommitted(stack.bootstrapServers(), cfg.get(JobConfig.DEAD_LETTER_TOPIC))
                            .size(),
                    "a clock record is no dead letter");
        } finally {
            job.cancel().get(1, TimeUnit.MINUTES);
        }
    }

    static List<SocketLifecycle> ends(LocalStack stack, JobConfig cfg) {
        List<SocketLifecycle> all = Results.decode(
                stack.registryUrl(),
                Results.readCommitted(stack.bootstrapServers(), cfg.get(JobConfig.LIFECYCLES_TOPIC)),
                SocketLifecycle.getClassSchema());
        return all.stream().filter(l -> l.getStatus() != LifecycleStatus.OPEN).toList();
    }

    static List<Flow> flowEnds(LocalStack stack, JobConfig cfg) {
        List<Flow> all = Results.decode(
                stack.registryUrl(),
                Results.readCommitted(stack.bootstrapServers(), cfg.get(JobConfig.FLOWS_TOPIC)),
                Flow.getClassSchema());
        return all.stream().filter(f -> f.getRecordType() == FlowRecordType.END).toList();
    }

    /** Waits until the group's committed offsets reach the end of every partition of the topic. */
    static void awaitCommitted(String bootstrap, String group, String topic, Duration timeout) throws Exception {
        Properties p = new Properties();
        p.putAll(Results.loginOf(bootstrap));
        p.put("bootstrap.servers", bootstrap);
        try (Admin a = Admin.create(p)) {
            int partitions = a.describeTopics(List.of(topic))
                    .allTopicNames()
                    .get()
                    .get(topic)
                    .partitions()
                    .size();
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (int i = 0; i < partitions; i++) {
                latest.put(new TopicPartition(topic, i), OffsetSpec.latest());
            }
            Map<TopicPartition, Long> end = new HashMap<>();
            a.listOffsets(latest).all().get().forEach((tp, info) -> end.put(tp, info.offset()));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                Map<TopicPartition, OffsetAndMetadata> committed = a.listConsumerGroupOffsets(group)
                        .partitionsToOffsetAndMetadata()
                        .get();
                boolean all = end.entrySet().stream()
                        .allMatch(x -> x.getValue() == 0
                                || committed.get(x.getKey()) != null
                                        && committed.get(x.getKey()).offset() >= x.getValue());
                if (all) {
                    return;
                }
                assertTrue(System.nanoTime() < deadline, "the job did not read " + topic + " to its end: " + committed);
                Thread.sleep(200);
            }
        }
    }
}
