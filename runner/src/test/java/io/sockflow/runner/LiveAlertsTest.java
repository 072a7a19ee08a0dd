package io.sockflow.runner;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sockflow.embedded.LocalStack;
import io.sockflow.jobs.Results;
import io.sockflow.jobs.SockflowJob;
import io.sockflow.jobs.config.JobConfig;
import io.sockflow.schemas.Alert;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Detection live, through the whole pipeline: the collector (its own process) captures attacks and ordinary work
 * played on this host (resources/attacks.py), the jobs run over what it wrote, and the alerts must name the
 * attacker for each attack and stay quiet about the ordinary work. Needs root (eBPF, raw and packet sockets).
 */
@Tag("root")
class LiveAlertsTest {
    @TempDir
    static Path dir;

    static LocalStack stack;
    static JobConfig cfg;
    static JsonNode attack;
    static JsonNode benign;
    static List<Alert> alerts;
    static int listenPort;

    @BeforeAll
    static void playAndDetect() throws Exception {
        stack = LocalStack.shared();
        String topic = "alerts-live-" + UUID.randomUUID();
        Map<String, String> m = io.sockflow.jobs.TestPipelines.settings(stack, topic, dir, "500ms");
        m.put("bounded", "true");
        m.put("jobs", "detection");
        m.put("sink.iceberg", "false");
        // a short learning period, counted from the capture's start: the test's listener comes just after it
        m.put("detect.listener.learning", "5s");
        cfg = JobConfig.of(m);
        SockflowJob.prepare(cfg);

        Path script = dir.resolve("attacks.py");
        try (var in = LiveAlertsTest.class.getResourceAsStream("/attacks.py")) {
            Files.copy(in, script);
        }
        listenPort = UpTest.freePort();
        int scanBase = closedRange();
        try (CollectorProcess collector = CollectorProcess.start(
                stack.bootstrapServers(), stack.registryUrl(), topic, dir.resolve("spool"), List.of())) {
            Thread.sleep(6000); // past the learning period
            attack = run(
                    script,
                    "attack",
                    Integer.toString(listenPort),
                    Integer.toString(scanBase),
                    "--password",
                    "hunter2",
                    "token=s3cret");
            benign = run(script, "benign");
            Thread.sleep(2500); // owners joined, the producer flushed
            int code = collector.stop();
            assertTrue(code == 0 || code == 143, collector.log.toString());
        }
        assertEquals(50, attack.get("refused").asInt(), "every scanned port was closed: " + attack);
        assertEquals(0, attack.get("hostnameExit").asInt(), "the hostname was changed in a private UTS namespace");

        Configuration conf = new Configuration();
        conf.setString("restart-strategy.type", "none");
        SockflowJob.run(StreamExecutionEnvironment.createLocalEnvironment(1, conf), cfg);
        alerts = Results.decode(
                stack.registryUrl(),
                Results.readCommitted(stack.bootstrapServers(), cfg.get(JobConfig.ALERTS_TOPIC)),
                Alert.getClassSchema());
    }

    static JsonNode run(Path script, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("/usr/bin/python3", script.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "attacks.py " + String.join(" ", args) + " failed: " + out);
        String[] lines = out.strip().split("\n");
        return new ObjectMapper().readTree(lines[lines.length - 1]);
    }

    /** 50 consecutive loopback ports nothing listens on. */
    static int closedRange() throws Exception {
        for (int i = 0; i < 100; i++) {
            int base = ThreadLocalRandom.current().nextInt(10000, 19900);
            boolean free = true;
            for (int p = base; p < base + 50 && free; p++) {
                try (ServerSocket s = new ServerSocket(p, 1, InetAddress.getLoopbackAddress())) {
                    // bindable, so nothing listens there
                } catch (java.io.IOException taken) {
                    free = false;
                }
            }
            if (free) {
                return base;
            }
        }
        throw new IllegalStateException("no 50 closed ports in 10000-19950");
    }

    static List<Alert> of(int pid, String rule) {
        return alerts.stream()
                .filter(a ->
                        a.getPid() != null && a.getPid() == pid && a.getRule().equals(rule))
                .toList();
    }

    static String all() {
        return alerts.stream()
                .map(a -> a.getRule() + " pid " + a.getPid() + " " + a.getComm() + ": " + a.getSummary())
                .collect(Collectors.joining("\n"));
    }

    @Test
    void aPortScanOfNonBlockingConnectsIsAlerted() {
        List<Alert> scans = of(attack.get("pid").asInt(), "port-scan");
        assertEquals(1, scans.size(), all());
        Alert a = scans.get(0);
        assertEquals("127.0.0.1", a.getAttributes().get("target"));
        assertEquals("50", a.getAttributes().get("ports"), a.toString());
        assertEquals("50", a.getAttributes().get("attempts"), a.toString());
        assertEquals("python3", a.getComm());
        assertFalse(a.getEvidence().isEmpty());
    }

    @Test
    void rawIpSocketsWithFlagsAndPacketSocketsAreAlertedNetlinkIsNot() {
        List<Alert> raw = of(attack.get("pid").asInt(), "raw-socket");
        assertEquals(
                List.of("AF_INET SOCK_RAW", "AF_INET6 SOCK_RAW", "AF_PACKET SOCK_RAW"),
                raw.stream()
                        .map(a -> a.getAttributes().get("family") + " "
                                + a.getAttributes().get("type"))
                        .sorted()
                        .toList(),
                all());
        assertTrue(
                raw.stream()
                        .anyMatch(a ->
                                "SOCK_RAW|SOCK_CLOEXEC".equals(a.getAttributes().get("requested"))),
                all());
        assertEquals(
                List.of(), of(benign.get("pid").asInt(), "raw-socket"), "a raw netlink socket is not a raw IP socket");
    }

