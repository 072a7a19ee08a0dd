package io.sockflow.embedded;

import static io.sockflow.embedded.RawHttp.exchange;
import static io.sockflow.embedded.RawHttp.request;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.registry.RegistryClient;
import io.sockflow.schemas.registry.RegistryException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.UUID;
import org.apache.avro.Schema;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The embedded registry answers as Confluent Schema Registry does, and keeps its ids across a restart. */
@Tag("slow")
class EmbeddedSchemaRegistryTest {
    static LocalStack stack;
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final ObjectMapper JSON = new ObjectMapper();

    record Answer(int status, JsonNode body) {}

    @BeforeAll
    static void start() {
        stack = LocalStack.shared();
    }

    static Answer call(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(stack.registryUrl() + path))
                .header("Content-Type", "application/vnd.schemaregistry.v1+json");
        b.method(
                method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(
                "application/vnd.schemaregistry.v1+json",
                r.headers().firstValue("Content-Type").orElse(""));
        return new Answer(r.statusCode(), JSON.readTree(r.body()));
    }

    static int port() {
        String url = stack.registryUrl();
        return Integer.parseInt(url.substring(url.lastIndexOf(':') + 1));
    }

    static String schemaBody(String schema) throws Exception {
        return JSON.writeValueAsString(JSON.createObjectNode().put("schema", schema));
    }

    static String subject() {
        return "t-" + UUID.randomUUID() + "-value";
    }

    static final String V1 = "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}";
    // the same schema, written differently (key order, spacing), as another client would
    static final String V1_OTHER_TEXT =
            "{ \"fields\": [ {\"type\": \"int\", \"name\": \"a\"} ], \"name\": \"R\", \"type\": \"record\" }";
    static final String V2_COMPATIBLE =
            "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},"
                    + "{\"name\":\"b\",\"type\":[\"null\",\"string\"],\"default\":null}]}";
    static final String V2_BREAKING =
            "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},"
                    + "{\"name\":\"c\",\"type\":\"string\"}]}";

    @Test
    void theSameSchemaTwiceGetsTheSameIdWhateverItsText() throws Exception {
        String s = subject();
        Answer first = call("POST", "/subjects/" + s + "/versions", schemaBody(V1));
        assertEquals(200, first.status());
        Answer again = call("POST", "/subjects/" + s + "/versions", schemaBody(V1_OTHER_TEXT));
        assertEquals(first.body().get("id"), again.body().get("id"));
        assertEquals(
                "[1]", call("GET", "/subjects/" + s + "/versions", null).body().toString());
        // another subject with the same schema shares the global id
        Answer other = call("POST", "/subjects/" + subject() + "/versions", schemaBody(V1));
        assertEquals(first.body().get("id"), other.body().get("id"));
    }

    @Test
    void anIncompatibleChangeIsRefusedWith409() throws Exception {
        String s = subject();
        call("POST", "/subjects/" + s + "/versions", schemaBody(V1));
        Answer bad = call("POST", "/subjects/" + s + "/versions", schemaBody(V2_BREAKING));
        assertEquals(409, bad.status());
        assertEquals(409, bad.body().get("error_code").asInt());
        assertTrue(bad.body().get("message").asText().contains("incompatible"));
        Answer good = call("POST", "/subjects/" + s + "/versions", schemaBody(V2_COMPATIBLE));
        assertEquals(200, good.status());
        assertEquals(
                "[1,2]",
                call("GET", "/subjects/" + s + "/versions", null).body().toString());
        Answer check = call("POST", "/compatibility/subjects/" + s + "/versions/latest", schemaBody(V2_BREAKING));
        assertEquals(200, check.status());
        assertFalse(check.body().get("is_compatible").asBoolean());
        assertTrue(call("POST", "/compatibility/subjects/" + s + "/versions/1", schemaBody(V2_COMPATIBLE))
                .body()
                .get("is_compatible")
                .asBoolean());
    }

