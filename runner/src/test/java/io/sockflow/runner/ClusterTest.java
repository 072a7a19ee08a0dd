package io.sockflow.runner;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.collector.output.CaptureFile;
import io.sockflow.collector.transport.KafkaOutput;
import io.sockflow.embedded.LocalStack;
import io.sockflow.jobs.Results;
import io.sockflow.jobs.SockflowJob;
import io.sockflow.jobs.config.JobConfig;
import io.sockflow.schemas.Alert;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.Flow;
import io.sockflow.schemas.FlowRecordType;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.SocketLifecycle;
import io.sockflow.schemas.registry.ConfluentAvro;
import io.sockflow.schemas.registry.RegistryClient;
import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sockflow cluster} for real: up (3 brokers, the registry, a JobManager and 2 TaskManagers as processes of
 * their own, the jobs at parallelism 2 over 4 partitions), status and down. The shipped sample capture is played into
 * the cluster three times (as three hosts, an hour apart), and into a single-host run (the embedded broker and a
 * MiniCluster at parallelism 1) alike: the cluster's lifecycles, flows and alerts (Kafka, read_committed) must equal
 * the single host's, record for record, each once, also when a TaskManager is killed (-9) in the middle of the
 * second play and a broker in the middle of the third. Slow (several minutes); needs no root.
 */
