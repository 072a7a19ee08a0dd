package io.sockflow.collector.cli;

import io.sockflow.schemas.config.Check;
import io.sockflow.schemas.config.Durations;
import io.sockflow.schemas.config.Explain;
import io.sockflow.schemas.config.Flags;
import io.sockflow.schemas.config.Validators;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/**
 * Every setting of the collector, declared once (name, type, default, allowed values, documentation) with Kafka's
 * {@link ConfigDef}, read and checked by sockflow's one config system ({@link Flags}, {@link Check}). Each can be
 * given as a flag ({@code --ring-buffer-bytes 1048576}), an environment variable ({@code SOCKFLOW_RING_BUFFER_BYTES}) or a line of a properties file ({@code ring.buffer.bytes=1048576}, file
 * named by {@code --config}); a flag wins over the environment, which wins over the file.
 */
public final class Settings extends AbstractConfig {
    public static final String OUTPUT = "output";
    public static final String DURATION = "duration";
    public static final String PID_INCLUDE = "pid.include";
    public static final String PID_EXCLUDE = "pid.exclude";
    public static final String CGROUP_INCLUDE = "cgroup.include";
    public static final String CGROUP_EXCLUDE = "cgroup.exclude";
    public static final String NETNS = "netns";
    public static final String EXCLUDE_SELF = "exclude.self";
    public static final String RING_BUFFER_BYTES = "ring.buffer.bytes";
    public static final String BTF_PATH = "btf.path";
    public static final String TRACEFS_PATH = "tracefs.path";
    public static final String HOST_NAME = "host.name";
    public static final String STATS_INTERVAL = "stats.interval";
    public static final String LOG_LEVEL = "log.level";
    public static final String CONFIG_FILE = Flags.CONFIG;
    /** Environment variables of collector settings: SOCKFLOW_RING_BUFFER_BYTES for ring.buffer.bytes. */
    public static final String ENV_PREFIX = "SOCKFLOW_";

    public static final String BOOTSTRAP_SERVERS = "bootstrap.servers";
    public static final String REGISTRY_URL = "registry.url";
    public static final String REGISTRY_USER_INFO = "registry.basic.auth.user.info";
    public static final String REGISTRY_TRUSTSTORE = "registry.ssl.truststore.location";
    public static final String REGISTRY_TRUSTSTORE_PASSWORD = "registry.ssl.truststore.password";
    public static final String TOPIC = "topic";
    public static final String TOPIC_PARTITIONS = "topic.partitions";
    public static final String TOPIC_REPLICATION = "topic.replication.factor";
    public static final String KAFKA_CONFIG = "kafka.config";
    public static final String COMPRESSION = "compression.type";
    public static final String SPOOL_DIR = "spool.dir";
    public static final String SPOOL_MAX_BYTES = "spool.max.bytes";
    public static final String SPOOL_FULL_POLICY = "spool.full.policy";
    public static final String SPOOL_FSYNC_INTERVAL = "spool.fsync.interval";
    public static final String DISK_MIN_FREE = "disk.min.free.bytes";
    public static final String BUFFER_MEMORY = "buffer.memory.bytes";
    public static final String TRACEPOINT_GROUPS = "tracepoint.groups";
    public static final String COUNTERS_INTERVAL = "counters.interval";
    public static final String SWEEP_INTERVAL = "sweep.interval";
    public static final String DATA_PATH = "data.path";
    public static final String AGGREGATE_INTERVAL = "aggregate.interval";
    public static final String CLOCK_INTERVAL = "clock.interval";
    public static final String FILE = "file";
    public static final String METRICS_PORT = "metrics.port";
    public static final String METRICS_ADDRESS = "metrics.address";
    public static final String METRICS_USER_INFO = "metrics.basic.auth.user.info";
    public static final String RUN_AS = "run.as";
    public static final String STATUS_FILE = "status.file";
    public static final String EXIT_WITH_PID = "exit.with.pid";

