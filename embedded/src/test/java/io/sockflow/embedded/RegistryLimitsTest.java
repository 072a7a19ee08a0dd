package io.sockflow.embedded;

import static io.sockflow.embedded.RawHttp.connect;
import static io.sockflow.embedded.RawHttp.exchange;
import static io.sockflow.embedded.RawHttp.read;
import static io.sockflow.embedded.RawHttp.request;
import static io.sockflow.embedded.RawHttp.send;
import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.embedded.EmbeddedSchemaRegistry.Options;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What one client can do to the registry: stall, send too much, open too many connections. None of it holds up
 * another client, and each gets a JSON answer that says what was wrong.
 */
@Tag("slow")
@Timeout(180)
class RegistryLimitsTest {
    static LocalStack stack;
    static final String TYPE = "Content-Type: application/vnd.schemaregistry.v1+json";

    @BeforeAll
    static void start() {
        stack = LocalStack.shared();
    }

    /** A registry of its own, on a topic of its own so that it never writes beside the shared one. */
    static EmbeddedSchemaRegistry registry(Options o) {
        return EmbeddedSchemaRegistry.start(stack.bootstrapServers(), o.withTopic("_schemas-" + UUID.randomUUID()));
    }

    static String schema(String name) {
        return "{\"schema\": \"{\\\"type\\\": \\\"record\\\", \\\"name\\\": \\\"" + name
                + "\\\", \\\"fields\\\": [{\\\"name\\\": \\\"a\\\", \\\"type\\\": \\\"int\\\"}]}\"}";
    }

