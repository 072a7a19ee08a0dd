package io.sockflow.embedded;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.sockflow.schemas.registry.Compatibility;
import io.sockflow.schemas.registry.SchemaText;
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

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A schema registry for the local default that serves the part of the Confluent Schema Registry REST API that
 * producers, consumers and tools use, with Confluent's status codes and error bodies, Avro compatibility checks,
 * and its state kept in a compacted Kafka topic ({@code _schemas}) so that ids survive a restart. One instance
 * writes; it is not a cluster.
 */
public final class EmbeddedSchemaRegistry implements AutoCloseable {
    public static final String TOPIC = "_schemas";
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedSchemaRegistry.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

    private record Registered(int version, int id) {
    }

    private final Map<Integer, String> schemaById = new HashMap<>();
    private final Map<String, Integer> idByCanonical = new HashMap<>();
    private final Map<String, List<Registered>> subjects = new LinkedHashMap<>();
    private final Map<String, Compatibility> subjectCompatibility = new HashMap<>();
    private Compatibility globalCompatibility = Compatibility.BACKWARD;
    private int nextId = 1;

    private final KafkaProducer<String, String> producer;
    private final HttpServer server;

    private EmbeddedSchemaRegistry(String bootstrap, int port) throws IOException {
        ensureTopic(bootstrap);
        load(bootstrap);
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 15_000);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 64);
        server.createContext("/", this::handle);
        server.setExecutor(Executors.newFixedThreadPool(4, r -> Thread.ofPlatform().daemon().name("registry-http").unstarted(r)));
        server.start();
    }

    /** Starts on {@code port} (0: any free port), reading what an earlier instance stored in {@code _schemas}. */
    public static EmbeddedSchemaRegistry start(String bootstrapServers, int port) {
        try {
            return new EmbeddedSchemaRegistry(bootstrapServers, port);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the schema registry on port " + port + ": " + e.getMessage(), e);
        }
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private static void ensureTopic(String bootstrap) {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1)
                    .configs(Map.of("cleanup.policy", "compact")))).all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException("cannot create " + TOPIC + ": " + e.getCause().getMessage(), e);
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot create " + TOPIC + ": " + e.getMessage(), e);
        }
    }

    /** Replays the topic from the beginning to its end. */
    private void load(String bootstrap) {
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c, new StringDeserializer(),
                new StringDeserializer())) {
            TopicPartition tp = new TopicPartition(TOPIC, 0);
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
                    int id = v.get("id").asInt();
                    String canonical = v.get("schema").asText();
                    schemaById.put(id, canonical);
                    idByCanonical.put(canonical, id);
                    subjects.computeIfAbsent(v.get("subject").asText(), s -> new ArrayList<>())
                            .add(new Registered(v.get("version").asInt(), id));
                    nextId = Math.max(nextId, id + 1);
                }
                case "CONFIG" -> {
                    Compatibility level = Compatibility.parse(v.get("compatibilityLevel").asText());
                    if (k.path("subject").isNull() || k.path("subject").isMissingNode()) {
                        globalCompatibility = level;
                    } else {
                        subjectCompatibility.put(k.get("subject").asText(), level);
                    }
                }
                default -> LOG.warn("ignoring an unknown record in {}: {}", TOPIC, key);
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("ignoring a corrupt record in {}: {}", TOPIC, e.getMessage());
        }
    }

    private void store(ObjectNode key, ObjectNode value) {
        try {
            producer.send(new ProducerRecord<>(TOPIC, JSON.writeValueAsString(key), JSON.writeValueAsString(value)))
                    .get(15, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new HttpError(500, 50001, "Error in the backend datastore: " + e.getMessage());
        }
    }

    /** An error answer with Confluent's code. */
    private static final class HttpError extends RuntimeException {
        final int status;
        final int code;

        HttpError(int status, int code, String message) {
            super(message);
            this.status = status;
            this.code = code;
        }
    }

    private static final Pattern SUBJECT_VERSIONS = Pattern.compile("^/subjects/([^/]+)/versions/?$");
    private static final Pattern SUBJECT_VERSION = Pattern.compile("^/subjects/([^/]+)/versions/([^/]+)$");
    private static final Pattern SUBJECT_VERSION_SCHEMA = Pattern.compile("^/subjects/([^/]+)/versions/([^/]+)/schema$");
    private static final Pattern SUBJECT = Pattern.compile("^/subjects/([^/]+)/?$");
    private static final Pattern SCHEMA_ID = Pattern.compile("^/schemas/ids/(\\d+)$");
    private static final Pattern SCHEMA_ID_SCHEMA = Pattern.compile("^/schemas/ids/(\\d+)/schema$");
    private static final Pattern CONFIG_SUBJECT = Pattern.compile("^/config/([^/]+)$");
    private static final Pattern COMPAT = Pattern.compile("^/compatibility/subjects/([^/]+)/versions/([^/]+)$");

    private void handle(HttpExchange ex) throws IOException {
        int status = 200;
        Object body;
        try {
            body = route(ex);
        } catch (HttpError e) {
            status = e.status;
            body = JSON.createObjectNode().put("error_code", e.code).put("message", e.getMessage());
        } catch (RuntimeException e) {
            status = 500;
            body = JSON.createObjectNode().put("error_code", 50001).put("message", String.valueOf(e.getMessage()));
        }
        byte[] out = JSON.writeValueAsBytes(body);
        ex.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
        ex.sendResponseHeaders(status, out.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(out);
        }
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    private JsonNode requestBody(HttpExchange ex) {
        try {
            byte[] b = ex.getRequestBody().readAllBytes();
            return b.length == 0 ? JSON.createObjectNode() : JSON.readTree(b);
        } catch (IOException e) {
            throw new HttpError(400, 400, "Unrecognized request body: " + e.getMessage());
        }
    }

    private Object route(HttpExchange ex) {
        String method = ex.getRequestMethod();
        String path = ex.getRequestURI().getRawPath();
        String query = ex.getRequestURI().getRawQuery();
        Matcher m;
        synchronized (this) {
            if (path.equals("/") || path.isEmpty()) {
                return JSON.createObjectNode();
            }
            if (path.equals("/subjects") || path.equals("/subjects/")) {
                requireMethod(method, "GET");
                return new ArrayList<>(subjects.keySet());
            }
            if ((m = SUBJECT_VERSIONS.matcher(path)).matches()) {
                String subject = decode(m.group(1));
                if (method.equals("POST")) {
                    return register(subject, requestBody(ex));
                }
                requireMethod(method, "GET");
                return versionsOf(subject).stream().map(Registered::version).toList();
            }
            if ((m = SUBJECT_VERSION_SCHEMA.matcher(path)).matches()) {
                requireMethod(method, "GET");
                Registered r = version(decode(m.group(1)), m.group(2));
                return rawSchema(r.id());
            }
            if ((m = SUBJECT_VERSION.matcher(path)).matches()) {
                requireMethod(method, "GET");
                String subject = decode(m.group(1));
                return describe(subject, version(subject, m.group(2)));
            }
            if ((m = SUBJECT.matcher(path)).matches()) {
                requireMethod(method, "POST");
                return lookup(decode(m.group(1)), requestBody(ex));
            }
            if ((m = SCHEMA_ID_SCHEMA.matcher(path)).matches()) {
                requireMethod(method, "GET");
                return rawSchema(schemaId(m.group(1)));
            }
            if ((m = SCHEMA_ID.matcher(path)).matches()) {
                requireMethod(method, "GET");
                int id = schemaId(m.group(1));
                return JSON.createObjectNode().put("schema", schemaById.get(id));
            }
            if (path.equals("/config") || path.equals("/config/")) {
                if (method.equals("PUT")) {
                    Compatibility c = compatibilityFrom(requestBody(ex));
                    storeConfig(null, c);
                    globalCompatibility = c;
                    return JSON.createObjectNode().put("compatibility", c.name());
                }
                requireMethod(method, "GET");
                return JSON.createObjectNode().put("compatibilityLevel", globalCompatibility.name());
            }
            if ((m = CONFIG_SUBJECT.matcher(path)).matches()) {
                String subject = decode(m.group(1));
                if (method.equals("PUT")) {
                    Compatibility c = compatibilityFrom(requestBody(ex));
                    storeConfig(subject, c);
                    subjectCompatibility.put(subject, c);
                    return JSON.createObjectNode().put("compatibility", c.name());
                }
                requireMethod(method, "GET");
                Compatibility c = subjectCompatibility.get(subject);
                if (c == null) {
                    if (query != null && query.contains("defaultToGlobal=true")) {
                        c = globalCompatibility;
                    } else {
                        throw new HttpError(404, 40408, "Subject '" + subject
                                + "' does not have subject-level compatibility configured");
                    }
                }
                return JSON.createObjectNode().put("compatibilityLevel", c.name());
            }
            if ((m = COMPAT.matcher(path)).matches()) {
                requireMethod(method, "POST");
                return compatibility(decode(m.group(1)), m.group(2), requestBody(ex),
                        query != null && query.contains("verbose=true"));
            }
        }
        throw new HttpError(404, 404, "HTTP 404 Not Found");
    }

    private static void requireMethod(String method, String expected) {
        if (!method.equals(expected)) {
            throw new HttpError(405, 405, "HTTP 405 Method Not Allowed");
        }
    }

    private int schemaId(String text) {
        int id;
        try {
            id = Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new HttpError(404, 40403, "Schema " + text + " not found");
        }
        if (!schemaById.containsKey(id)) {
            throw new HttpError(404, 40403, "Schema " + id + " not found");
        }
        return id;
    }

    private JsonNode rawSchema(int id) {
        try {
            return JSON.readTree(schemaById.get(id));
        } catch (IOException e) {
            throw new HttpError(500, 50001, e.getMessage());
        }
    }

    private List<Registered> versionsOf(String subject) {
        List<Registered> v = subjects.get(subject);
        if (v == null || v.isEmpty()) {
            throw new HttpError(404, 40401, "Subject '" + subject + "' not found.");
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
            throw new HttpError(422, 42202, "The specified version '" + versionText + "' is not a valid version id. "
                    + "Allowed values are between [1, 2^31-1] and the string \"latest\"");
        }
        if (v < 1) {
            throw new HttpError(422, 42202, "The specified version '" + versionText + "' is not a valid version id. "
                    + "Allowed values are between [1, 2^31-1] and the string \"latest\"");
        }
        for (Registered r : versions) {
            if (r.version() == v) {
                return r;
            }
        }
        throw new HttpError(404, 40402, "Version " + v + " not found.");
    }

    private ObjectNode describe(String subject, Registered r) {
        return JSON.createObjectNode().put("subject", subject).put("version", r.version()).put("id", r.id())
                .put("schema", schemaById.get(r.id()));
    }

    private static Schema parseCandidate(JsonNode body) {
        String type = body.path("schemaType").asText("AVRO");
        if (!type.equals("AVRO")) {
            throw new HttpError(422, 42201, "Invalid schema: this registry serves AVRO schemas only, not " + type);
        }
        JsonNode text = body.get("schema");
        if (text == null || !text.isTextual()) {
            throw new HttpError(422, 42201, "Invalid schema: the request has no \"schema\" string");
        }
        try {
            return SchemaText.parse(text.asText());
        } catch (RuntimeException e) {
            throw new HttpError(422, 42201, "Invalid schema " + text.asText() + ": " + e.getMessage());
        }
    }

    private Compatibility levelOf(String subject) {
        return subjectCompatibility.getOrDefault(subject, globalCompatibility);
    }

    private List<Schema> schemasOf(List<Registered> versions) {
        List<Schema> out = new ArrayList<>();
        for (Registered r : versions) {
            out.add(SchemaText.parse(schemaById.get(r.id())));
        }
        return out;
    }

    private ObjectNode register(String subject, JsonNode body) {
        Schema schema = parseCandidate(body);
        String canonical = schema.toString();
        List<Registered> versions = subjects.getOrDefault(subject, List.of());
        for (Registered r : versions) {
            if (schemaById.get(r.id()).equals(canonical)) {
                return JSON.createObjectNode().put("id", r.id()); // the same schema again: the same id
            }
        }
        List<String> problems = levelOf(subject).problems(schema, schemasOf(versions));
        if (!problems.isEmpty()) {
            throw new HttpError(409, 409, "Schema being registered is incompatible with an earlier schema for subject \""
                    + subject + "\", details: " + problems);
        }
        int id = idByCanonical.getOrDefault(canonical, nextId);
        int version = versions.isEmpty() ? 1 : versions.getLast().version() + 1;
        ObjectNode key = JSON.createObjectNode().put("keytype", "SCHEMA").put("subject", subject)
                .put("version", version).put("magic", 1);
        ObjectNode value = JSON.createObjectNode().put("subject", subject).put("version", version).put("id", id)
                .put("schema", canonical).put("deleted", false);
        store(key, value);
        if (id == nextId) {
            nextId++;
        }
        schemaById.put(id, canonical);
        idByCanonical.put(canonical, id);
        subjects.computeIfAbsent(subject, s -> new ArrayList<>()).add(new Registered(version, id));
        return JSON.createObjectNode().put("id", id);
    }

    private ObjectNode lookup(String subject, JsonNode body) {
        Schema schema = parseCandidate(body);
        String canonical = schema.toString();
        for (Registered r : versionsOf(subject)) {
            if (schemaById.get(r.id()).equals(canonical)) {
                return describe(subject, r);
            }
        }
        throw new HttpError(404, 40403, "Schema not found");
    }

    private ObjectNode compatibility(String subject, String versionText, JsonNode body, boolean verbose) {
        Schema schema = parseCandidate(body);
        List<Registered> versions = versionsOf(subject);
        Compatibility level = levelOf(subject);
        List<Schema> against;
        if (versionText.equals("latest") || versionText.equals("-1")) {
            against = schemasOf(versions);
        } else {
            against = schemasOf(List.of(version(subject, versionText)));
        }
        List<String> problems = level.problems(schema, against);
        ObjectNode r = JSON.createObjectNode().put("is_compatible", problems.isEmpty());
        if (verbose) {
            r.putArray("messages").addAll(problems.stream().map(p -> (JsonNode) JSON.getNodeFactory().textNode(p)).toList());
        }
        return r;
    }

    private static Compatibility compatibilityFrom(JsonNode body) {
        String level = body.path("compatibility").asText(null);
        try {
            return Compatibility.parse(level);
        } catch (IllegalArgumentException e) {
            throw new HttpError(422, 42203, "Invalid compatibility level. Valid values are none, backward, forward, "
                    + "full, backward_transitive, forward_transitive, and full_transitive");
        }
    }

    private void storeConfig(String subject, Compatibility c) {
        ObjectNode key = JSON.createObjectNode().put("keytype", "CONFIG").put("magic", 0);
        if (subject == null) {
            key.putNull("subject");
        } else {
            key.put("subject", subject);
        }
        store(key, JSON.createObjectNode().put("compatibilityLevel", c.name()));
    }

    @Override
    public void close() {
        server.stop(0);
        producer.close(Duration.ofSeconds(5));
    }
}
