package io.sockflow.jobs;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.embedded.LocalStack;
import io.sockflow.jobs.config.JobConfig;
import io.sockflow.schemas.Alert;
import io.sockflow.schemas.Flow;
import io.sockflow.schemas.FlowRecordType;
import io.sockflow.schemas.LifecycleStatus;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.SocketLifecycle;
import io.sockflow.schemas.registry.ConfluentAvro;
import io.sockflow.schemas.registry.RegistryClient;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole job graph on a Flink MiniCluster against the embedded broker and registry, with a workload of known
 * shape written to the input topic as the collector writes it (the live-capture version of this test is in the
 * runner module, which may depend on both collector and jobs). Results are read back from Kafka (read_committed)
 * and from the Iceberg tables.
 */
@Tag("slow")
class SockflowJobTest {
    static final int CONNECTIONS = 40;
    static LocalStack stack;
    static String input;
    static int corruptAt;

    @TempDir
    static Path dir;

    @BeforeAll
    static void writeInput() {
        stack = LocalStack.shared();
        input = "events-" + UUID.randomUUID();
        RegistryClient registry = new RegistryClient(RegistryClient.Config.of(stack.registryUrl()));
        ConfluentAvro.Serializer<SocketEvent> ser =
                new ConfluentAvro.Serializer<>(registry, input, SocketEvent.getClassSchema());
        ser.register();
        List<SocketEvent> events = Workload.events(CONNECTIONS);
        JobConfig cfg = config("prep", Map.of());
        SockflowJob.prepare(cfg); // creates the input topic too
        corruptAt = events.size() / 2;
        try (KafkaProducer<byte[], byte[]> p = Results.producer(stack.bootstrapServers())) {
            for (int i = 0; i < events.size(); i++) {
                if (i == corruptAt) {
                    // a record that is not Avro at all, and one with a schema id the registry never gave
                    Results.send(
                            p,
                            input,
                            "web-1/x".getBytes(StandardCharsets.UTF_8),
                            "not avro".getBytes(StandardCharsets.UTF_8));
                    Results.send(
                            p, input, "web-1/y".getBytes(StandardCharsets.UTF_8), new byte[] {0, 0, 0, 39, 15, 1, 2, 3
                            });
                }
                SocketEvent e = events.get(i);
                // partitioned like the collector: by host and socket
                String key =
                        e.getHost() + "/" + (e.getSocketInode() != null ? e.getSocketInode() : "pid/" + e.getPid());
                Results.send(p, input, key.getBytes(StandardCharsets.UTF_8), ser.serialize(e));
            }
            // a sethostname (no socket): keyed by pid, like the collector does
            SocketEvent naming = Ev.of(io.sockflow.schemas.EventKind.SETHOSTNAME, 9, "hostname", 500)
                    .name("web-1")
                    .get();
            Results.send(p, input, "web-1/pid/9".getBytes(StandardCharsets.UTF_8), ser.serialize(naming));
        }
    }

    static JobConfig config(String run, Map<String, String> more) {
        Map<String, String> m = new HashMap<>();
        m.put("bootstrap.servers", stack.bootstrapServers());
        m.put("registry.url", stack.registryUrl());
        m.put("topic.events", input);
        m.put("topic.lifecycles", "lifecycles-" + run + "-" + input);
        m.put("topic.flows", "flows-" + run + "-" + input);
        m.put("topic.alerts", "alerts-" + run + "-" + input);
        m.put("topic.dead-letter", "dlq-" + run + "-" + input);
        m.put("warehouse", dir.resolve("warehouse").toString());
        // the events are stamped on a fixed day (Ev.T0): the lake's retention, counted from today, would delete them
        // at a job's start once that day is older than it
        m.put("lake.events.retention", "0");
        m.put("lake.retention", "0");
        m.put("checkpoint.dir", dir.resolve("checkpoints").toString());
        m.put("iceberg.namespace", "ns_" + run);
        m.put("checkpoint.interval", "300ms");
        m.put("bounded", "true");
        m.put("detect.listener.learning", "0s");
        m.put("transactional.id.prefix", "tx-" + run + "-" + input);
        m.put("group.id", "g-" + run);
        m.put("detect.rules.dir", ""); // no user rules but a test's own
        m.putAll(more);
        return JobConfig.of(m);
    }

