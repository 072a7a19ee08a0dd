package io.sockflow.runner.alerts;

import io.sockflow.schemas.Alert;
import io.sockflow.schemas.config.Durations;
import io.sockflow.schemas.config.Validators;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/**
 * The alert outputs besides Kafka and the lake, declared once for {@code up} and {@code sockflow alerts-forward}: a
 * webhook and a syslog receiver. Off unless a destination is given.
 */
public final class AlertOutputs {
    public static final String WEBHOOK_URL = "alerts.webhook.url";
    public static final String WEBHOOK_AUTH_FILE = "alerts.webhook.auth-file";
    public static final String WEBHOOK_TIMEOUT = "alerts.webhook.timeout";
    public static final String SYSLOG = "alerts.syslog";
    public static final String ATTEMPTS = "alerts.attempts";
    public static final String BACKOFF = "alerts.backoff";
    public static final String GROUP = "alerts.group";
    public static final String START = "alerts.start";

    /** The longest wait between two attempts: the backoff doubles up to it. */
    public static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

    private AlertOutputs() {}

    /** Where an alert goes: one receiver. Used by one thread at a time. */
    public interface Destination extends AutoCloseable {
        /** What it is, for a line of the log: without secrets. */
        String describe();

        /** Delivers one alert, or throws; a {@link Webhook.Failure} that says so is not worth trying again. */
        void send(Alert a) throws IOException;

        @Override
        void close();
    }

    /** The settings, on {@code def}: {@code up}'s flags, or those of {@code alerts-forward}. */
    public static ConfigDef defineOn(ConfigDef def) {
        return def.define(
                        WEBHOOK_URL,
                        ConfigDef.Type.STRING,
                        null,
                        webhookUrl(),
                        ConfigDef.Importance.MEDIUM,
                        "POST each alert, as JSON (an OCSF Detection Finding, docs/alert-outputs.md), to this http:// or "
                                + "https:// URL; none by default. A URL that holds a secret belongs in a --config file, not on "
                                + "the command line.")
                .define(
                        WEBHOOK_AUTH_FILE,
                        ConfigDef.Type.STRING,
                        null,
                        ConfigDef.Importance.MEDIUM,
                        "A file of one line sent with each webhook request: 'Name: value' (a header), or a bare token "
                                + "(sent as Authorization: Bearer TOKEN). Read at start; keep it 0600.")
                .define(
                        WEBHOOK_TIMEOUT,
                        ConfigDef.Type.STRING,
                        "10s",
                        Validators.duration(),
                        ConfigDef.Importance.LOW,
                        "How long one webhook request (or a syslog TCP connect) may take before it counts as failed.")
                .define(
                        SYSLOG,
                        ConfigDef.Type.STRING,
                        null,
                        syslogUrl(),
                        ConfigDef.Importance.MEDIUM,
                        "Send each alert as an RFC 5424 message, its JSON as the message, to udp://HOST:PORT or "
                                + "tcp://HOST:PORT (octet-counted frames); none by default.")
                .define(
                        ATTEMPTS,
                        ConfigDef.Type.INT,
                        5,
                        ConfigDef.Range.between(1, 100),
                        ConfigDef.Importance.LOW,
                        "Tries per alert and destination (a webhook's 5xx, 408, 429, no connection, timeout; a syslog "
                                + "connection that fails) before the alert is counted undelivered there and the next one goes.")
                .define(
                        BACKOFF,
                        ConfigDef.Type.STRING,
                        "1s",
                        Validators.duration(),
                        ConfigDef.Importance.LOW,
                        "The wait before the second try; it doubles for each next one, up to 30 s.")
                .define(
                        GROUP,
                        ConfigDef.Type.STRING,
                        "sockflow-alerts-forward",
                        new ConfigDef.NonEmptyString(),
                        ConfigDef.Importance.LOW,
                        "The Kafka consumer group whose committed offsets say which alerts were forwarded: one forwarder "
                                + "per group.")
                .define(
                        START,
                        ConfigDef.Type.STRING,
                        "earliest",
                        ConfigDef.ValidString.in("earliest", "latest"),
                        ConfigDef.Importance.LOW,
                        "Where a group that has forwarded nothing yet starts: earliest (every alert on the topic) or "
                                + "latest (only new ones).");
    }

