package io.sockflow.runner;

import static io.sockflow.schemas.EventKind.CONNECT;
import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.collector.output.CaptureFile;
import io.sockflow.jobs.Ev;
import io.sockflow.schemas.SocketEvent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sockflow backtest}: the live detection job over a recorded capture, on a private broker. */
@Tag("slow")
class BacktestTest {
    @TempDir
    Path dir;

    record Run(int code, String out) {}

    static Run backtest(String... args) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int code = Backtest.run(args, new PrintStream(b, true, StandardCharsets.UTF_8));
        return new Run(code, b.toString(StandardCharsets.UTF_8));
    }

    Path record(String name, List<SocketEvent> events) {
        Path f = dir.resolve(name);
        try (CaptureFile c = CaptureFile.create(f)) {
            events.forEach(c::write);
        }
        return f;
    }

    /** A recorded scan: 30 closed ports of one address refused within seconds. */
    static List<SocketEvent> scan() {
        List<SocketEvent> out = new ArrayList<>();
        for (int p = 0; p < 30; p++) {
            out.add(Ev.of(CONNECT, 4711, "nmap", 100 + p * 10)
                    .tid(4711)
                    .socket(900 + p)
                    .tcp()
                    .sockaddr("10.1.1.1", 1000 + p)
                    .ret(-111, "ECONNREFUSED")
                    .get());
        }
        return out;
    }

    @Test
    void aRecordedScanGivesThePortScanAlertAndABenignRecordingNone() throws IOException {
        Run scan = backtest(record("scan.avro", scan()).toString());
        assertEquals(0, scan.code(), scan.out());
        assertTrue(scan.out().contains("HIGH  port-scan  "), scan.out());
        assertTrue(scan.out().contains("pid 4711 (nmap)"), scan.out());
        assertTrue(scan.out().contains("backtest: 1 alert\n"), scan.out());

        // ordinary traffic: clients connecting to a server, sending and receiving, closing (the test workload without
        // its hostname change and socketpair)
        List<SocketEvent> ordinary = io.sockflow.jobs.Workload.events(20).stream()
                .filter(e -> e.getKind() != io.sockflow.schemas.EventKind.SETHOSTNAME
                        && e.getKind() != io.sockflow.schemas.EventKind.SOCKETPAIR)
                .toList();
        Run benign = backtest(record("benign.avro", ordinary).toString(), "--quiet");
        assertEquals(0, benign.code(), benign.out());
        assertTrue(benign.out().contains("backtest: 0 alerts"), benign.out());
    }

    @Test
    void aUserRuleIsBacktestedTooAndABrokenOneIsRefusedWithItsLine() throws IOException {
        Path rules = Files.createDirectories(dir.resolve("rules"));
        Files.writeString(rules.resolve("ten-dot.sql"), """
                -- severity: low
                -- summary: a connect to 10.1.1.1
                SELECT host, pid, comm, rowtime, sockaddrPort AS port
                FROM events WHERE kind = 'CONNECT' AND sockaddrAddress = '10.1.1.1' AND sockaddrPort = 1007
                """);
        Run r = backtest(record("scan.avro", scan()).toString(), "--set", "detect.rules.dir=" + rules, "--quiet");
        assertEquals(0, r.code(), r.out());
        assertTrue(r.out().contains("LOW  ten-dot  "), r.out());
        assertTrue(r.out().contains("backtest: 2 alerts"), r.out());

        Files.writeString(rules.resolve("broken.sql"), "-- severity: low\n-- summary: x\nSELECT host pid FROM\n");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream saved = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            assertEquals(
                    2, backtest("sample", "--set", "detect.rules.dir=" + rules).code());
        } finally {
            System.setErr(saved);
        }
        String line = err.toString(StandardCharsets.UTF_8).strip();
        assertTrue(line.startsWith("sockflow backtest: " + rules.resolve("broken.sql") + " line 3"), line);
        assertFalse(line.contains("\n"), line);
    }

    /** A lake as the live jobs leave it: the jobs run over {@code events} and keep them in the events table. */
    String lake(String name, List<SocketEvent> events) throws Exception {
        Path lake = dir.resolve(name);
        Path work = Files.createDirectories(dir.resolve(name + "-job"));
        Backtest.detect(
                events,
                java.util.Map.of(
                        "sink.iceberg", "true",
                        "warehouse", lake.toString(),
                        // the recordings are stamped on a fixed day in the past
                        "lake.events.retention", "0"),
                work);
        return lake.toString();
    }

    @Test
    void overALakeThatHoldsARecordedScanItPrintsThePortScanAlertOverABenignOneNone() throws Exception {
        List<SocketEvent> scan = scan();
        String lake = lake("scan-lake", scan);
        // the lake gives back every event as the job got it, field by field
        List<SocketEvent> back = LakeEvents.read(lake, "sockflow", java.time.Instant.EPOCH);
        assertEquals(
                scan.stream().map(SocketEvent::toString).sorted().toList(),
                back.stream().map(SocketEvent::toString).sorted().toList());

        Run r = backtest("--lake", lake, "--since", "3650d");
        assertEquals(0, r.code(), r.out());
        assertTrue(r.out().contains("backtest: 30 events of the lake " + lake), r.out());
        assertTrue(r.out().contains("HIGH  port-scan  "), r.out());
        assertTrue(r.out().contains("pid 4711 (nmap)"), r.out());
        assertTrue(r.out().contains("backtest: 1 alert\n"), r.out());

        // one rule of a user's, over the lake's history: only its alerts are printed
        Path rule = Files.writeString(dir.resolve("ten-dot.sql"), """
                -- severity: low
                -- summary: a connect to 10.1.1.1
                SELECT host, pid, comm, rowtime, sockaddrPort AS port
                FROM events WHERE kind = 'CONNECT' AND sockaddrAddress = '10.1.1.1' AND sockaddrPort = 1007
                """);
        Run one = backtest(rule.toString(), "--lake", lake, "--since", "3650d", "--quiet");
        assertEquals(0, one.code(), one.out());
        assertTrue(one.out().contains("LOW  ten-dot  "), one.out());
        assertFalse(one.out().contains("port-scan"), one.out());
        assertTrue(one.out().contains("backtest: 1 alert of ten-dot (1 of the built-in rules not shown)"), one.out());

        // retention: whole days past it leave the table, younger ones stay
        java.time.Instant day = scan.get(0).getTimestamp();
        var events = new io.sockflow.jobs.sink.LakeRetention.Kept("events", "timestamp", java.time.Duration.ofDays(1));
        var alerts = new io.sockflow.jobs.sink.LakeRetention.Kept("alerts", "timestamp", java.time.Duration.ofDays(1));
        var retention = new io.sockflow.jobs.sink.LakeRetention(lake, "sockflow", List.of(events, alerts));
        assertEquals(0, retention.apply(day.plus(java.time.Duration.ofHours(23))));
        assertEquals(
                30, LakeEvents.read(lake, "sockflow", java.time.Instant.EPOCH).size());
        assertTrue(retention.apply(day.plus(java.time.Duration.ofDays(2))) >= 2, "the day's events and alert files");
        assertEquals(
                0, LakeEvents.read(lake, "sockflow", java.time.Instant.EPOCH).size());
        assertEquals(
                0, io.sockflow.jobs.Results.lake(lake, "sockflow", "alerts").size());

        List<SocketEvent> ordinary = io.sockflow.jobs.Workload.events(20).stream()
                .filter(e -> e.getKind() != io.sockflow.schemas.EventKind.SETHOSTNAME
                        && e.getKind() != io.sockflow.schemas.EventKind.SOCKETPAIR)
                .toList();
        Run benign = backtest("--lake", lake("benign-lake", ordinary), "--since", "3650d", "--quiet");
        assertEquals(0, benign.code(), benign.out());
        assertTrue(
                benign.out().contains("backtest: " + ordinary.size() + " events of the lake"),
                ordinary.size() + " events written; " + benign.out());
        assertTrue(benign.out().contains("backtest: 0 alerts"), benign.out());
    }

    static Ev connect(int pid, String comm, long at, long inode, String address, int port) {
        return Ev.of(CONNECT, pid, comm, at).socket(inode).tcp().sockaddr(address, port);
    }

    /** Events for the built-in rules that docs/rules/ writes again in SQL: hits with pids 10-19, misses 20-29. */
    static List<SocketEvent> ruleCases() {
        List<SocketEvent> out = new ArrayList<>();
        long t = 0;
        // raw-socket: raw IP with its flags, raw IPv6 from the kernel's view, a packet socket; not raw netlink, not UDP
        out.add(Ev.of(io.sockflow.schemas.EventKind.SOCKET, 10, "implant", t += 100)
                .socket(1)
                .args("AF_INET", "SOCK_RAW|SOCK_CLOEXEC")
                .get());
        SocketEvent v6 = Ev.of(io.sockflow.schemas.EventKind.SOCKET, 11, "implant", t += 100)
                .socket(2)
                .args("AF_INET6", "SOCK_RAW|SOCK_NONBLOCK")
                .get();
        v6.setFamily("AF_INET6");
        v6.setSocketType("SOCK_RAW");
        out.add(v6);
        out.add(Ev.of(io.sockflow.schemas.EventKind.SOCKET, 12, "sniffer", t += 100)
                .socket(3)
                .args("AF_PACKET", "SOCK_RAW")
                .get());
        out.add(Ev.of(io.sockflow.schemas.EventKind.SOCKET, 20, "nft", t += 100)
                .socket(4)
                .args("AF_NETLINK", "SOCK_RAW|SOCK_CLOEXEC")
                .get());
        out.add(Ev.of(io.sockflow.schemas.EventKind.SOCKET, 21, "app", t += 100)
                .socket(5)
                .args("AF_INET", "SOCK_DGRAM|SOCK_NONBLOCK")
                .get());
        // ip-hdrincl: switched on (and with no value read), not switched off
        for (int[] c : new int[][] {{13, 1}, {14, -1}, {22, 0}}) {
            SocketEvent e = Ev.of(io.sockflow.schemas.EventKind.SETSOCKOPT, c[0], "crafter", t += 100)
                    .socket(100 + c[0])
                    .tcp()
                    .get();
            e.setOptionLevel("SOL_IP");
            e.setOptionName("IP_HDRINCL");
            e.setOptionValue(c[1] < 0 ? null : c[1]);
            e.setOptionLength(4);
            out.add(e);
        }
        // shell-connect: a shell's connect done or in progress; not another program's, not refused, not AF_UNIX
        out.add(connect(15, "bash", t += 100, 200, "203.0.113.5", 4444).get());
        out.add(connect(16, "sh", t += 100, 201, "203.0.113.5", 4445)
                .ret(-115, "EINPROGRESS")
                .get());
        out.add(connect(23, "curl", t += 100, 202, "203.0.113.5", 443).get());
        out.add(connect(24, "bash", t += 100, 203, "10.0.0.1", 22)
                .ret(-111, "ECONNREFUSED")
                .get());
        SocketEvent unix =
                Ev.of(CONNECT, 25, "bash", t += 100).socket(204).unix().get();
        unix.setSockaddrFamily("AF_UNIX");
        out.add(unix);
        return out;
    }

    @Test
    void theBuiltInRulesWrittenInSqlInTheDocsRaiseWhatTheBuiltInRulesRaise() throws Exception {
        Path work = Files.createDirectories(dir.resolve("sql-rules"));
        List<io.sockflow.schemas.Alert> alerts =
                Backtest.detect(ruleCases(), java.util.Map.of("detect.rules.dir", "../docs/rules"), work);
        for (String rule : List.of("raw-socket", "ip-hdrincl", "shell-connect")) {
            java.util.Set<Integer> builtIn = new java.util.TreeSet<>();
            java.util.Set<Integer> sql = new java.util.TreeSet<>();
            for (io.sockflow.schemas.Alert a : alerts) {
                if (a.getRule().equals(rule)) {
                    builtIn.add(a.getPid());
                } else if (a.getRule().equals(rule + "-sql")) {
                    sql.add(a.getPid());
                    assertFalse(a.getEvidence().isEmpty(), a.toString());
                }
            }
            assertFalse(builtIn.isEmpty(), rule + ": " + alerts);
            assertTrue(builtIn.stream().allMatch(p -> p >= 10 && p < 20), rule + " " + builtIn);
            assertEquals(builtIn, sql, rule);
        }
    }

    @Test
    void aLakeWithoutEventsOrAMissingRuleIsAOneLineError() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("no-lake"));
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream saved = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            assertEquals(2, backtest("--lake", empty.toString()).code());
            assertEquals(
                    2,
                    backtest(dir.resolve("nothing.sql").toString(), "--lake", empty.toString())
                            .code());
            assertEquals(2, backtest("sample", "--lake", empty.toString()).code());
            assertEquals(
                    2, backtest("--lake", empty.toString(), "--since", "soon").code());
        } finally {
            System.setErr(saved);
        }
        String[] lines = err.toString(StandardCharsets.UTF_8).strip().split("\n");
        assertEquals(4, lines.length, err.toString());
        assertTrue(lines[0].contains("has no table sockflow.events"), lines[0]);
        assertTrue(lines[1].contains("nothing.sql: no such rule file"), lines[1]);
        assertTrue(lines[2].contains("not both"), lines[2]);
        assertTrue(lines[3].contains("--since soon"), lines[3]);
    }

    @Test
    void aFileThatIsNotACaptureIsAOneLineError() throws IOException {
        Path junk = Files.writeString(dir.resolve("junk.avro"), "not avro");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream saved = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            assertEquals(2, backtest(junk.toString()).code());
            assertEquals(2, backtest().code());
        } finally {
            System.setErr(saved);
        }
        String[] lines = err.toString(StandardCharsets.UTF_8).strip().split("\n");
        assertEquals(2, lines.length, err.toString());
        assertTrue(lines[0].contains("is not a capture sockflow can read"), lines[0]);
        assertTrue(lines[1].contains("give the capture file"), lines[1]);
    }
}