    @Test
    void aSocketpairByARenamedProcessIsAlertedOrdinaryOnesAreNot() {
        List<Alert> pairs = of(attack.get("renamed").asInt(), "socketpair-ipc");
        assertEquals(1, pairs.size(), all());
        assertEquals("kworker/u8:3", pairs.get(0).getComm());
        assertEquals("python3", pairs.get(0).getAttributes().get("execName"));
        assertEquals(List.of(), of(benign.get("pid").asInt(), "socketpair-ipc"));
    }

    @Test
    void aListenerOnANewPortJustAfterLearningIsAlertedAnEphemeralLoopbackOneIsNot() {
        List<Alert> l = of(attack.get("pid").asInt(), "new-listener");
        assertEquals(1, l.size(), all());
        assertEquals(String.valueOf(listenPort), l.get(0).getAttributes().get("port"));
        assertEquals(List.of(), of(benign.get("pid").asInt(), "new-listener"));
    }

    @Test
    void reconIsAlertedClientsAskingTheirOwnConnectionsAreNot() {
        assertFalse(
                of(attack.get("pid").asInt(), "socket-recon").isEmpty(), all()); // two if the burst straddles windows
        assertEquals(List.of(), of(benign.get("pid").asInt(), "socket-recon"), all());
    }

    @Test
    void aHostnameChangeAndAShellConnectingOutAreAlerted() {
        assertEquals(1, of(attack.get("hostname").asInt(), "hostname-change").size(), all());
        assertEquals(1, of(attack.get("shell").asInt(), "shell-connect").size(), all());
    }

    @Test
    void theOrdinaryWorkRaisesNothing() {
        assertEquals(
                List.of(),
                alerts.stream()
                        .filter(a -> a.getPid() != null
                                && a.getPid() == benign.get("pid").asInt())
                        .toList());
    }

    @Test
    void everyAlertOfTheAttackerNamesItsParentChainProgramAndRedactedCommandLine() {
        int me = (int) ProcessHandle.current().pid();
        List<Alert> mine = alerts.stream()
                .filter(a ->
                        a.getPid() != null && a.getPid() == attack.get("pid").asInt())
                .toList();
        assertFalse(mine.isEmpty());
        for (Alert a : mine) {
            assertEquals(me, a.getPpid(), a.toString());
            assertEquals("/usr/bin/python3", a.getExe(), a.toString());
            assertTrue(
                    a.getCmdline().contains("attacks.py attack")
                            && a.getCmdline().endsWith("--password *** token=***"),
                    a.getCmdline());
            assertFalse(a.getCmdline().contains("hunter2") || a.getCmdline().contains("s3cret"), a.getCmdline());
            assertTrue(
                    a.getAncestry().get(0).startsWith(me + " java "),
                    a.getAncestry().toString());
            assertEquals(0, a.getUid());
        }
        // the renamed child's alert names its parent, the attacker, and its own program
        // (read from /proc when its exec's record comes by: a collector running seconds behind on a busy host finds
        // the short-lived child gone, and the alert then carries no context rather than a wrong one)
        Alert pair = of(attack.get("renamed").asInt(), "socketpair-ipc").get(0);
        assertEquals("/usr/bin/python3", pair.getExe());
        if (pair.getPpid() != null) {
            assertEquals(attack.get("pid").asInt(), pair.getPpid());
            assertTrue(
                    pair.getAncestry().get(0).startsWith(attack.get("pid").asInt() + " python3 /usr/bin/python3"),
                    pair.getAncestry().toString());
        }
        Alert shell = of(attack.get("shell").asInt(), "shell-connect").get(0);
        assertEquals("/bin/bash", shell.getExe());
    }

    static List<Alert> reverseShellsOf(int pid) {
        return alerts.stream()
                .filter(a -> a.getRule().equals("reverse-shell")
                        && (a.getPid() != null && a.getPid() == pid || a.getPpid() != null && a.getPpid() == pid))
                .toList();
    }

    @Test
    void bothFormsOfReverseShellAreAlertedWithTheConnectionTheirStreamsAreOn() {
        for (String form : List.of("reverseBash", "reversePython")) {
            List<Alert> r = reverseShellsOf(attack.get(form).asInt());
            assertEquals(1, r.size(), form + "\n" + all());
            Alert a = r.get(0);
            assertTrue(
                    a.getAttributes().get("stdio").startsWith("0,1,2 127.0.0.1:")
                            && a.getAttributes().get("stdio").contains("->127.0.0.1:" + listenPort),
                    a.getAttributes().toString());
            assertTrue(List.of("bash", "sh").contains(a.getComm()), a.toString());
            assertNotNull(a.getExe(), a.toString());
        }
    }

    @Test
    void controlPlaneSocketOptionsAndASurveyOfThemAreAlerted() {
        int pid = attack.get("pid").asInt();
        assertEquals(
                java.util.Set.of("SO_BINDTODEVICE", "IP_TRANSPARENT"),
                of(pid, "sockopt-control").stream()
                        .map(a -> a.getAttributes().get("option"))
                        .collect(Collectors.toSet()),
                all());
        assertEquals(1, of(pid, "ip-hdrincl").size(), all());
        assertEquals(1, of(pid, "so-debug").size(), all());
        assertFalse(of(pid, "sockopt-probe").isEmpty(), all());
        assertEquals(List.of(), of(benign.get("pid").asInt(), "sockopt-probe"));
    }
}
