package io.sockflow.runner;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.embedded.LocalStack;
import io.sockflow.jobs.Results;
import io.sockflow.jobs.SockflowJob;
import io.sockflow.jobs.config.JobConfig;
import io.sockflow.schemas.SocketLifecycle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * At a moment of a live run beside a busy workload (forking servers, exits without close, kills, execs, non-blocking
 * connects, idle connections, fd passing), the sockets the kernel shows held by a process ({@code ss -tuxanpe}) and
 * the lifecycles sockflow has open are the same set, compared by cookie (inet) and inode (unix), once the jobs'
 * watermark has passed the moment. Sockets the workload made before the collector started are in it too. Needs root.
 */
@Tag("root")
class LiveTruthTest {
    @TempDir
    static Path dir;

    @Test
    void theKernelsSocketsAndTheOpenLifecyclesAreTheSameSet() throws Exception {
        LocalStack stack = LocalStack.shared();
        String topic = "live-truth-" + UUID.randomUUID();
        Map<String, String> m = io.sockflow.jobs.TestPipelines.settings(stack, topic, dir, "1s");
        m.put("lifecycle.update-interval", "1s");
        m.put("watermark.idleness", "2s");
        m.put("jobs", "lifecycle");
        m.put("sink.iceberg", "false");
        JobConfig cfg = JobConfig.of(m);
        SockflowJob.prepare(cfg);
        Configuration conf = new Configuration();
        conf.setString("restart-strategy.type", "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
        SockflowJob.build(env, cfg);
        JobClient jobs = env.executeAsync("live truth");

        Path script = dir.resolve("benign_workload.py");
        try (var in = LiveTruthTest.class.getResourceAsStream("/benign_workload.py")) {
            Files.copy(in, script);
        }
        // the workload starts first: its servers and idle connections are older than the collector
        // its errors to a file: a child of it left running would otherwise hold the test's output open, and the build
        // would wait for it
        Process workload = new ProcessBuilder("/usr/bin/python3", script.toString(), "0")
                .redirectError(dir.resolve("workload.err").toFile())
                .start();
        assertEquals(
                "ready",
                new java.io.BufferedReader(new java.io.InputStreamReader(workload.getInputStream())).readLine());
        try (CollectorProcess collector = CollectorProcess.start(
                stack.bootstrapServers(),
                stack.registryUrl(),
                topic,
                dir.resolve("spool"),
                List.of("--sweep-interval", "5s"))) {
            Thread.sleep(15_000); // the workload runs beside the collector: forks, exits, kills, execs
            Set<Integer> sockflow = Set.of((int) ProcessHandle.current().pid(), (int) collector.process.pid());
            // each snapshot takes time; a socket born during the first or ended during the second may or may not be
            // in it, so those few are left out of the comparison on both sides
            Instant[] during1 = {Instant.now(), null};
            Map<String, KernelSockets.Sock> first = KernelSockets.now();
            Map<Long, Set<Integer>> heldFirst = KernelSockets.heldInodes();
            during1[1] = Instant.now();
            Thread.sleep(3_000);
            Instant[] during2 = {Instant.now(), null};
            Map<String, KernelSockets.Sock> second = KernelSockets.now();
            Map<Long, Set<Integer>> heldSecond = KernelSockets.heldInodes();
            during2[1] = Instant.now();
            Instant t1 = during1[1];
            Instant t2 = during2[0];
            Map<String, KernelSockets.Sock> kernel = new LinkedHashMap<>();
            KernelSockets.stable(first, second).forEach((k, s) -> {
                if (s.pids().stream().noneMatch(sockflow::contains)) {
                    kernel.put(k, s); // sockflow's own processes are not in the picture
                }
            });
            Thread.sleep(20_000); // past the watermark's delay, an update tick and a checkpoint
            List<SocketLifecycle> records = Results.decode(
                    stack.registryUrl(),
                    Results.readCommitted(stack.bootstrapServers(), cfg.get(JobConfig.LIFECYCLES_TOPIC)),
                    SocketLifecycle.getClassSchema());
            Map<String, SocketLifecycle> open = new LinkedHashMap<>();
            KernelSockets.openLifecycles(records, t1, t2).forEach((k, l) -> {
                // the families ss -tux shows: TCP and UDP over IP, and unix
                boolean shown = "AF_UNIX".equals(l.getFamily())
                        || ("AF_INET".equals(l.getFamily()) || "AF_INET6".equals(l.getFamily()))
                                && ("TCP".equals(l.getProtocol()) || "UDP".equals(l.getProtocol()));
                if (shown) {
                    open.put(k, l);
                }
            });
            // an unbound UDP socket is in no socket table, so ss cannot show it; /proc can: a process held its inode
            // at both snapshots, and ss showed no socket with that inode
            Set<Long> inSs = new java.util.HashSet<>();
            first.values().forEach(s -> inSs.add(KernelSockets.inode(s)));
            second.values().forEach(s -> inSs.add(KernelSockets.inode(s)));
            open.forEach((k, l) -> {
                long inode = l.getSocketInode();
                Set<Integer> a = heldFirst.get(inode);
                Set<Integer> b = heldSecond.get(inode);
                if (!kernel.containsKey(k)
                        && "UDP".equals(l.getProtocol())
                        && !inSs.contains(inode)
                        && a != null
                        && b != null
                        && a.contains(l.getPid())
                        && b.contains(l.getPid())
                        && a.stream().noneMatch(sockflow::contains)) {
                    kernel.put(
                            k,
                            new KernelSockets.Sock(
                                    k,
                                    "udp-unbound",
                                    "UNCONN",
                                    "0.0.0.0:0",
                                    "*",
                                    List.copyOf(a),
                                    "udp (in no table) ino:" + inode + " pids " + a));
                }
            });
            Set<String> uncertain = KernelSockets.uncertain(records, during1, during2);
            kernel.keySet().removeAll(uncertain);
            open.keySet().removeAll(uncertain);
            String diff = KernelSockets.difference(kernel, open, records) + "left out (born or ended while ss ran): "
                    + uncertain.size();
            System.out.println("live truth: " + diff);
            assertTrue(kernel.size() > 10, "the workload's sockets are there: " + diff);
            assertEquals(kernel.keySet(), open.keySet(), diff);
            assertTrue(records.stream().noneMatch(l -> sockflow.contains(l.getPid())), "none of sockflow's own");
        } finally {
            workload.descendants().forEach(ProcessHandle::destroyForcibly); // its servers and their children too
            workload.destroyForcibly();
            workload.waitFor(10, TimeUnit.SECONDS);
            jobs.cancel().get(30, TimeUnit.SECONDS);
        }
    }
}
