package io.sockflow.embedded;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry's HTTP/1.1 front: one virtual thread per connection, every request read whole (within a deadline
 * and a size limit) before the handler sees it, and every refusal answered with Confluent's JSON error body.
 * The JDK's com.sun.net.httpserver cannot do this: it answers a malformed request target (a bad %-escape) with an
 * HTML 400 before any handler runs, and its request timeouts are JVM-wide system properties read once.
 */
final class JsonHttpServer implements AutoCloseable {
    static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private static final Logger LOG = LoggerFactory.getLogger(JsonHttpServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_REQUEST_LINE = 8 * 1024;
    private static final int MAX_HEADER_BYTES = 64 * 1024;
    private static final int MAX_HEADERS = 100;
    // media types Confluent's registry takes as JSON bodies, and those it can answer with
    private static final Set<String> BODY_TYPES =
            Set.of(CONTENT_TYPE, "application/vnd.schemaregistry+json", "application/json", "application/octet-stream");
    private static final Set<String> ANSWER_TYPES =
            Set.of(CONTENT_TYPE, "application/vnd.schemaregistry+json", "application/json", "application/*", "*/*");

    /** How much a client may send, and how long it may take. */
    record Limits(int maxBodyBytes, Duration readTimeout, Duration idleTimeout, int maxConnections) {
        Limits {
            if (maxBodyBytes < 1) {
                throw new IllegalArgumentException(
                        "the registry's request size limit must be at least 1 byte, not " + maxBodyBytes);
            }
            if (readTimeout.isNegative() || readTimeout.isZero() || idleTimeout.isNegative() || idleTimeout.isZero()) {
                throw new IllegalArgumentException("the registry's read and idle timeouts must be positive, not "
                        + readTimeout + " and " + idleTimeout);
            }
            if (maxConnections < 1) {
                throw new IllegalArgumentException("the registry needs at least 1 connection, not " + maxConnections);
            }
        }
    }

    /** A request read whole: the handler never touches the socket. Path segments and query are %-decoded. */
    record Request(String method, List<String> path, Map<String, String> query, String user, byte[] body) {}

    /** An answer: its status and the object written as its JSON body. */
    record Response(int status, Object body) {
        static Response ok(Object body) {
            return new Response(200, body);
        }
    }

    interface Handler {
        /** Answers a request, or throws {@link RegistryError}; called with no lock held and no I/O pending. */
        Response handle(Request request);
    }

    /** The whole request did not arrive within the read timeout. */
    private static final class ReadTimeout extends IOException {
        ReadTimeout() {
            super("read timeout", null);
        }
    }

    private final ServerSocket listener;
    private final Limits limits;
    private final BasicAuth auth;
    private final Handler handler;
    private final Semaphore slots;
    private final Semaphore refusing = new Semaphore(64); // connections being answered 503 at once
    private final Semaphore bodies; // bytes of request bodies held in memory at once
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService watchdog;
    private final Thread acceptor;
    private final AtomicLong refusedConnections = new AtomicLong();
    private final AtomicLong timedOut = new AtomicLong();
    private volatile boolean closed;

    /** Binds {@code address} and starts serving; {@code auth} null means no authentication. */
    JsonHttpServer(InetSocketAddress address, Limits limits, BasicAuth auth, Handler handler) throws IOException {
        this.limits = limits;
        this.auth = auth;
        this.handler = handler;
        this.slots = new Semaphore(limits.maxConnections());
        this.bodies = new Semaphore(Math.max(limits.maxBodyBytes(), 16 << 20));
        this.listener = new ServerSocket();
        listener.setReuseAddress(true);
        listener.bind(address, 128);
        this.watchdog = Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().daemon().name("registry-watchdog").unstarted(r));
        this.acceptor = Thread.ofPlatform().daemon().name("registry-accept").start(this::acceptLoop);
    }

    InetSocketAddress address() {
        return (InetSocketAddress) listener.getLocalSocketAddress();
    }

    /** Connections refused because {@link Limits#maxConnections()} were open. */
    long refusedConnections() {
        return refusedConnections.get();
    }

