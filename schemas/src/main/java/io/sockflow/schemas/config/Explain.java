package io.sockflow.schemas.config;

import java.util.List;
import java.util.Locale;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.types.Password;

/** Settings as text: the short --help form and the long {@code sockflow config --explain} form. */
public final class Explain {
    private static final int WIDTH = 110;

    private Explain() {}

    /** Every setting of one part, grouped under a title: name, type, default, what it allows, flag, environment, doc. */
    public static String section(String title, String summary, ConfigDef def, String envPrefix) {
        StringBuilder b = new StringBuilder();
        b.append("== ").append(title).append(" ==\n").append(summary).append("\n\n");
        for (ConfigDef.ConfigKey k : def.configKeys().values()) {
            b.append(k.name)
                    .append("  (")
                    .append(typeName(k))
                    .append(", default ")
                    .append(defaultText(k))
                    .append(")\n");
            StringBuilder how = new StringBuilder("flag ").append(Flags.flagName(k.name));
            if (envPrefix != null) {
                how.append(", env ").append(Flags.envName(envPrefix, k.name));
            }
            if (k.validator != null) {
                how.append("; allowed: ").append(k.validator);
            }
            wrap(b, how.toString(), "    ");
            wrap(b, k.documentation, "    ");
        }
        return b.toString();
    }

    /** The --help form: flag and type, doc, then default, environment variable and file key. */
    public static String help(ConfigDef def, String envPrefix) {
        StringBuilder b = new StringBuilder();
        String indent = " ".repeat(27);
        for (ConfigDef.ConfigKey k : def.configKeys().values()) {
            String flag = String.format("  %-24s ", Flags.flagName(k.name) + " " + typeName(k));
            StringBuilder entry = new StringBuilder();
            wrap(
                    entry,
                    k.documentation + " Default " + defaultText(k)
                            + (envPrefix == null ? "" : "; env " + Flags.envName(envPrefix, k.name)) + "; file key "
                            + k.name + ".",
                    indent);
            // the flag takes the first line's indent, or a line of its own when it is longer
            b.append(
                    flag.length() <= indent.length()
                            ? flag + entry.substring(indent.length())
                            : flag.stripTrailing() + "\n" + entry);
        }
        b.append(String.format(
                "  %-24s %s%n",
                "--config file",
                "Read settings from a properties file"
                        + (envPrefix == null ? "." : " (env " + envPrefix + "CONFIG).")));
        return b.toString();
    }

    public static String typeName(ConfigDef.ConfigKey k) {
        return k.validator instanceof Validators.DurationValidator
                ? "duration"
                : k.type.name().toLowerCase(Locale.ROOT);
    }

    public static String defaultText(ConfigDef.ConfigKey k) {
        Object d = k.defaultValue;
        if (d == null) {
            return "none";
        }
        if (d instanceof Password) {
            return "[hidden]";
        }
        if (d instanceof List<?> l) {
            return l.isEmpty()
                    ? "empty"
                    : String.join(",", l.stream().map(String::valueOf).toList());
        }
        return d.toString().isEmpty() ? "empty" : d.toString();
    }

    private static void wrap(StringBuilder b, String text, String indent) {
        StringBuilder line = new StringBuilder(indent);
        for (String word : String.valueOf(text).split(" ")) {
            if (line.length() > indent.length() && line.length() + 1 + word.length() > WIDTH) {
                b.append(line).append('\n');
                line = new StringBuilder(indent);
            }
            if (line.length() > indent.length()) {
                line.append(' ');
            }
            line.append(word);
        }
        b.append(line).append('\n');
    }
}