    /** The settings, parsed and checked. */
    public record Config(
            URI webhook,
            Path authFile,
            Duration timeout,
            URI syslog,
            int attempts,
            Duration backoff,
            String group,
            String start) {
        /** From {@code ConfigDef.parse}'s values; an empty URL is none. */
        public static Config of(Map<String, Object> v) {
            if (Durations.parse((String) v.get(WEBHOOK_TIMEOUT)).isZero()) {
                throw new IllegalArgumentException("bad value '" + v.get(WEBHOOK_TIMEOUT) + "' for " + WEBHOOK_TIMEOUT
                        + ": expected a duration above 0, e.g. 10s");
            }
            return new Config(
                    uri((String) v.get(WEBHOOK_URL)),
                    blank((String) v.get(WEBHOOK_AUTH_FILE)) ? null : Path.of((String) v.get(WEBHOOK_AUTH_FILE)),
                    Durations.parse((String) v.get(WEBHOOK_TIMEOUT)),
                    uri((String) v.get(SYSLOG)),
                    (Integer) v.get(ATTEMPTS),
                    Durations.parse((String) v.get(BACKOFF)),
                    (String) v.get(GROUP),
                    (String) v.get(START));
        }

        /**
         * Checks what the settings alone cannot: the auth file is read, and needs a webhook. Returns its header, or
         * null; an {@link IllegalArgumentException} of one line naming the setting otherwise.
         */
        public String[] check() {
            if (authFile == null) {
                return null;
            }
            if (webhook == null) {
                throw new IllegalArgumentException(
                        WEBHOOK_AUTH_FILE + " is set without " + WEBHOOK_URL + ": give the webhook's URL too");
            }
            return header(authFile);
        }

        /** Whether any destination is given: otherwise nothing is forwarded and no forwarder runs. */
        public boolean any() {
            return webhook != null || syslog != null;
        }

        /**
         * The destinations, opened; an auth file that cannot be used is an {@link IllegalArgumentException} of one
         * line naming the setting.
         */
        public List<Destination> destinations() {
            String[] header = check();
            List<Destination> out = new ArrayList<>();
            if (webhook != null) {
                out.add(new Webhook(webhook, timeout, header));
            }
            if (syslog != null) {
                out.add(new Syslog(
                        syslog.getScheme() + "://" + syslog.getRawAuthority(),
                        "tcp".equals(syslog.getScheme()),
                        host(syslog),
                        syslog.getPort(),
                        timeout));
            }
            return out;
        }
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }

    private static URI uri(String s) {
        return blank(s) ? null : URI.create(s.strip());
    }

    /** The host of a URI, an IPv6 address without its brackets. */
    static String host(URI u) {
        String h = u.getHost();
        return h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
    }

    /**
     * The header an auth file gives: its one line {@code Name: value}, or a bare token as {@code Authorization:
     * Bearer TOKEN}. Errors name the setting and the file, never its content.
     */
    public static String[] header(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(WEBHOOK_AUTH_FILE + " " + file + " cannot be read (" + e.getMessage()
                    + "): give a file readable by the user that forwards alerts");
        }
        if (text.isEmpty() || text.contains("\n") || text.contains("\r")) {
            throw new IllegalArgumentException(WEBHOOK_AUTH_FILE + " " + file
                    + " must hold one line: 'Name: value' (a header) or a bare token (sent as a bearer token)");
        }
        String[] h;
        int colon = text.indexOf(':');
        if (colon > 0 && text.substring(0, colon).matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
            h = new String[] {
                text.substring(0, colon), text.substring(colon + 1).strip()
            };
        } else {
            h = new String[] {"Authorization", "Bearer " + text};
        }
        try {
            HttpRequest.newBuilder(URI.create("http://127.0.0.1/")).header(h[0], h[1]);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(WEBHOOK_AUTH_FILE + " " + file + ": the header '" + h[0]
                    + "' cannot be sent (a restricted name, or a value with control characters): name another header");
        }
        return h;
    }

    static ConfigDef.Validator webhookUrl() {
        return new ConfigDef.Validator() {
            @Override
            public void ensureValid(String name, Object value) {
                if (value == null || value.toString().isBlank()) {
                    return;
                }
                try {
                    URI u = new URI(value.toString().strip());
                    if (("http".equals(u.getScheme()) || "https".equals(u.getScheme()))
                            && u.getHost() != null
                            && u.getRawUserInfo() == null
                            && u.getRawFragment() == null) {
                        return;
                    }
                } catch (URISyntaxException e) {
                    // refused below
                }
                throw new ConfigException(
                        name,
                        value,
                        "expected an http:// or https:// URL with a host, no user:password@ and no #fragment (e.g. "
                                + "https://hooks.example.com/sockflow; credentials go in " + WEBHOOK_AUTH_FILE + ")");
            }

            @Override
            public String toString() {
                return "http(s)://host[:port]/path";
            }
        };
    }

    static ConfigDef.Validator syslogUrl() {
        return new ConfigDef.Validator() {
            @Override
            public void ensureValid(String name, Object value) {
                if (value == null || value.toString().isBlank()) {
                    return;
                }
                try {
                    URI u = new URI(value.toString().strip());
                    if (("udp".equals(u.getScheme()) || "tcp".equals(u.getScheme()))
                            && u.getHost() != null
                            && u.getPort() > 0
                            && u.getPort() <= 65535
                            && u.getRawUserInfo() == null
                            && (u.getRawPath() == null || u.getRawPath().isEmpty())
                            && u.getRawQuery() == null
                            && u.getRawFragment() == null) {
                        return;
                    }
                } catch (URISyntaxException e) {
                    // refused below
                }
                throw new ConfigException(
                        name, value, "expected udp://HOST:PORT or tcp://HOST:PORT (e.g. udp://127.0.0.1:514)");
            }

            @Override
            public String toString() {
                return "udp://host:port or tcp://host:port";
            }
        };
    }
}