    public static final ConfigDef DEFINITION = new ConfigDef()
            .define(
                    OUTPUT,
                    ConfigDef.Type.STRING,
                    "json",
                    ConfigDef.ValidString.in("json", "kafka", "file"),
                    ConfigDef.Importance.HIGH,
                    "Where events go: json (one JSON object per event on standard output), "
                            + "kafka (Avro via the schema registry) or file (an Avro container file, --file: a recorded "
                            + "capture that `sockflow up --replay` plays back).")
            .define(
                    FILE,
                    ConfigDef.Type.STRING,
                    "capture.avro",
                    ConfigDef.Importance.MEDIUM,
                    "The Avro file that --output file writes (overwritten).")
            .define(
                    BOOTSTRAP_SERVERS,
                    ConfigDef.Type.STRING,
                    "127.0.0.1:9092",
                    Validators.hostPorts(),
                    ConfigDef.Importance.HIGH,
                    "Kafka brokers to write to (output kafka), host:port[,host:port].")
            .define(
                    REGISTRY_URL,
                    ConfigDef.Type.STRING,
                    "http://127.0.0.1:8081",
                    Validators.urls(),
                    ConfigDef.Importance.HIGH,
                    "Confluent-compatible schema registry URL(s), comma-separated (output kafka).")
            .define(
                    REGISTRY_USER_INFO,
                    ConfigDef.Type.PASSWORD,
                    null,
                    ConfigDef.Importance.LOW,
                    "user:password for the registry's basic authentication.")
            .define(
                    REGISTRY_TRUSTSTORE,
                    ConfigDef.Type.STRING,
                    null,
                    ConfigDef.Importance.LOW,
                    "Trust store (PKCS12/JKS) for a registry behind TLS.")
            .define(
                    REGISTRY_TRUSTSTORE_PASSWORD,
                    ConfigDef.Type.PASSWORD,
                    null,
                    ConfigDef.Importance.LOW,
                    "Password of that trust store.")
            .define(
                    TOPIC,
                    ConfigDef.Type.STRING,
                    "sockflow.events",
                    new ConfigDef.NonEmptyString(),
                    ConfigDef.Importance.MEDIUM,
                    "Topic the events go to; created when missing.")
            .define(
                    TOPIC_PARTITIONS,
                    ConfigDef.Type.INT,
                    6,
                    ConfigDef.Range.between(1, 10_000),
                    ConfigDef.Importance.LOW,
                    "Partitions of the topic when the collector creates it.")
            .define(
                    TOPIC_REPLICATION,
                    ConfigDef.Type.SHORT,
                    (short) -1,
                    ConfigDef.Importance.LOW,
                    "Replication factor when the collector creates the topic; -1 takes the broker's default.")
            .define(
                    KAFKA_CONFIG,
                    ConfigDef.Type.STRING,
                    null,
                    ConfigDef.Importance.LOW,
                    "Properties file of extra Kafka client settings (security.protocol, sasl.*, ssl.*); a partitioner of its own"
                            + " is refused.")
            .define(
                    COMPRESSION,
                    ConfigDef.Type.STRING,
                    "lz4",
                    ConfigDef.ValidString.in("none", "gzip", "snappy", "lz4", "zstd"),
                    ConfigDef.Importance.LOW,
                    "Compression of the producer's batches.")
            .define(
                    SPOOL_DIR,
                    ConfigDef.Type.STRING,
                    "/var/lib/sockflow/spool",
                    ConfigDef.Importance.MEDIUM,
                    "Folder of the on-disk spool that holds events while Kafka is unreachable.")
            .define(
                    SPOOL_MAX_BYTES,
                    ConfigDef.Type.LONG,
                    1L << 30,
                    ConfigDef.Range.atLeast(64 * 1024),
                    ConfigDef.Importance.MEDIUM,
                    "Most the spool may hold on disk, in bytes.")
            .define(
                    SPOOL_FULL_POLICY,
                    ConfigDef.Type.STRING,
                    "drop-newest",
                    ConfigDef.ValidString.in("drop-newest", "drop-oldest"),
                    ConfigDef.Importance.MEDIUM,
                    "When the spool is full: drop-newest keeps what is spooled, drop-oldest makes room; every "
                            + "dropped event is counted.")
            .define(
                    SPOOL_FSYNC_INTERVAL,
                    ConfigDef.Type.STRING,
                    "1s",
                    Validators.duration(),
                    ConfigDef.Importance.LOW,
                    "Most time between spooling an event and putting it on disk (fsync): "
                            + "what a power loss can cost. A finished segment is fsynced at once, and everything at "
                            + "a clean stop. 0 fsyncs every event (slow).")
            .define(
                    DISK_MIN_FREE,
                    ConfigDef.Type.LONG,
                    -1L,
                    ConfigDef.Range.atLeast(-1),
                    ConfigDef.Importance.MEDIUM,
                    "While the spool's file system has less free space than this (bytes), new events are shed "
                            + "instead of spooled, and counted (sockflow_shed_events_total{reason=\"disk\"}); -1: "
                            + "the larger of 2 GiB and 5% of the file system, 0: never shed.")
            .define(
                    BUFFER_MEMORY,
                    ConfigDef.Type.LONG,
                    64L << 20,
                    ConfigDef.Range.between(64 * 1024, 1L << 34),
                    ConfigDef.Importance.LOW,
                    "Bytes of events the producer holds in memory; past that they are spooled.")
            .define(
                    DURATION,
                    ConfigDef.Type.STRING,
                    "0",
                    Validators.duration(),
                    ConfigDef.Importance.MEDIUM,
                    "Stop by itself after this long (e.g. 30s, 5m, 1h); 0 runs until interrupted.")
            .define(
                    PID_INCLUDE,
                    ConfigDef.Type.LIST,
                    "",
                    Validators.idList(8),
                    ConfigDef.Importance.MEDIUM,
                    "Capture only these process ids (comma-separated, at most 8); empty captures every process.")
            .define(
                    PID_EXCLUDE,
                    ConfigDef.Type.LIST,
                    "",
                    Validators.idList(7),
                    ConfigDef.Importance.MEDIUM,
                    "Never capture these process ids (at most 7; the collector's own pid is added unless exclude.self=false).")
            .define(
                    CGROUP_INCLUDE,
                    ConfigDef.Type.LIST,
                    "",
                    Validators.idList(4),
                    ConfigDef.Importance.LOW,
                    "Capture only these cgroup v2 ids (inode numbers of cgroup directories, at most 4).")
            .define(
                    CGROUP_EXCLUDE,
                    ConfigDef.Type.LIST,
                    "",
                    Validators.idList(4),
                    ConfigDef.Importance.LOW,
                    "Never capture these cgroup v2 ids (at most 4).")
            .define(
                    NETNS,
                    ConfigDef.Type.STRING,
                    null,
                    ConfigDef.Importance.MEDIUM,
                    "Capture one network namespace only, as a per-pod or per-container agent does: a file that "
                            + "names it, /var/run/netns/NAME (ip netns) or /proc/PID/ns/net. Calls of processes in "
                            + "it, kernel records of sockets in it and the sockets it holds at the start; the "
                            + "host-wide counter groups (skb, net, xdp, udp) are off. Empty: every namespace.")
            .define(
                    TRACEPOINT_GROUPS,
                    ConfigDef.Type.LIST,
                    "sock,tcp,skb,net,xdp,udp",
                    ConfigDef.ValidList.in(true, "sock", "tcp", "skb", "net", "xdp", "udp"),
                    ConfigDef.Importance.MEDIUM,
                    "Kernel tracepoint groups to record besides the system calls (empty for none): sock (TCP state "
                            + "changes, bytes of every send and receive), tcp (retransmits, resets, RTT), skb (drops by "
                            + "reason), net (packets per interface), xdp (XDP errors), udp (receive-queue overflows).")
            .define(
                    COUNTERS_INTERVAL,
                    ConfigDef.Type.STRING,
                    "10s",
                    Validators.duration(),
                    ConfigDef.Importance.LOW,
                    "How often the counters aggregated in the kernel (RTT, drops, interfaces, XDP, UDP overflows) are "
                            + "read, reset and emitted as records.")
            .define(
                    DATA_PATH,
                    ConfigDef.Type.STRING,
                    "aggregate",
                    ConfigDef.ValidString.in("aggregate", "per-call"),
                    ConfigDef.Importance.MEDIUM,
                    "How sends and receives of inet sockets are recorded: aggregate (summed per socket in the kernel: "
                            + "one SOCK_TOTALS record per socket per --aggregate-interval while it moves data, the "
                            + "last totals on its SOCK_RELEASE, carrying a TCP socket's RTT range and congestion "
                            + "window; of TCP's state changes only the establishment, a connect's outcome and a "
                            + "listener's start and end) or "
                            + "per-call (a record for every call, every state change, TCP_DESTROY and TCP_RTT, for "
                            + "forensics; costs far more). Datagram sends and receives keep their per-call records "
                            + "either way (each names its peer).")
            .define(
                    AGGREGATE_INTERVAL,
                    ConfigDef.Type.STRING,
                    "5s",
                    Validators.duration(),
                    ConfigDef.Importance.LOW,
                    "How often, with --data-path aggregate, every socket's totals are read and sent (more than 0, at "
                            + "most 10s).")
            .define(
                    CLOCK_INTERVAL,
                    ConfigDef.Type.STRING,
                    "1s",
                    Validators.duration(),
                    ConfigDef.Importance.LOW,
                    "How often, with --output kafka, a CLOCK record (the collector's time, not an event) goes to every "
                            + "partition of the topic that got no record from this collector in the interval, so that "
                            + "the jobs' event time goes on while the host is quiet (0 sends none; at least 100ms).")
            .define(
                    SWEEP_INTERVAL,
                    ConfigDef.Type.STRING,
                    "30s",
                    Validators.duration(),
                    ConfigDef.Importance.LOW,
                    "How often every process's socket descriptors are walked (about 20 ms per 10,000 sockets) to end "
                            + "sockets that went without their end being seen (a dropped record, a unix socket released "
                            + "by a late reference) and to learn sockets whose birth was not seen; 0 turns the sweep off.")
            .define(
                    METRICS_PORT,
                    ConfigDef.Type.INT,
                    0,
                    ConfigDef.Range.between(0, 65535),
                    ConfigDef.Importance.MEDIUM,
                    "Serve Prometheus metrics (events by kind, kernel drops, Kafka acks and failures, spool depth, "
                            + "produce latency, registry errors) at http://ADDRESS:PORT/metrics; 0 serves none.")
            .define(
                    METRICS_ADDRESS,
                    ConfigDef.Type.STRING,
                    "127.0.0.1",
                    ConfigDef.Importance.LOW,
                    "Address the metrics endpoint listens on. Loopback by default; any other address needs "
                            + "--metrics-basic-auth-user-info, so that it is never open without authentication.")
            .define(
                    METRICS_USER_INFO,
                    ConfigDef.Type.PASSWORD,
                    null,
                    ConfigDef.Importance.LOW,
                    "user:password a scraper must send (HTTP basic authentication) to read the metrics.")
            .define(
                    RUN_AS,
                    ConfigDef.Type.STRING,
                    "auto",
                    ConfigDef.Importance.MEDIUM,
                    "Who the collector becomes once its programs are attached, giving up every capability (a "
                            + "user name or uid[:gid]); auto: the user who ran sudo, else it stays as started and says so; root keeps "
                            + "root and its capabilities. Only a collector started as root switches.")
            .define(
                    EXIT_WITH_PID,
                    ConfigDef.Type.LONG,
                    0L,
                    ConfigDef.Range.atLeast(0),
                    ConfigDef.Importance.LOW,
                    "Stop (cleanly) when the process with this pid ends: sockflow up gives its own, so that a killed "
                            + "up leaves no collector behind; 0: none.")
            .define(
                    STATUS_FILE,
                    ConfigDef.Type.STRING,
                    null,
                    ConfigDef.Importance.LOW,
                    "A file the collector rewrites every second with its counters (name=value lines), for a "
                            + "process that shows them (sockflow up's live view).")
            .define(
                    EXCLUDE_SELF,
                    ConfigDef.Type.BOOLEAN,
                    true,
                    ConfigDef.Importance.LOW,
                    "Leave the collector's own process out, so its own traffic never feeds back into the capture.")
            .define(
                    RING_BUFFER_BYTES,
                    ConfigDef.Type.INT,
                    16 * 1024 * 1024,
                    Validators.powerOfTwo(4096, 1 << 30),
                    ConfigDef.Importance.MEDIUM,
                    "Size of the kernel ring buffer in bytes: a power of two from 4096 to 1073741824. Larger absorbs longer bursts.")
            .define(
                    BTF_PATH,
                    ConfigDef.Type.STRING,
                    "/sys/kernel/btf/vmlinux",
                    ConfigDef.Importance.LOW,
                    "Kernel BTF to relocate the programs against (a BTFHub file for kernels that lack /sys/kernel/btf/vmlinux).")
            .define(
                    TRACEFS_PATH,
                    ConfigDef.Type.STRING,
                    "/sys/kernel/tracing",
                    ConfigDef.Importance.LOW,
                    "Where tracefs is mounted; the collector mounts it there when it is absent.")
            .define(
                    HOST_NAME,
                    ConfigDef.Type.STRING,
                    null,
                    ConfigDef.Importance.LOW,
                    "Host name written into every event; the kernel's hostname by default.")
            .define(
                    STATS_INTERVAL,
                    ConfigDef.Type.STRING,
                    "0",
                    Validators.duration(),
                    ConfigDef.Importance.LOW,
                    "Print capture counters (events, drops) to standard error this often; 0 prints them only at the end.")
            .define(
                    LOG_LEVEL,
                    ConfigDef.Type.STRING,
                    "warn",
                    ConfigDef.ValidString.in("error", "warn", "info", "debug", "trace"),
                    ConfigDef.Importance.LOW,
                    "How much the collector logs to standard error.");

