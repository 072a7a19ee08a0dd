package io.sockflow.embedded;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sockflow.embedded.JsonHttpServer.Request;
import io.sockflow.embedded.JsonHttpServer.Response;
import io.sockflow.schemas.registry.Compatibility;
import io.sockflow.schemas.registry.SchemaText;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.avro.Schema;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A schema registry for the local default that serves the part of the Confluent Schema Registry REST API that
 * producers, consumers and tools use, with Confluent's status codes and error bodies, Avro compatibility checks,
 * and its state kept in a compacted Kafka topic ({@code _schemas}) so that ids survive a restart. One instance
 * writes; it is not a cluster.
 * <p>
 * It listens on loopback unless told otherwise, and then only with basic auth. Requests are read whole (size limit,
 * read timeout) before any lock is taken; the in-memory state is locked only for in-memory work, and writes to the
 * topic are made one at a time under a separate lock that reads never wait for.
 */
public final class EmbeddedSchemaRegistry implements AutoCloseable {
    public static final String TOPIC = "_schemas";
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedSchemaRegistry.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration STORE_TIMEOUT = Duration.ofSeconds(15);

    /**
     * How the registry listens and what it takes from clients. Binding anything but a loopback address needs at
     * least one user: the registry is then reachable from the network and must not accept anyone.
     */
    public record Options(
            String bindAddress,
            int port,
            String topic,
            int maxRequestBytes,
            Duration readTimeout,
            Duration idleTimeout,
            int maxConnections,
            Map<String, String> users) {
        public Options {
            users = Map.copyOf(new LinkedHashMap<>(users));
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("registry port " + port + " is out of range: give 0..65535");
            }
            if (topic == null || topic.isBlank()) {
                throw new IllegalArgumentException("the registry needs a topic name, e.g. " + TOPIC);
            }
        }

        /** Loopback, any free port, {@code _schemas}, 1 MiB requests, 30 s to send one, 60 s idle, no auth. */
        public static Options defaults() {
            return new Options(
                    "127.0.0.1", 0, TOPIC, 1 << 20, Duration.ofSeconds(30), Duration.ofSeconds(60), 256, Map.of());
        }

        public Options withPort(int p) {
            return new Options(bindAddress, p, topic, maxRequestBytes, readTimeout, idleTimeout, maxConnections, users);
        }

        /** Opens the registry on another address, e.g. 0.0.0.0: only allowed together with {@link #withUser}. */
        public Options withBindAddress(String a) {
            return new Options(a, port, topic, maxRequestBytes, readTimeout, idleTimeout, maxConnections, users);
        }

        public Options withTopic(String t) {
            return new Options(bindAddress, port, t, maxRequestBytes, readTimeout, idleTimeout, maxConnections, users);
        }

        /** Requests with a larger body are refused with 413 before it is read. */
        public Options withMaxRequestBytes(int n) {
            return new Options(bindAddress, port, topic, n, readTimeout, idleTimeout, maxConnections, users);
        }

        /** How long a client may take to send a whole request (and to take its answer) before it is cut off. */
        public Options withReadTimeout(Duration d) {
            return new Options(bindAddress, port, topic, maxRequestBytes, d, idleTimeout, maxConnections, users);
        }

        public Options withIdleTimeout(Duration d) {
            return new Options(bindAddress, port, topic, maxRequestBytes, readTimeout, d, maxConnections, users);
        }

        public Options withMaxConnections(int n) {
            return new Options(bindAddress, port, topic, maxRequestBytes, readTimeout, idleTimeout, n, users);
        }

