package io.sockflow.schemas.config;

import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/**
 * Checks values given as text against their declarations, failing on the first bad one with one line that names the
 * setting and says what it allows: {@code bad value 'abc' for detect.portscan.ports: expected a whole number}.
 */
public final class Check {
    private Check() {}

    /** Each value is parsed to its declared type and run through its validator; unknown names are refused. */
    public static void values(ConfigDef def, Map<String, String> values) {
        for (Map.Entry<String, String> e : values.entrySet()) {
            value(def, e.getKey(), e.getValue());
        }
    }

    /** One value, checked; returns it parsed to its declared type. */
    public static Object value(ConfigDef def, String name, String value) {
        ConfigDef.ConfigKey key = def.configKeys().get(name);
        if (key == null) {
            throw new ConfigException("unknown setting '" + name + "': see --help for the settings there are");
        }
        Object parsed;
        try {
            parsed = ConfigDef.parseType(name, value, key.type);
        } catch (ConfigException e) {
            throw bad(key, value, expected(key.type));
        }
        if (key.validator != null) {
            try {
                key.validator.ensureValid(name, parsed);
            } catch (ConfigException e) {
                throw bad(key, value, reason(e.getMessage(), name, key.validator));
            }
        }
        return parsed;
    }

    private static ConfigException bad(ConfigDef.ConfigKey key, String value, String why) {
        // a password is never echoed, not even a wrong one
        String shown = key.type == ConfigDef.Type.PASSWORD ? "[hidden]" : String.valueOf(value);
        return new ConfigException("bad value '" + shown + "' for " + key.name + ": " + why);
    }

    /** Kafka's "Invalid value V for configuration N: why" without its first part. */
    private static String reason(String message, String name, ConfigDef.Validator validator) {
        String marker = " for configuration " + name + ": ";
        int at = message == null ? -1 : message.indexOf(marker);
        String why = at < 0 ? String.valueOf(message) : message.substring(at + marker.length());
        // sockflow's validators say what they expect; Kafka's own are best shown by what they allow
        return why.startsWith("expected") ? why : "allowed: " + validator;
    }

    static String expected(ConfigDef.Type type) {
        return switch (type) {
            case INT, SHORT, LONG -> "expected a whole number";
            case DOUBLE -> "expected a number";
            case BOOLEAN -> "expected true or false";
            default -> "expected " + type.name().toLowerCase(java.util.Locale.ROOT);
        };
    }
}
