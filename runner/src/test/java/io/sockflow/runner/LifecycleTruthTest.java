package io.sockflow.runner;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sockflow.embedded.LocalStack;
import io.sockflow.jobs.Results;
import io.sockflow.jobs.SockflowJob;
import io.sockflow.jobs.config.JobConfig;
import io.sockflow.schemas.LifecycleStatus;
import io.sockflow.schemas.ProcessRef;
import io.sockflow.schemas.SocketLifecycle;
import io.sockflow.schemas.SocketRole;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lifecycle truth, live through the whole pipeline (the real kernel, the collector as its own process, Kafka, the
 * jobs): one scenario per shape of a real host, each socket identified by what the kernel itself says (its cookie,
 * read by the workload with SO_COOKIE, and its inode), each asserting the exact lifecycle records. Needs root.
 */
@Tag("root")
class LifecycleTruthTest {
    @TempDir
    static Path dir;

    static LocalStack stack;
    static JobConfig cfg;
    static final Map<String, JsonNode> facts = new HashMap<>();
    static final Map<String, Instant> moments = new HashMap<>();
    static List<SocketLifecycle> all;
    static String ns;
    static String veth;

    /** One scenario: a python process, its stdin to let it go on, and its JSON lines. */
    static final class Scenario implements AutoCloseable {
        final Process process;
        final BufferedReader out;
        final Writer in;

        Scenario(String... args) throws Exception {
            Path script = dir.resolve("lifecycle_scenarios.py");
            if (!Files.exists(script)) {
                try (var s = LifecycleTruthTest.class.getResourceAsStream("/lifecycle_scenarios.py")) {
                    Files.copy(s, script);
                }
            }
            List<String> cmd = new ArrayList<>(List.of("/usr/bin/python3", script.toString()));
            cmd.addAll(List.of(args));
            process = new ProcessBuilder(cmd)
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
            out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        }

        JsonNode next() throws Exception {
            String line = out.readLine();
            assertNotNull(line, "the scenario ended early");
            return new ObjectMapper().readTree(line);
        }

        JsonNode facts() throws Exception {
            JsonNode n = next();
            assertTrue(n.has("facts"), n.toString());
            return n.get("facts");
        }

        void go() throws Exception {
            in.write("go\n");
            in.flush();
        }

        void finish() throws Exception {
            assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the scenario did not end");
            assertEquals(0, process.exitValue());
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }

    static void sh(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", cmd) + ": " + out);
    }

    @BeforeAll
    static void playEveryScenario() throws Exception {
        stack = LocalStack.shared();
        String topic = "truth-" + UUID.randomUUID();
        Map<String, String> m = io.sockflow.jobs.TestPipelines.settings(stack, topic, dir, "500ms");
        m.put("lifecycle.update-interval", "500ms");
        m.put("bounded", "false"); // live beside the workload, as on a host: updates show each moment
        m.put("jobs", "lifecycle");
        m.put("sink.iceberg", "false");
        cfg = JobConfig.of(m);
        SockflowJob.prepare(cfg);

        // a host whose firewall drops SYNs, for the connect that times out
        String id = Long.toString(ProcessHandle.current().pid() % 10000);
        ns = "sflt" + id;
        veth = "sflta" + id;
        sh("ip", "netns", "add", ns);
        sh("ip", "link", "add", veth, "type", "veth", "peer", "name", "sfltb" + id);
        sh("ip", "link", "set", "sfltb" + id, "netns", ns);
        sh("ip", "addr", "add", "10.213.9.1/30", "dev", veth);
        sh("ip", "link", "set", veth, "up");
        sh("ip", "netns", "exec", ns, "ip", "addr", "add", "10.213.9.2/30", "dev", "sfltb" + id);
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "sfltb" + id, "up");
        sh("ip", "netns", "exec", ns, "nft", "add", "table", "inet", "sfdrop");
        sh(
                "ip",
                "netns",
                "exec",
                ns,
                "nft",
                "add",
                "chain",
                "inet",
                "sfdrop",
                "input",
                "{ type filter hook input priority 0 ; policy accept ; }");
        sh("ip", "netns", "exec", ns, "nft", "add", "rule", "inet", "sfdrop", "input", "tcp", "dport", "7171", "drop");

