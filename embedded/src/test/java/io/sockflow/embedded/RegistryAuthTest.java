package io.sockflow.embedded;

import static io.sockflow.embedded.RawHttp.exchange;
import static io.sockflow.embedded.RawHttp.request;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.sockflow.embedded.EmbeddedSchemaRegistry.Options;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.registry.RegistryClient;
import io.sockflow.schemas.registry.RegistryException;
import io.sockflow.schemas.registry.SchemaText;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The registry listens on loopback unless opened on purpose, and then asks every client for its password. */
@Tag("slow")
@Timeout(120)
class RegistryAuthTest {
    static LocalStack stack;
    static EmbeddedSchemaRegistry registry;
    static int port;

    @BeforeAll
    static void start() {
        stack = LocalStack.shared();
        registry = EmbeddedSchemaRegistry.start(
                stack.bootstrapServers(),
                Options.defaults()
                        .withTopic("_schemas-auth-" + UUID.randomUUID())
                        .withUser("alice", "s3cret")
                        .withUser("bob", "hunter2"));
        port = registry.address().getPort();
    }

    @AfterAll
    static void stop() {
        registry.close();
    }

    static String basic(String userInfo) {
        return "Authorization: Basic " + Base64.getEncoder().encodeToString(userInfo.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void withoutTheRightCredentialsEveryRequestIs401WithABasicChallenge() throws Exception {
        List<String[]> wrong = new ArrayList<>();
        wrong.add(new String[0]);
        for (String h : new String[] {
            basic("alice:wrong"),
            basic("mallory:s3cret"),
            basic("alice:s3cret "),
            basic("alice:hunter2"),
            basic("alice"),
            basic(""),
            "Authorization: Basic !!not-base64!!",
            "Authorization: Bearer s3cret",
            "Authorization: Basic"
        }) {
            wrong.add(new String[] {h});
        }
        for (String[] headers : wrong) {
            String what = headers.length == 0 ? "no credentials" : headers[0];
            RawHttp.Reply r =
                    exchange(port, request("GET", "/subjects", null, headers)).assertError(401, 401);
            assertTrue(r.headers().getOrDefault("www-authenticate", "").startsWith("Basic realm="), what);
            // nothing is told to a stranger: not whether a path exists, nor how large a body may be
            exchange(port, request("GET", "/no/such/path", null, headers)).assertError(401, 401);
            exchange(
                            port,
                            "POST /subjects/x/versions HTTP/1.1\r\nContent-Length: 100000000\r\n"
                                    + (headers.length == 0 ? "" : headers[0] + "\r\n") + "\r\n")
                    .assertError(401, 401);
        }
        assertEquals(
                200,
                exchange(port, request("GET", "/subjects", null, basic("alice:s3cret")))
                        .status());
        assertEquals(
                200,
                exchange(port, request("GET", "/subjects", null, basic("bob:hunter2")))
                        .status());
        assertEquals(
                200,
                exchange(
                                port,
                                request(
                                        "GET",
                                        "/subjects",
                                        null,
                                        "authorization: basic "
                                                + Base64.getEncoder().encodeToString("bob:hunter2".getBytes())))
                        .status(),
                "the scheme's name is case-insensitive");
    }

    @Test
    void theProjectsClientAuthenticatesWithBasicAuth() {
        String subject = "auth-" + UUID.randomUUID() + "-value";
        RegistryClient alice =
                new RegistryClient(RegistryClient.Config.of(registry.url()).withBasicAuth("alice:s3cret"));
        int id = alice.register(subject, SocketEvent.getClassSchema());
        RegistryClient bob =
                new RegistryClient(RegistryClient.Config.of(registry.url()).withBasicAuth("bob:hunter2"));
        assertEquals(SocketEvent.getClassSchema(), bob.byId(id));
        assertEquals(id, bob.latest(subject).id());
        for (RegistryClient.Config refused : new RegistryClient.Config[] {
            RegistryClient.Config.of(registry.url()),
            RegistryClient.Config.of(registry.url()).withBasicAuth("alice:hunter2")
        }) {
            RegistryClient c = new RegistryClient(refused);
            RegistryException e = assertThrows(RegistryException.class, () -> c.byId(id));
            assertEquals(401, e.status());
            assertEquals(401, e.errorCode());
            assertEquals(1, c.errors(), "a 401 is not retried");
        }
    }

    static final String PYTHON = String.join(
            "\n",
            "import json, sys",
            "from confluent_kafka import avro",
            "from confluent_kafka.avro.cached_schema_registry_client import CachedSchemaRegistryClient",
            "from confluent_kafka.avro.error import ClientError",
            "url, subject, user_info = sys.argv[1], sys.argv[2], sys.argv[3]",
            "def client(info):",
            "    conf = {'url': url}",
            "    if info:",
            "        conf.update({'basic.auth.credentials.source': 'USER_INFO', 'basic.auth.user.info': info})",
            "    return CachedSchemaRegistryClient(conf)",
            "schema = avro.loads('{\"type\": \"record\", \"name\": \"Py\", \"namespace\": \"t\", \"fields\": '",
            "    '[{\"name\": \"n\", \"type\": \"long\"}, {\"name\": \"s\", \"type\": [\"null\", \"string\"], \"default\": null}]}')",
            "schema_id = client(user_info).register(subject, schema)",
            "fetched = client(user_info).get_by_id(schema_id)",
            "try:",
            "    client(None).register(subject, schema)",
            "    refused = False",
            "except ClientError as e:",
            "    refused = '401' in str(e)",
            "print(json.dumps({'id': schema_id, 'fetched': str(fetched), 'refused': refused}))");

    @Test
    void confluentsPythonClientRegistersAndFetchesWithBasicAuth() throws Exception {
        String subject = "py-" + UUID.randomUUID() + "-value";
        Process p =
                new ProcessBuilder("/usr/bin/python3", "-c", PYTHON, registry.url(), subject, "bob:hunter2").start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), err);
        JsonNode r = RawHttp.JSON.readTree(out);
        int id = r.get("id").asInt();
        assertTrue(r.get("refused").asBoolean(), "without credentials the Python client was refused: " + out);
        RegistryClient java =
                new RegistryClient(RegistryClient.Config.of(registry.url()).withBasicAuth("alice:s3cret"));
        assertEquals(SchemaText.parse(r.get("fetched").asText()), java.byId(id), "Python fetched what it registered");
        assertEquals(id, java.latest(subject).id());
        assertEquals("t.Py", java.byId(id).getFullName());
    }