    @Test
    void aClientThatStallsMidRequestDoesNotHoldUpAnother() throws Exception {
        try (EmbeddedSchemaRegistry r = registry(Options.defaults().withReadTimeout(Duration.ofMinutes(5)))) {
            int port = r.address().getPort();
            long b0 = System.nanoTime();
            assertEquals(
                    200,
                    exchange(port, request("POST", "/subjects/base/versions", schema("Base"), TYPE))
                            .status());
            long baseNs = System.nanoTime() - b0;
            String body = schema("Stalled");
            String head = request("POST", "/subjects/stalled/versions", body, TYPE);
            int cut = head.indexOf("\r\n\r\n") + 4 + body.length() / 2;
            // one client sends its head and half of its body, then stalls
            Socket midBody = connect(port);
            send(midBody, head.substring(0, cut));
            // thirty more stall inside their heads: more than any fixed pool of threads
            List<Socket> midHead = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                Socket s = connect(port);
                send(s, "POST /subjects/stalled/versions HTTP/1.1\r\nHost: localhost\r\nContent-Le");
                midHead.add(s);
            }
            Thread.sleep(200); // let the server take them all in before the other client asks

            long t0 = System.nanoTime();
            RawHttp.Reply registered =
                    exchange(port, request("POST", "/subjects/other/versions", schema("Other"), TYPE));
            long registerNs = System.nanoTime() - t0;
            assertEquals(200, registered.status(), registered.body());
            long t1 = System.nanoTime();
            RawHttp.Reply versions = exchange(port, request("GET", "/subjects/other/versions", null));
            long getNs = System.nanoTime() - t1;
            assertEquals("[1]", versions.body());
            System.out.printf(
                    "registry: with 31 clients stalled, another client's register took %.1f ms (%.1f ms "
                            + "with none stalled), its read %.1f ms%n",
                    registerNs / 1e6, baseNs / 1e6, getNs / 1e6);

            // the stalled clients were connected all along: the first one finishes and gets its answer
            send(midBody, head.substring(cut));
            RawHttp.Reply late = read(midBody.getInputStream());
            assertEquals(200, late.status(), late.body());
            assertNotEquals(
                    registered.json().get("id").asInt(), late.json().get("id").asInt());
            for (Socket s : midHead) {
                send(s, "ngth: 0\r\n\r\n");
                assertEquals(422, read(s.getInputStream()).status(), "an empty body is no schema");
                s.close();
            }
            midBody.close();
        }
    }

    @Test
    void aRequestThatDoesNotArriveWithinTheReadTimeoutGets408() throws Exception {
        try (EmbeddedSchemaRegistry r = registry(Options.defaults().withReadTimeout(Duration.ofMillis(300)))) {
            int port = r.address().getPort();
            try (Socket s = connect(port)) {
                send(s, "GET /subjects HTTP/1.1\r\nHost: loc");
                read(s.getInputStream()).assertError(408, 408);
                assertEquals(-1, s.getInputStream().read(), "closed after the answer");
            }
            try (Socket s = connect(port)) {
                send(s, "POST /subjects/x/versions HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"sch");
                read(s.getInputStream()).assertError(408, 408);
                assertEquals(-1, s.getInputStream().read(), "closed after the answer");
            }
            assertEquals(200, exchange(port, request("GET", "/subjects", null)).status(), "others still served");
            assertEquals(2, r.timedOutRequests());
        }
    }

    @Test
    void aConnectionIdleBetweenRequestsIsClosedWithoutAnAnswer() throws Exception {
        try (EmbeddedSchemaRegistry r = registry(Options.defaults().withIdleTimeout(Duration.ofMillis(300)))) {
            try (Socket s = connect(r.address().getPort())) {
                send(s, request("GET", "/subjects", null));
                assertEquals(200, read(s.getInputStream()).status());
                assertEquals(-1, s.getInputStream().read(), "closed, with nothing sent");
            }
        }
    }

    @Test
    void a100MegabyteBodyIsRefusedWith413BeforeItIsRead() throws Exception {
        int port = Integer.parseInt(
                stack.registryUrl().substring(stack.registryUrl().lastIndexOf(':') + 1));
        long hundredMb = 100L * 1000 * 1000;
        String head = "POST /subjects/big/versions HTTP/1.1\r\nHost: localhost\r\n" + TYPE + "\r\nContent-Length: "
                + hundredMb + "\r\n\r\n";
        // declared only: the answer comes before any of the body was sent
        try (Socket s = connect(port)) {
            send(s, head);
            RawHttp.Reply r = read(s.getInputStream()).assertError(413, 413);
            assertEquals("close", r.headers().get("connection"));
            assertTrue(r.json().get("message").asText().contains("1048576"), r.body());
        }
        // declared and sent: a writer keeps sending while the answer is read
        try (Socket s = connect(port)) {
            send(s, head);
            AtomicLong sent = new AtomicLong();
            Thread writer = Thread.ofPlatform().start(() -> {
                byte[] chunk = new byte[64 * 1024];
                try {
                    OutputStream out = s.getOutputStream();
                    while (sent.get() < hundredMb) {
                        int n = (int) Math.min(chunk.length, hundredMb - sent.get());
                        out.write(chunk, 0, n);
                        sent.addAndGet(n);
                    }
                } catch (IOException e) {
                    // the registry may close before all of it is sent
                }
            });
            read(s.getInputStream()).assertError(413, 413);
            long sentWhenAnswered = sent.get();
            writer.join();
            System.out.printf(
                    "registry: a 100 MB body was refused when %d MB of it had been sent%n", sentWhenAnswered >> 20);
        }
        // chunked, with no length given up front
        try (Socket s = connect(port)) {
            send(s, "POST /subjects/big/versions HTTP/1.1\r\n" + TYPE + "\r\nTransfer-Encoding: chunked\r\n\r\n");
            String chunk = "x".repeat(256 * 1024);
            try {
                for (int i = 0; i < 8; i++) {
                    send(s, Integer.toHexString(chunk.length()) + "\r\n" + chunk + "\r\n");
                }
            } catch (IOException e) {
                // closed while sending: the answer is already there
            }
            read(s.getInputStream()).assertError(413, 413);
        }
        // Java's own HTTP client, sending all of it
        HttpClient http =
                HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpResponse<String> resp = http.send(
                HttpRequest.newBuilder(URI.create(stack.registryUrl() + "/subjects/big/versions"))
                        .header("Content-Type", "application/vnd.schemaregistry.v1+json")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[(int) hundredMb]))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(413, resp.statusCode(), resp.body());
    }

    @Test
    void theSizeLimitIsConfigurable() throws Exception {
        try (EmbeddedSchemaRegistry r = registry(Options.defaults().withMaxRequestBytes(300))) {
            int port = r.address().getPort();
            String small = schema("S");
            String large = "{\"schema\": \"{\\\"type\\\": \\\"record\\\", \\\"name\\\": \\\"L\\\", \\\"doc\\\": \\\""
                    + "d".repeat(400) + "\\\", \\\"fields\\\": []}\"}";
            assertEquals(
                    200,
                    exchange(port, request("POST", "/subjects/s/versions", small, TYPE))
                            .status());
            exchange(port, request("POST", "/subjects/s/versions", large, TYPE)).assertError(413, 413);
        }
    }

    @Test
    void bodiesHeldInMemoryAtOnceAreBounded() throws Exception {
        // with a 20 MiB limit, the budget for bodies in memory is one such body: a second body waits, then gets 503
        int limit = 20 << 20;
        try (EmbeddedSchemaRegistry r = registry(Options.defaults().withMaxRequestBytes(limit))) {
            int port = r.address().getPort();
            try (Socket big = connect(port)) {
                send(
                        big,
                        "POST /subjects/b/versions HTTP/1.1\r\n" + TYPE + "\r\nContent-Length: " + limit + "\r\n\r\n");
                big.getOutputStream().write(new byte[1 << 20]);
                Thread.sleep(200); // let the server start reading it
                exchange(port, request("POST", "/subjects/s/versions", schema("S"), TYPE))
                        .assertError(503, 503);
                assertEquals(
                        200, exchange(port, request("GET", "/subjects", null)).status(), "bodiless requests go on");
            }
            int status = 0;
            for (int i = 0; i < 100 && status != 200; i++) {
                Thread.sleep(20); // until the registry has seen the big one go
                status = exchange(port, request("POST", "/subjects/s/versions", schema("S"), TYPE))
                        .status();
            }
            assertEquals(200, status);
        }
    }

    @Test
    void beyondTheConnectionLimitANewClientGets503AndTheOthersAreUnharmed() throws Exception {
        try (EmbeddedSchemaRegistry r = registry(Options.defaults().withMaxConnections(2))) {
            int port = r.address().getPort();
            Socket a = connect(port);
            Socket b = connect(port);
            send(a, request("GET", "/subjects", null));
            assertEquals(200, read(a.getInputStream()).status());
            send(b, request("GET", "/subjects", null));
            assertEquals(200, read(b.getInputStream()).status());
            exchange(port, request("GET", "/subjects", null)).assertError(503, 503);
            assertEquals(1, r.refusedConnections());
            send(a, request("GET", "/subjects", null));
            assertEquals(200, read(a.getInputStream()).status(), "an open connection is still served");
            a.close();
            b.close();
            int status = 0;
            for (int i = 0; i < 100 && status != 200; i++) {
                Thread.sleep(20); // until the registry has seen the two close
                status = exchange(port, request("GET", "/subjects", null)).status();
            }
            assertEquals(200, status);
        }
    }

    @Test
    void aWriteWaitingForKafkaDoesNotHoldUpReads() throws Exception {
        Path dir = Files.createTempDirectory("sockflow-registry-kafka");
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"), 0);
                EmbeddedSchemaRegistry r = EmbeddedSchemaRegistry.start(kafka.bootstrapServers(), Options.defaults())) {
            int port = r.address().getPort();
            String v2 = "{\"schema\": \"{\\\"type\\\": \\\"record\\\", \\\"name\\\": \\\"K\\\", \\\"fields\\\": ["
                    + "{\\\"name\\\": \\\"a\\\", \\\"type\\\": \\\"int\\\"}, {\\\"name\\\": \\\"b\\\", "
                    + "\\\"type\\\": \\\"int\\\", \\\"default\\\": 0}]}\"}";
            assertEquals(
                    200,
                    exchange(port, request("POST", "/subjects/k/versions", schema("K"), TYPE))
                            .status());
            kafka.stop();
            AtomicReference<RawHttp.Reply> answer = new AtomicReference<>();
            Thread writer = Thread.ofPlatform().start(() -> {
                try {
                    answer.set(exchange(port, request("POST", "/subjects/k/versions", v2, TYPE)));
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            Thread.sleep(500); // let the registration reach its wait for Kafka (which gives up after 15 s)
            long t0 = System.nanoTime();
            assertEquals(
                    "[1]",
                    exchange(port, request("GET", "/subjects/k/versions", null)).body());
            assertEquals(
                    200, exchange(port, request("GET", "/schemas/ids/1", null)).status());
            long readNs = System.nanoTime() - t0;
            assertTrue(writer.isAlive(), "the reads were answered while the registration still waited for Kafka");
            System.out.printf(
                    "registry: two reads took %.1f ms while a registration waited for a stopped Kafka%n", readNs / 1e6);
            writer.join();
            RawHttp.Reply failed = answer.get();
            assertEquals(500, failed.status(), failed.body());
            int code = failed.json().get("error_code").asInt();
            assertTrue(code == 50001 || code == 50002, failed.body());
            kafka.start();
            RawHttp.Reply again = exchange(port, request("POST", "/subjects/k/versions", v2, TYPE));
            assertEquals(200, again.status(), again.body());
            assertEquals(
                    "[1,2]",
                    exchange(port, request("GET", "/subjects/k/versions", null)).body());
        }
    }

    @Test
    void concurrentRegistrationsGetTheirOwnIdsAndConsecutiveVersions() throws Exception {
        try (EmbeddedSchemaRegistry r = registry(Options.defaults())) {
            int port = r.address().getPort();
            int n = 12;
            List<Thread> threads = new ArrayList<>();
            int[] ids = new int[n];
            for (int i = 0; i < n; i++) {
                int k = i;
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        String body =
                                "{\"schema\": \"{\\\"type\\\": \\\"record\\\", \\\"name\\\": \\\"R\\\", \\\"fields\\\": ["
                                        + "{\\\"name\\\": \\\"a\\\", \\\"type\\\": \\\"int\\\"}, {\\\"name\\\": \\\"f"
                                        + k
                                        + "\\\", \\\"type\\\": \\\"int\\\", \\\"default\\\": 0}]}\"}";
                        ids[k] = exchange(port, request("POST", "/subjects/many/versions", body, TYPE))
                                .json()
                                .get("id")
                                .asInt();
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            assertEquals(
                    n,
                    java.util.Arrays.stream(ids).distinct().filter(id -> id > 0).count());
            RawHttp.Reply versions = exchange(port, request("GET", "/subjects/many/versions", null));
            assertEquals("[1,2,3,4,5,6,7,8,9,10,11,12]", versions.body());
        }
    }
}
