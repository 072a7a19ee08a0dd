package io.sockflow.schemas.registry;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.Schema;

/**
 * The part of the registry's REST API a reader uses ({@code GET /schemas/ids/N}), over real HTTP on loopback, that
 * a test can make answer 5xx or stall, and that can serve texts no real registry would (not a schema at all).
 */
public final class StubRegistry implements AutoCloseable {
    private final HttpServer server;
    private final ExecutorService threads =
            Executors.newCachedThreadPool(r -> Thread.ofPlatform().daemon().unstarted(r));
    private final Map<Integer, String> texts = new ConcurrentHashMap<>();
    private final AtomicInteger nextId = new AtomicInteger(1);
    private volatile int failWith;
    private volatile long stallMillis;

    public StubRegistry() {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        server.createContext("/", this::handle);
        server.setExecutor(threads);
        server.start();
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** Registers a schema; returns its id. */
    public int add(Schema s) {
        return addText(s.toString());
    }

    /** Serves any text as the schema of a new id. */
    public int addText(String text) {
        int id = nextId.getAndIncrement();
        texts.put(id, text);
        return id;
    }

    /** Every answer from now on is this status (0: answer normally). */
    public void failWith(int status) {
        failWith = status;
    }

    /** Every answer from now on waits this long first (0: at once). */
    public void stall(Duration d) {
        stallMillis = d.toMillis();
    }

    /**
     * A client of {@code attempts} tries, 10 s each: long enough for a loaded machine (these tests are about what the
     * answers say, not how fast they come), short enough that a hung stub fails the test.
     */
    public RegistryClient client(int attempts) {
        return new RegistryClient(new RegistryClient.Config(
                List.of(url()),
                null,
                null,
                null,
                Duration.ofSeconds(10),
                attempts,
                Duration.ofMillis(10),
                Duration.ofMillis(20)));
    }

    private void handle(HttpExchange x) throws IOException {
        try (x) {
            if (stallMillis > 0) {
                try {
                    Thread.sleep(stallMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            if (failWith != 0) {
                answer(x, failWith, "{\"error_code\":" + failWith + "01,\"message\":\"failing on purpose\"}");
                return;
            }
            String path = x.getRequestURI().getPath();
            if (path.startsWith("/schemas/ids/")) {
                String text = null;
                try {
                    text = texts.get(Integer.parseInt(path.substring("/schemas/ids/".length())));
                } catch (NumberFormatException ignored) {
                    // no such id
                }
                if (text != null) {
                    answer(x, 200, "{\"schema\":" + com.fasterxml.jackson.databind.node.TextNode.valueOf(text) + "}");
                    return;
                }
                answer(x, 404, "{\"error_code\":40403,\"message\":\"Schema not found\"}");
                return;
            }
            answer(x, 404, "{\"error_code\":404,\"message\":\"HTTP 404 Not Found\"}");
        }
    }

    private static void answer(HttpExchange x, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().set("Content-Type", "application/vnd.schemaregistry.v1+json");
        x.sendResponseHeaders(status, b.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(b);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }
}
