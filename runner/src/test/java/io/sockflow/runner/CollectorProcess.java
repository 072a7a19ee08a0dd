package io.sockflow.runner;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The real collector as its own process (as deployed), writing to Kafka; started, waited for until it has attached,
 * and stopped with SIGTERM (a clean stop: it detaches, drains and flushes). Its output is kept for the test's messages.
 */
final class CollectorProcess implements AutoCloseable {
    final Process process;
    final StringBuffer log = new StringBuffer();
    private final Thread reader;
    private final CountDownLatch attached = new CountDownLatch(1);

    private CollectorProcess(List<String> cmd) throws Exception {
        process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        reader = new Thread(() -> {
            try (BufferedReader r =
                    new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    log.append(line).append('\n');
                    if (line.contains("inventory:")) {
                        attached.countDown();
                    }
                }
            } catch (java.io.IOException ignored) {
                // the process ended
            }
        });
        reader.start();
    }

    /** A collector writing to {@code topic}, excluding this test JVM; more settings in {@code extra}. */
    static CollectorProcess start(String bootstrap, String registry, String topic, Path spool, List<String> extra)
            throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                "io.sockflow.collector.cli.Main",
                "collect",
                "--output",
                "kafka",
                "--bootstrap-servers",
                bootstrap,
                "--registry-url",
                registry,
                "--topic",
                topic,
                "--pid-exclude",
                Long.toString(ProcessHandle.current().pid()),
                "--spool-dir",
                spool.toString(),
                "--counters-interval",
                "1s",
                "--log-level",
                "info",
                "--stats-interval",
                "1s"));
        cmd.addAll(extra);
        CollectorProcess c = new CollectorProcess(cmd);
        assertTrue(c.attached.await(90, TimeUnit.SECONDS), "collector did not attach: " + c.log);
        return c;
    }

    /** SIGTERM, and the clean stop's exit code (0, or 143 from the JVM after the hook's clean stop). */
    int stop() throws Exception {
        process.destroy();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the collector did not stop: " + log);
        reader.join(5000);
        return process.exitValue();
    }

    @Override
    public void close() throws Exception {
        if (process.isAlive()) {
            stop();
        }
    }
}
