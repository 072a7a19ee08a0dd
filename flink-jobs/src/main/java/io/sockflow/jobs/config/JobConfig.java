package io.sockflow.jobs.config;

import java.io.IOException;
import java.io.Reader;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/**
 * Every setting of the jobs, declared once (name, type, default, doc). Values come, later ones winning, from the
 * defaults, a properties file ({@code --config FILE}), environment variables ({@code SOCKFLOW_JOBS_} + the name in
 * upper case with dots as underscores) and {@code --name value} flags. A bad value fails at start with the
 * setting's name and what it allows.
 */
public final class JobConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    public enum Type { STRING, INT, LONG, DURATION, BOOLEAN, LIST }

    public record Option(String name, Type type, String defaultValue, String doc) implements Serializable {
    }

    private static final Map<String, Option> OPTIONS = new LinkedHashMap<>();

    private static Option opt(String name, Type type, String def, String doc) {
        Option o = new Option(name, type, def, doc);
        OPTIONS.put(name, o);
        return o;
    }

    public static final Option BOOTSTRAP = opt("bootstrap.servers", Type.STRING, "127.0.0.1:9092",
            "Kafka bootstrap servers for the input and output topics.");
    public static final Option REGISTRY = opt("registry.url", Type.STRING, "http://127.0.0.1:8081",
            "Schema registry URL(s), comma separated (Confluent REST API).");
    public static final Option REGISTRY_AUTH = opt("registry.basic.auth.user.info", Type.STRING, "",
            "user:password for the registry's basic auth; empty for none.");
    public static final Option KAFKA_CONFIG = opt("kafka.config", Type.STRING, "",
            "A properties file of extra Kafka client settings (security.protocol, sasl.*, ssl.*), for all clients.");
    public static final Option EVENTS_TOPIC = opt("topic.events", Type.STRING, "sockflow.events",
            "Input topic of SocketEvent records.");
    public static final Option LIFECYCLES_TOPIC = opt("topic.lifecycles", Type.STRING, "sockflow.lifecycles",
            "Output topic of SocketLifecycle records.");
    public static final Option FLOWS_TOPIC = opt("topic.flows", Type.STRING, "sockflow.flows",
            "Output topic of Flow records.");
    public static final Option ALERTS_TOPIC = opt("topic.alerts", Type.STRING, "sockflow.alerts",
            "Output topic of Alert records.");
    public static final Option DEAD_LETTER_TOPIC = opt("topic.dead-letter", Type.STRING, "sockflow.events.dlq",
            "Where input records that cannot be decoded go, with the reason in their headers.");
    public static final Option MAX_EVENT_BYTES = opt("input.max-event-bytes", Type.INT, "16384",
            "An input record larger than this goes to the dead-letter topic (the collector's events are under 1 KiB).");
    public static final Option MAX_CLOCK_AHEAD = opt("input.max-clock-ahead", Type.DURATION, "5m",
            "An event stamped further than this ahead of the job's clock goes to the dead-letter topic and is counted, "
                    + "so that one host's wrong clock cannot push event time past every later record.");
    public static final Option MAX_RECORD_BYTES = opt("sink.max-record-bytes", Type.INT, "1000000",
            "Largest record (key, value, headers) the Kafka sinks write: keep it below the brokers' and topics' "
                    + "message.max.bytes (1 MiB by default). Longer results are truncated, dead letters cut, both counted.");
    public static final Option TOPIC_PARTITIONS = opt("topic.partitions", Type.INT, "3",
            "Partitions of output topics created when missing.");
    public static final Option GROUP_ID = opt("group.id", Type.STRING, "sockflow-jobs",
            "Consumer group id (offsets are committed on checkpoints, for monitoring only).");
    public static final Option STARTING_OFFSETS = opt("starting.offsets", Type.STRING, "earliest",
            "Where a job without a checkpoint starts reading: earliest, latest or committed.");
    public static final Option BOUNDED = opt("bounded", Type.BOOLEAN, "false",
            "Stop at the input's end offsets as of the start (replays, tests, benchmarks); everything still open is then ended.");
    public static final Option TRANSACTION_PREFIX = opt("transactional.id.prefix", Type.STRING, "sockflow-jobs",
            "Prefix of the Kafka transactional ids of the exactly-once sinks; unique per job deployment.");
    public static final Option KAFKA_SINK = opt("sink.kafka", Type.BOOLEAN, "true", "Write results to Kafka topics.");
    public static final Option ICEBERG_SINK = opt("sink.iceberg", Type.BOOLEAN, "true", "Write results to Iceberg tables.");
    public static final Option WAREHOUSE = opt("warehouse", Type.STRING, "data/warehouse",
            "Iceberg warehouse (a Hadoop catalog): a local folder or a file:, hdfs: or s3a: URI.");
    public static final Option NAMESPACE = opt("iceberg.namespace", Type.STRING, "sockflow",
            "Iceberg namespace of the lifecycles, flows and alerts tables.");
    public static final Option CHECKPOINT_INTERVAL = opt("checkpoint.interval", Type.DURATION, "5s",
            "Checkpoint interval: results become visible (Kafka commits, Iceberg snapshots) at each checkpoint.");
    public static final Option CHECKPOINT_DIR = opt("checkpoint.dir", Type.STRING, "data/checkpoints",
            "Where checkpoints are kept: a folder, or a file:, hdfs: or s3: URI (shared storage on a cluster).");
    public static final Option PARALLELISM = opt("parallelism", Type.INT, "1", "Default parallelism of the jobs.");
    public static final Option RESTORE = opt("restore", Type.STRING, "",
            "Start from a retained checkpoint or a savepoint (its folder, e.g. .../chk-42), or 'latest': the newest "
                    + "checkpoint under checkpoint.dir, if there is one. Empty: a fresh start at starting.offsets.");
    public static final Option OUT_OF_ORDERNESS = opt("watermark.out-of-orderness", Type.DURATION, "2s",
            "How far behind the newest event time an event may arrive and still count as on time.");
    public static final Option IDLENESS = opt("watermark.idleness", Type.DURATION, "10s",
            "A partition (host) silent this long stops holding back the watermark of the others.");
    public static final Option CLOSE_GRACE = opt("lifecycle.close-grace", Type.DURATION, "1s",
            "After a socket's close, how long (event time) its last kernel records may still arrive.");
    public static final Option SOCKET_TIMEOUT = opt("lifecycle.timeout", Type.DURATION, "0s",
            "A socket silent this long (event time) without its release seen is ended as TIMED_OUT; 0 (the default) "
                    + "never: the collector reports every release, and its sweep ends what went unseen.");
    public static final Option UPDATE_INTERVAL = opt("lifecycle.update-interval", Type.DURATION, "1m",
            "Long-lived sockets and flows get an update record this often (event time).");
    public static final Option FLOW_PAIR_GRACE = opt("flow.pair-grace", Type.DURATION, "2s",
            "After one end of a connection ends, how long the flow waits for the other local end before its END record.");
    public static final Option JOBS = opt("jobs", Type.LIST, "lifecycle,flow,detection",
            "Which jobs run (flow needs lifecycle).");
    public static final Option SCAN_PORTS = opt("detect.portscan.ports", Type.INT, "20",
            "Port scan: refused or reset connects to at least this many distinct ports of one address...");
    public static final Option SCAN_WINDOW = opt("detect.portscan.window", Type.DURATION, "1m",
            "...by one process within this window.");
    public static final Option RECON_CALLS = opt("detect.recon.calls", Type.INT, "50",
            "Reconnaissance: at least this many getsockname/getpeername calls...");
    public static final Option RECON_WINDOW = opt("detect.recon.window", Type.DURATION, "10s",
            "...by one process within this window.");
    public static final Option SOCKETPAIR_ALLOW = opt("detect.socketpair.allow", Type.LIST,
            "systemd,systemd-journal,dbus-daemon,dbus-broker,sshd,sshd-session,java,python3,curl,node,Xorg,gnome-shell,pipewire,containerd,dockerd,runc,chrome,firefox",
            "Processes (comm) expected to create socketpairs; any other is alerted.");
    public static final Option SHELLS = opt("detect.shells", Type.LIST, "sh,bash,dash,zsh,ksh,mksh,csh,tcsh,fish,busybox,ash",
            "Shell process names: an outbound connect by one of them is alerted.");
    public static final Option LISTENER_LEARNING = opt("detect.listener.learning", Type.DURATION, "5m",
            "New listeners: ports seen listening on a host during its first events (this long) are learned, not alerted.");
    public static final Option LISTENER_ALLOW = opt("detect.listener.allow", Type.LIST, "",
            "Ports (numbers) whose listeners are never alerted.");
    public static final Option FAIL_AFTER = opt("test.fail-after-records", Type.LONG, "0",
            "Testing recovery: fail once after this many input records, once a checkpoint has completed (0 = never).");
    public static final Option STALL_AFTER = opt("test.stall-after-records", Type.LONG, "0",
            "Testing a crash: stop taking input after this many records, once a checkpoint has completed, and say so "
                    + "on stdout, so that the process can be killed there (0 = never).");

    private final Map<String, String> values;

    private JobConfig(Map<String, String> values) {
        this.values = values;
    }

    public static Map<String, Option> options() {
        return OPTIONS;
    }

    public static JobConfig defaults() {
        return of(Map.of());
    }

    /** Values on top of the defaults; each one is checked. */
    public static JobConfig of(Map<String, String> overrides) {
        Map<String, String> v = new LinkedHashMap<>();
        for (Option o : OPTIONS.values()) {
            v.put(o.name(), o.defaultValue());
        }
        for (Map.Entry<String, String> e : overrides.entrySet()) {
            Option o = OPTIONS.get(e.getKey());
            if (o == null) {
                throw new IllegalArgumentException("unknown setting '" + e.getKey() + "': known settings are listed by --help");
            }
            check(o, e.getValue());
            v.put(o.name(), e.getValue());
        }
        return new JobConfig(v);
    }

    /** Defaults, then {@code --config FILE}, then the environment, then {@code --name value} flags. */
    public static JobConfig fromArgs(String[] args, Map<String, String> env) {
        Map<String, String> flags = new LinkedHashMap<>();
        String file = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument '" + a + "': settings are given as --name value");
            }
            String name = a.substring(2);
            String value;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else if (i + 1 < args.length) {
                value = args[++i];
            } else {
                throw new IllegalArgumentException("setting --" + name + " needs a value");
            }
            if (name.equals("config")) {
                file = value;
            } else {
                flags.put(name, value);
            }
        }
        Map<String, String> merged = new LinkedHashMap<>();
        if (file != null) {
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(Path.of(file))) {
                p.load(r);
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read the config file " + file + ": " + e.getMessage());
            }
            p.stringPropertyNames().forEach(k -> merged.put(k, p.getProperty(k)));
        }
        for (Option o : OPTIONS.values()) {
            String ev = env.get(envName(o));
            if (ev != null) {
                merged.put(o.name(), ev);
            }
        }
        merged.putAll(flags);
        return of(merged);
    }

    public static String envName(Option o) {
        return "SOCKFLOW_JOBS_" + o.name().toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    private static void check(Option o, String v) {
        try {
            switch (o.type()) {
                case INT -> Integer.parseInt(v.trim());
                case LONG -> Long.parseLong(v.trim());
                case DURATION -> parseDuration(v);
                case BOOLEAN -> {
                    if (!v.equalsIgnoreCase("true") && !v.equalsIgnoreCase("false")) {
                        throw new IllegalArgumentException();
                    }
                }
                default -> {
                }
            }
        } catch (RuntimeException e) {
            String allowed = switch (o.type()) {
                case INT, LONG -> "a whole number";
                case DURATION -> "a duration such as 500ms, 5s, 2m, 1h";
                case BOOLEAN -> "true or false";
                default -> "text";
            };
            throw new IllegalArgumentException("bad value '" + v + "' for " + o.name() + ": expected " + allowed);
        }
        if ((o == MAX_EVENT_BYTES || o == MAX_RECORD_BYTES) && Integer.parseInt(v.trim()) < 1024) {
            throw new IllegalArgumentException("bad value '" + v + "' for " + o.name() + ": expected at least 1024 (bytes)");
        }
        if (o == STARTING_OFFSETS && !Set.of("earliest", "latest", "committed").contains(v)) {
            throw new IllegalArgumentException("bad value '" + v + "' for " + o.name() + ": expected earliest, latest or committed");
        }
        if (o == JOBS) {
            for (String j : split(v)) {
                if (!Set.of("lifecycle", "flow", "detection").contains(j)) {
                    throw new IllegalArgumentException("bad value '" + j + "' for jobs: expected lifecycle, flow, detection");
                }
            }
        }
    }

    public static Duration parseDuration(String v) {
        String s = v.trim().toLowerCase(Locale.ROOT);
        int i = 0;
        while (i < s.length() && Character.isDigit(s.charAt(i))) {
            i++;
        }
        if (i == 0) {
            throw new IllegalArgumentException("no number in " + v);
        }
        long n = Long.parseLong(s.substring(0, i));
        return switch (s.substring(i).trim()) {
            case "ms" -> Duration.ofMillis(n);
            case "s", "" -> Duration.ofSeconds(n);
            case "m", "min" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            case "d" -> Duration.ofDays(n);
            default -> throw new IllegalArgumentException("bad unit in " + v);
        };
    }

    private static List<String> split(String v) {
        List<String> out = new ArrayList<>();
        for (String s : v.split(",")) {
            if (!s.isBlank()) {
                out.add(s.trim());
            }
        }
        return out;
    }

    public String get(Option o) {
        return values.get(o.name());
    }

    public int getInt(Option o) {
        return Integer.parseInt(get(o).trim());
    }

    public long getLong(Option o) {
        return Long.parseLong(get(o).trim());
    }

    public boolean getBoolean(Option o) {
        return Boolean.parseBoolean(get(o).trim());
    }

    public Duration getDuration(Option o) {
        return parseDuration(get(o));
    }

    public List<String> getList(Option o) {
        return split(get(o));
    }

    public Set<String> getSet(Option o) {
        return new TreeSet<>(getList(o));
    }

    /** A copy with some values replaced. */
    public JobConfig with(Map<String, String> more) {
        Map<String, String> v = new LinkedHashMap<>(values);
        Map<String, String> changed = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : v.entrySet()) {
            if (!e.getValue().equals(OPTIONS.get(e.getKey()).defaultValue())) {
                changed.put(e.getKey(), e.getValue());
            }
        }
        changed.putAll(more);
        return of(changed);
    }

    public Map<String, String> values() {
        return Map.copyOf(values);
    }

    /** The --help text: every setting with its default and doc. */
    public static String help() {
        StringBuilder b = new StringBuilder();
        for (Option o : OPTIONS.values()) {
            if (o.name().startsWith("test.")) {
                continue;
            }
            b.append(String.format("  --%-28s %s (default: %s; env %s)%n", o.name(), o.doc(),
                    o.defaultValue().isEmpty() ? "none" : o.defaultValue(), envName(o)));
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return Arrays.toString(values.entrySet().toArray());
    }
}