        // (a) sockets made before the collector starts
        try (Scenario before = new Scenario("fork-server-before")) {
            assertTrue(before.next().has("ready"));
            try (CollectorProcess collector = CollectorProcess.start(
                    stack.bootstrapServers(),
                    stack.registryUrl(),
                    topic,
                    dir.resolve("spool"),
                    List.of(
                            "--sweep-interval",
                            "2s",
                            // the sockets' totals every second: the records keep coming, so the watermark and the
                            // open lifecycles' update ticks move while a scenario waits
                            "--aggregate-interval",
                            "1s",
                            // one partition: the replay afterwards reads the records in the order they happened, as a
                            // live job would, so the open lifecycle's updates show each moment
                            "--topic-partitions",
                            "1"))) {
                Configuration conf = new Configuration();
                conf.setString("restart-strategy.type", "none");
                StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
                SockflowJob.build(env, cfg);
                org.apache.flink.core.execution.JobClient job = env.executeAsync("lifecycle truth");
                before.go();
                facts.put("before", before.facts());
                before.finish();
                play("after", "fork-server-after");
                play("dup", "dup");
                // a listener of the workload that outlives the processes of (d): the live view must list it, not theirs
                try (Scenario living = new Scenario("listener")) {
                    facts.put("living", living.facts());
                    play("exit", "exit");
                    try (Scenario kill = new Scenario("kill")) {
                        facts.put("kill", kill.facts());
                        Thread.sleep(300);
                        moments.put("kill", Instant.now());
                        sh("kill", "-9", Long.toString(kill.process.pid()));
                        kill.process.waitFor(10, TimeUnit.SECONDS);
                    }
                    // long enough that the living listener's first record, which the jobs emit at an update tick with
                    // the latest time they had seen of it (up to the watermark's delay later), is stamped before the
                    // look
                    Thread.sleep(8000);
                    moments.put("view", Instant.now()); // the live view is looked at as of here
                    Thread.sleep(500);
                    living.go();
                    living.finish();
                }
                play("exec", "exec");
                play("nonblocking", "nonblocking", "10.213.9.2", "7171");
                try (Scenario passing = new Scenario("fd-passing")) {
                    facts.put("passing", passing.facts());
                    // an update of the open lifecycle while both processes hold the socket: a tick fires once the
                    // watermark passes it, 2 s (the out-of-orderness bound) behind the records; the events of the
                    // socket folded in by then must not yet include the receiver's drop
                    Thread.sleep(4000);
                    passing.go();
                    passing.facts();
                    passing.finish();
                }
                play("threads", "threads");
                play("handover", "handover");
                Thread.sleep(3000); // the last releases, a sweep, the producer's flush
                int rc = collector.stop();
                assertTrue(rc == 0 || rc == 143, collector.log.toString());
                // drained: the watermark goes to the end, every timer fires, the last transaction commits
                job.stopWithSavepoint(
                                true,
                                dir.resolve("savepoints").toUri().toString(),
                                org.apache.flink.core.execution.SavepointFormatType.CANONICAL)
                        .get(5, TimeUnit.MINUTES);
            }
        }
        all = Results.decode(
                stack.registryUrl(),
                Results.readCommitted(stack.bootstrapServers(), cfg.get(JobConfig.LIFECYCLES_TOPIC)),
                SocketLifecycle.getClassSchema());
    }

    static void play(String name, String... args) throws Exception {
        try (Scenario s = new Scenario(args)) {
            facts.put(name, s.facts());
            s.finish();
        }
    }

    @AfterAll
    static void removeTheTestHost() throws Exception {
        new ProcessBuilder("ip", "netns", "del", ns).start().waitFor();
        new ProcessBuilder("ip", "link", "del", veth).start().waitFor();
    }

    /** Every record of one socket, in order: the socket as the workload named it (cookie for inet, inode otherwise). */
    static List<SocketLifecycle> records(JsonNode sock) {
        boolean inet = sock.get("family").asText().startsWith("AF_INET");
        long cookie = sock.get("cookie").asLong();
        long inode = sock.get("inode").asLong();
        return all.stream()
                .filter(l -> inet
                        ? l.getSocketCookie() != null && l.getSocketCookie() == cookie
                        : l.getSocketInode() == inode)
                .toList();
    }

    /** The one final record of a socket: it ended once, released by the kernel. */
    static SocketLifecycle ended(JsonNode sock) {
        List<SocketLifecycle> rs = records(sock);
        List<SocketLifecycle> ends =
                rs.stream().filter(l -> l.getStatus() != LifecycleStatus.OPEN).toList();
        assertEquals(1, ends.size(), "one end for " + sock + ": " + rs);
        assertEquals(LifecycleStatus.CLOSED, ends.get(0).getStatus(), "released, not timed out: " + ends.get(0));
        return ends.get(0);
    }