    @Test
    void unknownSubjectVersionAndIdAre404WithConfluentsCodes() throws Exception {
        String s = subject();
        Answer noSubject = call("GET", "/subjects/" + s + "/versions", null);
        assertEquals(404, noSubject.status());
        assertEquals(40401, noSubject.body().get("error_code").asInt());
        assertEquals(
                40401,
                call("GET", "/subjects/" + s + "/versions/1", null)
                        .body()
                        .get("error_code")
                        .asInt());
        call("POST", "/subjects/" + s + "/versions", schemaBody(V1));
        Answer noVersion = call("GET", "/subjects/" + s + "/versions/7", null);
        assertEquals(404, noVersion.status());
        assertEquals(40402, noVersion.body().get("error_code").asInt());
        Answer noId = call("GET", "/schemas/ids/999999", null);
        assertEquals(404, noId.status());
        assertEquals(40403, noId.body().get("error_code").asInt());
        Answer notThere = call("POST", "/subjects/" + s, schemaBody(V2_COMPATIBLE));
        assertEquals(404, notThere.status());
        assertEquals(40403, notThere.body().get("error_code").asInt());
        Answer badVersion = call("GET", "/subjects/" + s + "/versions/zero", null);
        assertEquals(422, badVersion.status());
        assertEquals(42202, badVersion.body().get("error_code").asInt());
        Answer badSchema = call("POST", "/subjects/" + s + "/versions", schemaBody("{\"type\":\"nope\"}"));
        assertEquals(422, badSchema.status());
        assertEquals(42201, badSchema.body().get("error_code").asInt());
    }

    @Test
    void versionsLookupAndIdsAnswerWithTheSchema() throws Exception {
        String s = subject();
        int id = call("POST", "/subjects/" + s + "/versions", schemaBody(V1))
                .body()
                .get("id")
                .asInt();
        Answer v = call("GET", "/subjects/" + s + "/versions/latest", null);
        assertEquals(s, v.body().get("subject").asText());
        assertEquals(1, v.body().get("version").asInt());
        assertEquals(id, v.body().get("id").asInt());
        assertEquals(
                new Schema.Parser().parse(V1),
                new Schema.Parser().parse(v.body().get("schema").asText()));
        Answer found = call("POST", "/subjects/" + s, schemaBody(V1_OTHER_TEXT));
        assertEquals(id, found.body().get("id").asInt());
        assertEquals(1, found.body().get("version").asInt());
        assertEquals(
                new Schema.Parser().parse(V1),
                new Schema.Parser()
                        .parse(call("GET", "/schemas/ids/" + id, null)
                                .body()
                                .get("schema")
                                .asText()));
        assertTrue(call("GET", "/subjects", null).body().toString().contains(s));
    }

    @Test
    void compatibilityIsConfigurableGloballyAndPerSubject() throws Exception {
        assertEquals(
                "BACKWARD",
                call("GET", "/config", null).body().get("compatibilityLevel").asText());
        String s = subject();
        Answer none = call("GET", "/config/" + s, null);
        assertEquals(404, none.status());
        assertEquals(40408, none.body().get("error_code").asInt());
        assertEquals(
                "BACKWARD",
                call("GET", "/config/" + s + "?defaultToGlobal=true", null)
                        .body()
                        .get("compatibilityLevel")
                        .asText());
        Answer set = call("PUT", "/config/" + s, "{\"compatibility\":\"NONE\"}");
        assertEquals("NONE", set.body().get("compatibility").asText());
        call("POST", "/subjects/" + s + "/versions", schemaBody(V1));
        assertEquals(
                200,
                call("POST", "/subjects/" + s + "/versions", schemaBody(V2_BREAKING))
                        .status(),
                "NONE accepts anything");
        Answer bad = call("PUT", "/config/" + s, "{\"compatibility\":\"SIDEWAYS\"}");
        assertEquals(422, bad.status());
        assertEquals(42203, bad.body().get("error_code").asInt());
    }

