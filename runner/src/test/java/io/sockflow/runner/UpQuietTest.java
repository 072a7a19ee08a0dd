package io.sockflow.runner;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A normal run of {@code sockflow up --headless --duration 60s}, as root with live capture, prints no WARN or ERROR
 * line and no stack trace, from start to stop; the log files it keeps under its data folder hold no error and no
 * stack trace.
 */
@Tag("root")
class UpQuietTest {
    /** A log line of level WARN or worse, a stack frame, or the first line of a stack trace. */
    static final Pattern NOISE =
            Pattern.compile("\\b(WARN|WARNING|ERROR|FATAL|SEVERE)\\b|^\\s+at [\\w$.]+\\(|^\\s*Caused by: "
                    + "|^(Exception in thread|[\\w$.]+(Exception|Error)(: |$))");

    @TempDir
    Path dir;

    static List<String> noise(String text) {
        return text.lines().filter(l -> NOISE.matcher(l).find()).toList();
    }

    @Test
    void aNormalRunPrintsNoWarningAndNoStackTrace() throws Exception {
        Files.setPosixFilePermissions(
                dir, PosixFilePermissions.fromString("rwxr-xr-x")); // nobody, the pipeline, enters it
        Path data = dir.resolve("data");
        UpTest.dir = dir;
        String out;
        // as the launcher runs it: sockflow's log4j2.xml (the test class path has a test configuration first) and
        // Maven's Unsafe flag; the children get both from it
        List<String> launcher = List.of(
                "env",
                "JDK_JAVA_OPTIONS=-Dlog4j2.configurationFile=classpath:log4j2.xml"
                        + " --sun-misc-unsafe-memory-access=allow");
        try (UpTest.Running up = new UpTest.Running(
                launcher,
                "--headless",
                "--duration",
                "60s",
                "--data",
                data.toString(),
                "--kafka-port",
                Integer.toString(UpTest.freeKafkaPort()),
                "--registry-port",
                Integer.toString(UpTest.freePort()),
                "--metrics-port",
                "0")) {
            assertTrue(up.process.waitFor(240, TimeUnit.SECONDS), "up stopped after its 60 s");
            out = up.output();
            assertEquals(0, up.process.exitValue(), UpTest.tail(out));
        }
        assertTrue(
                out.contains("[5/5] live view") && out.contains("sockflow up: stopped"),
                "a whole run:\n" + UpTest.tail(out));
        assertEquals(List.of(), noise(out), "up's output");
        assertTrue(out.contains("sockflow up: logs in " + data.resolve("logs")), "it says where the logs are");
        // the full logs: one per process, private; they may hold the libraries' warnings, never an error or a stack
        // trace (Kafka's own segment files, *.log as well, hold records, not text)
        Path logs = data.resolve("logs");
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(logs)));
        assertFalse(Files.exists(logs.resolve("collector.log")), "root writes no file in the runtime user's folder");
        for (String name : List.of("pipeline.log")) {
            Path log = logs.resolve(name);
            assertTrue(Files.isRegularFile(log), log + " is kept");
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(log)), name);
        }
        try (Stream<Path> files = Files.walk(data)) {
            for (Path log : files.filter(p -> p.toString().endsWith(".log") && !p.startsWith(data.resolve("kafka")))
                    .toList()) {
                String text = Files.readString(log);
                assertEquals(List.of(), errors(text), log.toString());
                assertEquals(java.util.Map.of(), repeated(text), log + ": a warning that repeats is spam");
            }
        }
    }

    /** Warnings that come more than 3 times (numbers and times aside), with their count. */
    static java.util.Map<String, Long> repeated(String text) {
        return text
                .lines()
                .filter(l -> l.matches(".*\\b(WARN|WARNING)\\b.*"))
                .map(l -> l.replaceFirst("^\\S+ \\S+ ", "").replaceAll("[0-9]+", "#"))
                .collect(java.util.stream.Collectors.groupingBy(l -> l, java.util.stream.Collectors.counting()))
                .entrySet()
                .stream()
                .filter(e -> e.getValue() > 3)
                .collect(java.util.stream.Collectors.toMap(java.util.Map.Entry::getKey, java.util.Map.Entry::getValue));
    }

    /** An ERROR or worse, or a stack trace: what no log of a normal run holds. */
    static List<String> errors(String text) {
        return noise(text).stream()
                .filter(l -> !l.matches(".*\\b(WARN|WARNING)\\b.*"))
                .toList();
    }

    @Test
    void theNoisePatternCatchesWarningsAndStackTracesButNotTheView() {
        assertEquals(4, noise("""
                sockflow 07:57:11.057 WARN  NetworkClient: closed twice
                java.lang.IllegalStateException: broken
                \tat io.sockflow.runner.Up.main(Up.java:12)
                Caused by: java.io.IOException
                """).size());
        assertEquals(
                java.util.Map.of("WARN  [main] NetworkClient: closed # times", 4L),
                repeated("2026-12-02 10:00:01.1 WARN  [main] NetworkClient: closed 1 times\n".repeat(2)
                        + "2026-12-02 10:00:02.2 WARN  [main] NetworkClient: closed 2 times\n".repeat(2)
                        + "2026-12-02 10:00:03.3 WARN  [main] Other: once\n"));
        assertEquals(List.of(), noise("""
                07:56:29 LOW      socketpair-ipc   flink-pekko.rem (pid 24749) created a socketpair (not on the allow-list)
                collector  834 events/s  10,944 events  0 dropped in kernel  11,546 acked  spool 0  spool drops 0
                python3 (11715)          tcp 127.0.0.1:33657             24.6 KB    24.6 KB    22.0 s open
                """));
    }
}
