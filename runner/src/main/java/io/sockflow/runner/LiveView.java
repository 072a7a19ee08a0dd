package io.sockflow.runner;

import io.sockflow.schemas.Alert;
import io.sockflow.schemas.Flow;
import io.sockflow.schemas.FlowRecordType;
import io.sockflow.schemas.LifecycleStatus;
import io.sockflow.schemas.SocketLifecycle;
import io.sockflow.schemas.SocketRole;
import io.sockflow.schemas.registry.ConfluentAvro;
import io.sockflow.schemas.registry.RegistryClient;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The terminal view of {@code sockflow up}: what the jobs have committed to Kafka (read_committed), folded into
 * top flows, socket open/close rates, listeners and the latest alerts, plus the collector's own health. Rendered
 * every second, in place on a terminal or as plain text blocks ({@code --headless}).
 */
public final class LiveView implements AutoCloseable {
    private static final DateTimeFormatter CLOCK =
            DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneId.systemDefault());

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final ConfluentAvro.Deserializer<SocketLifecycle> lifecycles;
    private final ConfluentAvro.Deserializer<Flow> flowsDecoder;
    private final ConfluentAvro.Deserializer<Alert> alertsDecoder;
    private final String lifecycleTopic;
    private final String flowTopic;
    private final String alertTopic;
    private final Map<String, Flow> flows = new LinkedHashMap<>();
    private final Map<String, SocketLifecycle> listeners = new HashMap<>();
    private final Deque<Alert> alerts = new ArrayDeque<>();
    private final Deque<Instant> opened = new ArrayDeque<>();
    private final Deque<Instant> closed = new ArrayDeque<>();
    private long flowRecords;
    private long lifecycleRecords;
    private long alertRecords;
    private Supplier<String> outputs;
    private long lastReceived = -1;
    private long lastTick;
    private final String hostName = read("/proc/sys/kernel/hostname");
    private final String bootId = read("/proc/sys/kernel/random/boot_id");

    private static String read(String file) {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of(file)).strip();
        } catch (java.io.IOException e) {
            return null;
        }
    }

    /** The collector's counters, as its status file gives them. */
    public record Collector(long received, long droppedInKernel, long acked, long spoolDepth, long spoolDropped) {
        /** No status to show: the collector has not written one yet, or it has stopped. */
        public static final Collector NONE = new Collector(-1, 0, 0, 0, 0);

        public static Collector of(Map<String, String> status) {
            if (!status.containsKey("received")) {
                return NONE;
            }
            return new Collector(
                    num(status, "received"),
                    num(status, "droppedInKernel"),
                    num(status, "acked"),
                    num(status, "spoolDepth"),
                    num(status, "spoolDropped"));
        }

        private static long num(Map<String, String> m, String k) {
            try {
                return Long.parseLong(m.getOrDefault(k, "0"));
            } catch (NumberFormatException e) {
                return 0;
            }
        }
    }

    public LiveView(String bootstrap, String registryUrl, String lifecycleTopic, String flowTopic, String alertTopic) {
        this(bootstrap, RegistryClient.Config.of(registryUrl), lifecycleTopic, flowTopic, alertTopic);
    }

    public LiveView(
            String bootstrap,
            RegistryClient.Config registryConfig,
            String lifecycleTopic,
            String flowTopic,
            String alertTopic) {
        this(bootstrap, java.util.Map.of(), registryConfig, lifecycleTopic, flowTopic, alertTopic);
    }

    /** With extra Kafka client settings (the broker's credentials). */
    public LiveView(
            String bootstrap,
            java.util.Map<String, String> kafkaClient,
            RegistryClient.Config registryConfig,
            String lifecycleTopic,
            String flowTopic,
            String alertTopic) {
        Properties p = new Properties();
        p.putAll(kafkaClient);
        p.put("bootstrap.servers", bootstrap);
        p.put("isolation.level", "read_committed");
        p.put("enable.auto.commit", "false");
        consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        RegistryClient registry = new RegistryClient(registryConfig);
        lifecycles = new ConfluentAvro.Deserializer<>(registry, SocketLifecycle.getClassSchema());
        flowsDecoder = new ConfluentAvro.Deserializer<>(registry, Flow.getClassSchema());
        alertsDecoder = new ConfluentAvro.Deserializer<>(registry, Alert.getClassSchema());
        this.lifecycleTopic = lifecycleTopic;
        this.flowTopic = flowTopic;
        this.alertTopic = alertTopic;
        List<TopicPartition> parts = new ArrayList<>();
        for (String t : List.of(lifecycleTopic, flowTopic, alertTopic)) {
            consumer.partitionsFor(t, Duration.ofSeconds(10))
                    .forEach(i -> parts.add(new TopicPartition(t, i.partition())));
        }
        consumer.assign(parts);
        consumer.seekToBeginning(parts); // the previous runs' results too
    }

    /** A view fed by {@link #accept} alone, with no Kafka behind it (tests). */
    LiveView() {
        consumer = null;
        lifecycles = null;
        flowsDecoder = null;
        alertsDecoder = null;
        lifecycleTopic = "lifecycles";
        flowTopic = "flows";
        alertTopic = "alerts";
    }

    /** One result record, as {@link #poll} hands each over. */
    void accept(Object record) {
        if (record instanceof Flow f) {
            flows.put(f.getFlowId(), f);
            flowRecords++;
        } else if (record instanceof SocketLifecycle l) {
            lifecycle(l);
            lifecycleRecords++;
        } else if (record instanceof Alert a) {
            alerts.addFirst(a);
            alertRecords++;
            while (alerts.size() > 5) {
                alerts.removeLast();
            }
        }
    }

    /** A line on the alert outputs (their deliveries and failures), shown under the results. */
    void outputs(Supplier<String> line) {
        this.outputs = line;
    }

    /** Reads what has been committed since the last call. */
    public void poll() {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
            try {
                if (r.topic().equals(flowTopic)) {
                    accept(flowsDecoder.deserialize(r.value()));
                } else if (r.topic().equals(lifecycleTopic)) {
                    accept(lifecycles.deserialize(r.value()));
                } else if (r.topic().equals(alertTopic)) {
                    accept(alertsDecoder.deserialize(r.value()));
                }
            } catch (RuntimeException e) {
                // a record this view cannot read is skipped; the jobs' dead-letter topic is the place for such
            }
        }
        if (flows.size() > 5000) {
            flows.entrySet().removeIf(e -> e.getValue().getRecordType() == FlowRecordType.END && flows.size() > 4000);
        }
    }

    /**
     * A socket is listed as a listener while its latest record says LISTENER and OPEN: a CLOSED or TIMED_OUT record
     * removes it, and so does one of another role. Sockets of an earlier boot of this host cannot be open any more,
     * whatever their last record said (a run stopped before their end was written).
     */
    private void lifecycle(SocketLifecycle l) {
        String id = l.getHost() + "/" + l.getBootId() + "/"
                + (l.getSocketCookie() != null ? "c" + l.getSocketCookie() : "i" + l.getSocketInode());
        boolean stale =
                bootId != null && l.getHost().equals(hostName) && !l.getBootId().equals(bootId);
        if (l.getRole() == SocketRole.LISTENER && l.getStatus() == LifecycleStatus.OPEN && !stale) {
            listeners.put(id, l);
        } else {
            listeners.remove(id);
        }
        if (l.getStatus() != LifecycleStatus.OPEN) {
            Instant now = Instant.now(); // counted as they arrive: results come at checkpoints, behind the events
            if (l.getCreatedAt() != null) {
                opened.addLast(now);
            }
            closed.addLast(now);
        }
    }

    private static double rate(Deque<Instant> times, Instant now) {
        Instant from = now.minusSeconds(10);
        times.removeIf(t -> t.isBefore(from));
        return times.size() / 10.0; // over the last 10 s
    }

    /** The view as text; events/s is the collector's count since the previous call. */
    public String render(Collector health, Supplier<String> source, Instant now) {
        StringBuilder b = new StringBuilder();
        long eventsPerSec = 0;
        long nowMs = System.currentTimeMillis();
        if (health != null && health != Collector.NONE && lastReceived >= 0 && nowMs > lastTick) {
            // a restarted collector counts from zero again: no negative rate
            eventsPerSec = Math.max(0, (health.received() - lastReceived) * 1000 / (nowMs - lastTick));
        }
        if (health != null && health != Collector.NONE) {
            lastReceived = health.received();
            lastTick = nowMs;
        }
        b.append(String.format(Locale.ROOT, "sockflow  %s  %s%n", CLOCK.format(now), source.get()));
        if (health == Collector.NONE) {
            b.append("collector  no status: starting, or stopped\n");
        } else if (health != null) {
            b.append(String.format(
                    Locale.ROOT,
                    "collector  %,d events/s  %,d events  %,d dropped in kernel  %,d acked  spool %,d  spool drops %,d%n",
                    eventsPerSec,
                    health.received(),
                    health.droppedInKernel(),
                    health.acked(),
                    health.spoolDepth(),
                    health.spoolDropped()));
        }
        b.append(String.format(
                Locale.ROOT,
                "results    %,d flow records  %,d lifecycles  %,d alerts   sockets created %.1f/s  ended %.1f/s%n",
                flowRecords,
                lifecycleRecords,
                alertRecords,
                rate(opened, now),
                rate(closed, now)));
        if (outputs != null) {
            b.append(safe(outputs.get())).append(System.lineSeparator());
        }
        b.append(String.format(
                Locale.ROOT,
                "%nTOP FLOWS%n%-24s %-28s %10s %10s %9s %s%n",
                "PROCESS",
                "PEER",
                "SENT",
                "RECEIVED",
                "DURATION",
                "STATE"));
        List<Flow> top = new ArrayList<>(flows.values());
        top.sort(Comparator.comparingLong((Flow f) -> f.getSourceBytes() + f.getDestinationBytes())
                .reversed()
                .thenComparing(Flow::getStart, Comparator.reverseOrder()));
        for (Flow f : top.subList(0, Math.min(10, top.size()))) {
            String proc = f.getSourceComm() != null
                    ? safe(f.getSourceComm()) + " (" + f.getSourcePid() + ")"
                    : safe(f.getDestinationComm()) + " (" + f.getDestinationPid() + ")";
            String peer = f.getSourceComm() != null
                    ? safe(f.getDestinationAddress()) + ":" + f.getDestinationPort()
                    : safe(f.getSourceAddress()) + ":" + f.getSourcePort();
            b.append(String.format(
                    Locale.ROOT,
                    "%-24s %-28s %10s %10s %9s %s%n",
                    cut(proc, 24),
                    cut(f.getNetworkTransport() + " " + peer, 28),
                    bytes(f.getSourceBytes()),
                    bytes(f.getDestinationBytes()),
                    duration(f.getDurationMs()),
                    f.getRecordType() == FlowRecordType.END ? "ended" : "open"));
        }
        b.append(String.format(Locale.ROOT, "%nLISTENERS%n"));
        listeners.values().stream()
                .sorted(Comparator.comparing(SocketLifecycle::getLocalPort, Comparator.nullsLast(Integer::compare)))
                .limit(8)
                .forEach(l -> b.append(String.format(
                        Locale.ROOT,
                        "%-24s %s:%s%n",
                        cut(safe(l.getComm()) + " (" + l.getPid() + ")", 24),
                        safe(l.getLocalAddress()),
                        l.getLocalPort())));
        b.append(String.format(Locale.ROOT, "%nLATEST ALERTS%n"));
        for (Alert a : alerts) {
            b.append(String.format(
                    Locale.ROOT,
                    "%s %-8s %-16s %s%n",
                    CLOCK.format(a.getTimestamp()),
                    a.getSeverity(),
                    safe(a.getRule()),
                    cut(safe(a.getSummary()), 80)));
        }
        return b.toString();
    }

    public long flowRecords() {
        return flowRecords;
    }

    public List<Flow> flows() {
        return List.copyOf(flows.values());
    }

    /**
     * Text from the capture made safe for a terminal: every control character (C0, DEL, C1) and every invisible
     * formatting one (bidirectional overrides) is shown as an escape, as \\x1b or \\u202e, and a
     * backslash as two, so that a process or host name can neither move the cursor nor pass for another name.
     */
    public static String safe(CharSequence s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            int type = Character.getType(c);
            boolean bad = c == '\\'
                    || type == Character.CONTROL
                    || type == Character.FORMAT
                    || type == Character.LINE_SEPARATOR
                    || type == Character.PARAGRAPH_SEPARATOR
                    || type == Character.SURROGATE
                            && !(Character.isHighSurrogate(c)
                                            && i + 1 < s.length()
                                            && Character.isLowSurrogate(s.charAt(i + 1))
                                    || Character.isLowSurrogate(c)
                                            && i > 0
                                            && Character.isHighSurrogate(s.charAt(i - 1)));
            if (bad && b == null) {
                b = new StringBuilder(s.length() + 8).append(s, 0, i);
            }
            if (b == null) {
                continue;
            }
            if (!bad) {
                b.append(c);
            } else if (c == '\\') {
                b.append("\\\\");
            } else if (c < 0x100) {
                b.append(String.format(Locale.ROOT, "\\x%02x", (int) c));
            } else {
                b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            }
        }
        return b == null ? s.toString() : b.toString();
    }

    static String cut(String s, int n) {
        return s == null ? "" : s.length() <= n ? s : s.substring(0, n - 1) + "…";
    }

    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        if (n < 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f KB", n / 1024.0);
        }
        return String.format(Locale.ROOT, "%.1f MB", n / 1048576.0);
    }

    static String duration(long ms) {
        if (ms == 0) {
            return "<1 ms";
        }
        if (ms < 1000) {
            return ms + " ms";
        }
        if (ms < 120_000) {
            return String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
        }
        return String.format(Locale.ROOT, "%d min", ms / 60_000);
    }

    @Override
    public void close() {
        if (consumer != null) {
            consumer.close();
        }
    }
}