    @Test
    void idsAndConfigSurviveARestart() throws Exception {
        String s = subject();
        int id1 = call("POST", "/subjects/" + s + "/versions", schemaBody(V1))
                .body()
                .get("id")
                .asInt();
        int id2 = call("POST", "/subjects/" + s + "/versions", schemaBody(V2_COMPATIBLE))
                .body()
                .get("id")
                .asInt();
        call("PUT", "/config/" + s, "{\"compatibility\":\"FULL\"}");
        stack.restartRegistry();
        assertEquals(
                id1,
                call("GET", "/subjects/" + s + "/versions/1", null)
                        .body()
                        .get("id")
                        .asInt());
        assertEquals(
                id2,
                call("GET", "/subjects/" + s + "/versions/2", null)
                        .body()
                        .get("id")
                        .asInt());
        assertEquals(
                "FULL",
                call("GET", "/config/" + s, null)
                        .body()
                        .get("compatibilityLevel")
                        .asText());
        assertEquals(
                id2,
                call("POST", "/subjects/" + s + "/versions", schemaBody(V2_COMPATIBLE))
                        .body()
                        .get("id")
                        .asInt());
        int id3 = call(
                        "POST",
                        "/subjects/" + subject() + "/versions",
                        schemaBody(
                                "{\"type\":\"record\",\"name\":\"Fresh" + Math.abs(s.hashCode()) + "\",\"fields\":[]}"))
                .body()
                .get("id")
                .asInt();
        assertTrue(id3 > id2, "new ids continue after the restored ones");
    }

    @Test
    void theClientRegistersCachesAndReportsErrors() {
        RegistryClient client = new RegistryClient(RegistryClient.Config.of(stack.registryUrl()));
        String s = subject();
        int id = client.register(s, SocketEvent.getClassSchema());
        long calls = client.requests();
        assertEquals(id, client.register(s, SocketEvent.getClassSchema()));
        assertEquals(calls, client.requests(), "cached: no second request");
        assertEquals(SocketEvent.getClassSchema(), client.byId(id));
        RegistryException e = assertThrows(RegistryException.class, () -> client.latest(subject()));
        assertEquals(40401, e.errorCode());
        RegistryClient down = new RegistryClient(RegistryClient.Config.of("http://127.0.0.1:1")
                .withRetries(3, java.time.Duration.ofMillis(10), java.time.Duration.ofMillis(20)));
        RegistryException unreachable = assertThrows(RegistryException.class, () -> down.byId(1));
        assertTrue(unreachable.getMessage().contains("unreachable"), unreachable.getMessage());
        assertEquals(3, down.errors(), "each attempt counted");
    }