@Tag("slow")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterTest {
    static final int TICKS_AHEAD_S = 120;

    @TempDir
    static Path tmp;

    static Path dir;
    static Cluster cluster;
    static HttpClient rest;
    static String jobId;
    static List<SocketEvent> capture;
    static Reference reference;

    static Path home() {
        return Path.of(System.getProperty("basedir", "."))
                .toAbsolutePath()
                .resolve("..")
                .normalize();
    }

    static ProcessResult cli(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(
                List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(List.of(System.getProperty("sockflow.opens", "").split(" ")));
        cmd.removeIf(String::isBlank);
        cmd.addAll(List.of(
                "-Xmx256m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), Cluster.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(15, TimeUnit.MINUTES), "cluster " + args[0] + " did not end");
        System.out.println("$ sockflow cluster " + String.join(" ", args) + "\n" + out);
        return new ProcessResult(p.exitValue(), out);
    }

    record ProcessResult(int exit, String out) {}

    @BeforeAll
    static void up() throws Exception {
        assertTrue(
                Files.isRegularFile(home().resolve("runner/flink-lib/target/classpath.txt")),
                "build first (mvn -o -q -B -DskipTests package): the Flink lib's class path is missing");
        capture = Replay.load(Replay.SAMPLE);
        dir = tmp.resolve("cluster");
        long t0 = System.nanoTime();
        ProcessResult up = cli(
                "up",
                "--dir",
                dir.toString(),
                "--home",
                home().toString(),
                "--parallelism",
                "2",
                "--partitions",
                "4",
                "--",
                "--checkpoint.interval",
                "2s",
                "--lifecycle.update-interval",
                "24h");
        assertEquals(0, up.exit(), up.out());
        System.out.printf("cluster up took %.1f s%n", (System.nanoTime() - t0) / 1e9);
        cluster = new Cluster(new Cluster.Options(dir, home(), 2, 4, true, false, List.of()), System.out);
        cluster.load();
        java.util.Properties creds = new java.util.Properties();
        try (var r = Files.newBufferedReader(Path.of(cluster.state("kafka.config")))) {
            creds.load(r);
        }
        Map<String, String> login = new java.util.HashMap<>();
        creds.forEach((k, v) -> login.put(k.toString(), v.toString()));
        Results.login(cluster.state("bootstrap"), login);
        jobId = cluster.state("job.id");
        rest = Cluster.rest(LocalFlink.tls(dir.resolve("tls")));
        reference = Reference.start(tmp.resolve("single-host"));
    }

    @AfterAll
    static void down() throws Exception {
        if (reference != null) {
            reference.close();
        }
        if (cluster == null) {
            return;
        }
        // the processes as they are now (a killed one replaced, a killed broker gone): handles, not pids, since a
        // pid freed by a kill -9 earlier in the run may belong to some other process by now
        cluster.load();
        List<ProcessHandle> running = new ArrayList<>();
        for (String n : cluster.names()) {
            cluster.handle(n).ifPresent(running::add);
        }
        ProcessResult down = cli("down", "--dir", dir.toString());
        assertEquals(0, down.exit(), down.out());
        for (ProcessHandle p : running) {
            assertFalse(p.isAlive(), "pid " + p.pid() + " is still running after down");
        }
        assertFalse(Files.exists(dir.resolve(Cluster.STATE)));
        ProcessResult status = cli("status", "--dir", dir.toString());
        assertNotEquals(0, status.exit());
    }

    @Test
    @Order(1)
    void statusShowsEveryProcessRunningAndTheJob() throws Exception {
        ProcessResult status = cli("status", "--dir", dir.toString());
        assertEquals(0, status.exit(), status.out());
        List<String> names =
                List.of("kafka-1", "kafka-2", "kafka-3", "registry", "jobmanager", "taskmanager-1", "taskmanager-2");
        for (String n : names) {
            assertTrue(
                    Pattern.compile("(?m)^" + n + "\\s+\\d+\\s+running\\s+\\d+ MiB")
                            .matcher(status.out())
                            .find(),
                    n + ":\n" + status.out());
        }
        assertTrue(status.out().contains("job " + jobId + ": RUNNING"), status.out());
        // separate processes, on loopback only, the state private
        assertEquals(names.size(), names.stream().map(cluster::pid).distinct().count());
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        assertEquals(
                "rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(Cluster.STATE))));
        for (String n : names) {
            for (String listen : listening(cluster.pid(n))) {
                assertTrue(listen.startsWith("127.0.0.1:"), n + " listens on " + listen);
            }
        }
        // every client logs in: one without credentials gets nothing
        try (Admin anonymous = Admin.create(Map.of(
                "bootstrap.servers",
                cluster.state("bootstrap"),
                "default.api.timeout.ms",
                5000,
                "request.timeout.ms",
                4000))) {
            assertThrows(
                    Exception.class,
                    () -> anonymous.listTopics().names().get(10, TimeUnit.SECONDS),
                    "a client without credentials is refused");
        }
        // the topics: partitions and replication as asked, min ISR 2
        try (Admin admin = Admin.create(client())) {
            var d = admin.describeTopics(List.of("sockflow.events", "sockflow.lifecycles"))
                    .allTopicNames()
                    .get(30, TimeUnit.SECONDS);
            for (var t : d.values()) {
                assertEquals(4, t.partitions().size(), t.name());
                t.partitions().forEach(p -> assertEquals(3, p.replicas().size(), t.name()));
            }
        }
        // the job at parallelism 2, its tasks on both TaskManagers
        String plan = cluster.get(rest, "/jobs/" + jobId);
        assertTrue(plan.contains("\"parallelism\":2"), plan);
        // 2 slots in use, one on each TaskManager (slots spread): losing one TaskManager takes half the job, not all
        String tms = cluster.get(rest, "/taskmanagers");
        assertEquals(
                2, Pattern.compile("\"freeSlots\":1\\b").matcher(tms).results().count(), tms);
    }

    /** The addresses the process listens on (TCP), from /proc: its sockets' inodes against /proc/net/tcp{,6}. */
    static List<String> listening(long pid) throws IOException {
        java.util.Set<String> inodes = new HashSet<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    String t = Files.readSymbolicLink(fd).toString();
                    if (t.startsWith("socket:[")) {
                        inodes.add(t.substring(8, t.length() - 1));
                    }
                } catch (IOException gone) {
                    // closed meanwhile
                }
            }
        }
        List<String> out = new ArrayList<>();
        for (String f : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            List<String> lines = Files.readAllLines(Path.of(f)); // read once: the table changes as sockets come and go
            for (String line : lines.subList(1, lines.size())) {
                String[] c = line.trim().split("\\s+");
                if (c[3].equals("0A") && inodes.contains(c[9])) {
                    out.add(address(c[1]));
                }
            }
        }
        return out;
    }

    static String address(String hex) {
        String[] hp = hex.split(":");
        int port = Integer.parseInt(hp[1], 16);
        if (hp[0].length() == 32 && hp[0].startsWith("0000000000000000FFFF0000")) {
            hp[0] = hp[0].substring(24); // an IPv4 address on a dual-stack socket (::ffff:a.b.c.d)
        }
        if (hp[0].length() == 8) {
            long a = Long.parseLong(hp[0], 16);
            return (a & 255) + "." + ((a >> 8) & 255) + "." + ((a >> 16) & 255) + "." + ((a >> 24) & 255) + ":" + port;
        }
        return "[" + hp[0] + "]:" + port;
    }

    @Test
    @Order(2)
    void atParallelismTwoTheResultsAreTheSingleHostsAndKeysSpreadOverPartitions() throws Exception {
        Play play = play(1, null);
        play.assertSame();
        // the collector's keys spread the capture over every partition; the clock ticks go to one of them, and the
        // others, idle, must not hold the watermark back (or nothing would close)
        try (var c = new org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]>(with(
                client(),
                "key.deserializer",
                org.apache.kafka.common.serialization.ByteArrayDeserializer.class,
                "value.deserializer",
                org.apache.kafka.common.serialization.ByteArrayDeserializer.class))) {
            var parts = c.partitionsFor("sockflow.events").stream()
                    .map(i -> new org.apache.kafka.common.TopicPartition("sockflow.events", i.partition()))
                    .toList();
            var ends = c.endOffsets(parts);
            long nonEmpty = ends.values().stream().filter(v -> v > 0).count();
            System.out.println("events per partition: " + ends);
            assertEquals(4, nonEmpty, "keys on every partition: " + ends);
        }
    }

    @Test
    @Order(3)
    void aTaskManagerKilledMidRunLosesNothingAndRepeatsNothing() throws Exception {
        Play play = play(2, () -> {
            long pid = cluster.pid("taskmanager-1");
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            return "kill -9 taskmanager-1 (pid " + pid + ")";
        });
        play.assertSame();
        // back to two TaskManagers for what follows
        long t0 = System.nanoTime();
        cluster.restartTaskManager(1);
        Cluster.waitFor(
                () -> cluster.taskManagers(rest) >= 2,
                Duration.ofSeconds(180),
                "the replacement TaskManager did not register");
        System.out.printf(
                "a replacement TaskManager registered %.1f s after its start%n", (System.nanoTime() - t0) / 1e9);
    }

    @Test
    @Order(4)
    void aBrokerKilledMidRunLosesNothingAndRepeatsNothing() throws Exception {
        Play play = play(3, () -> {
            long pid = cluster.pid("kafka-2");
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            return "kill -9 kafka-2 (pid " + pid + ")";
        });
        play.assertSame();
        // the broker back: it catches up and rejoins the in-sync replicas of every partition it holds
        try (Admin admin = Admin.create(client())) {
            // first, the loss as the cluster sees it: partitions whose in-sync replicas left kafka-2 out
            Cluster.waitFor(
                    () -> !outOfSync(admin).isEmpty(),
                    Duration.ofSeconds(60),
                    "no partition left kafka-2 out of its in-sync replicas");
            long t0 = System.nanoTime();
            cluster.restartBroker(2);
            Cluster.waitFor(
                    () -> outOfSync(admin).isEmpty(),
                    Duration.ofSeconds(180),
                    "kafka-2 did not rejoin the in-sync replicas");
            System.out.printf(
                    "kafka-2 back in the in-sync replicas of every partition %.1f s after its start%n",
                    (System.nanoTime() - t0) / 1e9);
        }
    }

    /** The partitions (of every topic) whose in-sync replicas are fewer than their replicas. */
    static List<String> outOfSync(Admin admin) throws Exception {
        List<String> out = new ArrayList<>();
        var names = admin.listTopics(new org.apache.kafka.clients.admin.ListTopicsOptions().listInternal(true))
                .names()
                .get(30, TimeUnit.SECONDS);
        for (var t : admin.describeTopics(names)
                .allTopicNames()
                .get(30, TimeUnit.SECONDS)
                .values()) {
            for (var p : t.partitions()) {
                if (p.isr().size() < p.replicas().size()) {
                    out.add(t.name() + "-" + p.partition());
                }
            }
        }
        return out;
    }

    /** A connection of the fleet test: who connects to whom, the bytes each way, and the processes of its ends. */
    record Conn(
            int clientHost,
            int serverHost,
            int port,
            int sent,
            int answered,
            long clientPid,
            long serverPid,
            String endReason) {}

    /**
     * Three hosts as network namespaces on a bridge, each with its own collector (the real one, as its own process,
     * scoped with --netns and named with --host-name, writing with the collector's account) into the cluster; a
     * workload across them of known shape: two clients on two hosts to a server on the first, one between the second
     * and third, and a non-blocking client killed with SIGKILL after its exchange (the kernel closes its socket). On Kafka each connection is one flow naming both processes and both hosts, with the exact
     * bytes each way; no host reports another's sockets; and the recorded events, replayed into the single-host
     * run, give the same lifecycles, flows and alerts as the cluster. The hosts are idle after the workload, so
     * clock ticks (as in the plays) move event time on, to the cluster and the single host alike. Needs root.
     */
    @Test
    @Order(5)
    void collectorsOnThreeNamespaceHostsJoinEachConnectionIntoOneFlowEqualToTheSingleHosts() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                NetnsHosts.root(), "needs root: network namespaces and the collector's programs");
        List<String> hosts = List.of("fleet-1", "fleet-2", "fleet-3");
        Path collectorLogin = Path.of(cluster.state("kafka.config"))
                .resolveSibling(io.sockflow.embedded.KafkaCredentials.COLLECTOR_FILE);
        List<Conn> conns = new ArrayList<>();
        List<SocketEvent> recorded = new ArrayList<>();
        Map<Integer, List<SocketEvent>> byPartition = new java.util.TreeMap<>();
        try (NetnsHosts net = NetnsHosts.create(3)) {
            List<CollectorProcess> collectors = new ArrayList<>();
            try {
                for (int i = 1; i <= 3; i++) {
                    collectors.add(CollectorProcess.start(
                            cluster.state("bootstrap"),
                            cluster.state("registry.url"),
                            "sockflow.events",
                            tmp.resolve("spool-" + i),
                            List.of(
                                    "--kafka-config",
                                    collectorLogin.toString(),
                                    "--netns",
                                    net.path(i),
                                    "--host-name",
                                    hosts.get(i - 1),
                                    "--aggregate-interval",
                                    "1s")));
                }
                Process server1 = net.python(1, server(net.address(1), 7071, 1200, 700, 333));
                Process server3 = net.python(3, server(net.address(3), 7072, 2222));
                conns.add(connect(net, 2, 1, 7071, 3000, 1200, server1));
                conns.add(connect(net, 3, 1, 7071, 5000, 700, server1));
                conns.add(connect(net, 2, 3, 7072, 111, 2222, server3));
                conns.add(connectAndDie(net, 3, 1, 7071, 4444, 333, server1));
                assertTrue(server1.waitFor(20, TimeUnit.SECONDS) && server3.waitFor(20, TimeUnit.SECONDS));
                assertEquals(0, server1.exitValue(), "the server on fleet-1 got every byte");
                assertEquals(0, server3.exitValue(), "the server on fleet-3 got every byte");
                Thread.sleep(3000); // the releases' totals
            } finally {
                for (CollectorProcess c : collectors) {
                    int exit = c.stop();
                    assertTrue(exit == 0 || exit == 143, "collector exit " + exit + ":\n" + c.log);
                }
            }
        }
        // what the collectors wrote, per partition in its order
        var ser = Results.readCommitted(cluster.state("bootstrap"), "sockflow.events");
        var decoded = Results.<SocketEvent>decode(cluster.state("registry.url"), ser, SocketEvent.getClassSchema());
        for (int k = 0; k < ser.size(); k++) {
            SocketEvent e = decoded.get(k);
            if (hosts.contains(e.getHost())) {
                byPartition
                        .computeIfAbsent(ser.get(k).partition(), p -> new ArrayList<>())
                        .add(e);
            }
        }
        recorded.addAll(mergeByTime(byPartition.values()));
        Map<Long, String> hostOfPid = new HashMap<>();
        for (Conn c : conns) {
            hostOfPid.put(c.clientPid(), hosts.get(c.clientHost() - 1));
            hostOfPid.put(c.serverPid(), hosts.get(c.serverHost() - 1));
        }
        for (String h : hosts) {
            assertTrue(recorded.stream().anyMatch(e -> h.equals(e.getHost())), h + " wrote nothing");
        }
        for (SocketEvent e : recorded) {
            String owner = hostOfPid.get((long) e.getPid());
            assertTrue(
                    owner == null || owner.equals(e.getHost()), e.getHost() + " reported pid " + e.getPid() + ": " + e);
            String local = e.getLocalAddress();
            if (local != null && local.startsWith("10.77.0.")) {
                assertEquals(
                        hosts.get(Integer.parseInt(local.substring(8)) - 1),
                        e.getHost(),
                        "a host reported another host's socket: " + e);
            }
        }
        System.out.println("fleet: " + recorded.size() + " events from 3 namespace hosts, over " + byPartition.size()
                + " partitions");

        // the cluster had them live; ticks move its event time on, and the single host gets the same events
        AtomicBoolean stop = new AtomicBoolean();
        Thread toCluster = feeder(
                "cluster-fleet",
                Sink.of(cluster.state("bootstrap"), cluster.state("registry.url"), "sockflow.events"),
                List.of(),
                recorded,
                stop,
                () -> {});
        Thread toReference = feeder(
                "reference-fleet",
                Sink.of(reference.stack.bootstrapServers(), reference.stack.registryUrl(), reference.events),
                recorded,
                recorded,
                stop,
                () -> {});
        Outcome got;
        Outcome expected;
        try {
            expected = reference.settled(hosts::contains);
            long deadline = System.nanoTime() + Duration.ofMinutes(4).toNanos();
            while (true) {
                got = Outcome.read(
                        cluster.state("bootstrap"), cluster.state("registry.url"), "sockflow", hosts::contains);
                if (got.covers(expected)) {
                    Thread.sleep(6000);
                    got = Outcome.read(
                            cluster.state("bootstrap"), cluster.state("registry.url"), "sockflow", hosts::contains);
                    break;
                }
                assertTrue(
                        System.nanoTime() < deadline,
                        "the cluster's fleet results did not come in 4 minutes: " + got.sizes() + " of "
                                + expected.sizes());
                Thread.sleep(2000);
            }
        } finally {
            stop.set(true);
            toCluster.join(10_000);
            toReference.join(10_000);
        }
        // each connection: one flow, both processes and hosts, the bytes exact
        List<Flow> ends = got.flows().stream()
                .filter(f -> f.getRecordType() == FlowRecordType.END)
                .toList();
        for (Conn c : conns) {
            List<Flow> mine = ends.stream()
                    .filter(f -> f.getSourcePid() != null && f.getSourcePid() == c.clientPid())
                    .toList();
            assertEquals(1, mine.size(), "one flow of client pid " + c.clientPid() + ": " + ends);
            Flow f = mine.get(0);
            assertEquals(c.serverPid(), (long) f.getDestinationPid(), "the server's process: " + f);
            assertEquals(hosts.get(c.clientHost() - 1), f.getSourceHost(), f.toString());
            assertEquals(hosts.get(c.serverHost() - 1), f.getDestinationHost(), f.toString());
            assertEquals("10.77.0." + c.clientHost(), f.getSourceAddress(), f.toString());
            assertEquals("10.77.0." + c.serverHost(), f.getDestinationAddress(), f.toString());
            assertEquals(c.port(), f.getDestinationPort(), f.toString());
            assertEquals(c.sent(), f.getSourceBytes(), "bytes from the client: " + f);
            assertEquals(c.answered(), f.getDestinationBytes(), "bytes from the server: " + f);
            assertEquals(c.endReason(), f.getEndReason(), f.toString());
        }
        // and every lifecycle of a workload process is on its own host
        for (SocketLifecycle l : got.lifecycles()) {
            String owner = l.getPid() == null ? null : hostOfPid.get((long) l.getPid());
            assertTrue(owner == null || owner.equals(l.getHost()), "lifecycle on the wrong host: " + l);
        }
        new Play("fleet", expected, got).assertSame(5);
        // and `up` on this host, replaying the recording (moved to the present): the same sockets, owners, bytes and
        // ends, timestamps aside
        Path capture = privateToNobody(tmp.resolve("fleet-replay")).resolve("fleet.avro");
        CaptureFile file = CaptureFile.create(capture);
        recorded.forEach(file::write);
        file.close();
        Files.setPosixFilePermissions(capture, PosixFilePermissions.fromString("rw-r--r--"));
        Path data = capture.resolveSibling("data");
        UpOutcome up = upReplay(capture, data);
        assertEquals(projectLifecycles(got.lifecycles()), up.lifecycleRows(), "lifecycles: the cluster against up");
        assertEquals(projectFlows(ends), up.flowRows(), "flows (END): the cluster against up");
        System.out.println(
                "fleet: `up --replay` of the recording: " + up.lifecycleRows().size() + " lifecycles, "
                        + up.flowRows().size() + " ended flows, the same as the cluster's");
    }

    /** The fields of a lifecycle that say which socket, whose, how many bytes and how it ended. */
    static final List<String> LIFECYCLE_FIELDS = List.of(
            "host",
            "socketCookie",
            "role",
            "protocol",
            "localAddress",
            "localPort",
            "remoteAddress",
            "remotePort",
            "pid",
            "comm",
            "bytesSent",
            "bytesReceived",
            "status",
            "endReason");

    /** The fields of an ended flow that say which connection, whose ends, how many bytes and how it ended. */
    static final List<String> FLOW_FIELDS = List.of(
            "flowId",
            "host",
            "sourceHost",
            "destinationHost",
            "sourceAddress",
            "sourcePort",
            "destinationAddress",
            "destinationPort",
            "sourcePid",
            "sourceComm",
            "destinationPid",
            "destinationComm",
            "sourceBytes",
            "destinationBytes",
            "endReason");

    static List<String> project(java.util.function.Function<String, Object> get, List<String> fields) {
        List<String> row = new ArrayList<>();
        for (String f : fields) {
            row.add(f + "=" + get.apply(f));
        }
        return row;
    }

    static List<String> projectLifecycles(List<SocketLifecycle> ls) {
        return ls.stream()
                .map(l -> String.join(" ", project(f -> l.get(f), LIFECYCLE_FIELDS)))
                .sorted()
                .toList();
    }

    static List<String> projectFlows(List<Flow> fs) {
        return fs.stream()
                .map(f -> String.join(" ", project(n -> f.get(n), FLOW_FIELDS)))
                .sorted()
                .toList();
    }

    /** A folder that up, running its parts as nobody, may use. */
    static Path privateToNobody(Path d) throws Exception {
        Files.createDirectories(d);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwx--x--x"));
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
        return d;
    }

    record UpOutcome(List<String> lifecycleRows, List<String> flowRows) {}

    /**
     * {@code up --replay FILE} (as root without sudo: its parts run as nobody), headless, until it stops by itself;
     * then its lake's lifecycles and ended flows, projected as above.
     */
    static UpOutcome upReplay(Path capture, Path data) throws Exception {
        Files.createDirectories(data);
        assertEquals(
                0,
                new ProcessBuilder("chown", "-R", "65534:65534", data.toString())
                        .start()
                        .waitFor());
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-Xmx2g",
                "-cp",
                System.getProperty("java.class.path")));
        cmd.addAll(List.of(System.getProperty("sockflow.opens", "").split(" ")).stream()
                .filter(x -> !x.isBlank())
                .toList());
        cmd.addAll(List.of(
                "io.sockflow.runner.Up",
                "--headless",
                "--replay",
                capture.toString(),
                "--duration",
                "70s",
                "--data",
                data.toString(),
                "--kafka-port",
                Integer.toString(UpTest.freeKafkaPort()),
                "--registry-port",
                Integer.toString(UpTest.freePort()),
                "--metrics-port",
                "0"));
        Path log = capture.resolveSibling("up.log");
        Process up = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        assertTrue(up.waitFor(5, TimeUnit.MINUTES), "up did not stop after its --duration");
        String out = Files.readString(log, StandardCharsets.ISO_8859_1);
        assertEquals(0, up.exitValue(), out);
        String warehouse = data.resolve("warehouse").toString();
        List<String> lifecycles = Results.lake(warehouse, "sockflow", "lifecycles").stream()
                .filter(r -> !"OPEN".equals(String.valueOf(r.get("status")))) // its last record of each socket
                .map(r -> String.join(" ", project(r::get, LIFECYCLE_FIELDS)))
                .sorted()
                .toList();
        List<String> flows = Results.lake(warehouse, "sockflow", "flows").stream()
                .filter(r -> "END".equals(String.valueOf(r.get("recordType"))))
                .map(r -> String.join(" ", project(r::get, FLOW_FIELDS)))
                .sorted()
                .toList();
        return new UpOutcome(lifecycles, flows);
    }

    /** A server: accepts one connection per answer, reads it to its end, answers that many bytes and closes. */
    static String[] server(String address, int port, int... answers) {
        StringBuilder list = new StringBuilder();
        for (int a : answers) {
            list.append(a).append(',');
        }
        return new String[] {
            "import socket",
            "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
            "s.bind(('" + address + "', " + port + ")); s.listen(4)",
            "print('ready', flush=True)",
            "for answer in [" + list + "]:",
            "    c, _ = s.accept()",
            "    while c.recv(65536): pass",
            "    c.sendall(b'y' * answer); c.close()",
            "s.close()"
        };
    }

    /** A client on host {@code from}: connects, sends, shuts its side, reads the whole answer, closes. */
    static Conn connect(NetnsHosts net, int from, int to, int port, int sent, int answered, Process server)
            throws Exception {
        Process client = net.python(from, exchange(net, to, port, sent, answered, false));
        assertTrue(client.waitFor(20, TimeUnit.SECONDS), "the client on host " + from + " ended");
        assertEquals(0, client.exitValue(), "the client on host " + from + " got its answer");
        return new Conn(from, to, port, sent, answered, client.pid(), server.pid(), "CLOSE");
    }

    /**
     * A client as modern ones are and an end as real ones come: a non-blocking connect (EINPROGRESS, then writable),
     * the whole exchange, and then the process killed with SIGKILL, its socket never closed by it (the kernel ends it).
     */
    static Conn connectAndDie(NetnsHosts net, int from, int to, int port, int sent, int answered, Process server)
            throws Exception {
        Process client = net.python(from, exchange(net, to, port, sent, answered, true));
        assertEquals("done", NetnsHosts.line(client), "the non-blocking client on host " + from + " got its answer");
        client.destroyForcibly(); // SIGKILL: no close
        assertTrue(client.waitFor(20, TimeUnit.SECONDS));
        // the socket's end: its process exited holding it (the lifecycle's EXIT), not a close
        return new Conn(from, to, port, sent, answered, client.pid(), server.pid(), "EXIT");
    }

    /** The client's program: blocking and closing, or non-blocking and then waiting to be killed. */
    static String[] exchange(NetnsHosts net, int to, int port, int sent, int answered, boolean nonBlockingThenKilled) {
        String where = "('" + net.address(to) + "', " + port + ")";
        List<String> py = new ArrayList<>(List.of("import errno, select, socket, time", "print('ready', flush=True)"));
        if (nonBlockingThenKilled) {
            py.addAll(List.of(
                    "c = socket.socket(); c.setblocking(False)",
                    "assert c.connect_ex(" + where + ") == errno.EINPROGRESS",
                    "select.select([], [c], [], 10)",
                    "assert c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0",
                    "c.setblocking(True)"));
        } else {
            py.add("c = socket.create_connection(" + where + ")");
        }
        py.addAll(List.of(
                "c.sendall(b'x' * " + sent + "); c.shutdown(socket.SHUT_WR)",
                "n = 0",
                "while True:",
                "    b = c.recv(65536)",
                "    if not b: break",
                "    n += len(b)",
                "assert n == " + answered + ", n"));
        py.addAll(
                nonBlockingThenKilled ? List.of("print('done', flush=True)", "time.sleep(600)") : List.of("c.close()"));
        return py.toArray(String[]::new);
    }

    /** Lists each in its own order, merged into one by timestamp (the earliest head first). */
    static List<SocketEvent> mergeByTime(java.util.Collection<List<SocketEvent>> lists) {
        List<java.util.Iterator<SocketEvent>> its = new ArrayList<>();
        List<SocketEvent> heads = new ArrayList<>();
        for (List<SocketEvent> l : lists) {
            if (!l.isEmpty()) {
                its.add(l.iterator());
                heads.add(its.get(its.size() - 1).next());
            }
        }
        List<SocketEvent> out = new ArrayList<>();
        while (!heads.isEmpty()) {
            int min = 0;
            for (int i = 1; i < heads.size(); i++) {
                if (heads.get(i).getTimestamp().isBefore(heads.get(min).getTimestamp())) {
                    min = i;
                }
            }
            out.add(heads.get(min));
            if (its.get(min).hasNext()) {
                heads.set(min, its.get(min).next());
            } else {
                heads.remove(min);
                its.remove(min);
            }
        }
        return out;
    }

    @Test
    @Order(6)
    void noRecoveryLoggedAFailedCommit() throws Exception {
        List<String> found = new ArrayList<>();
        try (Stream<Path> logs = Files.list(dir.resolve("logs"))) {
            for (Path f : logs.toList()) {
                for (String line : Files.readAllLines(f, StandardCharsets.ISO_8859_1)) {
                    if (line.contains("Unable to commit transaction")) {
                        found.add(f.getFileName() + ": " + line);
                    }
                }
            }
        }
        assertEquals(List.of(), found);
    }

    // ------------------------------------------------------------------ plays

    interface Fault {
        String inject() throws Exception;
    }

    interface Step {
        void inject() throws Exception;
    }

    /** Copy {@code n} of the capture: host vm-N, an hour later per copy (so each copy's time is new to the jobs). */
    static List<SocketEvent> copy(int n) {
        long shiftS = 3600L * n;
        List<SocketEvent> out = new ArrayList<>();
        for (SocketEvent e : capture) {
            SocketEvent c = SocketEvent.newBuilder(e).build();
            c.setHost(e.getHost() + "-" + n);
            c.setTimestamp(e.getTimestamp().plusSeconds(shiftS));
            c.setMonotonicNs(e.getMonotonicNs() + shiftS * 1_000_000_000L);
            out.add(c);
        }
        return out;
    }

    /** A clock tick of copy {@code n}: {@code i} seconds after {@link #TICKS_AHEAD_S} past its last event. */
    static SocketEvent tick(List<SocketEvent> events, long i) {
        SocketEvent t = SocketEvent.newBuilder(events.get(events.size() - 1)).build();
        t.setTimestamp(t.getTimestamp().plusSeconds(TICKS_AHEAD_S + i));
        t.setKind(EventKind.UNKNOWN);
        t.setSocketInode(null);
        t.setSocketKernelAddress(null);
        t.setRelatedSocketInode(null);
        t.setRelatedSocketKernelAddress(null);
        t.setPid(0);
        t.setComm("replay-clock");
        return t;
    }

    /** The cluster's client settings: its brokers, and the admin's credentials from the cluster's folder. */
    static Map<String, Object> client() {
        Map<String, Object> m = new java.util.HashMap<>(Results.loginOf(cluster.state("bootstrap")));
        m.put("bootstrap.servers", cluster.state("bootstrap"));
        return m;
    }

    static Map<String, Object> with(Map<String, Object> base, Object... more) {
        Map<String, Object> m = new java.util.HashMap<>(base);
        for (int i = 0; i + 1 < more.length; i += 2) {
            m.put((String) more[i], more[i + 1]);
        }
        return m;
    }

    /** A writer of events onto a topic as the collector writes them (its keys, the registry's wire format). */
    record Sink(KafkaProducer<byte[], byte[]> producer, ConfluentAvro.Serializer<SocketEvent> ser, String topic) {
        static Sink of(String bootstrap, String registry, String topic) {
            Properties p = new Properties();
            p.putAll(Results.loginOf(bootstrap));
            p.put("bootstrap.servers", bootstrap);
            p.put("acks", "all");
            p.put("enable.idempotence", "true");
            p.put("linger.ms", "5");
            return new Sink(
                    new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer()),
                    new ConfluentAvro.Serializer<>(
                            new RegistryClient(RegistryClient.Config.of(registry)),
                            topic,
                            SocketEvent.getClassSchema()),
                    topic);
        }

        void send(SocketEvent e) {
            producer.send(new ProducerRecord<>(topic, KafkaOutput.key(e), ser.serialize(e)));
        }
    }

    /**
     * Plays copy {@code n} into the reference and the cluster alike, each by a writer of its own (a stalled cluster
     * must not hold the reference back): its events in ten slices a second apart (the fault, if any, after the fifth),
     * then clock ticks every second until both have settled.
     */
    Play play(int n, Fault fault) throws Exception {
        List<SocketEvent> events = copy(n);
        String host = events.get(0).getHost();
        AtomicBoolean stop = new AtomicBoolean();
        java.util.concurrent.CompletableFuture<String> faultDone = new java.util.concurrent.CompletableFuture<>();
        long[] faultAt = new long[1];
        Thread toCluster = feeder(
                "cluster-" + n,
                Sink.of(cluster.state("bootstrap"), cluster.state("registry.url"), "sockflow.events"),
                events,
                stop,
                () -> {
                    if (fault != null) {
                        faultAt[0] = System.nanoTime();
                        String what = fault.inject();
                        System.out.println(host + ": " + what + " with half the capture sent");
                        faultDone.complete(what);
                    }
                });
        Thread toReference = feeder(
                "reference-" + n,
                Sink.of(reference.stack.bootstrapServers(), reference.stack.registryUrl(), reference.events),
                events,
                stop,
                () -> {});
        try {
            if (fault != null) {
                faultDone.get(3, TimeUnit.MINUTES);
                printRecovery(host, faultAt[0]);
            }
            Outcome expected = reference.settled(host);
            long deadline = System.nanoTime() + Duration.ofMinutes(4).toNanos();
            Outcome got;
            while (true) {
                got = Outcome.read(cluster.state("bootstrap"), cluster.state("registry.url"), "sockflow", host);
                if (got.covers(expected)) {
                    Thread.sleep(6000); // a few checkpoints more: anything extra would show now
                    got = Outcome.read(cluster.state("bootstrap"), cluster.state("registry.url"), "sockflow", host);
                    break;
                }
                assertTrue(
                        System.nanoTime() < deadline,
                        host + ": the cluster's results did not come in 4 minutes: " + got.sizes() + " of "
                                + expected.sizes());
                Thread.sleep(2000);
            }
            if (fault != null) {
                System.out.printf(
                        "%s: after %s, the results were complete %.1f s after the fault%n",
                        host, faultDone.get(), (System.nanoTime() - faultAt[0]) / 1e9);
            }
            return new Play(host, expected, got);
        } finally {
            stop.set(true);
            toCluster.join(10_000);
            toReference.join(10_000);
        }
    }

    /** Writes the events in ten slices a second apart ({@code midway} after the fifth), then a tick a second until stopped. */
    static Thread feeder(String name, Sink sink, List<SocketEvent> events, AtomicBoolean stop, Step midway) {
        return feeder(name, sink, events, events, stop, midway);
    }

    /** As above, the ticks following the last of {@code clock}. */
    static Thread feeder(
            String name,
            Sink sink,
            List<SocketEvent> events,
            List<SocketEvent> clock,
            AtomicBoolean stop,
            Step midway) {
        return Thread.ofPlatform().name(name).start(() -> {
            try (KafkaProducer<byte[], byte[]> p = sink.producer()) {
                int slices = 10;
                for (int s = 0; s < slices; s++) {
                    for (SocketEvent e : events.subList(s * events.size() / slices, (s + 1) * events.size() / slices)) {
                        sink.send(e);
                    }
                    p.flush();
                    if (s == slices / 2 - 1) {
                        midway.inject();
                    }
                    Thread.sleep(1000);
                }
                for (long i = 0; !stop.get(); i++) {
                    sink.send(tick(clock, i));
                    p.flush();
                    Thread.sleep(1000);
                }
            } catch (Exception e) {
                System.out.println(name + ": writing stopped: " + e);
            }
        });
    }

    /** From the fault until every task of the job runs again (Flink's REST API), printed. */
    void printRecovery(String host, long faultAt) throws Exception {
        boolean left = false;
        long until = System.nanoTime() + Duration.ofSeconds(40).toNanos();
        while (System.nanoTime() < until && !(left = !allRunning())) {
            Thread.sleep(200);
        }
        if (!left) {
            System.out.printf("%s: the job did not restart (no task failed) within 40 s of the fault%n", host);
            return;
        }
        double detected = (System.nanoTime() - faultAt) / 1e9;
        Cluster.waitFor(
                this::allRunning,
                Duration.ofMinutes(3),
                host + ": the job did not run again within 3 minutes of the fault");
        System.out.printf(
                "%s: failure seen by Flink %.1f s after the fault; every task running again after %.1f s%n",
                host, detected, (System.nanoTime() - faultAt) / 1e9);
    }

    boolean allRunning() throws Exception {
        String o = cluster.get(rest, "/jobs/overview");
        Matcher s = Pattern.compile("\"state\":\"([A-Z]+)\"").matcher(o);
        Matcher r = Pattern.compile("\"running\":(\\d+)").matcher(o);
        Matcher t = Pattern.compile("\"total\":(\\d+)").matcher(o);
        return s.find()
                && s.group(1).equals("RUNNING")
                && r.find()
                && t.find()
                && r.group(1).equals(t.group(1));
    }

    record Play(String host, Outcome expected, Outcome got) {
        void assertSame() {
            assertSame(40);
        }

        void assertSame(int moreLifecyclesThan) {
            System.out.printf(
                    "%s: single host %s; cluster %s; duplicates in the cluster's output: %d%n",
                    host, expected.sizes(), got.sizes(), got.duplicates());
            assertTrue(
                    expected.lifecycles().size() > moreLifecyclesThan
                            && !expected.flows().isEmpty(),
                    "the reference saw little: " + expected.sizes());
            assertEquals(0, got.duplicates(), host + ": records repeated");
            assertEqualRecords(sorted(expected.lifecycles()), sorted(got.lifecycles()), host + " lifecycles");
            assertEqualRecords(
                    sorted(expected.flows().stream()
                            .filter(f -> f.getRecordType() == FlowRecordType.END)
                            .toList()),
                    sorted(got.flows().stream()
                            .filter(f -> f.getRecordType() == FlowRecordType.END)
                            .toList()),
                    host + " flows (END)");
            assertEqualRecords(
                    expected.flows().stream()
                            .map(f -> f.getFlowId() + " " + f.getRecordType())
                            .sorted()
                            .toList(),
                    got.flows().stream()
                            .map(f -> f.getFlowId() + " " + f.getRecordType())
                            .sorted()
                            .toList(),
                    host + " flows");
            assertEqualRecords(sorted(expected.alerts()), sorted(got.alerts()), host + " alerts");
        }
    }

    /** What the jobs wrote about one host, read_committed. */
    record Outcome(List<SocketLifecycle> lifecycles, List<Flow> flows, List<Alert> alerts) {
        static Outcome read(String bootstrap, String registry, String prefix, String host) {
            return read(bootstrap, registry, prefix, host::equals);
        }

        static Outcome read(
                String bootstrap, String registry, String prefix, java.util.function.Predicate<String> host) {
            return new Outcome(
                    Results.<SocketLifecycle>decode(
                                    registry,
                                    Results.readCommitted(bootstrap, prefix + ".lifecycles"),
                                    SocketLifecycle.getClassSchema())
                            .stream()
                            .filter(l -> host.test(l.getHost()))
                            .toList(),
                    Results.<Flow>decode(
                                    registry,
                                    Results.readCommitted(bootstrap, prefix + ".flows"),
                                    Flow.getClassSchema())
                            .stream()
                            .filter(f -> host.test(f.getHost()))
                            .toList(),
                    Results.<Alert>decode(
                                    registry,
                                    Results.readCommitted(bootstrap, prefix + ".alerts"),
                                    Alert.getClassSchema())
                            .stream()
                            .filter(a -> host.test(a.getHost()))
                            .toList());
        }

        boolean covers(Outcome o) {
            return lifecycles.size() >= o.lifecycles.size()
                    && flows.size() >= o.flows.size()
                    && alerts.size() >= o.alerts.size();
        }

        String sizes() {
            return lifecycles.size() + " lifecycles, " + flows.size() + " flows, " + alerts.size() + " alerts";
        }

        long duplicates() {
            return (lifecycles.size()
                            - lifecycles.stream()
                                    .map(Object::toString)
                                    .distinct()
                                    .count())
                    + (flows.size()
                            - flows.stream().map(Object::toString).distinct().count())
                    + (alerts.size()
                            - alerts.stream().map(Object::toString).distinct().count());
        }
    }

    static List<String> sorted(List<?> l) {
        return l.stream().map(Object::toString).sorted().toList();
    }

    static void assertEqualRecords(List<String> expected, List<String> got, String what) {
        if (expected.equals(got)) {
            return;
        }
        List<String> missing = new ArrayList<>(expected);
        got.forEach(missing::remove);
        List<String> extra = new ArrayList<>(got);
        expected.forEach(extra::remove);
        fail(what + ": " + expected.size() + " expected, " + got.size() + " got; missing " + missing + "; extra "
                + extra);
    }

    // ------------------------------------------------------------------ the single host

    /** The single-host run: the embedded broker and registry, the jobs on a MiniCluster at parallelism 1. */
    static final class Reference implements AutoCloseable {
        final LocalStack stack;
        final String prefix;
        final String events;
        final MiniCluster mini;
        final JobID id;

        private Reference(LocalStack stack, String prefix, MiniCluster mini, JobID id) {
            this.stack = stack;
            this.prefix = prefix;
            this.events = prefix + ".events";
            this.mini = mini;
            this.id = id;
        }

        static Reference start(Path dir) throws Exception {
            LocalStack stack = LocalStack.shared();
            String prefix = "single-" + java.util.UUID.randomUUID();
            Map<String, String> m = new HashMap<>();
            m.put("bootstrap.servers", stack.bootstrapServers());
            m.put("registry.url", stack.registryUrl());
            m.put("topic.events", prefix + ".events");
            m.put("topic.lifecycles", prefix + ".lifecycles");
            m.put("topic.flows", prefix + ".flows");
            m.put("topic.alerts", prefix + ".alerts");
            m.put("topic.dead-letter", prefix + ".events.dlq");
            m.put("topic.partitions", "1");
            m.put("sink.iceberg", "false");
            m.put("warehouse", dir.resolve("warehouse").toString());
            m.put("checkpoint.dir", dir.resolve("checkpoints").toString());
            m.put("checkpoint.interval", "2s");
            m.put("lifecycle.update-interval", "24h");
            m.put("group.id", prefix);
            m.put("transactional.id.prefix", prefix);
            JobConfig cfg = JobConfig.of(m);
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", stack.bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic(prefix + ".events", 1, (short) 1)))
                        .all()
                        .get(30, TimeUnit.SECONDS);
            }
            SockflowJob.prepare(cfg);
            Configuration conf = SockflowJob.restartForever(new Configuration());
            conf.setString("rest.bind-address", "127.0.0.1");
            conf.setString("rest.address", "127.0.0.1");
            conf.setString("rest.bind-port", "0");
            MiniCluster mini = new MiniCluster(new MiniClusterConfiguration.Builder()
                    .setConfiguration(conf)
                    .setNumTaskManagers(1)
                    .setNumSlotsPerTaskManager(1)
                    .build());
            mini.start();
            StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
            SockflowJob.build(env, cfg);
            return new Reference(
                    stack,
                    prefix,
                    mini,
                    mini.submitJob(env.getStreamGraph()).get().getJobID());
        }

        /** The host's results once they have not changed for 10 s (and some have come). */
        Outcome settled(String host) throws Exception {
            return settled(host::equals);
        }

        Outcome settled(java.util.function.Predicate<String> host) throws Exception {
            long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            String last = "";
            long since = System.nanoTime();
            while (true) {
                Outcome o = Outcome.read(stack.bootstrapServers(), stack.registryUrl(), prefix, host);
                String sizes = o.sizes();
                if (!sizes.equals(last)) {
                    last = sizes;
                    since = System.nanoTime();
                } else if (!o.lifecycles().isEmpty()
                        && System.nanoTime() - since > Duration.ofSeconds(10).toNanos()) {
                    return o;
                }
                assertTrue(System.nanoTime() < deadline, "the single-host run did not settle: " + sizes);
                Thread.sleep(1000);
            }
        }

        @Override
        public void close() throws Exception {
            mini.cancelJob(id).get(30, TimeUnit.SECONDS);
            mini.close();
        }
    }
}