    static void run(JobConfig cfg, boolean allowRestart) throws Exception {
        Configuration conf = new Configuration();
        if (allowRestart) {
            conf.setString("restart-strategy.type", "fixed-delay");
            conf.setString("restart-strategy.fixed-delay.attempts", "2");
            conf.setString("restart-strategy.fixed-delay.delay", "500ms");
        } else {
            conf.setString("restart-strategy.type", "none");
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
        SockflowJob.run(env, cfg);
    }

    record Outcome(
            List<SocketLifecycle> lifecycles,
            List<Flow> flows,
            List<Alert> alerts,
            List<ConsumerRecord<byte[], byte[]>> dead,
            List<Map<String, Object>> lakeLifecycles,
            List<Map<String, Object>> lakeFlows,
            List<Map<String, Object>> lakeAlerts,
            int lakeEvents) {}

    static Outcome outcome(JobConfig cfg) {
        String b = stack.bootstrapServers();
        String r = stack.registryUrl();
        String w = cfg.get(JobConfig.WAREHOUSE);
        String ns = cfg.get(JobConfig.NAMESPACE);
        return new Outcome(
                Results.decode(
                        r,
                        Results.readCommitted(b, cfg.get(JobConfig.LIFECYCLES_TOPIC)),
                        SocketLifecycle.getClassSchema()),
                Results.decode(r, Results.readCommitted(b, cfg.get(JobConfig.FLOWS_TOPIC)), Flow.getClassSchema()),
                Results.decode(r, Results.readCommitted(b, cfg.get(JobConfig.ALERTS_TOPIC)), Alert.getClassSchema()),
                Results.readCommitted(b, cfg.get(JobConfig.DEAD_LETTER_TOPIC)),
                Results.lake(w, ns, SockflowJob.LIFECYCLES_TABLE),
                Results.lake(w, ns, SockflowJob.FLOWS_TABLE),
                Results.lake(w, ns, SockflowJob.ALERTS_TABLE),
                // the clock ticks of the kill-and-restart test concern no socket and are not the workload's: a run
                // that starts after them reads them too
                (int) Results.lake(w, ns, SockflowJob.EVENTS_TABLE).stream()
                        .filter(row -> !"clock".equals(String.valueOf(row.get("comm"))))
                        .count());
    }

    static Outcome baseline;

    static synchronized Outcome baseline() throws Exception {
        if (baseline == null) {
            JobConfig cfg = config("base", Map.of());
            run(cfg, false);
            baseline = outcome(cfg);
        }
        return baseline;
    }

    @Test
    void theWorkloadComesOutExactlyInKafkaAndIceberg() throws Exception {
        Outcome o = baseline();
        List<SocketLifecycle> closed = o.lifecycles().stream()
                .filter(l -> l.getStatus() == LifecycleStatus.CLOSED)
                .toList();
        assertEquals(Workload.sockets(CONNECTIONS), closed.size());
        assertEquals(
                Workload.sockets(CONNECTIONS), o.lifecycles().size(), "no updates for short sockets, no duplicates");
        long clientBytes = closed.stream()
                .filter(l -> "curl".equals(l.getComm()) && l.getRemotePort() != null && l.getRemotePort() == 8080)
                .mapToLong(SocketLifecycle::getBytesSent)
                .sum();
        long expectedUp = 0;
        for (int i = 0; i < CONNECTIONS; i++) {
            expectedUp += 100L * (i + 1);
        }
        assertEquals(expectedUp, clientBytes);

        List<Flow> ends = o.flows().stream()
                .filter(f -> f.getRecordType() == FlowRecordType.END)
                .toList();
        List<Flow> news = o.flows().stream()
                .filter(f -> f.getRecordType() == FlowRecordType.NEW)
                .toList();
        assertEquals(CONNECTIONS + 1, ends.size());
        assertEquals(CONNECTIONS + 1, news.size());
        assertEquals(
                List.of(),
                o.flows().stream()
                        .filter(f -> f.getRecordType() == FlowRecordType.UPDATE)
                        .toList(),
                "no updates for connections shorter than the update interval");
        for (Flow f : ends) {
            if (f.getNetworkTransport().equals("tcp")) {
                int i = f.getSourcePort() - 40000;
                assertEquals(100L * (i + 1), f.getSourceBytes());
                assertEquals(1000L + i, f.getDestinationBytes());
                assertEquals(300 + i, f.getSourcePid());
                assertEquals(200, f.getDestinationPid());
            }
        }
        Set<String> rules = o.alerts().stream().map(Alert::getRule).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(Set.of("hostname-change", "new-listener", "socketpair-ipc"), rules);

        // the lake holds the same records, and every input event once (lake.events)
        assertEquals(Workload.events(CONNECTIONS).size() + 1, o.lakeEvents(), "the workload and the sethostname");
        assertEquals(o.lifecycles().size(), o.lakeLifecycles().size());
        assertEquals(o.flows().size(), o.lakeFlows().size());
        assertEquals(o.alerts().size(), o.lakeAlerts().size());
        assertEquals(
                ends.stream().mapToLong(Flow::getSourceBytes).sum(),
                o.lakeFlows().stream()
                        .filter(r -> "END".equals(r.get("recordType")))
                        .mapToLong(r -> (Long) r.get("sourceBytes"))
                        .sum());
        assertEquals(
                new TreeSet<>(o.alerts().stream().map(Alert::getAlertId).toList()),
                new TreeSet<>(o.lakeAlerts().stream()
                        .map(r -> (String) r.get("alertId"))
                        .toList()));
    }

    @Test
    void userRulesInTheRulesFolderRaiseTheirAlertsThroughTheWholeJob() throws Exception {
        Path rules = java.nio.file.Files.createDirectories(dir.resolve("rules"));
        java.nio.file.Files.writeString(rules.resolve("refused.sql"), """
                -- severity: medium
                -- summary: a connect was refused
                SELECT host, pid, comm, processStartNs, rowtime, errno,
                       CONCAT('connect to ', sockaddrAddress, ':', CAST(sockaddrPort AS STRING)) AS evidence
                FROM events
                WHERE kind = 'CONNECT' AND errno = 'ECONNREFUSED';
                """);
        java.nio.file.Files.writeString(rules.resolve("curl-connects.sql"), """
                -- severity: low
                -- summary: curl connected in this minute
                SELECT host, pid, comm, window_end, COUNT(*) AS connects
                FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(rowtime), INTERVAL '1' MINUTE))
                WHERE kind = 'CONNECT' AND comm = 'curl'
                GROUP BY host, pid, comm, window_start, window_end
                """);
        // rules over the results: the lifecycles and flows tables, as the jobs make them
        java.nio.file.Files.writeString(rules.resolve("refused-lifecycle.sql"), """
                -- severity: low
                -- summary: a socket ended refused
                SELECT host, pid, comm, rowtime, connectOutcome
                FROM lifecycles WHERE status = 'CLOSED' AND connectOutcome = 'ECONNREFUSED'
                """);
        java.nio.file.Files.writeString(rules.resolve("web-flows.sql"), """
                -- severity: info
                -- summary: a flow to the web server ended
                SELECT host, sourcePid AS pid, sourceComm AS comm, rowtime, sourceBytes
                FROM flows WHERE recordType = 'END' AND destinationPort = 8080
                """);
        JobConfig cfg = config("rules", Map.of("detect.rules.dir", rules.toString()));
        run(cfg, false);
        List<Alert> alerts = outcome(cfg).alerts();
        List<Alert> refused =
                alerts.stream().filter(a -> a.getRule().equals("refused")).toList();
        assertEquals(1, refused.size(), "one refused connect in the workload: " + refused);
        Alert a = refused.get(0);
        assertEquals(400, a.getPid());
        assertEquals("curl", a.getComm());
        assertEquals(io.sockflow.schemas.Severity.MEDIUM, a.getSeverity());
        assertEquals("a connect was refused", a.getSummary());
        assertEquals("ECONNREFUSED", a.getAttributes().get("errno"));
        assertEquals(List.of("connect to " + Workload.LO + ":9"), a.getEvidence());
        assertEquals("user rule", a.getAttributes().get("source"));
        List<Alert> counted =
                alerts.stream().filter(x -> x.getRule().equals("curl-connects")).toList();
        assertEquals(CONNECTIONS + 1, counted.size(), "one per curl process, each connecting once");
        assertTrue(counted.stream().allMatch(x -> "1".equals(x.getAttributes().get("connects"))), counted.toString());
        // the built-in rules still run beside them
        assertTrue(alerts.stream().anyMatch(x -> x.getRule().equals("hostname-change")));
        List<Alert> ended = alerts.stream()
                .filter(x -> x.getRule().equals("refused-lifecycle"))
                .toList();
        assertEquals(1, ended.size(), ended.toString());
        assertEquals(400, ended.get(0).getPid());
        assertEquals("ECONNREFUSED", ended.get(0).getAttributes().get("connectOutcome"));
        Outcome base = baseline();
        List<Flow> web = base.flows().stream()
                .filter(f -> f.getRecordType() == FlowRecordType.END && f.getDestinationPort() == 8080)
                .toList();
        List<Alert> webAlerts =
                alerts.stream().filter(x -> x.getRule().equals("web-flows")).toList();
        assertFalse(web.isEmpty());
        assertEquals(
                new TreeSet<>(web.stream()
                        .map(f -> f.getSourcePid() + " " + f.getSourceBytes())
                        .toList()),
                new TreeSet<>(webAlerts.stream()
                        .map(x -> x.getPid() + " " + x.getAttributes().get("sourceBytes"))
                        .toList()));
        assertEquals(web.size(), webAlerts.size());
    }

    @Test
    void corruptInputGoesToTheDeadLetterTopicWithItsReason() throws Exception {
        Outcome o = baseline();
        assertEquals(2, o.dead().size());
        Map<String, String> reasons = new HashMap<>();
        for (var r : o.dead()) {
            reasons.put(
                    new String(r.key(), StandardCharsets.UTF_8),
                    new String(r.headers().lastHeader("sockflow.error.reason").value(), StandardCharsets.UTF_8));
            assertEquals(
                    input,
                    new String(r.headers().lastHeader("__connect.errors.topic").value(), StandardCharsets.UTF_8));
        }
        assertTrue(reasons.get("web-1/x").contains("magic byte"), reasons.toString());
        assertTrue(reasons.get("web-1/y").contains("not in the registry"), reasons.toString());
        assertArrayEquals(
                "not avro".getBytes(StandardCharsets.UTF_8),
                o.dead().stream()
                        .filter(r -> new String(r.key(), StandardCharsets.UTF_8).equals("web-1/x"))
                        .findFirst()
                        .orElseThrow()
                        .value(),
                "the record is kept as it came");
    }

    @Test
    void aFailureAfterACheckpointIsRecoveredWithNothingMissingAndNothingTwice() throws Exception {
        Outcome expected = baseline();
        JobConfig cfg = config(
                "failover",
                Map.of(
                        "test.fail-after-records",
                        String.valueOf(Workload.events(CONNECTIONS).size() / 2)));
        run(cfg, true);
        Outcome got = outcome(cfg);
        assertEquals(
                ids(expected.lifecycles().stream().map(SocketLifecycleKey::of).toList()),
                ids(got.lifecycles().stream().map(SocketLifecycleKey::of).toList()));
        assertSameResults(expected, got);
        assertEquals(expected.lakeEvents(), got.lakeEvents(), "every event in the lake once, through the failure");
    }

    @Test
    void aJobKilledAfterACheckpointAndStartedAgainFromItLosesNothingAndRepeatsNothing() throws Exception {
        Outcome expected = baseline();
        // both lives run unbounded, as in production (a bounded Kafka source restored from a checkpoint never
        // finishes: FLINK-31006); a clock tick a day ahead on every partition moves the watermark past every socket's
        // end, as time going on does on a live host. Ticks concern no socket: the bounded runs' results stay the same.
        appendClockTicks();
        Path checkpoints = dir.resolve("checkpoints-kill");
        // first life: its own JVM, stopped mid-workload right after a checkpoint completed, then killed (SIGKILL)
        JobConfig first = config(
                "kill",
                Map.of(
                        "checkpoint.dir",
                        checkpoints.toString(),
                        "bounded",
                        "false",
                        "test.stall-after-records",
                        String.valueOf(Workload.events(CONNECTIONS).size() / 2)));
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--add-opens")
                        || a.startsWith("--add-exports")
                        || a.startsWith("--enable-native-access"))
                .toList());
        cmd.addAll(List.of("-Xmx768m", "-cp", System.getProperty("java.class.path"), SockflowJob.class.getName()));
        first.values().forEach((k, v) -> cmd.add("--" + k + "=" + v));
        Path log = dir.resolve("killed-job.log");
        Process job = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        try {
            long deadline = System.nanoTime() + 180_000_000_000L;
            while (!Files.readString(log).contains(FailOnce.STALLED)) {
                assertTrue(job.isAlive(), "the job's process ended before it stalled:\n" + tail(log));
                assertTrue(System.nanoTime() < deadline, "the job did not stall within 3 minutes:\n" + tail(log));
                Thread.sleep(200);
            }
        } finally {
            job.destroyForcibly();
            job.waitFor();
        }
        assertEquals(137, job.exitValue(), "killed by SIGKILL");
        Path retained = Checkpoints.latest(checkpoints).orElseThrow(() -> new AssertionError("no checkpoint retained"));
        Outcome partial = outcome(first);
        assertTrue(
                partial.lifecycles().size() < expected.lifecycles().size(),
                "killed mid-workload: " + partial.lifecycles().size() + " of "
                        + expected.lifecycles().size() + " lifecycles");