    /** Requests that did not arrive whole within the read timeout. */
    long timedOut() {
        return timedOut.get();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket s;
            try {
                s = listener.accept();
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                LOG.warn("schema registry: accepting a connection failed: {}", e.getMessage());
                sleepQuietly(50); // e.g. out of file descriptors: do not spin
                continue;
            }
            if (!slots.tryAcquire()) {
                refusedConnections.incrementAndGet();
                if (refusing.tryAcquire()) {
                    Thread.ofVirtual().name("registry-refuse").start(() -> {
                        try {
                            refuse(s);
                        } finally {
                            refusing.release();
                        }
                    });
                } else {
                    closeQuietly(s); // a flood: no answer, so that refusing costs nothing that lasts
                }
                continue;
            }
            open.add(s);
            if (closed) {
                closeQuietly(s);
            }
            Thread.ofVirtual().name("registry-conn").start(() -> {
                try {
                    serve(s);
                } catch (IOException e) {
                    LOG.debug("schema registry connection ended: {}", e.toString());
                } catch (RuntimeException e) {
                    LOG.warn("schema registry connection failed: {}", e.toString(), e);
                } finally {
                    open.remove(s);
                    closeQuietly(s);
                    slots.release();
                }
            });
        }
    }

    private void refuse(Socket s) {
        try {
            Input in = new Input(s, s.getInputStream());
            write(
                    s,
                    s.getOutputStream(),
                    503,
                    error(
                            503,
                            503,
                            "too many connections to the schema registry (" + limits.maxConnections()
                                    + "): retry later"),
                    Map.of(),
                    false,
                    false);
            lingerClose(s, in);
        } catch (IOException e) {
            closeQuietly(s);
        }
    }

    private void serve(Socket s) throws IOException {
        s.setTcpNoDelay(true);
        Input in = new Input(s, s.getInputStream());
        OutputStream out = s.getOutputStream();
        while (!closed) {
            if (!in.awaitRequest(limits.idleTimeout())) {
                return; // the client closed, or sent nothing for the idle timeout
            }
            in.deadline = System.nanoTime() + limits.readTimeout().toNanos();
            Parsed p;
            try {
                p = read(in, out);
            } catch (RegistryError e) {
                // the rest of this request is unread: answer, and close rather than guess where the next one starts
                write(s, out, e.status, error(e.status, e.code, e.getMessage()), e.headers, false, false);
                lingerClose(s, in);
                return;
            } catch (ReadTimeout e) {
                timedOut.incrementAndGet();
                write(
                        s,
                        out,
                        408,
                        error(
                                408,
                                408,
                                "the request did not arrive whole within the read timeout ("
                                        + limits.readTimeout().toMillis() + " ms): send it at once"),
                        Map.of(),
                        false,
                        false);
                lingerClose(s, in);
                return;
            }
            in.deadline = Long.MAX_VALUE;
            Response r;
            Map<String, String> headers = Map.of();
            try {
                r = handler.handle(p.request());
            } catch (RegistryError e) {
                r = new Response(e.status, error(e.status, e.code, e.getMessage()));
                headers = e.headers;
            } catch (RuntimeException e) {
                LOG.warn(
                        "schema registry: {} /{} failed: {}",
                        p.request().method(),
                        String.join("/", p.request().path()),
                        e.toString());
                r = new Response(500, error(500, 50001, "Internal error: " + e.getMessage()));
            } finally {
                bodies.release(p.reserved());
            }
            boolean keep = p.keepAlive() && !closed;
            if (!write(s, out, r.status(), r.body(), headers, keep, p.http10())) {
                return;
            }
            if (!keep) {
                s.shutdownOutput();
                return;
            }
        }
    }

    private record Parsed(Request request, boolean keepAlive, boolean http10, int reserved) {}

    /** Reads one request: its head, then (when the head is acceptable) its body. */
    private Parsed read(Input in, OutputStream out) throws IOException {
        String line = in.readLine(
                MAX_REQUEST_LINE,
                RegistryError.of(
                        414, "the request line is longer than " + MAX_REQUEST_LINE + " bytes: shorten the path"));
        for (int i = 0; line.isEmpty() && i < 4; i++) {
            line = in.readLine(
                    MAX_REQUEST_LINE,
                    RegistryError.of(
                            414, "the request line is longer than " + MAX_REQUEST_LINE + " bytes: shorten the path"));
        }
        String[] parts = line.split(" ", -1);
        if (parts.length != 3 || !isToken(parts[0]) || parts[1].isEmpty()) {
            throw RegistryError.of(
                    400, "malformed HTTP request line '" + printable(line) + "': expected METHOD /path HTTP/1.1");
        }
        String method = parts[0];
        String version = parts[2];
        if (!version.matches("HTTP/\\d\\.\\d")) {
            throw RegistryError.of(400, "malformed HTTP version '" + printable(version) + "': expected HTTP/1.1");
        }
        if (!version.equals("HTTP/1.1") && !version.equals("HTTP/1.0")) {
            throw RegistryError.of(505, "HTTP version " + version + " is not supported: use HTTP/1.1");
        }
        boolean http10 = version.equals("HTTP/1.0");
        Map<String, List<String>> headers = readHeaders(in);

        String target = parts[1];
        if (target.regionMatches(true, 0, "http://", 0, 7) || target.regionMatches(true, 0, "https://", 0, 8)) {
            int slash = target.indexOf('/', target.indexOf("//") + 2);
            target = slash < 0 ? "/" : target.substring(slash); // absolute form, as sent to a proxy
        }
        if (!target.startsWith("/")) {
            throw RegistryError.of(
                    400, "the request target '" + printable(target) + "' is not a path: it must start with /");
        }
        for (int i = 0; i < target.length(); i++) {
            char c = target.charAt(i);
            if (c <= 0x20 || c >= 0x7f || c == '#') {
                throw RegistryError.of(
                        400,
                        "the request target has a character that must be %-escaped at offset " + i
                                + ": escape it as %XX (UTF-8)");
            }
        }
        int q = target.indexOf('?');
        String rawPath = q < 0 ? target : target.substring(0, q);
        List<String> path = decodePath(rawPath);
        Map<String, String> query = q < 0 ? Map.of() : decodeQuery(target.substring(q + 1));

        // the body's framing
        List<String> te = headers.get("transfer-encoding");
        List<String> cl = headers.get("content-length");
        if (te != null && cl != null) {
            throw RegistryError.of(400, "the request has both Transfer-Encoding and Content-Length: send one");
        }
        boolean chunked = false;
        long length = 0;
        if (te != null) {
            if (te.size() != 1 || !te.getFirst().trim().equalsIgnoreCase("chunked")) {
                throw RegistryError.of(
                        501,
                        "Transfer-Encoding '" + printable(String.join(", ", te))
                                + "' is not supported: send the body with Content-Length or chunked");
            }
            chunked = true;
        } else if (cl != null) {
            String v = cl.getFirst().trim();
            for (String other : cl) {
                if (!other.trim().equals(v)) {
                    throw RegistryError.of(400, "the request has several different Content-Length headers");
                }
            }
            if (v.isEmpty() || v.length() > 18 || !v.chars().allMatch(c -> c >= '0' && c <= '9')) {
                throw RegistryError.of(400, "Content-Length '" + printable(v) + "' is not a number of bytes");
            }
            length = Long.parseLong(v);
        }

        // who asks, and whether the request is acceptable, before reading any of its body
        String user = null;
        if (auth != null) {
            user = auth.authenticate(first(headers, "authorization"));
            if (user == null) {
                throw new RegistryError(
                                401,
                                401,
                                first(headers, "authorization") == null
                                        ? "Unauthorized: this registry needs HTTP basic authentication: send the user and password"
                                        : "Unauthorized: wrong user or password")
                        .withHeader("WWW-Authenticate", BasicAuth.CHALLENGE);
            }
        }
        if (length > limits.maxBodyBytes()) {
            throw tooLarge(length + " bytes");
        }
        if (length > 0 || chunked) {
            String type = first(headers, "content-type");
            if (type != null && !BODY_TYPES.contains(mediaType(type))) {
                throw RegistryError.of(
                        415,
                        "HTTP 415 Unsupported Media Type: Content-Type '" + printable(type)
                                + "' is not JSON: send application/vnd.schemaregistry.v1+json");
            }
        }
        String accept = first(headers, "accept");
        if (accept != null && !accept.isBlank()) {
            boolean any = false;
            for (String range : accept.split(",")) {
                any |= ANSWER_TYPES.contains(mediaType(range));
            }
            if (!any) {
                throw RegistryError.of(
                        406,
                        "HTTP 406 Not Acceptable: this registry answers "
                                + "application/vnd.schemaregistry.v1+json or application/json, not '"
                                + printable(accept) + "'");
            }
        }
        String expect = first(headers, "expect");
        if (expect != null) {
            if (!expect.trim().equalsIgnoreCase("100-continue")) {
                throw RegistryError.of(417, "Expect '" + printable(expect) + "' is not supported");
            }
            if (!http10) {
                out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
            }
        }
        // bodies in memory at once are bounded too, or many clients each sending the limit would fill the heap
        int reserved = chunked ? limits.maxBodyBytes() : (int) length;
        if (!reserveBody(reserved)) {
            throw RegistryError.of(503, "the registry is reading too many request bodies at once: retry");
        }
        byte[] body;
        try {
            body = chunked ? in.readChunked(limits.maxBodyBytes(), this::tooLarge) : in.readFully((int) length);
        } catch (IOException | RuntimeException e) {
            bodies.release(reserved);
            throw e;
        }

        Set<String> connection = tokens(headers.get("connection"));
        boolean keepAlive = http10 ? connection.contains("keep-alive") : !connection.contains("close");
        keepAlive &= !method.equals("HEAD"); // its answer has a body all the same: end the connection after it
        return new Parsed(new Request(method, path, query, user, body), keepAlive, http10, reserved);
    }

    private boolean reserveBody(int bytes) {
        try {
            return bytes == 0 || bodies.tryAcquire(bytes, 1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private RegistryError tooLarge(String size) {
        return RegistryError.of(
                413,
                "HTTP 413 Content Too Large: the request body (" + size + ") is larger than this registry's limit of "
                        + limits.maxBodyBytes() + " bytes");
    }

    private static Map<String, List<String>> readHeaders(Input in) throws IOException {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        int bytes = 0;
        int count = 0;
        RegistryError tooMany = RegistryError.of(
                431,
                "the request headers are larger than " + MAX_HEADER_BYTES + " bytes or more than " + MAX_HEADERS
                        + " lines: send fewer");
        while (true) {
            String h = in.readLine(MAX_HEADER_BYTES - bytes, tooMany);
            if (h.isEmpty()) {
                return headers;
            }
            bytes += h.length() + 2;
            if (++count > MAX_HEADERS) {
                throw tooMany;
            }
            if (h.charAt(0) == ' ' || h.charAt(0) == '\t') {
                throw RegistryError.of(400, "a header line is folded onto the next: send each header on one line");
            }
            int colon = h.indexOf(':');
            if (colon <= 0 || !isToken(h.substring(0, colon))) {
                throw RegistryError.of(400, "malformed header line '" + printable(h) + "': expected Name: value");
            }
            headers.computeIfAbsent(h.substring(0, colon).toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                    .add(h.substring(colon + 1).strip());
        }
    }

    private static String first(Map<String, List<String>> headers, String name) {
        List<String> v = headers.get(name);
        return v == null ? null : v.getFirst();
    }

    private static Set<String> tokens(List<String> values) {
        if (values == null) {
            return Set.of();
        }
        Set<String> out = new HashSet<>();
        for (String v : values) {
            for (String t : v.split(",")) {
                out.add(t.trim().toLowerCase(Locale.ROOT));
            }
        }
        return out;
    }

    private static String mediaType(String value) {
        int semi = value.indexOf(';');
        return (semi < 0 ? value : value.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
    }

    private static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z')
                    || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9')
                    || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** The path's segments, each %-decoded as UTF-8; a trailing slash adds no segment. */
    static List<String> decodePath(String rawPath) {
        List<String> out = new ArrayList<>();
        String p = rawPath.substring(1);
        if (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        if (p.isEmpty()) {
            return out;
        }
        for (String segment : p.split("/", -1)) {
            out.add(decode(segment, false, "path", rawPath));
        }
        return out;
    }

    static Map<String, String> decodeQuery(String rawQuery) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String pair : rawQuery.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = decode(eq < 0 ? pair : pair.substring(0, eq), true, "query", rawQuery);
            String value = eq < 0 ? "" : decode(pair.substring(eq + 1), true, "query", rawQuery);
            out.putIfAbsent(name, value);
        }
        return out;
    }

    /** Strict %-decoding: a '%' not followed by two hex digits, or bytes that are not UTF-8, are refused. */
    private static String decode(String raw, boolean plusIsSpace, String where, String whole) {
        if (raw.indexOf('%') < 0 && !(plusIsSpace && raw.indexOf('+') >= 0)) {
            return raw;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                int hi = i + 1 < raw.length() ? Character.digit(raw.charAt(i + 1), 16) : -1;
                int lo = i + 2 < raw.length() ? Character.digit(raw.charAt(i + 2), 16) : -1;
                if (hi < 0 || lo < 0) {
                    throw RegistryError.of(
                            400,
                            "bad %-escape '" + raw.substring(i, Math.min(raw.length(), i + 3))
                                    + "' in the request " + where + " '" + printable(whole)
                                    + "': % must be followed by two hex digits; write a literal % as %25");
                }
                bytes.write(hi << 4 | lo);
                i += 2;
            } else {
                bytes.write(plusIsSpace && c == '+' ? ' ' : c);
            }
        }
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes.toByteArray()))
                    .toString();
        } catch (CharacterCodingException e) {
            throw RegistryError.of(
                    400,
                    "the %-escapes in the request " + where + " '" + printable(whole)
                            + "' are not UTF-8: escape each byte of the UTF-8 text");
        }
    }

    /** Text from the request, cut short and with control characters shown as \\xNN, for an error message. */
    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length() && b.length() < 200; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) {
                b.append(String.format("\\x%02x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.length() < 200 ? b.toString() : b + "...";
    }

    static Object error(int status, int code, String message) {
        return JSON.createObjectNode().put("error_code", code).put("message", message);
    }

    /**
     * Writes one answer; false when the client is gone. A client that does not read gets the read timeout to take
     * it, then its connection is closed.
     */
    private boolean write(
            Socket s,
            OutputStream out,
            int status,
            Object body,
            Map<String, String> headers,
            boolean keepAlive,
            boolean http10) {
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(body);
        } catch (IOException e) {
            status = 500;
            json = ("{\"error_code\":50001,\"message\":\"cannot write the answer as JSON\"}")
                    .getBytes(StandardCharsets.UTF_8);
        }
        StringBuilder head = new StringBuilder(160)
                .append("HTTP/1.1 ")
                .append(status)
                .append(' ')
                .append(reason(status))
                .append("\r\nContent-Type: ")
                .append(CONTENT_TYPE)
                .append("\r\nContent-Length: ")
                .append(json.length)
                .append("\r\n");
        headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
        if (!keepAlive) {
            head.append("Connection: close\r\n");
        } else if (http10) {
            head.append("Connection: keep-alive\r\n");
        }
        head.append("\r\n");
        ScheduledFuture<?> guard =
                watchdog.schedule(() -> closeQuietly(s), limits.readTimeout().toMillis(), TimeUnit.MILLISECONDS);
        try {
            out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            out.write(json);
            out.flush();
            return true;
        } catch (IOException e) {
            return false;
        } finally {
            guard.cancel(false);
        }
    }

    /**
     * Closes after an answer sent before the request was read whole: stop sending, then read and drop what the
     * client still sends, for up to five seconds, so that the close does not reset the connection (and destroy the
     * answer in the client's buffers) while the client is still sending, as one sending a too-large body is.
     */
    private void lingerClose(Socket s, Input in) {
        try {
            s.shutdownOutput();
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            byte[] scratch = new byte[64 * 1024];
            while (true) {
                long left = until - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                s.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                if (in.raw.read(scratch) < 0) {
                    break;
                }
            }
        } catch (IOException e) {
            // gone or timed out: close anyway
        } finally {
            closeQuietly(s);
        }
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 406 -> "Not Acceptable";
            case 408 -> "Request Timeout";
            case 409 -> "Conflict";
            case 413 -> "Content Too Large";
            case 414 -> "URI Too Long";
            case 415 -> "Unsupported Media Type";
            case 417 -> "Expectation Failed";
            case 422 -> "Unprocessable Entity";
            case 431 -> "Request Header Fields Too Large";
            case 501 -> "Not Implemented";
            case 503 -> "Service Unavailable";
            case 505 -> "HTTP Version Not Supported";
            default -> status >= 500 ? "Internal Server Error" : "Error";
        };
    }

    /** The socket's input, buffered, with a deadline for the request being read. */
    private static final class Input {
        final Socket socket;
        final InputStream raw;
        final byte[] buf = new byte[8192];
        int pos;
        int lim;
        long deadline = Long.MAX_VALUE; // System.nanoTime() by which the current request must have arrived

        Input(Socket socket, InputStream raw) {
            this.socket = socket;
            this.raw = raw;
        }

        /** Waits up to {@code idle} for the first byte of the next request; false on end of stream or idleness. */
        boolean awaitRequest(Duration idle) throws IOException {
            if (pos < lim) {
                return true;
            }
            socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, Math.max(1, idle.toMillis())));
            try {
                int n = raw.read(buf, 0, buf.length);
                if (n < 0) {
                    return false;
                }
                pos = 0;
                lim = n;
                return true;
            } catch (SocketTimeoutException e) {
                return false;
            }
        }

        private void fill() throws IOException {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new ReadTimeout();
            }
            socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, Math.max(1, TimeUnit.NANOSECONDS.toMillis(left))));
            int n;
            try {
                n = raw.read(buf, 0, buf.length);
            } catch (SocketTimeoutException e) {
                throw new ReadTimeout();
            }
            if (n < 0) {
                throw new EOFException("the client closed the connection mid-request");
            }
            pos = 0;
            lim = n;
        }

        /** One line without its CRLF (a bare LF ends it too), as ISO-8859-1; longer than {@code max}: {@code tooLong}. */
        String readLine(int max, RegistryError tooLong) throws IOException {
            StringBuilder b = new StringBuilder();
            while (true) {
                if (pos == lim) {
                    fill();
                }
                int c = buf[pos++] & 0xff;
                if (c == '\n') {
                    int n = b.length();
                    if (n > 0 && b.charAt(n - 1) == '\r') {
                        b.setLength(n - 1);
                    }
                    return b.toString();
                }
                if (b.length() >= max) {
                    throw tooLong;
                }
                b.append((char) c);
            }
        }

        byte[] readFully(int n) throws IOException {
            byte[] out = new byte[n];
            int off = 0;
            while (off < n) {
                if (pos == lim) {
                    fill();
                }
                int k = Math.min(n - off, lim - pos);
                System.arraycopy(buf, pos, out, off, k);
                pos += k;
                off += k;
            }
            return out;
        }

        byte[] readChunked(int max, Function<String, RegistryError> tooLarge) throws IOException {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            RegistryError badChunk = RegistryError.of(
                    400,
                    "malformed chunked request body: each chunk must start "
                            + "with its size in hex on a line of its own");
            while (true) {
                String line = readLine(1024, badChunk);
                int semi = line.indexOf(';');
                String hex = (semi < 0 ? line : line.substring(0, semi)).trim();
                if (hex.isEmpty() || hex.length() > 8 || !hex.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
                    throw badChunk;
                }
                long size = Long.parseLong(hex, 16);
                if (size == 0) {
                    break;
                }
                if (body.size() + size > max) {
                    throw tooLarge.apply("more than " + max + " bytes, chunked");
                }
                body.write(readFully((int) size));
                if (!readLine(2, badChunk).isEmpty()) {
                    throw badChunk;
                }
            }
            readHeaders(this); // trailers, bounded as headers are, and ignored
            return body.toByteArray();
        }
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (Socket s : open) {
            closeQuietly(s);
        }
        watchdog.shutdownNow();
        try {
            acceptor.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
