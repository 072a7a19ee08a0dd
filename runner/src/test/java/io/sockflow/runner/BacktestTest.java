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