    @Test
    void aSocketsThatExistedBeforeTheStartAreOwnedByTheParentThroughAForkedChildsCloseAndEndOnceAtTheParentsClose() {
        JsonNode f = facts.get("before");
        int server = f.get("server").asInt();
        SocketLifecycle listener = ended(f.get("listener"));
        assertEquals(server, listener.getPid(), "the parent owns it, not the child that closed its copy");
        assertEquals("INVENTORY", listener.getOwnerSource());
        assertEquals(List.of("CREATE"), listener.getNotSeen());
        assertNotNull(listener.getInventoriedAt());
        assertEquals(SocketRole.LISTENER, listener.getRole());
        assertEquals("CLOSE", listener.getReleaseCause());
        assertEquals(server, listener.getReleasedByPid(), "ended at the parent's close");
        SocketLifecycle accepted = ended(f.get("accepted"));
        assertEquals(server, accepted.getPid());
        assertEquals(SocketRole.ACCEPTED, accepted.getRole(), "an established socket on a listener's port: accepted");
        assertEquals(listener.getSocketInode(), accepted.getListenerInode());
        assertEquals("INVENTORY", accepted.getOwnerSource(), "held by the parent at the inventory: " + accepted);
        assertEquals(List.of("CREATE"), accepted.getNotSeen(), "not seen created: " + accepted);
        assertNotNull(accepted.getInventoriedAt());
        assertNull(accepted.getCreatedAt());
        assertEquals("CLOSE", accepted.getReleaseCause(), "ended by a close, not by the child's exit: " + accepted);
        assertEquals(server, accepted.getReleasedByPid(), "ended at the parent's close");
        assertEquals("TCP_COUNTERS", accepted.getByteSource(), "counted over its whole life by the kernel's counters");
        assertEquals(1000, accepted.getBytesSent());
        assertEquals(3000, accepted.getBytesReceived());
        for (SocketLifecycle l : all) {
            assertNotEquals(f.get("child").asInt(), l.getPid(), "the child owns nothing: " + l);
        }
    }

    @Test
    void bTheSameWithSocketsMadeAfterTheStart() {
        JsonNode f = facts.get("after");
        int server = f.get("server").asInt();
        SocketLifecycle listener = ended(f.get("listener"));
        assertEquals(server, listener.getPid());
        assertEquals("CREATED", listener.getOwnerSource());
        assertEquals(List.of(), listener.getNotSeen());
        assertNotNull(listener.getCreatedAt());
        assertEquals(SocketRole.LISTENER, listener.getRole());
        assertEquals("CLOSE", listener.getReleaseCause(), "ended by the parent's close: " + listener);
        assertEquals(server, listener.getReleasedByPid());
        SocketLifecycle accepted = ended(f.get("accepted"));
        assertEquals(SocketRole.ACCEPTED, accepted.getRole());
        assertEquals(server, accepted.getPid());
        assertEquals("CREATED", accepted.getOwnerSource(), "the parent accepted it: " + accepted);
        assertEquals(List.of(), accepted.getNotSeen());
        assertNotNull(accepted.getCreatedAt());
        assertEquals(listener.getSocketInode(), accepted.getListenerInode());
        assertEquals(1000, accepted.getBytesSent());
        assertEquals(3000, accepted.getBytesReceived());
        assertEquals("CLOSE", accepted.getReleaseCause(), "ended by the parent's close: " + accepted);
        assertEquals(server, accepted.getReleasedByPid());
        for (SocketLifecycle l : all) {
            assertNotEquals(f.get("child").asInt(), l.getPid(), "the child owns nothing: " + l);
        }
    }

    /** A moment the workload wrote in its facts (seconds since the epoch, as Python's time.time()). */
    static Instant at(JsonNode seconds) {
        return Instant.ofEpochSecond(0, Math.round(seconds.asDouble() * 1e9));
    }

    /** How far the kernel's clock, as the records give it, may be from the workload's: a few milliseconds. */
    static final Duration SKEW = Duration.ofMillis(250);

    @Test
    void cClosingOneOfTwoDescriptorsIsNotAnEndAndDup2OverTheLastOneIs() {
        JsonNode f = facts.get("dup");
        int pid = f.get("pid").asInt();
        SocketLifecycle l = ended(f.get("sock"));
        assertEquals("DUP2", l.getReleaseCause());
        assertEquals(pid, l.getReleasedByPid());
        assertEquals(pid, l.getPid());
        assertFalse(
                l.getClosedAt().isBefore(at(f.get("lastDropAt")).minus(SKEW)),
                "ended at the dup2 over the last descriptor, not at the close of the first (a second before): " + l);
    }