        /** Adds a basic-auth user; with any user, every request must authenticate. */
        public Options withUser(String user, String password) {
            Map<String, String> u = new LinkedHashMap<>(users);
            u.put(user, password);
            return new Options(bindAddress, port, topic, maxRequestBytes, readTimeout, idleTimeout, maxConnections, u);
        }
    }

    private record Registered(int version, int id) {}

    /** A schema as stored (its canonical text) and as parsed once, for compatibility checks. */
    private record Stored(String canonical, Schema schema) {}

    // the in-memory state: guarded by `state`, which is held for in-memory work only
    private final Object state = new Object();
    private final Map<Integer, Stored> schemaById = new HashMap<>();
    private final Map<String, Integer> idByCanonical = new HashMap<>();
    private final Map<String, List<Registered>> subjects = new LinkedHashMap<>();
    private final Map<String, Compatibility> subjectCompatibility = new HashMap<>();
    private Compatibility globalCompatibility = Compatibility.BACKWARD;
    private int nextId = 1;

    // one write to the topic at a time, so that ids and versions are given out in order; reads never take it
    private final ReentrantLock writer = new ReentrantLock(true);

    private final String topic;
    private final KafkaProducer<String, String> producer;
    private final JsonHttpServer server;

    /** Settings every Kafka client of the registry gets besides the bootstrap servers (the broker's credentials). */
    private final Map<String, String> kafkaClient;

    private EmbeddedSchemaRegistry(String bootstrap, Map<String, String> kafkaClient, Options o) throws IOException {
        this.kafkaClient = Map.copyOf(kafkaClient);
        InetAddress bind = InetAddress.getByName(o.bindAddress());
        if (!bind.isLoopbackAddress() && o.users().isEmpty()) {
            throw new IllegalArgumentException("the schema registry would listen on " + o.bindAddress()
                    + " without authentication: give it users (basic auth) or bind it to 127.0.0.1");
        }
        JsonHttpServer.Limits limits =
                new JsonHttpServer.Limits(o.maxRequestBytes(), o.readTimeout(), o.idleTimeout(), o.maxConnections());
        BasicAuth auth = o.users().isEmpty() ? null : new BasicAuth(o.users());
        this.topic = o.topic();
        ensureTopic(bootstrap);
        load(bootstrap);
        Map<String, Object> p = new HashMap<>(this.kafkaClient);
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) STORE_TIMEOUT.toMillis());
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
        try {
            server = new JsonHttpServer(new InetSocketAddress(bind, o.port()), limits, auth, this::handle);
        } catch (IOException | RuntimeException e) {
            producer.close(Duration.ZERO);
            throw e;
        }
    }

    /** Starts on loopback and {@code port} (0: any free port), reading what an earlier instance stored in {@code _schemas}. */
    public static EmbeddedSchemaRegistry start(String bootstrapServers, int port) {
        return start(bootstrapServers, Options.defaults().withPort(port));
    }

    public static EmbeddedSchemaRegistry start(String bootstrapServers, Options options) {
        return start(bootstrapServers, Map.of(), options);
    }

    /** With extra Kafka client settings ({@code security.protocol}, {@code sasl.*}) for its store. */
    public static EmbeddedSchemaRegistry start(
            String bootstrapServers, Map<String, String> kafkaClient, Options options) {
        try {
            return new EmbeddedSchemaRegistry(bootstrapServers, kafkaClient, options);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(
                    "cannot start the schema registry: unknown bind address " + options.bindAddress()
                            + ": give an IP address such as 127.0.0.1",
                    e);
        } catch (IOException e) {
            throw new IllegalStateException(
                    "cannot start the schema registry on " + options.bindAddress() + ":" + options.port() + ": "
                            + e.getMessage(),
                    e);
        }
    }

    /** Where local clients reach it: the bound address, or loopback when it listens on every address. */
    public String url() {
        InetSocketAddress a = server.address();
        InetAddress host = a.getAddress();
        String h;
        if (host.isAnyLocalAddress()) {
            h = host instanceof Inet6Address ? "[::1]" : "127.0.0.1";
        } else {
            h = host instanceof Inet6Address ? "[" + host.getHostAddress() + "]" : host.getHostAddress();
        }
        return "http://" + h + ":" + a.getPort();
    }

    /** The address and port it listens on. */
    public InetSocketAddress address() {
        return server.address();
    }

    /** Requests cut off because they did not arrive whole within the read timeout (each answered 408). */
    public long timedOutRequests() {
        return server.timedOut();
    }

    /** Connections refused because the connection limit was reached (each answered 503). */
    public long refusedConnections() {
        return server.refusedConnections();
    }

    private void ensureTopic(String bootstrap) {
        Map<String, Object> a = new HashMap<>(kafkaClient);
        a.put("bootstrap.servers", bootstrap);
        try (Admin admin = Admin.create(a)) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1).configs(Map.of("cleanup.policy", "compact"))))
                    .all()
                    .get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException(
                        "cannot create " + topic + ": " + e.getCause().getMessage(), e);
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot create " + topic + ": " + e.getMessage(), e);
        }
    }

    /** Replays the topic from the beginning to its end. */
    private void load(String bootstrap) {
        Map<String, Object> c = new HashMap<>(kafkaClient);
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            while (consumer.position(tp) < end) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    apply(r.key(), r.value());
                }
            }
        }
        LOG.info("schema registry loaded {} schemas in {} subjects", schemaById.size(), subjects.size());
    }

    private void apply(String key, String value) {
        try {
            JsonNode k = JSON.readTree(key);
            if (value == null) {
                return;
            }
            JsonNode v = JSON.readTree(value);
            switch (k.path("keytype").asText()) {
                case "SCHEMA" -> {
                    String canonical = v.get("schema").asText();
                    added(
                            v.get("subject").asText(),
                            v.get("version").asInt(),
                            v.get("id").asInt(),
                            new Stored(canonical, SchemaText.parse(canonical)));
                }
                case "CONFIG" -> {
                    Compatibility level =
                            Compatibility.parse(v.get("compatibilityLevel").asText());
                    if (k.path("subject").isNull() || k.path("subject").isMissingNode()) {
                        globalCompatibility = level;
                    } else {
                        subjectCompatibility.put(k.get("subject").asText(), level);
                    }
                }
                default -> LOG.warn("ignoring an unknown record in {}: {}", topic, key);
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("ignoring a corrupt record in {}: {}", topic, e.getMessage());
        }
    }

    /** Records a stored schema version in memory; the caller holds {@code state} (or is still loading). */
    private void added(String subject, int version, int id, Stored s) {
        schemaById.put(id, s);
        idByCanonical.put(s.canonical(), id);
        subjects.computeIfAbsent(subject, x -> new ArrayList<>()).add(new Registered(version, id));
        nextId = Math.max(nextId, id + 1);
    }

    /** Writes one record to the topic and waits for it; called holding {@code writer}, never {@code state}. */
    private void store(ObjectNode key, ObjectNode value) {
        try {
            producer.send(new ProducerRecord<>(topic, JSON.writeValueAsString(key), JSON.writeValueAsString(value)))
                    .get(STORE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryError(500, 50001, "Error in the backend datastore: interrupted");
        } catch (TimeoutException e) {
            throw new RegistryError(
                    500,
                    50002,
                    "Operation timed out: writing to " + topic + " took over " + STORE_TIMEOUT.toSeconds()
                            + " s; is Kafka up?");
        } catch (ExecutionException | JsonProcessingException | RuntimeException e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            throw new RegistryError(500, 50001, "Error in the backend datastore: " + cause.getMessage());
        }
    }

    /** Takes the write lock, waiting at most as long as one write may take and a bit. */
    private void lockWriter() {
        try {
            if (!writer.tryLock(STORE_TIMEOUT.toMillis() * 2, TimeUnit.MILLISECONDS)) {
                throw new RegistryError(
                        500,
                        50002,
                        "Operation timed out: other writes to " + topic + " are still waiting for Kafka; retry");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryError(500, 50002, "Operation timed out: interrupted");
        }
    }

    private Response handle(Request r) {
        List<String> p = r.path();
        String method = r.method();
        int n = p.size();
        if (n == 0) {
            allow(method, "GET");
            return Response.ok(JSON.createObjectNode());
        }
        switch (p.getFirst()) {
            case "subjects" -> {
                if (n == 1) {
                    allow(method, "GET");
                    synchronized (state) {
                        return Response.ok(new ArrayList<>(subjects.keySet()));
                    }
                }
                String subject = p.get(1);
                if (n == 2) {
                    allow(method, "POST");
                    return Response.ok(lookup(subject, body(r)));
                }
                if (!p.get(2).equals("versions")) {
                    break;
                }
                if (n == 3) {
                    allow(method, "GET", "POST");
                    if (method.equals("POST")) {
                        return Response.ok(register(subject, body(r)));
                    }
                    synchronized (state) {
                        return Response.ok(versionsOf(subject).stream()
                                .map(Registered::version)
                                .toList());
                    }
                }
                if (n == 4) {
                    allow(method, "GET");
                    synchronized (state) {
                        return Response.ok(describe(subject, version(subject, p.get(3))));
                    }
                }
                if (n == 5 && p.get(4).equals("schema")) {
                    allow(method, "GET");
                    synchronized (state) {
                        return Response.ok(rawSchema(version(subject, p.get(3)).id()));
                    }
                }
            }
            case "schemas" -> {
                if (n >= 3
                        && p.get(1).equals("ids")
                        && p.get(2).chars().allMatch(Character::isDigit)
                        && (n == 3 || (n == 4 && p.get(3).equals("schema")))) {
                    allow(method, "GET");
                    synchronized (state) {
                        int id = schemaId(p.get(2));
                        return Response.ok(
                                n == 4
                                        ? rawSchema(id)
                                        : JSON.createObjectNode()
                                                .put(
                                                        "schema",
                                                        schemaById.get(id).canonical()));
                    }
                }
            }
            case "config" -> {
                if (n <= 2) {
                    String subject = n == 2 ? p.get(1) : null;
                    allow(method, "GET", "PUT");
                    if (method.equals("PUT")) {
                        return Response.ok(putConfig(subject, compatibilityFrom(body(r))));
                    }
                    return Response.ok(config(subject, "true".equals(r.query().get("defaultToGlobal"))));
                }
            }
            case "compatibility" -> {
                if (n == 5 && p.get(1).equals("subjects") && p.get(3).equals("versions")) {
                    allow(method, "POST");
                    return Response.ok(compatibility(
                            p.get(2), p.get(4), body(r), "true".equals(r.query().get("verbose"))));
                }
            }
            default -> {}
        }
        throw RegistryError.of(404, "HTTP 404 Not Found");
    }

    private static void allow(String method, String... allowed) {
        for (String a : allowed) {
            if (a.equals(method)) {
                return;
            }
        }
        throw RegistryError.of(405, "HTTP 405 Method Not Allowed").withHeader("Allow", String.join(", ", allowed));
    }

    /** The request's JSON object: an empty body is an empty object, anything but an object is refused. */
    private static JsonNode body(Request r) {
        if (r.body().length == 0) {
            return JSON.createObjectNode();
        }
        JsonNode n;
        try {
            n = JSON.readTree(r.body());
        } catch (JsonProcessingException e) {
            throw RegistryError.of(400, "Unrecognized request body: not JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw RegistryError.of(400, "Unrecognized request body: " + e.getMessage());
        }
        if (n == null || !n.isObject()) {
            throw RegistryError.of(
                    400, "Unrecognized request body: expected a JSON object such as " + "{\"schema\": \"...\"}");
        }
        return n;
    }

    private int schemaId(String text) {
        int id;
        try {
            id = Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new RegistryError(404, 40403, "Schema " + text + " not found");
        }
        if (!schemaById.containsKey(id)) {
            throw new RegistryError(404, 40403, "Schema " + id + " not found");
        }
        return id;
    }

    private JsonNode rawSchema(int id) {
        try {
            return JSON.readTree(schemaById.get(id).canonical());
        } catch (IOException e) {
            throw new RegistryError(500, 50001, e.getMessage());
        }
    }

    private List<Registered> versionsOf(String subject) {
        List<Registered> v = subjects.get(subject);
        if (v == null || v.isEmpty()) {
            throw new RegistryError(404, 40401, "Subject '" + subject + "' not found.");
        }
        return v;
    }

    private Registered version(String subject, String versionText) {
        List<Registered> versions = versionsOf(subject);
        if (versionText.equals("latest") || versionText.equals("-1")) {
            return versions.getLast();
        }
        int v;
        try {
            v = Integer.parseInt(versionText);
        } catch (NumberFormatException e) {
            v = 0;
        }
        if (v < 1) {
            throw new RegistryError(
                    422,
                    42202,
                    "The specified version '" + versionText + "' is not a valid version "
                            + "id. Allowed values are between [1, 2^31-1] and the string \"latest\"");
        }
        for (Registered r : versions) {
            if (r.version() == v) {
                return r;
            }
        }
        throw new RegistryError(404, 40402, "Version " + v + " not found.");
    }

    private ObjectNode describe(String subject, Registered r) {
        return JSON.createObjectNode()
                .put("subject", subject)
                .put("version", r.version())
                .put("id", r.id())
                .put("schema", schemaById.get(r.id()).canonical());
    }

    private static Schema parseCandidate(JsonNode body) {
        String type = body.path("schemaType").asText("AVRO");
        if (!type.equals("AVRO")) {
            throw new RegistryError(422, 42201, "Invalid schema: this registry serves AVRO schemas only, not " + type);
        }
        JsonNode refs = body.get("references");
        if (refs != null && !refs.isNull() && !(refs.isArray() && refs.isEmpty())) {
            throw new RegistryError(
                    422,
                    42201,
                    "Invalid schema: schema references are not supported by this "
                            + "registry: register the schema with its named types inlined");
        }
        JsonNode text = body.get("schema");
        if (text == null || !text.isTextual()) {
            throw new RegistryError(422, 42201, "Invalid schema: the request has no \"schema\" string");
        }
        try {
            return SchemaText.parse(text.asText());
        } catch (RuntimeException e) {
            throw new RegistryError(422, 42201, "Invalid schema " + text.asText() + ": " + e.getMessage());
        }
    }

    private Compatibility levelOf(String subject) {
        return subjectCompatibility.getOrDefault(subject, globalCompatibility);
    }

    private List<Schema> schemasOf(List<Registered> versions) {
        List<Schema> out = new ArrayList<>();
        for (Registered r : versions) {
            out.add(schemaById.get(r.id()).schema());
        }
        return out;
    }

    /** The id of {@code canonical} when it is already a version of {@code subject}; the caller holds state. */
    private Integer registeredId(String subject, String canonical) {
        for (Registered r : subjects.getOrDefault(subject, List.of())) {
            if (schemaById.get(r.id()).canonical().equals(canonical)) {
                return r.id();
            }
        }
        return null;
    }

    private ObjectNode register(String subject, JsonNode body) {
        Schema schema = parseCandidate(body);
        String canonical = schema.toString(); // compared by canonical form: clients write one schema many ways
        synchronized (state) {
            Integer known = registeredId(subject, canonical);
            if (known != null) {
                return JSON.createObjectNode().put("id", known); // the same schema again: the same id
            }
        }
        lockWriter();
        try {
            List<Schema> earlier;
            Compatibility level;
            int id;
            int version;
            synchronized (state) {
                Integer known = registeredId(subject, canonical);
                if (known != null) {
                    return JSON.createObjectNode().put("id", known);
                }
                List<Registered> versions = subjects.getOrDefault(subject, List.of());
                earlier = schemasOf(versions);
                level = levelOf(subject);
                id = idByCanonical.getOrDefault(canonical, nextId);
                version = versions.isEmpty() ? 1 : versions.getLast().version() + 1;
            }
            // only writers change a subject, and this one holds the write lock: the check needs no other lock
            List<String> problems = level.problems(schema, earlier);
            if (!problems.isEmpty()) {
                throw new RegistryError(
                        409,
                        409,
                        "Schema being registered is incompatible with an earlier schema " + "for subject \"" + subject
                                + "\", details: " + problems);
            }
            ObjectNode key = JSON.createObjectNode()
                    .put("keytype", "SCHEMA")
                    .put("subject", subject)
                    .put("version", version)
                    .put("magic", 1);
            ObjectNode value = JSON.createObjectNode()
                    .put("subject", subject)
                    .put("version", version)
                    .put("id", id)
                    .put("schema", canonical)
                    .put("deleted", false);
            store(key, value);
            synchronized (state) {
                added(subject, version, id, new Stored(canonical, schema));
            }
            return JSON.createObjectNode().put("id", id);
        } finally {
            writer.unlock();
        }
    }

    private ObjectNode lookup(String subject, JsonNode body) {
        String canonical = parseCandidate(body).toString();
        synchronized (state) {
            for (Registered r : versionsOf(subject)) {
                if (schemaById.get(r.id()).canonical().equals(canonical)) {
                    return describe(subject, r);
                }
            }
        }
        throw new RegistryError(404, 40403, "Schema not found");
    }

    private ObjectNode compatibility(String subject, String versionText, JsonNode body, boolean verbose) {
        Schema schema = parseCandidate(body);
        Compatibility level;
        List<Schema> against;
        synchronized (state) {
            List<Registered> versions = versionsOf(subject);
            level = levelOf(subject);
            if (versionText.equals("latest") || versionText.equals("-1")) {
                against = schemasOf(versions);
            } else {
                against = schemasOf(List.of(version(subject, versionText)));
            }
        }
        List<String> problems = level.problems(schema, against);
        ObjectNode r = JSON.createObjectNode().put("is_compatible", problems.isEmpty());
        if (verbose) {
            r.putArray("messages")
                    .addAll(problems.stream()
                            .map(p -> (JsonNode) JSON.getNodeFactory().textNode(p))
                            .toList());
        }
        return r;
    }

    private ObjectNode config(String subject, boolean defaultToGlobal) {
        synchronized (state) {
            Compatibility c = subject == null ? globalCompatibility : subjectCompatibility.get(subject);
            if (c == null) {
                if (!defaultToGlobal) {
                    throw new RegistryError(
                            404,
                            40408,
                            "Subject '" + subject + "' does not have subject-level compatibility configured");
                }
                c = globalCompatibility;
            }
            return JSON.createObjectNode().put("compatibilityLevel", c.name());
        }
    }

    private static Compatibility compatibilityFrom(JsonNode body) {
        String level = body.path("compatibility").asText(null);
        try {
            return Compatibility.parse(level);
        } catch (IllegalArgumentException e) {
            throw new RegistryError(
                    422,
                    42203,
                    "Invalid compatibility level. Valid values are none, backward, "
                            + "forward, full, backward_transitive, forward_transitive, and full_transitive");
        }
    }

    private ObjectNode putConfig(String subject, Compatibility c) {
        ObjectNode key = JSON.createObjectNode().put("keytype", "CONFIG").put("magic", 0);
        if (subject == null) {
            key.putNull("subject");
        } else {
            key.put("subject", subject);
        }
        lockWriter();
        try {
            store(key, JSON.createObjectNode().put("compatibilityLevel", c.name()));
            synchronized (state) {
                if (subject == null) {
                    globalCompatibility = c;
                } else {
                    subjectCompatibility.put(subject, c);
                }
            }
        } finally {
            writer.unlock();
        }
        return JSON.createObjectNode().put("compatibility", c.name());
    }

    @Override
    public void close() {
        server.close();
        producer.close(Duration.ofSeconds(5));
    }
}