        // second life: a new job (a new job id) started from the newest retained checkpoint, until its results
        // are complete
        JobConfig second = config(
                "kill", Map.of("checkpoint.dir", checkpoints.toString(), "bounded", "false", "restore", "latest"));
        assertEquals(retained, Checkpoints.resolve("latest", checkpoints.toString()));
        Configuration conf = new Configuration();
        conf.setString("restart-strategy.type", "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
        SockflowJob.prepare(second);
        SockflowJob.build(env, second);
        org.apache.flink.core.execution.JobClient client = env.executeAsync("sockflow jobs (restored)");
        Outcome got;
        RegistryClient registry = new RegistryClient(RegistryClient.Config.of(stack.registryUrl()));
        ConfluentAvro.Serializer<SocketEvent> ser =
                new ConfluentAvro.Serializer<>(registry, input, SocketEvent.getClassSchema());
        try (KafkaProducer<byte[], byte[]> ticks = Results.producer(stack.bootstrapServers())) {
            // a loaded 2-core CI machine has taken more than two minutes here
            long deadline = System.nanoTime() + 240_000_000_000L;
            for (int tick = 1; ; tick++) {
                // time goes on as a live host's collector says it does, with a CLOCK record on every partition
                // each interval (the jobs drop them at the source: no result changes); one tick alone had, now and
                // then, left the restored job's watermark behind and its results unfinished
                SocketEvent clock = Ev.of(io.sockflow.schemas.EventKind.CLOCK, 0, "", 86_400_000L + tick * 1000L)
                        .get();
                clock.setAttribution(null);
                for (int part = 0; part < ticks.partitionsFor(input).size(); part++) {
                    ticks.send(new org.apache.kafka.clients.producer.ProducerRecord<>(
                            input, part, "web-1/clock".getBytes(StandardCharsets.UTF_8), ser.serialize(clock)));
                }
                ticks.flush();
                got = outcome(second);
                if (got.lifecycles().size() >= expected.lifecycles().size()
                        && got.flows().size() >= expected.flows().size()
                        && got.alerts().size() >= expected.alerts().size()
                        && got.lakeLifecycles().size()
                                >= expected.lakeLifecycles().size()
                        && got.lakeFlows().size() >= expected.lakeFlows().size()) {
                    Thread.sleep(1_500); // a few more checkpoints: anything extra would show now
                    got = outcome(second);
                    break;
                }
                assertFalse(client.getJobStatus().get().isGloballyTerminalState(), "the restored job ended early");
                Outcome now = got;
                assertTrue(
                        System.nanoTime() < deadline,
                        () -> "the restored job did not complete its results in 4 "
                                + "minutes: " + now.lifecycles().size() + " of "
                                + expected.lifecycles().size() + " lifecycles, "
                                + now.flows().size() + " of " + expected.flows().size() + " flows; open transactions:"
                                + Results.openTransactions(
                                        stack.bootstrapServers(),
                                        List.of(
                                                second.get(JobConfig.LIFECYCLES_TOPIC),
                                                second.get(JobConfig.FLOWS_TOPIC),
                                                second.get(JobConfig.ALERTS_TOPIC))));
                Thread.sleep(500);
            }
        } finally {
            client.cancel().get(60, java.util.concurrent.TimeUnit.SECONDS);
        }
        // lifecycles of sockets opened before the kill and closed after it need the restored state
        assertSameResults(expected, got);
    }

