package io.sockflow.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** HTTP/1.1 by hand over a socket, for requests no well-behaved client sends (stalls, bad framing, bad escapes). */
final class RawHttp {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String TYPE = "application/vnd.schemaregistry.v1+json";

    record Reply(int status, Map<String, String> headers, String body) {
        JsonNode json() throws IOException {
            return JSON.readTree(body);
        }

        /** The reply is a Confluent-style error: the registry's content type, a JSON error_code and a message. */
        Reply assertError(int status, int code) throws IOException {
            assertEquals(status, this.status, body);
            assertEquals(TYPE, headers.get("content-type"), "content type of " + body);
            JsonNode n = json();
            assertEquals(code, n.path("error_code").asInt(), body);
            assertTrue(
                    n.path("message").isTextual() && !n.path("message").asText().isBlank(), body);
            return this;
        }
    }

    private RawHttp() {}

    static Socket connect(int port) throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout(60_000); // only so that a broken server fails the test instead of hanging it
        return s;
    }

    static void send(Socket s, String text) throws IOException {
        s.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
        s.getOutputStream().flush();
    }

    /** A whole request on a new connection, closed after the reply. */
    static Reply exchange(int port, String request) throws IOException {
        try (Socket s = connect(port)) {
            send(s, request);
            return read(s.getInputStream());
        }
    }

    static String request(String method, String target, String body, String... headers) {
        StringBuilder b =
                new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\nHost: localhost\r\n");
        for (String h : headers) {
            b.append(h).append("\r\n");
        }
        if (body != null) {
            b.append("Content-Length: ")
                    .append(body.getBytes(StandardCharsets.UTF_8).length)
                    .append("\r\n");
        }
        b.append("\r\n");
        if (body != null) {
            b.append(new String(body.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1));
        }
        return b.toString();
    }

    /** Reads one reply (status line, headers, a Content-Length body). */
    static Reply read(InputStream in) throws IOException {
        String status = line(in);
        if (status == null) {
            throw new IOException("the connection closed before a reply");
        }
        String[] parts = status.split(" ", 3);
        Map<String, String> headers = new LinkedHashMap<>();
        for (String h = line(in); h != null && !h.isEmpty(); h = line(in)) {
            int c = h.indexOf(':');
            headers.put(
                    h.substring(0, c).trim().toLowerCase(Locale.ROOT),
                    h.substring(c + 1).trim());
        }
        int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
        byte[] body = in.readNBytes(length);
        return new Reply(Integer.parseInt(parts[1]), headers, new String(body, StandardCharsets.UTF_8));
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            b.write(c);
        }
        if (c < 0 && b.size() == 0) {
            return null;
        }
        String s = b.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }
}