    @Test
    void openingTheRegistryBeyondLoopbackNeedsUsers() {
        IllegalArgumentException open = assertThrows(
                IllegalArgumentException.class,
                () -> EmbeddedSchemaRegistry.start(
                        stack.bootstrapServers(), Options.defaults().withBindAddress("0.0.0.0")));
        assertTrue(open.getMessage().contains("without authentication"), open.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> EmbeddedSchemaRegistry.start(
                        stack.bootstrapServers(), Options.defaults().withUser("a:b", "pw")));
        assertThrows(
                IllegalArgumentException.class,
                () -> EmbeddedSchemaRegistry.start(
                        stack.bootstrapServers(), Options.defaults().withUser("a", "")));
        assertThrows(
                IllegalArgumentException.class,
                () -> EmbeddedSchemaRegistry.start(
                        stack.bootstrapServers(), Options.defaults().withMaxRequestBytes(0)));
        assertThrows(
                IllegalArgumentException.class,
                () -> EmbeddedSchemaRegistry.start(
                        stack.bootstrapServers(), Options.defaults().withReadTimeout(Duration.ZERO)));
        // the bind address is honoured (127.0.0.2 is loopback too, so this test opens nothing)
        try (EmbeddedSchemaRegistry r = EmbeddedSchemaRegistry.start(
                stack.bootstrapServers(),
                Options.defaults()
                        .withTopic("_schemas-bind-" + UUID.randomUUID())
                        .withBindAddress("127.0.0.2"))) {
            assertEquals("127.0.0.2", r.address().getAddress().getHostAddress());
            assertTrue(r.url().startsWith("http://127.0.0.2:"), r.url());
        }
    }
}