    /** The inode of the network namespace of --netns; 0: every one. */
    private final long netns;

    private Settings(Map<String, Object> values) {
        super(DEFINITION, values, false);
        String ns = getString(NETNS);
        this.netns = ns == null || ns.isBlank() ? 0 : netnsInode(ns.strip());
        String address = getString(METRICS_ADDRESS);
        if (getInt(METRICS_PORT) > 0 && !isLoopback(address) && getPassword(METRICS_USER_INFO) == null) {
            throw new ConfigException("--metrics-address " + address + " opens the metrics endpoint beyond this host: "
                    + "give --metrics-basic-auth-user-info user:password too, or leave it on 127.0.0.1");
        }
        if (getPassword(METRICS_USER_INFO) != null
                && !getPassword(METRICS_USER_INFO).value().contains(":")) {
            throw new ConfigException("--metrics-basic-auth-user-info needs the form user:password");
        }
        java.time.Duration every = duration(AGGREGATE_INTERVAL);
        if (every.isZero() || every.compareTo(java.time.Duration.ofSeconds(10)) > 0) {
            throw new ConfigException("--aggregate-interval " + getString(AGGREGATE_INTERVAL)
                    + ": give a duration above 0 and at most 10s (a socket's totals are sent this often)");
        }
        java.time.Duration clock = duration(CLOCK_INTERVAL);
        if (!clock.isZero() && clock.compareTo(java.time.Duration.ofMillis(100)) < 0) {
            throw new ConfigException("--clock-interval " + getString(CLOCK_INTERVAL)
                    + ": give 0 (no clock records) or a duration of at least 100ms");
        }
        String runAs = getString(RUN_AS);
        if (!runAs.equals("auto") && !runAs.equals("root")) {
            try {
                io.sockflow.collector.sys.Privileges.parse(runAs);
            } catch (IllegalArgumentException e) {
                throw new ConfigException("--run-as " + runAs + ": " + e.getMessage() + ", or auto, or root");
            }
        }
    }