    /** Nothing missing, nothing twice: the same records in Kafka (read_committed) and as many rows in the lake. */
    static void assertSameResults(Outcome expected, Outcome got) {
        assertEquals(
                sorted(expected.lifecycles().stream().map(Object::toString).toList()),
                sorted(got.lifecycles().stream().map(Object::toString).toList()));
        assertEquals(
                sorted(expected.flows().stream()
                        .filter(f -> f.getRecordType() == FlowRecordType.END)
                        .map(Object::toString)
                        .toList()),
                sorted(got.flows().stream()
                        .filter(f -> f.getRecordType() == FlowRecordType.END)
                        .map(Object::toString)
                        .toList()));
        assertEquals(
                sorted(expected.flows().stream()
                        .map(f -> f.getFlowId() + f.getRecordType())
                        .toList()),
                sorted(got.flows().stream()
                        .map(f -> f.getFlowId() + f.getRecordType())
                        .toList()));
        assertEquals(
                sorted(expected.alerts().stream().map(Object::toString).toList()),
                sorted(got.alerts().stream().map(Object::toString).toList()));
        assertEquals(expected.dead().size(), got.dead().size());
        assertEquals(expected.lakeLifecycles().size(), got.lakeLifecycles().size());
        assertEquals(expected.lakeFlows().size(), got.lakeFlows().size());
        assertEquals(expected.lakeAlerts().size(), got.lakeAlerts().size());
    }

