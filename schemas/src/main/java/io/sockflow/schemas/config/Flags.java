package io.sockflow.schemas.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/**
 * The one flag parser of sockflow. A setting {@code a.b-c} is given as {@code --a-b-c VALUE}, {@code --a.b-c=VALUE}
 * (a boolean alone means true), as the environment variable PREFIX + {@code A_B_C}, or as a line {@code a.b-c=VALUE}
 * of the properties file named by {@code --config} (or PREFIX + {@code CONFIG}). A flag wins over the environment,
 * which wins over the file. Unknown names and stray words fail with one line.
 */
public final class Flags {
    public static final String CONFIG = "config";

    private Flags() {}

    /** The settings given, as text, by name; values are not checked here (see {@link Check}). */
    public static Map<String, String> collect(
            ConfigDef def, List<String> args, Map<String, String> env, String envPrefix) {
        Map<String, String> byFlag = new HashMap<>();
        for (String name : def.names()) {
            String previous = byFlag.put(normal(name), name);
            if (previous != null) {
                throw new IllegalStateException("settings " + previous + " and " + name + " have the same flag");
            }
        }
        Map<String, String> flags = new LinkedHashMap<>();
        String file = envPrefix == null ? null : env.get(envPrefix + "CONFIG");
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (!a.startsWith("--") || a.length() == 2) {
                throw new ConfigException("unexpected argument '" + a + "': settings are given as --name value");
            }
            String flag = a.substring(2);
            String value = null;
            int eq = flag.indexOf('=');
            if (eq >= 0) {
                value = flag.substring(eq + 1);
                flag = flag.substring(0, eq);
            }
            String name = flag.equals(CONFIG) ? CONFIG : byFlag.get(normal(flag));
            if (name == null) {
                throw new ConfigException("unknown setting --" + flag + ": see --help for the settings there are");
            }
            if (value == null) {
                if (i + 1 < args.size() && !args.get(i + 1).startsWith("--")) {
                    value = args.get(++i);
                } else if (!name.equals(CONFIG) && def.configKeys().get(name).type == ConfigDef.Type.BOOLEAN) {
                    value = "true";
                } else {
                    throw new ConfigException("--" + flag + " needs a value");
                }
            }
            if (name.equals(CONFIG)) {
                file = value;
            } else {
                flags.put(name, value);
            }
        }
        Map<String, String> merged = new LinkedHashMap<>();
        if (file != null) {
            merged.putAll(readFile(def, Path.of(file)));
        }
        if (envPrefix != null) {
            for (String name : def.names()) {
                String v = env.get(envName(envPrefix, name));
                if (v != null) {
                    merged.put(name, v);
                }
            }
        }
        merged.putAll(flags);
        return merged;
    }

    /**
     * Takes every {@code --flag key=value} (or {@code --flag=key=value}) out of {@code args}, in order: a repeatable
     * flag whose values may hold commas, such as up's {@code --set}. The other arguments are added to {@code rest}.
     * The keys and values are not checked here.
     */
    public static Map<String, String> takePairs(List<String> args, String flag, List<String> rest) {
        Map<String, String> pairs = new LinkedHashMap<>();
        String example = " needs key=value, e.g. " + flag + " detect.portscan.ports=30";
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            String pair;
            if (a.equals(flag)) {
                if (i + 1 >= args.size()) {
                    throw new ConfigException(flag + example);
                }
                pair = args.get(++i);
            } else if (a.startsWith(flag + "=")) {
                pair = a.substring(flag.length() + 1);
            } else {
                rest.add(a);
                continue;
            }
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new ConfigException(flag + " " + pair + ":" + example);
            }
            pairs.put(pair.substring(0, eq).strip(), pair.substring(eq + 1));
        }
        return pairs;
    }

    /** The arguments that {@link #collect} reads back as these values: for handing settings to another process. */
    public static List<String> render(Map<String, String> values) {
        List<String> out = new java.util.ArrayList<>();
        values.forEach((k, v) -> {
            out.add(flagName(k));
            out.add(v);
        });
        return out;
    }

    private static Map<String, String> readFile(ConfigDef def, Path file) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file + ": " + e.getMessage());
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (String k : p.stringPropertyNames()) {
            if (!def.names().contains(k)) {
                throw new ConfigException(
                        "unknown setting '" + k + "' in " + file + ": see --help for the settings there are");
            }
            out.put(k, p.getProperty(k).trim());
        }
        return out;
    }

    /** {@code --a-b-c} for the setting {@code a.b-c}. */
    public static String flagName(String name) {
        return "--" + name.replace('.', '-');
    }

    /** PREFIX + the name in upper case, dots and dashes as underscores. */
    public static String envName(String envPrefix, String name) {
        return envPrefix + name.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    private static String normal(String flag) {
        return flag.replace('-', '.');
    }
}
