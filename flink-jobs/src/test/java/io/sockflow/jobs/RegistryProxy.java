package io.sockflow.jobs;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A loopback HTTP proxy in front of the schema registry that a test can make fail: answer 500, or hold a request
 * without answering, for a while, starting at once or at the first request a predicate picks (say, the first
 * lookup of a schema id the jobs meet only in the middle of their input).
 */
public final class RegistryProxy implements AutoCloseable {
    private final String upstream;
    private final HttpServer server;
    private final ExecutorService threads = Executors.newCachedThreadPool(
            r -> Thread.ofPlatform().daemon().name("registry-proxy").unstarted(r));
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final AtomicInteger failed = new AtomicInteger();
    private final AtomicInteger stalled = new AtomicInteger();
    private final AtomicInteger passed = new AtomicInteger();
    private volatile Predicate<String> trigger;
    private volatile long failUntilNanos;
    private volatile long stallUntilNanos;
    private volatile Duration failFor = Duration.ZERO;
    private volatile Duration stallFor = Duration.ZERO;
    private volatile Duration stallEach = Duration.ZERO;

    public RegistryProxy(String upstream) throws IOException {
        this.upstream = upstream.endsWith("/") ? upstream.substring(0, upstream.length() - 1) : upstream;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 32);
        server.createContext("/", this::handle);
        server.setExecutor(threads);
        server.start();
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** From now on, for {@code d}: every request is answered 500. */
    public void failFor(Duration d) {
        failUntilNanos = System.nanoTime() + d.toNanos();
    }

    /** From now on, for {@code d}: every request is held {@code each} before it is passed on. */
    public void stallFor(Duration d, Duration each) {
        stallEach = each;
        stallUntilNanos = System.nanoTime() + d.toNanos();
    }

    /**
     * At the first request whose path {@code when} picks: {@code fail} of 500 answers (that request's included),
     * then {@code stall} of requests held {@code each} before they are passed on; then as usual.
     */
    public void outageAt(Predicate<String> when, Duration fail, Duration stall, Duration each) {
        failFor = fail;
        stallFor = stall;
        stallEach = each;
        trigger = when;
    }

    /** Requests answered 500, held, and passed on, so far. */
    public int failed() {
        return failed.get();
    }

    public int stalled() {
        return stalled.get();
    }

    public int passed() {
        return passed.get();
    }

    private void handle(HttpExchange x) throws IOException {
        try (x) {
            String path = x.getRequestURI().toString();
            Predicate<String> t = trigger;
            if (t != null && t.test(path)) {
                trigger = null;
                long now = System.nanoTime();
                failUntilNanos = now + failFor.toNanos();
                stallUntilNanos = now + failFor.toNanos() + stallFor.toNanos();
            }
            long now = System.nanoTime();
            if (now < failUntilNanos) {
                failed.incrementAndGet();
                answer(x, 500, "{\"error_code\":50001,\"message\":\"the registry is failing (test)\"}".getBytes());
                return;
            }
            if (now < stallUntilNanos) {
                stalled.incrementAndGet();
                try {
                    Thread.sleep(stallEach.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            byte[] body;
            try (InputStream in = x.getRequestBody()) {
                body = in.readAllBytes();
            }
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(upstream + path))
                    .timeout(Duration.ofSeconds(10))
                    .method(
                            x.getRequestMethod(),
                            body.length == 0
                                    ? HttpRequest.BodyPublishers.noBody()
                                    : HttpRequest.BodyPublishers.ofByteArray(body));
            String type = x.getRequestHeaders().getFirst("Content-Type");
            if (type != null) {
                b.header("Content-Type", type);
            }
            HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            passed.incrementAndGet();
            answer(x, r.statusCode(), r.body());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void answer(HttpExchange x, int status, byte[] body) throws IOException {
        x.getResponseHeaders().set("Content-Type", "application/vnd.schemaregistry.v1+json");
        x.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            try (OutputStream out = x.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
        http.close();
    }
}