    /** The inode of the network namespace of --netns; 0: every one. */
    public long netns() {
        return netns;
    }

    /**
     * The inode of the network namespace a file names (a bind mount of ip netns, or /proc/PID/ns/net): a namespace
     * file is on the namespaces' own file system (the device of /proc/self/ns/net), its inode is the namespace's, and
     * once opened the kernel says which kind of namespace it is. A file that is not one fails with a
     * {@link ConfigException}.
     */
    static long netnsInode(String path) {
        String fix = ": give a network namespace's file, /var/run/netns/NAME (ip netns list) or /proc/PID/ns/net";
        java.nio.file.Path p = java.nio.file.Path.of(path);
        long dev;
        long ino;
        long nsfs;
        try {
            dev = ((Number) java.nio.file.Files.getAttribute(p, "unix:dev")).longValue();
            ino = ((Number) java.nio.file.Files.getAttribute(p, "unix:ino")).longValue();
            nsfs = ((Number) java.nio.file.Files.getAttribute(java.nio.file.Path.of("/proc/self/ns/net"), "unix:dev"))
                    .longValue();
        } catch (java.nio.file.NoSuchFileException e) {
            throw new ConfigException("--netns " + path + ": no such file" + fix);
        } catch (java.io.IOException | UnsupportedOperationException e) {
            throw new ConfigException("--netns " + path + ": cannot read it (" + e.getMessage() + ")" + fix);
        }
        if (dev != nsfs) {
            throw new ConfigException("--netns " + path + " is not a network namespace" + fix);
        }
        int fd = io.sockflow.collector.sys.Libc.open(
                path, io.sockflow.collector.sys.Libc.O_RDONLY | io.sockflow.collector.sys.Libc.O_CLOEXEC);
        if (fd >= 0) {
            // another kind of namespace (mnt, pid, ...) is on the same file system: the kernel says which it is
            try {
                int type = io.sockflow.collector.sys.Libc.namespaceType(fd);
                if (type != io.sockflow.collector.sys.Libc.CLONE_NEWNET) {
                    throw new ConfigException("--netns " + path + " is not a network namespace (it is "
                            + namespaceKind(type) + ")" + fix);
                }
            } finally {
                io.sockflow.collector.sys.Libc.close(fd);
            }
        }
        return ino;
    }

