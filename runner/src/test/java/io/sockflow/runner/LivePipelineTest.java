package io.sockflow.runner;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sockflow.embedded.LocalStack;
import io.sockflow.jobs.Results;
import io.sockflow.jobs.SockflowJob;
import io.sockflow.jobs.config.JobConfig;
import io.sockflow.schemas.Alert;
import io.sockflow.schemas.Flow;
import io.sockflow.schemas.FlowRecordType;
import io.sockflow.schemas.LifecycleStatus;
import io.sockflow.schemas.SocketLifecycle;
import io.sockflow.schemas.SocketRole;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end on this host: the collector (a separate process, as deployed) captures a python workload of known
 * shape live and writes to the embedded broker through the embedded registry; the jobs run on a Flink
 * MiniCluster; lifecycles and flows in Kafka (read_committed) and Iceberg must match the workload exactly.
 * Needs root (the collector loads eBPF programs).
 */
@Tag("root")
class LivePipelineTest {
    static final int CONNECTIONS = 12;

    @TempDir
    static Path dir;

    static LocalStack stack;
    static JsonNode workload;
    static JobConfig cfg;
    static int pid;

    @BeforeAll
    static void captureAndRun() throws Exception {
        stack = LocalStack.shared();
        String topic = "live-" + UUID.randomUUID();
        Map<String, String> m = io.sockflow.jobs.TestPipelines.settings(stack, topic, dir, "500ms");
        m.put("bounded", "true");
        m.put("detect.listener.learning", "0s");
        m.put("detect.socketpair.allow", "");
        cfg = JobConfig.of(m);
        SockflowJob.prepare(cfg);

        Path script = dir.resolve("workload.py");
        try (var in = LivePipelineTest.class.getResourceAsStream("/workload.py")) {
            Files.copy(in, script);
        }
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                "io.sockflow.collector.cli.Main",
                "collect",
                "--output",
                "kafka",
                "--bootstrap-servers",
                stack.bootstrapServers(),
                "--registry-url",
                stack.registryUrl(),
                "--topic",
                topic,
                "--pid-exclude",
                Long.toString(ProcessHandle.current().pid()),
                "--spool-dir",
                dir.resolve("spool").toString(),
                "--counters-interval",
                "1s",
                "--log-level",
                "info",
                "--stats-interval",
                "1s"));
        Process collector = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        CountDownLatch attached = new CountDownLatch(1);
        StringBuffer log = new StringBuffer();
        Thread reader = new Thread(() -> {
            try (BufferedReader r =
                    new BufferedReader(new InputStreamReader(collector.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    log.append(line).append('\n');
                    if (line.contains(
                            "sockflow: attached")) { // the collector's own line, after the inventory: not the INFO log
                        // of the load
                        attached.countDown();
                    }
                }
            } catch (java.io.IOException ignored) {
                // the process ended
            }
        });
        reader.start();
        try {
            assertTrue(attached.await(60, TimeUnit.SECONDS), "collector did not attach: " + log);
            Process w = new ProcessBuilder("/usr/bin/python3", script.toString(), Integer.toString(CONNECTIONS))
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
            String out = new String(w.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, w.waitFor(), "workload failed");
            String[] lines = out.strip().split("\n");
            workload = new ObjectMapper().readTree(lines[lines.length - 1]);
            pid = workload.get("pid").asInt();
            Thread.sleep(2500); // owners joined, counters read, the producer flushed
        } finally {
            collector.destroy(); // SIGTERM: a clean stop that drains and flushes
            assertTrue(
                    collector.waitFor(30, TimeUnit.SECONDS),
                    "the collector did not stop within 30 s of SIGTERM: " + log);
            reader.join(5000);
        }
        // stopped by SIGTERM: the JVM reports 143 after the collector's clean stop, which prints its final stats
        assertTrue(collector.exitValue() == 0 || collector.exitValue() == 143, log.toString());
        assertTrue(log.toString().contains("sockflow: "), "final stats line: " + log);

        Configuration conf = new Configuration();
        conf.setString("restart-strategy.type", "none");
        SockflowJob.run(StreamExecutionEnvironment.createLocalEnvironment(1, conf), cfg);
    }

    static List<SocketLifecycle> lifecycles() {
        List<SocketLifecycle> all = Results.decode(
                stack.registryUrl(),
                Results.readCommitted(stack.bootstrapServers(), cfg.get(JobConfig.LIFECYCLES_TOPIC)),
                SocketLifecycle.getClassSchema());
        // the workload's own sockets (its pid before exec also closed the test JVM's inherited sockets: those are
        // real close() calls, by comm java/jspawnhelper)
        return all.stream()
                .filter(l -> l.getPid() != null && l.getPid() == pid && "python3".equals(l.getComm()))
                .toList();
    }

    static List<Flow> flows() {
        List<Flow> all = Results.decode(
                stack.registryUrl(),
                Results.readCommitted(stack.bootstrapServers(), cfg.get(JobConfig.FLOWS_TOPIC)),
                Flow.getClassSchema());
        return all.stream()
                .filter(f -> f.getSourcePid() != null && f.getSourcePid() == pid)
                .toList();
    }

    @Test
    void lifecyclesMatchTheWorkload() throws Exception {
        List<SocketLifecycle> ls = lifecycles();
        assertTrue(ls.stream().allMatch(l -> l.getStatus() == LifecycleStatus.CLOSED), "every socket closed");
        Map<SocketRole, List<SocketLifecycle>> byRole =
                ls.stream().collect(Collectors.groupingBy(SocketLifecycle::getRole));
        int port = workload.get("port").asInt();
        List<SocketLifecycle> listeners = byRole.get(SocketRole.LISTENER);
        assertEquals(1, listeners.size());
        assertEquals(port, listeners.get(0).getLocalPort());
        long listenerInode = listeners.get(0).getSocketInode();

        List<SocketLifecycle> clients = byRole.get(SocketRole.CLIENT);
        List<SocketLifecycle> connected = clients.stream()
                .filter(l -> l.getRemotePort() != null && l.getRemotePort() == port)
                .toList();
        assertEquals(CONNECTIONS, connected.size());
        Map<Integer, SocketLifecycle> byClientPort =
                connected.stream().collect(Collectors.toMap(SocketLifecycle::getLocalPort, l -> l));
        List<SocketLifecycle> accepted = byRole.get(SocketRole.ACCEPTED);
        assertEquals(CONNECTIONS, accepted.size());
        Map<Integer, SocketLifecycle> acceptedByPeer =
                accepted.stream().collect(Collectors.toMap(SocketLifecycle::getRemotePort, l -> l));
        for (int i = 0; i < CONNECTIONS; i++) {
            int cport = workload.get("clients").get(i).asInt();
            long up = workload.get("up").get(i).asLong();
            long down = workload.get("down").get(i).asLong();
            SocketLifecycle c = byClientPort.get(cport);
            assertEquals(up, c.getBytesSent(), "client " + i);
            assertEquals(down, c.getBytesReceived(), "client " + i);
            assertNotNull(c.getConnectedAt());
            assertNotNull(c.getCreatedAt());
            SocketLifecycle s = acceptedByPeer.get(cport);
            assertEquals(up, s.getBytesReceived(), "server side " + i);
            assertEquals(down, s.getBytesSent(), "server side " + i);
            assertEquals(listenerInode, s.getListenerInode());
            assertEquals("python3", s.getComm());
        }
        List<SocketLifecycle> refused = clients.stream()
                .filter(l -> "ECONNREFUSED".equals(l.getEndReason()))
                .toList();
        assertEquals(workload.get("refused").asInt(), refused.size());
        assertEquals(2, refused.size());

        List<SocketLifecycle> dgram = byRole.get(SocketRole.DATAGRAM);
        assertEquals(2, dgram.size());
        SocketLifecycle uc = dgram.stream()
                .filter(l ->
                        l.getLocalPort() == workload.get("udp").get("client").asInt())
                .findFirst()
                .orElseThrow();
        assertEquals(40L, uc.getBytesSent());
        assertEquals(120L, uc.getBytesReceived());

        List<SocketLifecycle> pair = byRole.get(SocketRole.PAIR);
        assertEquals(2, pair.size());
        assertEquals(pair.get(0).getSocketInode(), pair.get(1).getPairInode());
        assertEquals(pair.get(1).getSocketInode(), pair.get(0).getPairInode());
        assertEquals(9L, pair.stream().mapToLong(SocketLifecycle::getBytesSent).sum());
    }

    @Test
    void flowsMatchTheWorkloadInKafkaAndIceberg() {
        int port = workload.get("port").asInt();
        List<Flow> ends = flows().stream()
                .filter(f -> f.getRecordType() == FlowRecordType.END)
                .toList();
        List<Flow> tcp = ends.stream()
                .filter(f -> f.getNetworkTransport().equals("tcp") && f.getDestinationPort() == port)
                .toList();
        assertEquals(CONNECTIONS, tcp.size());
        Map<Integer, Flow> bySource = tcp.stream().collect(Collectors.toMap(Flow::getSourcePort, f -> f));
        for (int i = 0; i < CONNECTIONS; i++) {
            Flow f = bySource.get(workload.get("clients").get(i).asInt());
            assertEquals(workload.get("up").get(i).asLong(), f.getSourceBytes());
            assertEquals(workload.get("down").get(i).asLong(), f.getDestinationBytes());
            assertEquals(pid, f.getDestinationPid(), "both local ends in one flow");
            assertEquals("python3", f.getDestinationComm());
        }
        List<Flow> all = Results.decode(
                stack.registryUrl(),
                Results.readCommitted(stack.bootstrapServers(), cfg.get(JobConfig.FLOWS_TOPIC)),
                Flow.getClassSchema());
        for (Flow f : tcp) {
            assertEquals(
                    1,
                    all.stream()
                            .filter(x -> x.getFlowId().equals(f.getFlowId()) && x.getRecordType() == FlowRecordType.NEW)
                            .count(),
                    "one NEW for " + f.getFlowId());
            assertEquals(
                    1,
                    all.stream()
                            .filter(x -> x.getFlowId().equals(f.getFlowId()) && x.getRecordType() == FlowRecordType.END)
                            .count());
        }
        Flow udp = ends.stream()
                .filter(f -> f.getNetworkTransport().equals("udp"))
                .findFirst()
                .orElseThrow();
        assertEquals(40L, udp.getSourceBytes());
        assertEquals(120L, udp.getDestinationBytes());

        // the lake: the same END flows with the same byte totals
        List<Map<String, Object>> lake =
                Results.lake(cfg.get(JobConfig.WAREHOUSE), cfg.get(JobConfig.NAMESPACE), SockflowJob.FLOWS_TABLE)
                        .stream()
                        .filter(r -> "END".equals(r.get("recordType"))
                                && Integer.valueOf(pid).equals(r.get("sourcePid"))
                                && "tcp".equals(r.get("networkTransport"))
                                && Integer.valueOf(port).equals(r.get("destinationPort")))
                        .toList();
        assertEquals(CONNECTIONS, lake.size());
        assertEquals(
                tcp.stream().mapToLong(Flow::getSourceBytes).sum(),
                lake.stream().mapToLong(r -> (Long) r.get("sourceBytes")).sum());
        assertEquals(
                tcp.stream().mapToLong(Flow::getDestinationBytes).sum(),
                lake.stream().mapToLong(r -> (Long) r.get("destinationBytes")).sum());
        List<Map<String, Object>> lakeLifecycles =
                Results.lake(cfg.get(JobConfig.WAREHOUSE), cfg.get(JobConfig.NAMESPACE), SockflowJob.LIFECYCLES_TABLE)
                        .stream()
                        .filter(r -> Integer.valueOf(pid).equals(r.get("pid")) && "python3".equals(r.get("comm")))
                        .toList();
        assertEquals(lifecycles().size(), lakeLifecycles.size());
    }

    @Test
    void theWorkloadsOrdinarySocketpairAndEphemeralLoopbackListenerAreNotAlerted() {
        List<Alert> alerts = Results.decode(
                stack.registryUrl(),
                Results.readCommitted(stack.bootstrapServers(), cfg.get(JobConfig.ALERTS_TOPIC)),
                Alert.getClassSchema());
        List<Alert> mine = alerts.stream()
                .filter(a -> a.getPid() != null && a.getPid() == pid)
                .toList();
        // python keeps its name (no covert IPC) and its listener is on a loopback port the kernel picked: the
        // attacks themselves are LiveAlertsTest's
        assertEquals(List.of(), mine, mine.toString());
    }
}