    @Test
    void aBadPercentEscapeIsA400WithAJsonBody() throws Exception {
        for (String target : new String[] {
            "/subjects/%zz/versions",
            "/subjects/a%/versions",
            "/subjects/a%2/versions",
            "/subjects/%u0041/versions",
            "/subjects/%E0%A4/versions" /* not UTF-8 */,
            "/config/x?defaultToGlobal=%G1",
            "/%"
        }) {
            RawHttp.Reply r = exchange(port(), request("GET", target, null)).assertError(400, 400);
            assertTrue(r.json().get("message").asText().contains("%"), r.body());
        }
        // a well-formed escape still reaches the subject it names, '+' in a path included
        String s = "t-" + UUID.randomUUID() + " a+b/c";
        String enc = java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8)
                .replace("+", "%20")
                .replace("%2B", "+"); // a raw '+' in a path is a plus, not a space
        assertEquals(
                200,
                call("POST", "/subjects/" + enc + "/versions", schemaBody(V1)).status());
        assertEquals(
                s,
                call("GET", "/subjects/" + enc + "/versions/1", null)
                        .body()
                        .get("subject")
                        .asText());
    }

    @Test
    void everyBadRequestIsA4xxWithConfluentsJsonShape() throws Exception {
        String s = subject();
        call("POST", "/subjects/" + s + "/versions", schemaBody(V1));
        String type = "Content-Type: application/vnd.schemaregistry.v1+json";
        int p = port();
        // the body
        exchange(p, request("POST", "/subjects/" + s + "/versions", "{\"schema\": ", type))
                .assertError(400, 400);
        exchange(p, request("POST", "/subjects/" + s + "/versions", "[1, 2]", type))
                .assertError(400, 400);
        exchange(p, request("PUT", "/config", "not json", type)).assertError(400, 400);
        exchange(p, request("POST", "/subjects/" + s + "/versions", "{\"schema\": 5}", type))
                .assertError(422, 42201);
        exchange(
                        p,
                        request(
                                "POST",
                                "/subjects/" + s + "/versions",
                                "{\"schema\": \"{\\\"type\\\": \\\"int\\\"}\", "
                                        + "\"references\": [{\"name\": \"x\", \"subject\": \"y\", \"version\": 1}]}",
                                type))
                .assertError(422, 42201);
        exchange(
                        p,
                        request(
                                "POST",
                                "/subjects/" + s + "/versions",
                                "{\"schema\": \"x\", \"schemaType\": \"PROTOBUF\"}",
                                type))
                .assertError(422, 42201);
        exchange(p, request("POST", "/compatibility/subjects/" + s + "/versions/0", schemaBody(V1), type))
                .assertError(422, 42202);
        exchange(p, request("POST", "/compatibility/subjects/" + s + "/versions/9", schemaBody(V1), type))
                .assertError(404, 40402);
        exchange(p, request("POST", "/compatibility/subjects/nope-" + s + "/versions/latest", schemaBody(V1), type))
                .assertError(404, 40401);
        exchange(p, request("GET", "/subjects/" + s + "/versions/2147483648", null))
                .assertError(422, 42202);
        exchange(p, request("GET", "/schemas/ids/99999999999", null)).assertError(404, 40403);
        // paths and methods
        exchange(p, request("GET", "/nowhere", null)).assertError(404, 404);
        exchange(p, request("GET", "/schemas/ids/abc", null)).assertError(404, 404);
        exchange(p, request("GET", "/subjects/" + s + "/versions/1/other", null))
                .assertError(404, 404);
        RawHttp.Reply method = exchange(p, request("DELETE", "/subjects/" + s + "/versions", null))
                .assertError(405, 405);
        assertEquals("GET, POST", method.headers().get("allow"));
        exchange(p, request("PATCH", "/config", "{}", type)).assertError(405, 405);
        // media types
        exchange(p, request("POST", "/subjects/" + s + "/versions", schemaBody(V1), "Content-Type: text/plain"))
                .assertError(415, 415);
        exchange(
                        p,
                        request(
                                "POST",
                                "/subjects/" + s + "/versions",
                                schemaBody(V1),
                                "Content-Type: application/x-www-form-urlencoded"))
                .assertError(415, 415);
        exchange(p, request("GET", "/subjects", null, "Accept: text/html")).assertError(406, 406);
        assertEquals(
                200,
                exchange(
                                p,
                                request(
                                        "GET",
                                        "/subjects",
                                        null,
                                        "Accept: application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json; qs=0.9"))
                        .status());
        assertEquals(
                200,
                exchange(
                                p,
                                request(
                                        "POST",
                                        "/subjects/" + s + "/versions",
                                        schemaBody(V1),
                                        "Content-Type: application/json; charset=utf-8"))
                        .status());
        // HTTP itself
        exchange(p, "GARBAGE\r\n\r\n").assertError(400, 400);
        exchange(p, "GET /subjects HTTP/2.0\r\n\r\n").assertError(505, 505);
        exchange(p, "GET /subjects HTTPS/1.1\r\n\r\n").assertError(400, 400);
        exchange(p, "GET subjects HTTP/1.1\r\n\r\n").assertError(400, 400);
        exchange(p, "GET /sub\u00e9jects HTTP/1.1\r\n\r\n").assertError(400, 400);
        exchange(p, "GET /subjects HTTP/1.1\r\nno colon here\r\n\r\n").assertError(400, 400);
        exchange(p, "GET /subjects HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n").assertError(400, 400);
        exchange(p, "GET /" + "a".repeat(9000) + " HTTP/1.1\r\n\r\n").assertError(414, 414);
        exchange(p, "GET /subjects HTTP/1.1\r\nX-Big: " + "b".repeat(70_000) + "\r\n\r\n")
                .assertError(431, 431);
        exchange(p, "GET /subjects HTTP/1.1\r\n" + "X-Many: 1\r\n".repeat(150) + "\r\n")
                .assertError(431, 431);
        exchange(p, "POST /subjects/" + s + "/versions HTTP/1.1\r\nContent-Length: 12x\r\n\r\n")
                .assertError(400, 400);
        exchange(p, "POST /subjects/" + s + "/versions HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}")
                .assertError(400, 400);
        exchange(
                        p,
                        "POST /subjects/" + s + "/versions HTTP/1.1\r\nContent-Length: 2\r\n"
                                + "Transfer-Encoding: chunked\r\n\r\n{}")
                .assertError(400, 400);
        exchange(p, "POST /subjects/" + s + "/versions HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n")
                .assertError(501, 501);
        exchange(p, "POST /subjects/" + s + "/versions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
                .assertError(400, 400);
        exchange(p, "POST /subjects/" + s + "/versions HTTP/1.1\r\nExpect: 200-ok\r\nContent-Length: 2\r\n\r\n{}")
                .assertError(417, 417);
    }

    @Test
    void wellFormedHttpVariantsAreServed() throws Exception {
        int p = port();
        String s = subject();
        String body = schemaBody(V1);
        // chunked, with an extension and a trailer
        String half = body.substring(0, body.length() / 2);
        String rest = body.substring(body.length() / 2);
        RawHttp.Reply chunked = exchange(
                p,
                "POST /subjects/" + s + "/versions HTTP/1.1\r\nHost: x\r\n"
                        + "Content-Type: application/vnd.schemaregistry.v1+json\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + Integer.toHexString(half.length()) + ";ext=1\r\n" + half + "\r\n"
                        + Integer.toHexString(rest.length()) + "\r\n" + rest + "\r\n0\r\nX-Trailer: t\r\n\r\n");
        assertEquals(200, chunked.status(), chunked.body());
        int id = chunked.json().get("id").asInt();
        // keep-alive: three requests on one connection, the last two sent at once (pipelined)
        try (java.net.Socket c = RawHttp.connect(p)) {
            RawHttp.send(c, request("GET", "/subjects/" + s + "/versions", null));
            assertEquals("[1]", RawHttp.read(c.getInputStream()).body());
            RawHttp.send(
                    c,
                    request("GET", "/schemas/ids/" + id, null)
                            + request("POST", "/subjects/" + s, body, "Expect: 100-continue"));
            assertEquals(200, RawHttp.read(c.getInputStream()).status());
            RawHttp.Reply cont = RawHttp.read(c.getInputStream());
            assertEquals(100, cont.status(), "an interim answer to Expect: 100-continue");
            RawHttp.Reply found = RawHttp.read(c.getInputStream());
            assertEquals(id, found.json().get("id").asInt(), found.body());
        }
        // HTTP/1.0 gets its answer and the connection closes
        try (java.net.Socket c = RawHttp.connect(p)) {
            RawHttp.send(c, "GET /subjects/" + s + "/versions HTTP/1.0\r\n\r\n");
            RawHttp.Reply r = RawHttp.read(c.getInputStream());
            assertEquals("[1]", r.body());
            assertEquals("close", r.headers().get("connection"));
            assertEquals(-1, c.getInputStream().read());
        }
    }

    @Test
    void theSharedRegistryListensOnLoopbackOnly() {
        EmbeddedSchemaRegistry r = EmbeddedSchemaRegistry.start(
                stack.bootstrapServers(),
                EmbeddedSchemaRegistry.Options.defaults().withTopic("_schemas-bind-" + UUID.randomUUID()));
        try (r) {
            assertTrue(r.address().getAddress().isLoopbackAddress(), r.address().toString());
            assertTrue(stack.registryUrl().startsWith("http://127.0.0.1:"), stack.registryUrl());
        }
    }
}
