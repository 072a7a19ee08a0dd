package io.sockflow.collector.cli;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.schemas.EventKind;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The collector's Prometheus endpoint, scraped while it captures this JVM's own socket calls. Needs root. */
@Tag("root")
class MetricsTest {
    @TempDir
    Path dir;

    @Test
    void aScrapeShowsEventsByKindAndTheCollectorsHealth() throws Exception {
        int port = io.sockflow.embedded.LoopbackPorts.free();
        CollectCommand c = CollectCommand.fromArgs(List.of(
                "--output",
                "file",
                "--file",
                dir.resolve("c.avro").toString(),
                "--metrics-port",
                Integer.toString(port),
                "--pid-include",
                Long.toString(ProcessHandle.current().pid()),
                "--tracepoint-groups",
                "",
                "--exclude-self",
                "false",
                "--duration",
                "30s")); // in-process: this JVM is the collector
        Thread t = new Thread(c::run);
        t.start();
        try {
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (!c.health().attached() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertTrue(c.health().attached(), "attached");
            try (ServerSocket server = new ServerSocket(0)) {
                for (int i = 0; i < 5; i++) {
                    try (Socket a = new Socket("127.0.0.1", server.getLocalPort());
                            Socket b = server.accept()) {
                        a.getOutputStream().write(7);
                        assertEquals(7, b.getInputStream().read());
                    }
                }
            }
            String body = "";
            HttpClient http = HttpClient.newHttpClient();
            while (System.nanoTime() < deadline) {
                Thread.sleep(1100); // health is refreshed every second
                body = http.send(
                                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString())
                        .body();
                if (body.contains("sockflow_events_total{kind=\"CONNECT\"}")
                        && !body.contains("sockflow_kernel_received_events_total 0.0")) {
                    break;
                }
            }
            assertTrue(body.contains("sockflow_events_total{kind=\"CONNECT\"}"), body);
            assertTrue(
                    body.contains("sockflow_events_total{kind=\"ACCEPT\"}")
                            || body.contains("sockflow_events_total{kind=\"ACCEPT4\"}"),
                    body);
            assertTrue(body.contains("sockflow_kernel_dropped_events_total 0.0"), body);
            assertTrue(body.contains("sockflow_attached 1.0"), body);
            for (String name : List.of(
                    "sockflow_spool_records",
                    "sockflow_produce_latency_seconds",
                    "sockflow_registry_errors_total",
                    "sockflow_kafka_acknowledged_events_total",
                    "sockflow_spool_dropped_events_total",
                    "sockflow_shed_events_total{reason=\"disk\"} 0.0")) {
                assertTrue(body.contains(name), name + " in\n" + body);
            }
            assertTrue(c.events(EventKind.CONNECT) >= 5);
        } finally {
            c.stop();
            t.join(30_000);
        }
        assertFalse(t.isAlive());
        // the port is free again once the collector stopped
        try (ServerSocket again = new ServerSocket(port)) {
            assertEquals(port, again.getLocalPort());
        }
    }
}
