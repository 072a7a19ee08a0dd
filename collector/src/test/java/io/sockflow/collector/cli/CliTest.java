package io.sockflow.collector.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sockflow.collector.Sys;
import io.sockflow.schemas.SocketEvent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The collector's command line: its errors, its output, its stop, and the least privilege it runs with. */
@Tag("root")
class CliTest {
    record Result(int code, String out, String err) {}

    static Result inProcess(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = Main.run(args);
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    static void assertOneLine(Result r, int code, String... fragments) {
        assertEquals(code, r.code(), r.err());
        String line = r.err().stripTrailing();
        assertFalse(line.contains("\n"), "one line: " + line);
        assertTrue(line.startsWith("sockflow: "), line);
        for (String f : fragments) {
            assertTrue(line.contains(f), "'" + f + "' in: " + line);
        }
    }

    @Test
    void badValuesFailAtStartNamingTheSettingAndWhatIsAllowed() {
        assertOneLine(inProcess("collect", "--ring-buffer-bytes", "1000"), 2, "ring.buffer.bytes", "power of two");
        assertOneLine(inProcess("collect", "--output", "xml"), 2, "output", "json");
        assertOneLine(inProcess("collect", "--duration", "soon"), 2, "duration", "30s");
        assertOneLine(inProcess("collect", "--pid-include", "1,x"), 2, "pid.include");
        assertOneLine(inProcess("collect", "--bogus", "1"), 2, "unknown setting --bogus");
        assertOneLine(inProcess("collect", "--config", "/nonexistent.properties"), 2, "/nonexistent.properties");
        assertOneLine(inProcess("frobnicate"), 2, "unknown command 'frobnicate'");
        assertOneLine(inProcess("collect", "--bootstrap-servers", ":::"), 2, "bootstrap.servers", "host:port");
        assertOneLine(inProcess("collect", "--bootstrap-servers", "broker:99999"), 2, "bootstrap.servers");
        assertOneLine(inProcess("collect", "--registry-url", "registry:8081"), 2, "registry.url", "http://");
        assertOneLine(
                inProcess("collect", "--run-as", "no-such-user-here"), 2, "--run-as no-such-user-here", "uid[:gid]");
        assertOneLine(
                inProcess("collect", "--metrics-port", "9999", "--metrics-address", "0.0.0.0"),
                2,
                "--metrics-address 0.0.0.0",
                "--metrics-basic-auth-user-info");
        assertOneLine(inProcess("collect", "--metrics-basic-auth-user-info", "nopassword"), 2, "user:password");
        assertOneLine(inProcess("collect", "--clock-interval", "10ms"), 2, "--clock-interval 10ms", "100ms");
    }

    @Test
    void onceAttachedItRunsAsTheGivenUserWithNoCapabilityInAnyThreadAndStillCaptures() throws Exception {
        String cp = String.join(":", classpath());
        long self = ProcessHandle.current().pid();
        Path out = Files.createTempFile("collect", ".json");
        Path err = Files.createTempFile("collect", ".err");
        // the sweep (a descriptor walk through an iterator) and the kernel counters (map reads) run every second
        Process p = new ProcessBuilder(javaCommand(
                        cp,
                        "collect",
                        "--output",
                        "json",
                        "--duration",
                        "10s",
                        "--run-as",
                        "65534",
                        "--sweep-interval",
                        "1s",
                        "--counters-interval",
                        "1s",
                        "--pid-include",
                        Long.toString(self)))
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
        List<String> statuses = new ArrayList<>();
        while (p.isAlive()) {
            long fd = Sys.ok(Sys.SOCKET, Sys.AF_INET, Sys.SOCK_STREAM, 0);
            try (Arena a = Arena.ofConfined()) {
                Sys.call(Sys.CONNECT, fd, Sys.addr(Sys.sockaddrIn(a, new byte[] {127, 0, 0, 1}, 9)), 16);
            }
            Sys.ok(Sys.CLOSE, fd);
            if (statuses.isEmpty() && Files.readString(err).contains("sockflow: attached")) {
                try (var tasks = Files.list(Path.of("/proc/" + p.pid() + "/task"))) {
                    for (Path t : tasks.toList()) {
                        for (String line : Files.readAllLines(t.resolve("status"))) {
                            if (line.startsWith("Uid:") || line.startsWith("CapEff:") || line.startsWith("CapPrm:")) {
                                statuses.add(line.replaceAll("\\s+", " "));
                            }
                        }
                    }
                }
            }
            Thread.sleep(50);
        }
        String stderr = Files.readString(err);
        assertEquals(0, p.waitFor(), stderr);
        assertTrue(
                stderr.lines()
                        .anyMatch(l ->
                                l.equals("sockflow: attached; running as uid 65534, gid 65534, capabilities: none")),
                stderr);
        assertFalse(
                stderr.contains("Exception") || stderr.contains("cannot run the iterator") || stderr.contains("ERROR"),
                stderr);
        assertFalse(statuses.isEmpty(), "read the collector's threads");
        for (String s : statuses) {
            assertTrue(
                    s.equals("Uid: 65534 65534 65534 65534") || s.endsWith(" 0000000000000000"), "every thread: " + s);
        }
        long refused = Files.readAllLines(out).stream()
                .filter(l -> l.contains("\"kind\":\"CONNECT\"") && l.contains("ECONNREFUSED"))
                .count();
        assertTrue(refused > 20, "the connects made after the switch are captured: " + refused);
    }

    @Test
    void helpListsEverySettingWithItsEnvironmentVariable() {
        Result r = inProcess("collect", "--help");
        assertEquals(0, r.code());
        for (String key : Settings.DEFINITION.names()) {
            assertTrue(r.out().contains(Settings.flagName(key)), key);
            assertTrue(r.out().contains(Settings.envName(key)), key);
        }
    }

    @Test
    void flagsWinOverEnvironmentWhichWinsOverTheFile() throws IOException {
        Path f = Files.createTempFile("sockflow", ".properties");
        Files.writeString(f, "ring.buffer.bytes=8192\nduration=5s\nlog.level=info\n");
        Settings s = Settings.parse(
                List.of("--config", f.toString(), "--duration", "7s"),
                java.util.Map.of("SOCKFLOW_RING_BUFFER_BYTES", "65536"));
        assertEquals(65536, s.getInt(Settings.RING_BUFFER_BYTES));
        assertEquals(java.time.Duration.ofSeconds(7), s.duration(Settings.DURATION));
        assertEquals("info", s.getString(Settings.LOG_LEVEL));
        Files.delete(f);
    }

    @Test
    void anUnreachableRegistryOrBrokerIsOneLineWithTheFix() throws Exception {
        io.sockflow.embedded.LocalStack stack = io.sockflow.embedded.LocalStack.shared();
        Path spool = Files.createTempDirectory("spool");
        assertOneLine(
                inProcess(
                        "collect",
                        "--output",
                        "kafka",
                        "--bootstrap-servers",
                        stack.bootstrapServers(),
                        "--registry-url",
                        "http://127.0.0.1:1",
                        "--spool-dir",
                        spool.toString(),
                        "--duration",
                        "1s"),
                6,
                "schema registry http://127.0.0.1:1",
                "unreachable",
                "--registry-url");
        assertOneLine(
                inProcess(
                        "collect",
                        "--output",
                        "kafka",
                        "--bootstrap-servers",
                        "127.0.0.1:1",
                        "--registry-url",
                        stack.registryUrl(),
                        "--spool-dir",
                        spool.toString(),
                        "--duration",
                        "1s"),
                6,
                "Kafka at 127.0.0.1:1",
                "--bootstrap-servers");
    }

    @Test
    void withoutBtfCollectExitsWithOneLine() {
        assertOneLine(
                inProcess("collect", "--btf-path", "/nonexistent/btf"),
                5,
                "no kernel BTF at /nonexistent/btf",
                "--btf-path");
    }

    // ---- as a separate process, the way users run it ----

    static List<String> classpath() throws IOException {
        List<String> cp = new ArrayList<>();
        cp.add(Path.of("target/classes").toAbsolutePath().toString());
        cp.addAll(
                List.of(Files.readString(Path.of("target/classpath.txt")).trim().split(":")));
        return cp;
    }

    static String java() {
        return ProcessHandle.current().info().command().orElse("java");
    }

    static List<String> javaCommand(String cp, String... args) {
        List<String> cmd = new ArrayList<>(List.of(
                java(),
                "--enable-native-access=ALL-UNNAMED",
                "-XX:+UseSerialGC",
                "-cp",
                cp,
                "io.sockflow.collector.cli.Main"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Makes socket calls from this process until the child ends. */
    static void callWhileAlive(Process child) throws Exception {
        while (child.isAlive()) {
            long fd = Sys.ok(Sys.SOCKET, Sys.AF_INET, Sys.SOCK_STREAM, 0);
            try (Arena a = Arena.ofConfined()) {
                Sys.call(Sys.CONNECT, fd, Sys.addr(Sys.sockaddrIn(a, new byte[] {127, 0, 0, 1}, 9)), 16);
            }
            Sys.ok(Sys.CLOSE, fd);
            Thread.sleep(50);
        }
    }

    @Test
    void collectPrintsOneJsonObjectPerEventWithTheSchemasFieldNames() throws Exception {
        String cp = String.join(":", classpath());
        long self = ProcessHandle.current().pid();
        Path out = Files.createTempFile("collect", ".json");
        Path err = Files.createTempFile("collect", ".err");
        Process p = new ProcessBuilder(javaCommand(
                        cp,
                        "collect",
                        "--output",
                        "json",
                        "--duration",
                        "4s",
                        "--pid-include",
                        Long.toString(self),
                        "--tracepoint-groups",
                        ""))
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
        callWhileAlive(p);
        assertEquals(0, p.waitFor(), Files.readString(err));
        List<String> lines = Files.readAllLines(out);
        assertFalse(lines.isEmpty(), "events printed");
        List<String> expected = SocketEvent.getClassSchema().getFields().stream()
                .map(Schema.Field::name)
                .toList();
        boolean sawRefused = false;
        ObjectMapper json = new ObjectMapper();
        // first the capture's start: the collector's own record, whatever the process filter
        JsonNode start = json.readTree(lines.getFirst());
        assertEquals("CAPTURE_START", start.get("kind").asText(), lines.getFirst());
        assertEquals(p.pid(), start.get("pid").asLong());
        for (String line : lines) {
            JsonNode e = json.readTree(line);
            List<String> names = new ArrayList<>();
            for (Iterator<String> it = e.fieldNames(); it.hasNext(); ) {
                names.add(it.next());
            }
            assertEquals(expected, names);
            if (!line.equals(lines.getFirst())) {
                assertEquals(self, e.get("pid").asLong(), line);
            }
            sawRefused |= "CONNECT".equals(e.get("kind").asText())
                    && "ECONNREFUSED".equals(e.get("errno").asText());
        }
        assertTrue(sawRefused, "the refused connects are there");
        String summary = Files.readString(err);
        assertTrue(
                summary.matches("(?s).*sockflow: \\d+ events received, 0 dropped in the kernel.*; " + lines.size()
                        + " records written.*"),
                summary);
    }

    /** {@code collect | head -1}: the reader goes, the collector detaches and ends quietly. */
    @Test
    void whenTheReaderOfItsOutputGoesItDetachesAndEndsQuietly() throws Exception {
        String cp = String.join(":", classpath());
        Path err = Files.createTempFile("collect", ".err");
        Process p = new ProcessBuilder(javaCommand(cp, "collect", "--output", "json"))
                .redirectError(err.toFile())
                .start();
        try {
            java.io.BufferedReader r = new java.io.BufferedReader(
                    new java.io.InputStreamReader(p.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
            assertNotNull(r.readLine(), "a first event");
            java.util.Set<Long> held = io.sockflow.collector.Bpftool.heldProgramIds(p.pid());
            assertFalse(held.isEmpty());
            r.close(); // as head does after its line
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (p.isAlive() && System.nanoTime() < deadline) { // events to write into the closed pipe
                long fd = Sys.ok(Sys.SOCKET, Sys.AF_INET, Sys.SOCK_STREAM, 0);
                Sys.ok(Sys.CLOSE, fd);
                Thread.sleep(50);
            }
            assertTrue(p.waitFor(5, TimeUnit.SECONDS), "it ends");
            assertEquals(0, p.exitValue(), Files.readString(err));
            String text = Files.readString(err);
            assertFalse(text.contains("Exception") || text.contains("\tat "), text);
            assertTrue(
                    io.sockflow.collector.Bpftool.programIds().stream().noneMatch(held::contains),
                    "nothing it loaded is left in the kernel");
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void sigtermStopsCleanlyAndReportsCounts() throws Exception {
        String cp = String.join(":", classpath());
        Path err = Files.createTempFile("collect", ".err");
        Process p = new ProcessBuilder(javaCommand(cp, "collect", "--pid-include", "1"))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(err.toFile())
                .start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            int syscallPrograms = io.sockflow.collector.capture.CaptureLifecycleTestAccess.SYSCALL_PROGRAMS;
            while (io.sockflow.collector.Bpftool.syscallPrograms(p.pid()) < syscallPrograms
                    && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertEquals(syscallPrograms, io.sockflow.collector.Bpftool.syscallPrograms(p.pid()), "attached");
            java.util.Set<Long> held = io.sockflow.collector.Bpftool.heldProgramIds(p.pid());
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(20, TimeUnit.SECONDS));
            assertTrue(Files.readString(err).contains("events received"), Files.readString(err));
            assertTrue(
                    io.sockflow.collector.Bpftool.programIds().stream().noneMatch(held::contains),
                    "nothing it loaded is left in the kernel");
        } finally {
            p.destroyForcibly();
        }
    }

    /** A copy of the class path that an unprivileged user can read (the Maven repository under /root cannot be). */
    static String worldReadableClasspath() throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("sockflow-cp");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        List<String> out = new ArrayList<>();
        int i = 0;
        for (String e : classpath()) {
            Path src = Path.of(e);
            Path dst = dir.resolve((i++) + "-" + src.getFileName());
            if (Files.isDirectory(src)) {
                try (Stream<Path> s = Files.walk(src)) {
                    for (Path p : (Iterable<Path>) s::iterator) {
                        Path t = dst.resolve(src.relativize(p).toString());
                        if (Files.isDirectory(p)) {
                            Files.createDirectories(t);
                        } else {
                            Files.copy(p, t);
                        }
                    }
                }
            } else {
                Files.copy(src, dst);
            }
            out.add(dst.toString());
        }
        new ProcessBuilder("chmod", "-R", "a+rX", dir.toString()).start().waitFor();
        return String.join(":", out);
    }

    @Test
    void asAnUnprivilegedUserCollectNamesTheMissingCapabilities() throws Exception {
        String cp = worldReadableClasspath();
        List<String> cmd = new ArrayList<>(
                List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--"));
        cmd.addAll(javaCommand(cp, "collect", "--duration", "1s"));
        Process p = new ProcessBuilder(cmd)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).stripTrailing();
        assertEquals(4, p.waitFor(), err);
        assertFalse(err.contains("\n"), err);
        assertTrue(err.startsWith("sockflow: missing privileges for live capture (CAP_BPF CAP_PERFMON"), err);
        assertTrue(err.contains("CAP_DAC_READ_SEARCH"), err);
    }

    @Test
    void threeCapabilitiesAreEnoughWithoutRoot() throws Exception {
        String cp = worldReadableClasspath();
        long self = ProcessHandle.current().pid();
        List<String> cmd = new ArrayList<>(List.of(
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--inh-caps=-all,+bpf,+perfmon,+dac_read_search",
                "--ambient-caps=-all,+bpf,+perfmon,+dac_read_search",
                "--"));
        cmd.addAll(javaCommand(
                cp, "collect", "--duration", "4s", "--pid-include", Long.toString(self), "--tracepoint-groups", ""));
        Path out = Files.createTempFile("collect", ".json");
        Files.setPosixFilePermissions(out, PosixFilePermissions.fromString("rw-rw-rw-"));
        Path err = Files.createTempFile("collect", ".err");
        Process p = new ProcessBuilder(cmd)
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
        callWhileAlive(p);
        assertEquals(0, p.waitFor(), Files.readString(err));
        List<String> lines = Files.readAllLines(out);
        assertFalse(lines.isEmpty(), "captured as uid 65534 with CAP_BPF+CAP_PERFMON+CAP_DAC_READ_SEARCH");
        assertTrue(lines.getFirst().contains("\"kind\":\"CAPTURE_START\""), lines.getFirst());
        assertTrue(lines.get(1).contains("\"pid\":" + self), lines.get(1));
        // without CAP_NET_ADMIN the cgroup hooks are off, and the collector says what that costs, one line each
        String said = Files.readString(err);
        assertTrue(said.contains("program sock_release is off: cgroup programs need CAP_NET_ADMIN"), said);
        assertTrue(said.contains("program sock_create is off: cgroup programs need CAP_NET_ADMIN"), said);
    }
}
