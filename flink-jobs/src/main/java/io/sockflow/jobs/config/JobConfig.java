package io.sockflow.jobs.config;

import io.sockflow.schemas.config.Check;
import io.sockflow.schemas.config.Durations;
import io.sockflow.schemas.config.Explain;
import io.sockflow.schemas.config.Flags;
import io.sockflow.schemas.config.Validators;
import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/**
 * Every setting of the jobs, declared once (name, type, default, validator, doc) in a Kafka {@link ConfigDef} and read
 * by sockflow's one config system ({@link Flags}, {@link Check}). Values come, later ones winning, from the defaults,
 * a properties file ({@code --config FILE}), environment variables ({@code SOCKFLOW_JOBS_} + the name in upper case
 * with dots and dashes as underscores) and {@code --name value} flags. A bad value fails at start with one line naming
 * the setting and what it allows.
 */
public final class JobConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Environment variables of job settings: SOCKFLOW_JOBS_DETECT_PORTSCAN_PORTS for detect.portscan.ports. */
    public static final String ENV_PREFIX = "SOCKFLOW_JOBS_";

    public enum Type {
        STRING,
        INT,
        LONG,
        DURATION,
        BOOLEAN,
        LIST
    }

    public record Option(String name, Type type, String defaultValue, String doc) implements Serializable {}

    private static final Map<String, Option> OPTIONS = new LinkedHashMap<>();

    /** The declarations, for checking values and for {@code sockflow config --explain}. */
    public static final ConfigDef DEFINITION = new ConfigDef();

    private static Option opt(String name, Type type, String def, String doc) {
        return opt(name, type, def, null, doc);
    }

    /** Declares a setting; a duration is text checked by the shared duration validator. */
    private static Option opt(String name, Type type, String def, ConfigDef.Validator validator, String doc) {
        Option o = new Option(name, type, def, doc);
        OPTIONS.put(name, o);
        ConfigDef.Type kafkaType = switch (type) {
            case STRING, DURATION -> ConfigDef.Type.STRING;
            case INT -> ConfigDef.Type.INT;
            case LONG -> ConfigDef.Type.LONG;
            case BOOLEAN -> ConfigDef.Type.BOOLEAN;
            case LIST -> ConfigDef.Type.LIST;
        };
        ConfigDef.Validator v = validator == null && type == Type.DURATION ? Validators.duration() : validator;
        DEFINITION.define(
                name,
                kafkaType,
                def,
                v,
                name.startsWith("test.") ? ConfigDef.Importance.LOW : ConfigDef.Importance.MEDIUM,
                doc);
        return o;
    }

    public static final Option BOOTSTRAP = opt(
            "bootstrap.servers",
            Type.STRING,
            "127.0.0.1:9092",
            "Kafka bootstrap servers for the input and output topics.");
    public static final Option REGISTRY = opt(
            "registry.url",
            Type.STRING,
            "http://127.0.0.1:8081",
            "Schema registry URL(s), comma separated (Confluent REST API).");
    public static final Option REGISTRY_AUTH = opt(
            "registry.basic.auth.user.info",
            Type.STRING,
            "",
            "user:password for the registry's basic auth; empty for none.");
    public static final Option KAFKA_CONFIG = opt(
            "kafka.config",
            Type.STRING,
            "",
            "A properties file of extra Kafka client settings (security.protocol, sasl.*, ssl.*), for all clients.");
    public static final Option EVENTS_TOPIC =
            opt("topic.events", Type.STRING, "sockflow.events", "Input topic of SocketEvent records.");
    public static final Option LIFECYCLES_TOPIC =
            opt("topic.lifecycles", Type.STRING, "sockflow.lifecycles", "Output topic of SocketLifecycle records.");
    public static final Option FLOWS_TOPIC =
            opt("topic.flows", Type.STRING, "sockflow.flows", "Output topic of Flow records.");
    public static final Option ALERTS_TOPIC =
            opt("topic.alerts", Type.STRING, "sockflow.alerts", "Output topic of Alert records.");
    public static final Option DEAD_LETTER_TOPIC = opt(
            "topic.dead-letter",
            Type.STRING,
            "sockflow.events.dlq",
            "Where input records that cannot be decoded go, with the reason in their headers.");
    public static final Option MAX_EVENT_BYTES = opt(
            "input.max-event-bytes",
            Type.INT,
            "16384",
            ConfigDef.Range.atLeast(1024),
            "An input record larger than this goes to the dead-letter topic (the collector's events are under 1 KiB).");
    public static final Option MAX_CLOCK_AHEAD = opt(
            "input.max-clock-ahead",
            Type.DURATION,
            "5m",
            "An event stamped further than this ahead of the job's clock goes to the dead-letter topic and is counted, "
                    + "so that one host's wrong clock cannot push event time past every later record.");
    public static final Option MAX_RECORD_BYTES = opt(
            "sink.max-record-bytes",
            Type.INT,
            "1000000",
            ConfigDef.Range.atLeast(1024),
            "Largest record (key, value, headers) the Kafka sinks write: keep it below the brokers' and topics' "
                    + "message.max.bytes (1 MiB by default). Longer results are truncated, dead letters cut, both counted.");
    public static final Option TOPIC_PARTITIONS = opt(
            "topic.partitions",
            Type.INT,
            "3",
            ConfigDef.Range.atLeast(1),
            "Partitions of output topics created when missing.");
    public static final Option TOPIC_RETENTION = opt(
            "topic.retention",
            Type.DURATION,
            "7d",
            "Kafka keeps the records of sockflow's topics (events, lifecycles, flows, alerts, dead letters) this long"
                    + " (their retention.ms), set when the jobs create a topic and on existing ones that still have the"
                    + " broker's default or sockflow's; 0 keeps them for good.");
    public static final Option TOPIC_RETENTION_BYTES = opt(
            "topic.retention.bytes",
            Type.LONG,
            "536870912",
            ConfigDef.Range.atLeast(0),
            "...and at most this many bytes per partition of each of those topics (their retention.bytes; 512 MiB);"
                    + " 0 for no limit.");
    public static final Option GROUP_ID = opt(
            "group.id",
            Type.STRING,
            "sockflow-jobs",
            "Consumer group id (offsets are committed on checkpoints, for monitoring only).");
    public static final Option STARTING_OFFSETS = opt(
            "starting.offsets",
            Type.STRING,
            "earliest",
            ConfigDef.ValidString.in("earliest", "latest", "committed"),
            "Where a job without a checkpoint starts reading: earliest, latest or committed.");
    public static final Option BOUNDED = opt(
            "bounded",
            Type.BOOLEAN,
            "false",
            "Stop at the input's end offsets as of the start (replays, tests, benchmarks); everything still open is then ended.");
    public static final Option TRANSACTION_PREFIX = opt(
            "transactional.id.prefix",
            Type.STRING,
            "sockflow-jobs",
            "Prefix of the Kafka transactional ids of the exactly-once sinks; unique per job deployment.");
    public static final Option KAFKA_SINK = opt("sink.kafka", Type.BOOLEAN, "true", "Write results to Kafka topics.");
    public static final Option ICEBERG_SINK =
            opt("sink.iceberg", Type.BOOLEAN, "true", "Write results to Iceberg tables.");
    public static final Option LAKE_EVENTS = opt(
            "lake.events",
            Type.BOOLEAN,
            "true",
            "With sink.iceberg: every input event is also kept in the lake's events table (for backtests of rules"
                    + " and for forensics).");
    public static final Option LAKE_EVENTS_RETENTION = opt(
            "lake.events.retention",
            Type.DURATION,
            "7d",
            "Days of the events table older than this are deleted (whole days, at the job's start and every"
                    + " hour); 0 keeps them all.");
    public static final Option LAKE_RETENTION = opt(
            "lake.retention",
            Type.DURATION,
            "30d",
            "Days of the lifecycles, flows and alerts tables older than this are deleted (whole days, at the job's"
                    + " start and every hour); 0 keeps them all.");
    public static final Option WAREHOUSE = opt(
            "warehouse",
            Type.STRING,
            "data/warehouse",
            "Iceberg warehouse (a Hadoop catalog): a local folder or a file:, hdfs: or s3a: URI.");
    public static final Option NAMESPACE = opt(
            "iceberg.namespace",
            Type.STRING,
            "sockflow",
            "Iceberg namespace of the lifecycles, flows and alerts tables.");
    public static final Option CHECKPOINT_INTERVAL = opt(
            "checkpoint.interval",
            Type.DURATION,
            "5s",
            "Checkpoint interval: results become visible (Kafka commits, Iceberg snapshots) at each checkpoint.");
    public static final Option CHECKPOINT_DIR = opt(
            "checkpoint.dir",
            Type.STRING,
            "data/checkpoints",
            "Where checkpoints are kept: a folder, or a file:, hdfs: or s3: URI (shared storage on a cluster).");
    public static final Option PARALLELISM =
            opt("parallelism", Type.INT, "1", ConfigDef.Range.between(1, 1024), "Default parallelism of the jobs.");
    public static final Option RESTORE = opt(
            "restore",
            Type.STRING,
            "",
            "Start from a retained checkpoint or a savepoint (its folder, e.g. .../chk-42), or 'latest': the newest "
                    + "checkpoint under checkpoint.dir, if there is one. Empty: a fresh start at starting.offsets.");
    public static final Option OUT_OF_ORDERNESS = opt(
            "watermark.out-of-orderness",
            Type.DURATION,
            "2s",
            "How far behind the newest event time an event may arrive and still count as on time.");
    public static final Option IDLENESS = opt(
            "watermark.idleness",
            Type.DURATION,
            "10s",
            "A partition (host) silent this long stops holding back the watermark of the others.");
    public static final Option CLOSE_GRACE = opt(
            "lifecycle.close-grace",
            Type.DURATION,
            "1s",
            "After a socket's close, how long (event time) its last kernel records may still arrive.");
    public static final Option SOCKET_TIMEOUT = opt(
            "lifecycle.timeout",
            Type.DURATION,
            "0s",
            "A socket silent this long (event time) without its release seen is ended as TIMED_OUT; 0 (the default) "
                    + "never: the collector reports every release, and its sweep ends what went unseen.");
    public static final Option UPDATE_INTERVAL = opt(
            "lifecycle.update-interval",
            Type.DURATION,
            "1m",
            "Long-lived sockets and flows get an update record this often (event time).");
    public static final Option FLOW_PAIR_GRACE = opt(
            "flow.pair-grace",
            Type.DURATION,
            "2s",
            "How long a flow waits for the other local end of its connection: after the first end is seen, before its NEW "
                    + "record (which then names both processes), and after one end ends, before its END record.");
    public static final Option FLOW_SCOPE = opt(
            "flow.scope",
            Type.STRING,
            "fleet",
            ConfigDef.ValidString.in("fleet", "host"),
            "fleet: a connection between two observed hosts is one flow naming both ends' processes and hosts (its "
                    + "addresses must name the hosts; loopback and link-local ones stay per host). host: every flow "
                    + "is one host's view; for fleets whose hosts reuse each other's addresses (overlapping private "
                    + "networks, NAT).");
    public static final Option JOBS = opt(
            "jobs",
            Type.LIST,
            "lifecycle,flow,detection",
            ConfigDef.ValidList.in(true, "lifecycle", "flow", "detection"),
            "Which jobs run (flow needs lifecycle).");
    public static final Option SCAN_PORTS = opt(
            "detect.portscan.ports",
            Type.INT,
            "20",
            "Port scan: refused or reset connects to at least this many distinct ports of one address...");
    public static final Option SCAN_WINDOW =
            opt("detect.portscan.window", Type.DURATION, "1m", "...by one process within this window.");
    public static final Option RECON_CALLS = opt(
            "detect.recon.calls",
            Type.INT,
            "50",
            "Reconnaissance: at least this many getsockname/getpeername calls...");
    public static final Option RECON_WINDOW =
            opt("detect.recon.window", Type.DURATION, "10s", "...by one process within this window.");
    public static final Option IO_URING_WINDOW = opt(
            "detect.io-uring.window",
            Type.DURATION,
            "1m",
            "io_uring networking: a process's network requests through io_uring within this window make one alert.");
    public static final Option IO_URING_ALLOW = opt(
            "detect.io-uring.allow",
            Type.LIST,
            "",
            "Process names (comm) whose network requests through io_uring are expected (servers built on it) and not alerted.");
    public static final Option SOCKETPAIR_ALLOW = opt(
            "detect.socketpair.allow",
            Type.LIST,
            "",
            "Names (comm) that a process may take after its exec and still make socketpairs unalerted (a program that renames itself on purpose).");
    public static final Option SHELLS = opt(
            "detect.shells",
            Type.LIST,
            "sh,bash,dash,zsh,ksh,mksh,csh,tcsh,fish,busybox,ash",
            "Shell process names: an outbound connect by one of them is alerted.");
    public static final Option INTERPRETERS = opt(
            "detect.interpreters",
            Type.LIST,
            "python,python2,python3,perl,ruby,php,node,lua,tclsh,irb",
            "Interpreter process names (a version suffix such as python3.11 matches too): started, like a shell, with its standard streams on a TCP connection is a reverse shell.");
    public static final Option SOCKOPT_RULES = opt(
            "detect.sockopt.rules",
            Type.LIST,
            "sockopt-control,ip-hdrincl,so-debug,sockopt-probe",
            "Socket-option rules that run (any of sockopt-control, ip-hdrincl, so-debug, sockopt-probe; empty for none).");
    public static final Option SOCKOPT_ALLOW = opt(
            "detect.sockopt.allow",
            Type.LIST,
            "systemd-network,systemd-resolve,NetworkManager,dhclient,dhcpcd,wpa_supplicant,avahi-daemon,chronyd,openvpn,haproxy,envoy,squid",
            "Processes (comm) expected to set SO_BINDTODEVICE or IP_TRANSPARENT (sockopt-control).");
    public static final Option SOCKOPT_PROBE_OPTIONS = opt(
            "detect.sockopt.probe.options",
            Type.INT,
            "20",
            "sockopt-probe: at least this many distinct options read with getsockopt...");
    public static final Option SOCKOPT_PROBE_WINDOW =
            opt("detect.sockopt.probe.window", Type.DURATION, "10s", "...by one process within this window.");
    public static final Option ALERT_FOLD_WINDOW = opt(
            "detect.fold.window",
            Type.DURATION,
            "10m",
            "Alerts: the same finding again (the same rule, process and summary) within this window of the first is folded into one more alert at the window's end, with the count and time span; 0 sends every alert.");
    public static final Option LISTENER_LEARNING = opt(
            "detect.listener.learning",
            Type.DURATION,
            "5m",
            "New listeners: ports seen listening on a host during its first events (this long) are learned, not alerted.");
    public static final Option LISTENER_ALLOW =
            opt("detect.listener.allow", Type.LIST, "", "Ports (numbers) whose listeners are never alerted.");
    public static final Option LISTENER_EPHEMERAL = opt(
            "detect.listener.ephemeral",
            Type.STRING,
            "32768-60999",
            "New listeners: a listener on a loopback address with a port in this range (the kernel's ip_local_port_range) is a runtime's private port, not alerted; empty alerts them too.");
    public static final Option RULES_DIR = opt(
            "detect.rules.dir",
            Type.STRING,
            io.sockflow.jobs.detect.UserRules.DEFAULT_DIR,
            "Folder of the users' detection rules in SQL, one NAME.sql per rule (docs/rules.md); read at start. The default folder may be absent (no user rules); a folder set here must exist.");
    public static final Option FAIL_AFTER = opt(
            "test.fail-after-records",
            Type.LONG,
            "0",
            ConfigDef.Range.atLeast(0),
            "Testing recovery: fail once after this many input records, once a checkpoint has completed (0 = never).");
    public static final Option STALL_AFTER = opt(
            "test.stall-after-records",
            Type.LONG,
            "0",
            ConfigDef.Range.atLeast(0),
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
            if (!OPTIONS.containsKey(e.getKey())) {
                throw new IllegalArgumentException(
                        "unknown setting '" + e.getKey() + "': known settings are listed by --help");
            }
            check(e.getKey(), e.getValue());
            v.put(e.getKey(), e.getValue());
        }
        return new JobConfig(v);
    }

    /** One value checked against its declaration: an {@link IllegalArgumentException} of one line if it is bad. */
    public static void check(String name, String value) {
        try {
            Check.value(DEFINITION, name, value);
        } catch (ConfigException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
    }

    /** Defaults, then {@code --config FILE}, then the environment, then {@code --name value} flags. */
    public static JobConfig fromArgs(String[] args, Map<String, String> env) {
        try {
            return of(Flags.collect(DEFINITION, List.of(args), env, ENV_PREFIX));
        } catch (ConfigException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
    }

    public static String envName(Option o) {
        return Flags.envName(ENV_PREFIX, o.name());
    }

    public static Duration parseDuration(String v) {
        return Durations.parse(v);
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

    /** The --help text: every setting with its flag, default, environment variable and doc. */
    public static String help() {
        return Explain.help(DEFINITION, ENV_PREFIX);
    }

    @Override
    public String toString() {
        return Arrays.toString(values.entrySet().toArray());
    }
}
