package io.sockflow.collector.cli;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.sockflow.collector.bpf.BpfException;
import io.sockflow.schemas.EventKind;
import java.io.IOException;

/**
 * The collector's Prometheus endpoint ({@code --metrics-port}): read at scrape time from what the collector
 * already counts, so serving it costs the capture nothing. Events by kind, what the kernel dropped, what Kafka
 * acknowledged or refused, the spool's depth and drops, the mean produce latency, registry errors.
 */
final class CollectorMetrics implements AutoCloseable {
    private final HTTPServer server;

    private CollectorMetrics(HTTPServer server) {
        this.server = server;
    }

    static CollectorMetrics serve(int port, CollectCommand c) {
        return serve("127.0.0.1", port, null, c);
    }

    /**
     * Serves on {@code address} (loopback unless opened on purpose); with {@code userInfo} (user:password) every
     * request must carry it as HTTP basic authentication.
     */
    static CollectorMetrics serve(String address, int port, String userInfo, CollectCommand c) {
        PrometheusRegistry registry = new PrometheusRegistry();
        CounterWithCallback.builder()
                .name("sockflow_events")
                .help("Events written, by kind (system call or kernel record).")
                .labelNames("kind")
                .callback(cb -> {
                    for (EventKind k : EventKind.values()) {
                        long n = c.events(k);
                        if (n > 0) {
                            cb.call(n, k.name());
                        }
                    }
                })
                .register(registry);
        CounterWithCallback.builder()
                .name("sockflow_clock_records")
                .help("Clock records written (not events): one per interval to each partition that got no event.")
                .callback(cb -> cb.call(c.clockRecords()))
                .register(registry);
        CounterWithCallback.builder()
                .name("sockflow_kernel_received_events")
                .help("Records read from the kernel's ring buffer.")
                .callback(cb -> cb.call(c.health().received()))
                .register(registry);
        CounterWithCallback.builder()
                .name("sockflow_kernel_dropped_events")
                .help("Records the kernel dropped because the ring buffer was full.")
                .callback(cb -> cb.call(c.health().droppedInKernel()))
                .register(registry);
        CounterWithCallback.builder()
                .name("sockflow_decode_errors")
                .help("Records that could not be decoded.")
                .callback(cb -> cb.call(c.health().decodeErrors()))
                .register(registry);
        CounterWithCallback.builder()
                .name("sockflow_kafka_acknowledged_events")
                .help("Records Kafka acknowledged: events and clock records.")
                .callback(cb -> cb.call(c.health().acked()))
                .register(registry);
        CounterWithCallback.builder()
                .name("sockflow_kafka_failed_events")
                .help("Events Kafka refused for good.")
                .callback(cb -> cb.call(c.health().kafkaFailed()))
                .register(registry);
        GaugeWithCallback.builder()
                .name("sockflow_spool_records")
                .help("Events waiting in the disk spool.")
                .callback(cb -> cb.call(c.health().spoolDepth()))
                .register(registry);
        GaugeWithCallback.builder()
                .name("sockflow_spool_bytes")
                .help("Bytes in the disk spool.")
                .callback(cb -> cb.call(c.health().spoolBytes()))
                .register(registry);
        CounterWithCallback.builder()
                .name("sockflow_spool_dropped_events")
                .help("Events the full spool's policy dropped.")
                .callback(cb -> cb.call(c.health().spoolDropped()))
                .register(registry);
        CounterWithCallback.builder()
                .name("sockflow_spool_lost_events")
                .help("Events lost to spool damage (a bad CRC, a record cut short by a crash, a destroyed segment); "
                        + "a lower bound where the count cannot be known.")
                .callback(cb -> cb.call(c.health().spoolLost()))
                .register(registry);
        CounterWithCallback.builder()
                .name("sockflow_spool_lost_bytes")
                .help("Bytes of damaged spool segments that held no readable event.")
                .callback(cb -> cb.call(c.health().spoolLostBytes()))
                .register(registry);
        CounterWithCallback.builder()
                .name("sockflow_shed_events")
                .help("Events not kept, on purpose, to protect the host: reason disk, not spooled while the spool's "
                        + "file system had less free space than --disk-min-free-bytes.")
                .labelNames("reason")
                .callback(cb -> cb.call(c.health().shedForDisk(), "disk"))
                .register(registry);
        CounterWithCallback.builder()
                .name("sockflow_producer_restarts")
                .help("Times the Kafka producer was replaced because nothing was acknowledged for too long while "
                        + "events were in flight; what it held was spooled and sent again.")
                .callback(cb -> cb.call(c.health().producerRestarts()))
                .register(registry);
        GaugeWithCallback.builder()
                .name("sockflow_produce_latency_seconds")
                .help("Mean time from handing an event to the Kafka producer to its acknowledgement (sampled).")
                .callback(cb -> cb.call(c.health().produceLatencyMs() / 1000.0))
                .register(registry);
        CounterWithCallback.builder()
                .name("sockflow_registry_errors")
                .help("Failed schema registry requests.")
                .callback(cb -> cb.call(c.health().registryErrors()))
                .register(registry);
        GaugeWithCallback.builder()
                .name("sockflow_attached")
                .help("1 once the BPF programs are attached.")
                .callback(cb -> cb.call(c.health().attached() ? 1 : 0))
                .register(registry);
        try {
            // /metrics only: every other path is a 404, whatever the method
            HTTPServer.Builder b = HTTPServer.builder()
                    .hostname(address)
                    .port(port)
                    .registry(registry)
                    .registerHealthHandler(false)
                    .defaultHandler(exchange -> {
                        exchange.sendResponseHeaders(404, -1);
                        exchange.close();
                    });
            if (userInfo != null) {
                b.authenticator(basicAuth(userInfo));
            }
            return new CollectorMetrics(b.buildAndStart());
        } catch (IOException e) {
            throw new BpfException(
                    "cannot serve metrics on " + address + ":" + port + " (" + e.getMessage()
                            + "): choose another --metrics-port, or 0 for none",
                    2);
        }
    }

    private static com.sun.net.httpserver.Authenticator basicAuth(String userInfo) {
        int colon = userInfo.indexOf(':');
        byte[] user = userInfo.substring(0, colon).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] password = userInfo.substring(colon + 1).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return new com.sun.net.httpserver.BasicAuthenticator("sockflow") {
            @Override
            public boolean checkCredentials(String u, String p) {
                // both compared in full, so the time taken says nothing about which part was wrong
                boolean userOk =
                        java.security.MessageDigest.isEqual(user, u.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                boolean passwordOk = java.security.MessageDigest.isEqual(
                        password, p.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                return userOk & passwordOk;
            }
        };
    }

    @Override
    public void close() {
        server.close();
    }
}