    @Test
    void cACopyMadeWithDup2OutlivesTheCloseOfTheOriginalAndEndsAtItsOwnClose() {
        JsonNode f = facts.get("dup");
        JsonNode made = f.get("dup2Made");
        int pid = f.get("pid").asInt();
        SocketLifecycle l = ended(made);
        assertEquals("CLOSE", l.getReleaseCause(), "the close of the copy, the last descriptor: " + l);
        assertEquals(pid, l.getReleasedByPid());
        assertEquals(pid, l.getPid());
        assertEquals("CREATED", l.getOwnerSource());
        assertFalse(
                l.getClosedAt().isBefore(at(made.get("lastCloseAt")).minus(SKEW)),
                "ended at the last close, not at the original's close a second before: " + l);
        assertTrue(
                l.getClosedAt().isBefore(at(made.get("lastCloseAt")).plusSeconds(5)),
                "ended within seconds of the last close: " + l);
    }

    /**
     * The moment a process of (d) went: the one that exits wrote it just before its exit; the killed one went at the
     * SIGKILL the test sent.
     */
    static Instant exitOf(String which) {
        return which.equals("exit") ? at(facts.get("exit").get("exitAt")) : moments.get("kill");
    }

    @Test
    void dAProcessThatExitsOrIsKilledHoldingSocketsEndsThemAtItsExit() {
        for (String which : List.of("exit", "kill")) {
            JsonNode f = facts.get(which);
            Instant exit = exitOf(which);
            for (String s : List.of("listener", "client", "accepted", "udp", "unix", "unix2")) {
                SocketLifecycle l = ended(f.get(s));
                assertEquals("EXIT", l.getReleaseCause(), which + " " + s + ": " + l);
                assertEquals("EXIT", l.getEndReason(), "the end reason says it went with the exit: " + which + " " + s);
                assertEquals(f.get("pid").asInt(), l.getPid(), which + " " + s);
                assertFalse(
                        l.getClosedAt().isBefore(exit.minus(SKEW)),
                        which + " " + s + ": not ended before the exit at " + exit + ": " + l);
                assertTrue(
                        l.getClosedAt().isBefore(exit.plusSeconds(5)),
                        which + " " + s + ": ended within 5 s of the exit at " + exit + ": " + l);
            }
        }
    }

    /**
     * Acceptance 5: the live view never lists a listener of a process that has exited, because the records say it
     * ended. The records of the (d) processes and of a listener that outlived them, as the topic holds them, are fed to
     * the live view as it would have read them at a moment after the exits and before that listener's close (the
     * records whose newest event is no later than it); the exited and the killed processes' listeners are not listed,
     * the living one is.
     */
    @Test
    void dTheLiveViewListsNoListenerOfAnExitedOrKilledProcessAndStillListsALivingOne() {
        int exited = facts.get("exit").get("pid").asInt();
        int killed = facts.get("kill").get("pid").asInt();
        JsonNode living = facts.get("living");
        int alive = living.get("pid").asInt();
        Instant moment = moments.get("view");
        SocketLifecycle livingEnd = ended(living.get("listener"));
        assertTrue(livingEnd.getClosedAt().isAfter(moment), "the living listener closed after the look: " + livingEnd);
        List<SocketLifecycle> fed = all.stream()
                .filter(l ->
                        l.getPid() != null && List.of(exited, killed, alive).contains(l.getPid()))
                .filter(l -> !l.getUpdatedAt().isAfter(moment))
                .toList();
        for (String which : List.of("exit", "kill")) {
            SocketLifecycle end = ended(facts.get(which).get("listener"));
            assertTrue(fed.contains(end), "the " + which + " listener's end is in the records before the look: " + end);
        }
        try (LiveView view = new LiveView()) {
            fed.forEach(view::accept);
            String text = view.render(null, () -> "test", Instant.now());
            String listeners = text.substring(text.indexOf("LISTENERS"), text.indexOf("LATEST ALERTS"));
            assertTrue(
                    listeners.contains("(" + alive + ")")
                            && listeners.contains(
                                    ":" + living.get("listener").get("port").asInt()),
                    "the living listener is listed:\n" + listeners);
            assertFalse(listeners.contains("(" + exited + ")"), "the exited process's listener is not:\n" + listeners);
            assertFalse(listeners.contains("(" + killed + ")"), "nor the killed one's:\n" + listeners);
        }
    }