    /** The name of a kind of namespace, by its CLONE_NEW* flag. */
    private static String namespaceKind(int type) {
        return switch (type) {
            case 0x00020000 -> "a mount namespace";
            case 0x20000000 -> "a pid namespace";
            case 0x04000000 -> "a UTS namespace";
            case 0x08000000 -> "an IPC namespace";
            case 0x10000000 -> "a user namespace";
            case 0x02000000 -> "a cgroup namespace";
            case 0x00000080 -> "a time namespace";
            default -> "another kind of namespace";
        };
    }

    /** True for a loopback address given as text (127.x.x.x, ::1, localhost). */
    static boolean isLoopback(String address) {
        String a = address.strip();
        return a.equals("localhost") || a.equals("::1") || a.equals("[::1]") || a.matches("127(\\.\\d{1,3}){3}");
    }

    /** Parses flags over environment over file; a bad value throws {@link ConfigException} naming the setting. */
    public static Settings parse(List<String> args, Map<String, String> env) {
        Map<String, String> given = Flags.collect(DEFINITION, args, env, ENV_PREFIX);
        Check.values(DEFINITION, given);
        return new Settings(new HashMap<String, Object>(given));
    }

    public static String envName(String key) {
        return Flags.envName(ENV_PREFIX, key);
    }

    public static String flagName(String key) {
        return Flags.flagName(key);
    }

    public Duration duration(String key) {
        return Durations.parse(getString(key));
    }

    public List<Integer> ints(String key) {
        List<Integer> out = new ArrayList<>();
        for (String s : getList(key)) {
            out.add(Integer.parseInt(s.trim()));
        }
        return out;
    }

    public List<Long> longs(String key) {
        List<Long> out = new ArrayList<>();
        for (String s : getList(key)) {
            out.add(Long.parseLong(s.trim()));
        }
        return out;
    }

    /** The settings as help text: flag, environment variable, type, default, documentation. */
    public static String help() {
        return Explain.help(DEFINITION, ENV_PREFIX);
    }
}
