package io.sockflow.runner;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The README against the code: its record reference against the Avro docs, and its commands that can run here. */
class ReadmeTest {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    static String readme() throws Exception {
        return Files.readString(ROOT.resolve("README.md"));
    }

    @Test
    void theRecordReferenceIsTheSchemasDocs() throws Exception {
        String readme = readme();
        for (String name : List.of("SocketEvent", "SocketLifecycle", "Flow", "Alert")) {
            JsonNode schema = new ObjectMapper().readTree(ROOT.resolve("schemas/src/main/avro/" + name + ".avsc").toFile());
            int at = readme.indexOf("### " + name + " (");
            assertTrue(at >= 0, "README has a reference section for " + name);
            int end = readme.indexOf("\n#", at + 4);
            String section = readme.substring(at, end < 0 ? readme.length() : end);
            Map<String, String> rows = new LinkedHashMap<>();
            for (String line : section.split("\n")) {
                if (line.startsWith("| `")) {
                    String[] cells = line.split("(?<!\\\\)\\|");
                    rows.put(cells[1].strip().replace("`", ""), cells[3].strip().replace("\\|", "|"));
                }
            }
            List<String> fields = new ArrayList<>();
            for (JsonNode f : schema.get("fields")) {
                String field = f.get("name").asText();
                fields.add(field);
                assertTrue(f.hasNonNull("doc") && !f.get("doc").asText().isBlank(), name + "." + field + " has a doc");
                assertEquals(f.get("doc").asText(), rows.get(field), "README row of " + name + "." + field);
            }
            assertEquals(fields, List.copyOf(rows.keySet()), name + ": the README lists exactly the schema's fields, in order");
        }
    }

    static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(ROOT.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ":\n" + out);
        return out;
    }

    @Test
    void theCommandsAtTheTopRun() throws Exception {
        String readme = readme();
        assertTrue(readme.contains("sudo ./sockflow up"), "the run command is at the top");
        assertTrue(readme.contains("sudo ./sockflow test"), "the test command is at the top");
        // the capture command as written in the README (as root here, so without sudo)
        String collect = readme.lines().filter(l -> l.startsWith("sudo ./sockflow collect --output json")).findFirst().orElseThrow();
        List<String> cmd = new ArrayList<>(List.of(collect.replaceFirst("^sudo ", "").split(" ")));
        cmd.set(0, ROOT.resolve("sockflow").toString());
        // some traffic of this JVM while it captures (a quiet host has none)
        java.util.concurrent.atomic.AtomicBoolean busy = new java.util.concurrent.atomic.AtomicBoolean(true);
        Thread traffic = new Thread(() -> {
            try (java.net.ServerSocket server = new java.net.ServerSocket(0)) {
                while (busy.get()) {
                    try (java.net.Socket c = new java.net.Socket("127.0.0.1", server.getLocalPort()); java.net.Socket a = server.accept()) {
                        c.getOutputStream().write(1);
                    }
                    Thread.sleep(200);
                }
            } catch (Exception ignored) {
                // the test ends
            }
        });
        traffic.start();
        String out;
        try {
            out = run(cmd.toArray(String[]::new));
        } finally {
            busy.set(false);
            traffic.join();
        }
        assertTrue(out.lines().anyMatch(l -> l.startsWith("{\"host\"")), "JSON events:\n" + out.substring(0, Math.min(2000, out.length())));
        assertTrue(run(ROOT.resolve("sockflow").toString(), "help").contains("up "));
        assertTrue(run(ROOT.resolve("sockflow").toString(), "up", "--help").contains("--replay"));
        assertTrue(run(ROOT.resolve("sockflow").toString(), "sql", "--help").contains("--warehouse"));
    }
}
