package io.sockflow.schemas.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.avro.Schema;

/**
 * A client of the Confluent Schema Registry REST API (also served by Apicurio's ccompat API, Karapace, Redpanda
 * and sockflow's embedded registry): registers and looks up Avro schemas, caches what it learned (ids never change
 * meaning), retries with exponential backoff on network errors and 5xx/429 answers, and speaks basic auth and TLS.
 */
public final class RegistryClient {
    static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** How to reach the registry. */
    public record Config(
            List<String> urls,
            String basicAuthUserInfo,
            Path trustStore,
            String trustStorePassword,
            Duration timeout,
            int maxAttempts,
            Duration initialBackoff,
            Duration maxBackoff) {
        public static Config of(String urls) {
            return new Config(
                    List.of(urls.split(",")),
                    null,
                    null,
                    null,
                    Duration.ofSeconds(10),
                    6,
                    Duration.ofMillis(100),
                    Duration.ofSeconds(5));
        }

        public Config withBasicAuth(String userInfo) {
            return new Config(
                    urls, userInfo, trustStore, trustStorePassword, timeout, maxAttempts, initialBackoff, maxBackoff);
        }

        public Config withTrustStore(Path path, String password) {
            return new Config(
                    urls, basicAuthUserInfo, path, password, timeout, maxAttempts, initialBackoff, maxBackoff);
        }

        public Config withRetries(int attempts, Duration initial, Duration max) {
            return new Config(urls, basicAuthUserInfo, trustStore, trustStorePassword, timeout, attempts, initial, max);
        }
    }

    /** A registered version of a subject. */
    public record Version(String subject, int version, int id, Schema schema) {}

    private final Config config;
    private final HttpClient http;
    private final Map<String, Integer> idsBySubjectAndSchema = new ConcurrentHashMap<>();
    private final Map<Integer, Schema> schemasById = new ConcurrentHashMap<>();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicLong requests = new AtomicLong();

    public RegistryClient(Config config) {
        this.config = config;
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(config.timeout());
        if (config.trustStore() != null) {
            b.sslContext(sslContext(config.trustStore(), config.trustStorePassword()));
        }
        this.http = b.build();
    }

    private static SSLContext sslContext(Path trustStore, String password) {
        try (InputStream in = Files.newInputStream(trustStore)) {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(in, password == null ? null : password.toCharArray());
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (Exception e) {
            throw new IllegalArgumentException("cannot use the trust store " + trustStore + ": " + e.getMessage(), e);
        }
    }

    /** Registers {@code schema} under {@code subject} (or finds it registered) and returns its global id. */
    public int register(String subject, Schema schema) {
        String canonical = schema.toString();
        String key = subject + '\u0000' + canonical;
        Integer cached = idsBySubjectAndSchema.get(key);
        if (cached != null) {
            return cached;
        }
        ObjectNode body = JSON.createObjectNode().put("schema", canonical);
        JsonNode r = call("POST", "/subjects/" + enc(subject) + "/versions", body);
        int id = r.get("id").asInt();
        idsBySubjectAndSchema.put(key, id);
        schemasById.putIfAbsent(id, schema);
        return id;
    }

    /** The schema with this global id. */
    public Schema byId(int id) {
        Schema s = schemasById.get(id);
        if (s != null) {
            return s;
        }
        JsonNode r = call("GET", "/schemas/ids/" + id, null);
        s = SchemaText.parse(r.get("schema").asText());
        schemasById.put(id, s);
        return s;
    }

    /** The latest version of a subject. */
    public Version latest(String subject) {
        return version(subject, "latest");
    }

    public Version version(String subject, String version) {
        JsonNode r = call("GET", "/subjects/" + enc(subject) + "/versions/" + version, null);
        return new Version(
                r.get("subject").asText(),
                r.get("version").asInt(),
                r.get("id").asInt(),
                SchemaText.parse(r.get("schema").asText()));
    }

    public List<String> subjects() {
        JsonNode r = call("GET", "/subjects", null);
        List<String> out = new ArrayList<>();
        r.forEach(n -> out.add(n.asText()));
        return out;
    }

    /** Whether {@code schema} could be registered under {@code subject} now. */
    public boolean compatible(String subject, Schema schema) {
        ObjectNode body = JSON.createObjectNode().put("schema", schema.toString());
        try {
            return call("POST", "/compatibility/subjects/" + enc(subject) + "/versions/latest", body)
                    .get("is_compatible")
                    .asBoolean();
        } catch (RegistryException e) {
            if (e.errorCode() == 40401) {
                return true; // no such subject yet: anything goes
            }
            throw e;
        }
    }

    /** Failed calls so far (each failed attempt counts), for the collector's metrics. */
    public long errors() {
        return errors.get();
    }

    public long requests() {
        return requests.get();
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    JsonNode call(String method, String path, JsonNode body) {
        long backoff = config.initialBackoff().toMillis();
        RuntimeException last = null;
        for (int attempt = 1; attempt <= config.maxAttempts(); attempt++) {
            String base =
                    config.urls().get((attempt - 1) % config.urls().size()).trim();
            if (base.endsWith("/")) {
                base = base.substring(0, base.length() - 1);
            }
            try {
                requests.incrementAndGet();
                HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                        .timeout(config.timeout())
                        .header("Accept", CONTENT_TYPE + ", application/json");
                if (config.basicAuthUserInfo() != null) {
                    b.header(
                            "Authorization",
                            "Basic "
                                    + Base64.getEncoder()
                                            .encodeToString(
                                                    config.basicAuthUserInfo().getBytes(StandardCharsets.UTF_8)));
                }
                if (body != null) {
                    b.header("Content-Type", CONTENT_TYPE)
                            .method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
                } else {
                    b.method(method, HttpRequest.BodyPublishers.noBody());
                }
                HttpResponse<String> resp = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
                int status = resp.statusCode();
                if (status >= 200 && status < 300) {
                    return JSON.readTree(resp.body());
                }
                errors.incrementAndGet();
                RegistryException e = toException(status, resp.body());
                if (status < 500 && status != 429) {
                    throw e; // the registry said no: retrying will not change its mind
                }
                last = e;
            } catch (IOException e) {
                errors.incrementAndGet();
                last = new RegistryException(
                        0,
                        0,
                        "schema registry at " + base + " unreachable: "
                                + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RegistryException(0, 0, "interrupted while calling the schema registry");
            }
            if (attempt < config.maxAttempts()) {
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw last;
                }
                backoff = Math.min(backoff * 2, config.maxBackoff().toMillis());
            }
        }
        throw last;
    }

    private static RegistryException toException(int status, String body) {
        try {
            JsonNode n = JSON.readTree(body);
            return new RegistryException(
                    status,
                    n.path("error_code").asInt(status),
                    n.path("message").asText(body));
        } catch (IOException e) {
            return new RegistryException(status, status, body);
        }
    }
}
