package io.sockflow.runner.alerts;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.sockflow.embedded.LocalStack;
import io.sockflow.jobs.Results;
import io.sockflow.schemas.Alert;
import io.sockflow.schemas.Severity;
import io.sockflow.schemas.config.Check;
import io.sockflow.schemas.registry.ConfluentAvro;
import io.sockflow.schemas.registry.RegistryClient;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigDef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The forwarder with real parts: alerts written in the Confluent wire format to a topic of the embedded broker, and
 * a webhook, a UDP and a TCP syslog receiver on 127.0.0.1. Each alert arrives in the documented shape; a receiver
 * that fails twice gets it once; one that is down has it counted undelivered while the others go on; an unreadable
 * record is skipped and counted; a restarted forwarder goes on after the last alert it forwarded.
 */
@Tag("slow")
class AlertForwarderTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Duration WAIT = Duration.ofSeconds(90);

    static LocalStack stack;
    static RegistryClient registry;

    @TempDir
    Path dir;

    final List<AutoCloseable> open = new ArrayList<>();

    @BeforeAll
    static void start() {
        stack = LocalStack.shared();
        registry = new RegistryClient(RegistryClient.Config.of(stack.registryUrl()));
    }

    @AfterEach
    void closeAll() throws Exception {
        Collections.reverse(open);
        for (AutoCloseable c : open) {
            c.close();
        }
    }

    // ---- receivers on loopback

    /** A webhook: each request's body and headers; answers the statuses given, then 200. */
    static final class Hook implements AutoCloseable {
        final HttpServer server;
        final Queue<Integer> answers = new ConcurrentLinkedQueue<>();
        final List<String> requests = Collections.synchronizedList(new ArrayList<>());
        /** The bodies it answered 200. */
        final List<String> accepted = Collections.synchronizedList(new ArrayList<>());

        final List<Map<String, String>> headers = Collections.synchronizedList(new ArrayList<>());

        Hook(Integer... statuses) throws IOException {
            answers.addAll(List.of(statuses));
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            server.createContext("/hook", x -> {
                String body = new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
                Map<String, String> h = new HashMap<>();
                x.getRequestHeaders().forEach((k, v) -> h.put(k.toLowerCase(java.util.Locale.ROOT), v.getFirst()));
                Integer status = answers.poll();
                int s = status == null ? 200 : status;
                requests.add(body);
                headers.add(h);
                if (s == 200) {
                    accepted.add(body);
                }
                x.sendResponseHeaders(s, -1);
                x.close();
            });
            server.start();
        }

        String url() {
            return "http://127.0.0.1:" + server.getAddress().getPort() + "/hook?key=s3cret";
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }

    /** A UDP syslog receiver: each datagram a message. */
    static final class UdpSyslog implements AutoCloseable {
        final DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        final List<String> messages = Collections.synchronizedList(new ArrayList<>());

        UdpSyslog() throws IOException {
            Thread.ofPlatform().daemon().start(() -> {
                byte[] buf = new byte[65_536];
                while (!socket.isClosed()) {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    try {
                        socket.receive(p);
                        messages.add(new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        String url() {
            return "udp://127.0.0.1:" + socket.getLocalPort();
        }

        @Override
        public void close() {
            socket.close();
        }
    }

    /** A TCP syslog receiver reading octet-counted frames (RFC 6587): LENGTH SP MESSAGE. */
    static final class TcpSyslog implements AutoCloseable {
        final ServerSocket server = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
        final List<String> messages = Collections.synchronizedList(new ArrayList<>());
        final List<String> errors = Collections.synchronizedList(new ArrayList<>());

        TcpSyslog() throws IOException {
            Thread.ofPlatform().daemon().start(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        Thread.ofPlatform().daemon().start(() -> read(s));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        private void read(Socket s) {
            try (s;
                    DataInputStream in = new DataInputStream(s.getInputStream())) {
                while (true) {
                    StringBuilder len = new StringBuilder();
                    int c;
                    while ((c = in.read()) != ' ') {
                        if (c < 0) {
                            return;
                        }
                        if (c < '0' || c > '9' || len.length() > 9) {
                            errors.add("not a frame length: " + len + (char) c);
                            return;
                        }
                        len.append((char) c);
                    }
                    byte[] m = new byte[Integer.parseInt(len.toString())];
                    in.readFully(m);
                    messages.add(new String(m, StandardCharsets.UTF_8));
                }
            } catch (IOException e) {
                errors.add(e.toString());
            }
        }

        String url() {
            return "tcp://127.0.0.1:" + server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    // ---- the topic and the forwarder

    String topic() throws Exception {
        String topic = "alerts-out-" + UUID.randomUUID();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", stack.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        return topic;
    }

    /** Writes each value: an Alert is framed as the jobs frame it, a byte[] goes as it is (null for a tombstone). */
    void write(String topic, Object... values) {
        ConfluentAvro.Serializer<Alert> avro = new ConfluentAvro.Serializer<>(registry, topic, Alert.getClassSchema());
        try (KafkaProducer<byte[], byte[]> p = Results.producer(stack.bootstrapServers())) {
            for (Object v : values) {
                byte[] bytes = v instanceof Alert a ? avro.serialize(a) : (byte[]) v;
                Results.send(p, topic, null, bytes);
            }
        }
    }

    static Alert alert(String id, String rule, Severity severity) {
        Alert a = AlertJsonTest.reverseShell();
        a.setAlertId(id);
        a.setRule(rule);
        a.setSeverity(severity);
        a.setTimestamp(Instant.now());
        return a;
    }

    final ByteArrayOutputStream logged = new ByteArrayOutputStream();

    String log() {
        return logged.toString(StandardCharsets.UTF_8);
    }

    /** A forwarder of {@code topic} running in its own thread, with these settings on top of short retries. */
    AlertForwarder forward(String topic, String group, Map<String, String> settings) {
        ConfigDef def = AlertOutputs.defineOn(new ConfigDef());
        Map<String, String> given = new HashMap<>(Map.of(
                AlertOutputs.ATTEMPTS,
                "3",
                AlertOutputs.BACKOFF,
                "100ms",
                AlertOutputs.WEBHOOK_TIMEOUT,
                "5s",
                AlertOutputs.GROUP,
                group));
        given.putAll(settings);
        Check.values(def, given);
        AlertOutputs.Config c = AlertOutputs.Config.of(def.parse(given));
        AlertForwarder f = new AlertForwarder(
                Map.of("bootstrap.servers", stack.bootstrapServers()),
                RegistryClient.Config.of(stack.registryUrl()),
                topic,
                c,
                c.destinations(),
                new PrintStream(logged, true, StandardCharsets.UTF_8));
        Thread.ofPlatform().name("test-forwarder").start(f);
        open.add(() -> {
            f.stop();
            assertTrue(f.await(Duration.ofSeconds(30)), "the forwarder stops");
        });
        return f;
    }

    static void await(String what, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("not within " + WAIT.toSeconds() + " s: " + what);
            }
            Thread.sleep(50);
        }
    }

    static long committed(String topic, String group) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", stack.bootstrapServers()))) {
            Map<TopicPartition, OffsetAndMetadata> m = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata()
                    .get(30, TimeUnit.SECONDS);
            OffsetAndMetadata o = m.get(new TopicPartition(topic, 0));
            return o == null ? -1 : o.offset();
        }
    }

    static void stop(AlertForwarder f) throws InterruptedException {
        f.stop();
        assertTrue(f.await(Duration.ofSeconds(30)), "the forwarder stops");
    }

    // ---- the tests

    @Test
    void eachAlertReachesTheWebhookAndTheSyslogReceiversInTheDocumentedShape() throws Exception {
        String topic = topic();
        Hook hook = new Hook();
        UdpSyslog udp = new UdpSyslog();
        TcpSyslog tcp = new TcpSyslog();
        open.addAll(List.of(hook, udp, tcp));
        Path token = Files.writeString(dir.resolve("token"), "t0ken-value\n");
        Alert shell = alert("a-shell-0001", "reverse-shell", Severity.CRITICAL);
        Alert scan = alert("a-scan-0002", "port-scan", Severity.HIGH);
        scan.setAttributes(Map.of("target", "192.0.2.9", "ports", "25", "portList", "1-25", "attempts", "25"));
        write(topic, shell, scan);

        String group = "g-" + UUID.randomUUID();
        AlertForwarder f = forward(
                topic,
                group,
                Map.of(
                        AlertOutputs.WEBHOOK_URL,
                        hook.url(),
                        AlertOutputs.WEBHOOK_AUTH_FILE,
                        token.toString(),
                        AlertOutputs.SYSLOG,
                        udp.url()));
        AlertForwarder viaTcp = forward(topic, "g-" + UUID.randomUUID(), Map.of(AlertOutputs.SYSLOG, tcp.url()));
        await(
                "2 alerts at each receiver",
                () -> hook.accepted.size() >= 2 && udp.messages.size() >= 2 && tcp.messages.size() >= 2);
        await("the offset committed past both", () -> {
            try {
                return committed(topic, group) == 2;
            } catch (Exception e) {
                return false;
            }
        });
        stop(f);
        stop(viaTcp);
        assertEquals(List.of(), tcp.errors, "every TCP frame is octet-counted");
        assertEquals(new AlertForwarder.Counts(2, 4, 0, 0), f.counts());

        // the webhook's bodies: the finding, with this alert's values
        JsonNode first = JSON.readTree(hook.accepted.get(0));
        JsonNode second = JSON.readTree(hook.accepted.get(1));
        assertEquals(2004, first.get("class_uid").asInt());
        assertEquals(2, first.get("category_uid").asInt());
        assertEquals(1, first.get("activity_id").asInt());
        assertEquals("a-shell-0001", first.at("/finding_info/uid").asText());
        assertEquals("reverse-shell", first.at("/finding_info/title").asText());
        assertEquals(5, first.get("severity_id").asInt());
        assertEquals(shell.getTimestamp().toEpochMilli(), first.get("time").asLong());
        assertEquals(shell.getSummary(), first.get("message").asText());
        assertEquals(4242, first.at("/actor/process/pid").asInt());
        assertEquals("bash", first.at("/actor/process/name").asText());
        assertEquals("/usr/bin/bash", first.at("/actor/process/file/path").asText());
        assertEquals(4200, first.at("/actor/process/parent_process/pid").asInt());
        assertEquals("web-1", first.at("/device/hostname").asText());
        assertEquals("203.0.113.7", first.at("/dst_endpoint/ip").asText());
        assertEquals(4444, first.at("/dst_endpoint/port").asInt());
        assertEquals("a-scan-0002", second.at("/finding_info/uid").asText());
        assertEquals(4, second.get("severity_id").asInt());
        assertEquals("192.0.2.9", second.at("/dst_endpoint/ip").asText());
        assertEquals("1-25", second.at("/unmapped/attributes/portList").asText());
        Map<String, String> h = hook.headers.get(0);
        assertEquals("application/json", h.get("content-type"));
        assertEquals("Bearer t0ken-value", h.get("authorization"), "the auth file's token");
        assertEquals("a-shell-0001", h.get("idempotency-key"));

        // syslog: RFC 5424, the same JSON as the message, over UDP and TCP alike
        for (List<String> messages : List.of(udp.messages, tcp.messages)) {
            Matcher m = SyslogTest.parse(messages.get(0));
            assertEquals(16 * 8 + 2, Integer.parseInt(m.group(1)));
            assertEquals("web-1", m.group(3));
            assertEquals("reverse-shell", m.group(6));
            assertEquals(first, JSON.readTree(m.group(8)));
            Matcher m2 = SyslogTest.parse(messages.get(1));
            assertEquals(16 * 8 + 3, Integer.parseInt(m2.group(1)));
            assertEquals(second, JSON.readTree(m2.group(8)));
        }

        // started again with the same group: it goes on after what it forwarded, and sends nothing twice
        write(topic, alert("a-third-0003", "raw-socket", Severity.MEDIUM));
        AlertForwarder again = forward(topic, group, Map.of(AlertOutputs.WEBHOOK_URL, hook.url()));
        await("the third alert", () -> hook.accepted.size() >= 3);
        await("its offset committed", () -> {
            try {
                return committed(topic, group) == 3;
            } catch (Exception e) {
                return false;
            }
        });
        stop(again);
        assertEquals(3, hook.requests.size(), "nothing sent twice: " + hook.requests);
        assertEquals(
                "a-third-0003",
                JSON.readTree(hook.accepted.get(2)).at("/finding_info/uid").asText());
    }

    @Test
    void aWebhookThatAnswers500TwiceGetsTheAlertOnceAfterRetries() throws Exception {
        String topic = topic();
        Hook hook = new Hook(500, 503);
        open.add(hook);
        write(topic, alert("a-retry-0001", "shell-connect", Severity.HIGH));
        String group = "g-" + UUID.randomUUID();
        AlertForwarder f = forward(topic, group, Map.of(AlertOutputs.WEBHOOK_URL, hook.url()));
        await("delivered", () -> f.counts().forwarded() == 1);
        await("committed", () -> {
            try {
                return committed(topic, group) == 1;
            } catch (Exception e) {
                return false;
            }
        });
        stop(f);
        assertEquals(3, hook.requests.size(), "two 5xx answers, then the delivery");
        assertEquals(1, hook.accepted.size(), "accepted once");
        assertEquals(
                "a-retry-0001",
                JSON.readTree(hook.accepted.getFirst()).at("/finding_info/uid").asText());
        assertEquals(new AlertForwarder.Counts(1, 1, 0, 0), f.counts());
        assertEquals("", log(), "no failure to report");
    }

    @Test
    void aReceiverThatIsDownHasTheAlertCountedUndeliveredAndTheForwarderGoesOn() throws Exception {
        String topic = topic();
        UdpSyslog udp = new UdpSyslog();
        open.add(udp);
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort(); // nothing listens there once it is closed
        }
        write(
                topic,
                alert("a-down-0001", "new-listener", Severity.MEDIUM),
                alert("a-down-0002", "new-listener", Severity.MEDIUM));
        String group = "g-" + UUID.randomUUID();
        AlertForwarder f = forward(
                topic,
                group,
                Map.of(
                        AlertOutputs.WEBHOOK_URL,
                        "http://127.0.0.1:" + closed + "/hook",
                        AlertOutputs.SYSLOG,
                        udp.url()));
        await("both alerts past the webhook", () -> f.counts().forwarded() == 2);
        await("committed", () -> {
            try {
                return committed(topic, group) == 2;
            } catch (Exception e) {
                return false;
            }
        });
        stop(f);
        assertEquals(new AlertForwarder.Counts(2, 2, 2, 0), f.counts(), "syslog took both, the webhook none");
        assertEquals(2, udp.messages.size());
        List<String> lines = log().lines().toList();
        assertEquals(2, lines.size(), log());
        assertTrue(
                lines.get(0)
                        .startsWith("sockflow alerts: alert a-down-0001 (new-listener) not delivered to webhook "
                                + "http://127.0.0.1:" + closed + "/hook after 3 attempts: cannot reach it"),
                lines.get(0));
        assertTrue(
                f.status().contains("webhook http://127.0.0.1:" + closed + "/hook 0 delivered 2 undelivered"),
                f.status());

        // a TCP syslog receiver that is down is the same
        String topic2 = topic();
        write(topic2, alert("a-down-0003", "so-debug", Severity.LOW));
        AlertForwarder g =
                forward(topic2, "g-" + UUID.randomUUID(), Map.of(AlertOutputs.SYSLOG, "tcp://127.0.0.1:" + closed));
        await("the alert past the syslog", () -> g.counts().forwarded() == 1);
        stop(g);
        assertEquals(new AlertForwarder.Counts(1, 0, 1, 0), g.counts());
        assertTrue(
                log().contains("alert a-down-0003 (so-debug) not delivered to syslog tcp://127.0.0.1:" + closed
                        + " after 3 attempts"),
                log());
    }

    @Test
    void aRecordThatIsNoReadableAlertIsSkippedAndCounted() throws Exception {
        String topic = topic();
        Hook hook = new Hook();
        open.add(hook);
        int id = new ConfluentAvro.Serializer<Alert>(registry, topic, Alert.getClassSchema()).register();
        byte[] truncated = {0, (byte) (id >>> 24), (byte) (id >>> 16), (byte) (id >>> 8), (byte) id, 2};
        byte[] unknownId = {0, 0x3f, 0x00, 0x00, 0x01, 2, 4, 6};
        write(
                topic,
                alert("a-good-0001", "raw-socket", Severity.MEDIUM),
                "not avro at all".getBytes(StandardCharsets.UTF_8),
                truncated,
                unknownId,
                null,
                alert("a-good-0002", "raw-socket", Severity.MEDIUM));
        String group = "g-" + UUID.randomUUID();
        AlertForwarder f = forward(topic, group, Map.of(AlertOutputs.WEBHOOK_URL, hook.url()));
        await("both readable alerts", () -> hook.accepted.size() >= 2);
        await("committed past all six", () -> {
            try {
                return committed(topic, group) == 6;
            } catch (Exception e) {
                return false;
            }
        });
        stop(f);
        assertEquals(new AlertForwarder.Counts(2, 2, 0, 4), f.counts());
        assertEquals(
                "a-good-0002",
                JSON.readTree(hook.accepted.get(1)).at("/finding_info/uid").asText());
        List<String> lines = log().lines().toList();
        assertEquals(4, lines.size(), log());
        for (String l : lines) {
            assertTrue(l.startsWith("sockflow alerts: record " + topic + "/0@"), l);
            assertTrue(l.contains("is no alert that can be read, skipped"), l);
        }
        assertTrue(f.status().endsWith("4 unreadable skipped"), f.status());
    }
}