    /** An event of no socket and no process a day after the workload, on every partition of the input. */
    static void appendClockTicks() {
        RegistryClient registry = new RegistryClient(RegistryClient.Config.of(stack.registryUrl()));
        ConfluentAvro.Serializer<SocketEvent> ser =
                new ConfluentAvro.Serializer<>(registry, input, SocketEvent.getClassSchema());
        SocketEvent tick = Ev.of(io.sockflow.schemas.EventKind.UNKNOWN, 0, "clock", 86_400_000L)
                .get();
        try (KafkaProducer<byte[], byte[]> p = Results.producer(stack.bootstrapServers())) {
            for (int part = 0; part < p.partitionsFor(input).size(); part++) {
                p.send(new org.apache.kafka.clients.producer.ProducerRecord<>(
                        input, part, "web-1/pid/0".getBytes(StandardCharsets.UTF_8), ser.serialize(tick)));
            }
            p.flush();
        }
    }

    @Test
    void restoreNamesWhatItStartsFrom() throws Exception {
        Path cps = dir.resolve("checkpoints-resolve");
        assertNull(Checkpoints.resolve("", cps.toString()), "empty: a fresh start");
        assertNull(Checkpoints.resolve("latest", cps.toString()), "latest without any checkpoint: a fresh start");
        Path older = Files.createDirectories(cps.resolve("job-a/chk-7"));
        Files.writeString(older.resolve("_metadata"), "x");
        Files.setLastModifiedTime(older.resolve("_metadata"), java.nio.file.attribute.FileTime.fromMillis(1_000_000));
        Path newer = Files.createDirectories(cps.resolve("job-b/chk-3"));
        Files.writeString(newer.resolve("_metadata"), "x");
        Files.createDirectories(cps.resolve("job-b/chk-4")); // not finished: no _metadata
        assertEquals(newer, Checkpoints.resolve("latest", cps.toString()));
        assertEquals(older, Checkpoints.resolve(older.toString(), cps.toString()));
        assertEquals(older, Checkpoints.resolve(older.resolve("_metadata").toString(), cps.toString()));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> Checkpoints.resolve(cps.resolve("job-b/chk-4").toString(), cps.toString()));
        assertTrue(e.getMessage().contains("no _metadata"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Checkpoints.resolve("latest", "s3://bucket/cp"));
        assertTrue(e.getMessage().contains("not on a local file system"), e.getMessage());
    }

    static String tail(Path log) throws java.io.IOException {
        List<String> lines = Files.readAllLines(log);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    }

    record SocketLifecycleKey(String host, long inode, LifecycleStatus status) {
        static SocketLifecycleKey of(SocketLifecycle l) {
            return new SocketLifecycleKey(l.getHost(), l.getSocketInode(), l.getStatus());
        }
    }

    static <T> List<T> ids(List<T> l) {
        List<T> copy = new java.util.ArrayList<>(l);
        copy.sort(java.util.Comparator.comparing(Object::toString));
        return copy;
    }

    static List<String> sorted(List<String> l) {
        return l.stream().sorted().toList();
    }
}