    @Test
    void eCloseOnExecSocketsEndAtTheExecAndAnInheritedOneLivesOn() {
        JsonNode f = facts.get("exec");
        for (String s : List.of("tcp", "udp", "unix", "unix2")) {
            assertEquals("EXEC", ended(f.get(s)).getReleaseCause(), s);
        }
        SocketLifecycle kept = ended(f.get("kept"));
        assertEquals("EXIT", kept.getReleaseCause(), "not close-on-exec: it went with the new program's exit");
        assertEquals(f.get("pid").asInt(), kept.getPid());
    }

    @Test
    void fNonBlockingConnectsEndWithTheirRealOutcome() {
        JsonNode f = facts.get("nonblocking");
        assertEquals(111, f.get("refusedErrno").asInt(), "the kernel's own view: refused");
        SocketLifecycle refused = ended(f.get("refused"));
        assertEquals("ECONNREFUSED", refused.getConnectOutcome());
        assertEquals("ECONNREFUSED", refused.getEndReason());
        assertNull(refused.getConnectedAt());
        assertEquals(SocketRole.CLIENT, refused.getRole());
        assertEquals(110, f.get("timedErrno").asInt(), "the kernel gave up on the dropped SYNs: timed out");
        SocketLifecycle timed = ended(f.get("timed"));
        assertEquals("ETIMEDOUT", timed.getConnectOutcome());
        assertEquals("ETIMEDOUT", timed.getEndReason());
        SocketLifecycle gaveUp = ended(f.get("gaveUp"));
        assertEquals("ABANDONED", gaveUp.getConnectOutcome(), "closed by the process while still connecting");
        assertEquals("CLOSE", gaveUp.getEndReason());
    }

    @Test
    void gAReceiverOfAPassedDescriptorIsAHolderNotTheOwner() {
        JsonNode f = facts.get("passing");
        int owner = f.get("pid").asInt();
        int receiver = f.get("receiver").asInt();
        List<SocketLifecycle> rs = records(f.get("passed"));
        assertTrue(rs.stream().allMatch(l -> l.getPid() == owner), "the creator owns it throughout: " + rs);
        assertTrue(
                rs.stream()
                        .anyMatch(l -> l.getStatus() == LifecycleStatus.OPEN
                                && l.getHolders().stream()
                                        .map(ProcessRef::getPid)
                                        .toList()
                                        .equals(List.of(receiver))),
                "while both hold it, the receiver is listed as a holder: " + rs);
        SocketLifecycle end = ended(f.get("passed"));
        assertEquals(owner, end.getReleasedByPid());
    }

    @Test
    void hASocketMadeByOneThreadAndClosedByAnotherKeepsItsOwner() {
        JsonNode f = facts.get("threads");
        SocketLifecycle l = ended(f.get("sock"));
        assertEquals(f.get("pid").asInt(), l.getPid());
        assertEquals("CREATED", l.getOwnerSource());
        assertEquals("CLOSE", l.getReleaseCause());
    }

    @Test
    void whenTheOwnerExitsTheHolderTakesTheSocketOverAndTheRecordsSaySo() {
        JsonNode f = facts.get("handover");
        int child = f.get("child").asInt();
        SocketLifecycle end = ended(f.get("sock"));
        assertEquals(child, end.getPid(), "the child holds it now: " + records(f.get("sock")));
        assertEquals("TAKEN_OVER", end.getOwnerSource());
        assertEquals("CLOSE", end.getReleaseCause());
        assertEquals(child, end.getReleasedByPid());
    }

    @Test
    void noSocketOfTheScenariosEndedTwiceOrTimedOut() {
        Map<String, Long> endsPerSocket = all.stream()
                .filter(l -> l.getStatus() != LifecycleStatus.OPEN)
                .collect(Collectors.groupingBy(l -> io.sockflow.schemas.SocketIdentity.key(l), Collectors.counting()));
        List<String> twice = endsPerSocket.entrySet().stream()
                .filter(e -> e.getValue() > 1)
                .map(Map.Entry::getKey)
                .toList();
        assertEquals(List.of(), twice, "sockets ended more than once");
        assertTrue(all.stream().noneMatch(l -> l.getStatus() == LifecycleStatus.TIMED_OUT), "nothing timed out");
    }
}
