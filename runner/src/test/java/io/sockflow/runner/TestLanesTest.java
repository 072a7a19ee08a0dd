package io.sockflow.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The fast lane ({@code ./sockflow test --fast}) leaves out the tests tagged root, slow or packaged. A test class that
 * starts a broker, a Flink job or the collector and carries no tag runs in the fast lane, where it makes the lane slow
 * and, without root, fails: every such class must be tagged.
 */
class TestLanesTest {
    /**
     * What only a slow or privileged test uses: a real broker, a Flink job, the collector, the BPF programs, raw
     * system calls.
     */
    static final Pattern HEAVY = Pattern.compile(
            "LocalStack\\.|CollectorProcess\\.|EmbeddedKafka\\.start|MiniCluster|createLocalEnvironment|SockflowJob\\.run"
                    + "|BpfObject\\.|SocketCapture\\.start|Up\\.start|LiveCapture|Capture\\.open|Sys\\.ok|Bpftool\\.");

    static final Pattern TAGGED = Pattern.compile("(?m)^\\s*@Tag\\(\"(root|slow|packaged)\"\\)");

    @Test
    void everyTestThatStartsABrokerAFlinkJobOrTheCollectorIsTaggedOutOfTheFastLane() throws IOException {
        Path root = Path.of("..").toAbsolutePath().normalize();
        List<String> untagged;
        try (Stream<Path> files = Files.walk(root, 8)) {
            untagged = files.filter(p -> p.toString().contains("/src/test/java/")
                            && p.getFileName().toString().endsWith("Test.java"))
                    .filter(p -> !p.toString().contains("/target/"))
                    .filter(p -> !p.getFileName().toString().equals("TestLanesTest.java"))
                    .filter(p -> {
                        try {
                            String s = Files.readString(p);
                            return HEAVY.matcher(s).find() && !TAGGED.matcher(s).find();
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    })
                    .map(p -> root.relativize(p).toString())
                    .sorted()
                    .toList();
        }
        assertEquals(
                List.of(),
                untagged,
                "these tests start a broker, a Flink job or the collector: tag them @Tag(\"slow\") or @Tag(\"root\")");
    }
}
