package io.sockflow.schemas.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/** Validators Kafka's {@link ConfigDef} lacks, shared by every part of sockflow; each says in toString what it allows. */
public final class Validators {
    private Validators() {}

    /** A STRING setting that holds a duration (see {@link Durations}); {@link Explain} shows its type as duration. */
    public static ConfigDef.Validator duration() {
        return DurationValidator.INSTANCE;
    }

    /** host:port[,host:port], each port from 1 to 65535 (an IPv6 address in brackets). */
    public static ConfigDef.Validator hostPorts() {
        return new ConfigDef.Validator() {
            @Override
            public void ensureValid(String name, Object value) {
                String v = value == null ? "" : value.toString();
                for (String hp : v.split(",")) {
                    String s = hp.strip();
                    int colon = s.lastIndexOf(':');
                    String host = colon > 0 ? s.substring(0, colon) : "";
                    String port = colon > 0 ? s.substring(colon + 1) : "";
                    boolean ok = !host.isBlank()
                            && port.matches("\\d{1,5}")
                            && Integer.parseInt(port) >= 1
                            && Integer.parseInt(port) <= 65535
                            && (host.startsWith("[") ? host.endsWith("]") : !host.contains(":"));
                    if (!ok) {
                        throw new ConfigException(
                                name, value, "expected host:port[,host:port] (e.g. 127.0.0.1:9092; [::1]:9092)");
                    }
                }
            }

            @Override
            public String toString() {
                return "host:port[,host:port]";
            }
        };
    }

    /** Comma-separated http:// or https:// URLs with a host. */
    public static ConfigDef.Validator urls() {
        return new ConfigDef.Validator() {
            @Override
            public void ensureValid(String name, Object value) {
                String v = value == null ? "" : value.toString();
                for (String u : v.split(",")) {
                    try {
                        URI uri = new URI(u.strip());
                        if (("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
                                && uri.getHost() != null) {
                            continue;
                        }
                    } catch (URISyntaxException e) {
                        // refused below
                    }
                    throw new ConfigException(
                            name, value, "expected http:// or https:// URLs with a host (e.g. http://127.0.0.1:8081)");
                }
            }

            @Override
            public String toString() {
                return "http(s)://host:port[,...]";
            }
        };
    }

    /** A LIST of at most {@code max} positive whole numbers (process or cgroup ids). */
    public static ConfigDef.Validator idList(int max) {
        return new ConfigDef.Validator() {
            @Override
            public void ensureValid(String name, Object value) {
                List<?> l = (List<?>) value;
                if (l.size() > max) {
                    throw new ConfigException(name, value, "expected at most " + max + " ids");
                }
                for (Object o : l) {
                    try {
                        if (Long.parseLong(o.toString().trim()) <= 0) {
                            throw new NumberFormatException();
                        }
                    } catch (NumberFormatException e) {
                        throw new ConfigException(name, value, "expected comma-separated positive numbers");
                    }
                }
            }

            @Override
            public String toString() {
                return "up to " + max + " comma-separated ids";
            }
        };
    }

    /** An INT that is a power of two within [min, max]. */
    public static ConfigDef.Validator powerOfTwo(int min, int max) {
        return new ConfigDef.Validator() {
            @Override
            public void ensureValid(String name, Object value) {
                int v = (Integer) value;
                if (v < min || v > max || Integer.bitCount(v) != 1) {
                    throw new ConfigException(name, value, "expected a power of two from " + min + " to " + max);
                }
            }

            @Override
            public String toString() {
                return "a power of two from " + min + " to " + max;
            }
        };
    }

    /** A LIST of whole numbers from min to max (ports, say). */
    public static ConfigDef.Validator intList(int min, int max) {
        return new ConfigDef.Validator() {
            @Override
            public void ensureValid(String name, Object value) {
                for (Object o : (List<?>) value) {
                    try {
                        int v = Integer.parseInt(o.toString().trim());
                        if (v < min || v > max) {
                            throw new NumberFormatException();
                        }
                    } catch (NumberFormatException e) {
                        throw new ConfigException(
                                name, value, "expected comma-separated numbers from " + min + " to " + max);
                    }
                }
            }

            @Override
            public String toString() {
                return "comma-separated numbers from " + min + " to " + max;
            }
        };
    }

    static final class DurationValidator implements ConfigDef.Validator {
        static final DurationValidator INSTANCE = new DurationValidator();

        @Override
        public void ensureValid(String name, Object value) {
            try {
                if (value != null && !Durations.parse(value.toString()).isNegative()) {
                    return;
                }
            } catch (IllegalArgumentException e) {
                // refused below
            }
            throw new ConfigException(name, value, "expected a duration such as 500ms, 30s, 5m or 1h, or 0");
        }

        @Override
        public String toString() {
            return "0 or a duration: 500ms, 30s, 5m, 1h, 1d";
        }
    }
}
