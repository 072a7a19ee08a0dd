package io.sockflow.runner;

import io.sockflow.collector.cli.CollectCommand;
import io.sockflow.schemas.Alert;
import io.sockflow.schemas.Flow;
import io.sockflow.schemas.FlowRecordType;
import io.sockflow.schemas.LifecycleStatus;
import io.sockflow.schemas.SocketLifecycle;
import io.sockflow.schemas.SocketRole;
import io.sockflow.schemas.registry.ConfluentAvro;
import io.sockflow.schemas.registry.RegistryClient;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

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

/**
 * The terminal view of {@code sockflow up}: what the jobs have committed to Kafka (read_committed), folded into
 * top flows, socket open/close rates, listeners and the latest alerts, plus the collector's own health. Rendered
 * every second, in place on a terminal or as plain text blocks ({@code --headless}).
 */
public final class LiveView implements AutoCloseable {
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneId.systemDefault());

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
    private long lastReceived = -1;
    private long lastTick;

    public LiveView(String bootstrap, String registryUrl, String lifecycleTopic, String flowTopic, String alertTopic) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("isolation.level", "read_committed");
        p.put("enable.auto.commit", "false");
        consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        RegistryClient registry = new RegistryClient(RegistryClient.Config.of(registryUrl));
        lifecycles = new ConfluentAvro.Deserializer<>(registry, SocketLifecycle.getClassSchema());
        flowsDecoder = new ConfluentAvro.Deserializer<>(registry, Flow.getClassSchema());
        alertsDecoder = new ConfluentAvro.Deserializer<>(registry, Alert.getClassSchema());
        this.lifecycleTopic = lifecycleTopic;
        this.flowTopic = flowTopic;
        this.alertTopic = alertTopic;
        List<TopicPartition> parts = new ArrayList<>();
        for (String t : List.of(lifecycleTopic, flowTopic, alertTopic)) {
            consumer.partitionsFor(t, Duration.ofSeconds(10)).forEach(i -> parts.add(new TopicPartition(t, i.partition())));
        }
        consumer.assign(parts);
        consumer.seekToBeginning(parts); // the previous runs' results too
    }

    /** Reads what has been committed since the last call. */
    public void poll() {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
            try {
                if (r.topic().equals(flowTopic)) {
                    Flow f = flowsDecoder.deserialize(r.value());
                    flows.put(f.getFlowId(), f);
                    flowRecords++;
                } else if (r.topic().equals(lifecycleTopic)) {
                    lifecycle(lifecycles.deserialize(r.value()));
                    lifecycleRecords++;
                } else if (r.topic().equals(alertTopic)) {
                    alerts.addFirst(alertsDecoder.deserialize(r.value()));
                    alertRecords++;
                    while (alerts.size() > 5) {
                        alerts.removeLast();
                    }
                }
            } catch (RuntimeException e) {
                // a record this view cannot read is skipped; the jobs' dead-letter topic is the place for such
            }
        }
        if (flows.size() > 5000) {
            flows.entrySet().removeIf(e -> e.getValue().getRecordType() == FlowRecordType.END && flows.size() > 4000);
        }
    }

    private void lifecycle(SocketLifecycle l) {
        String id = l.getHost() + "/" + l.getSocketInode();
        if (l.getRole() == SocketRole.LISTENER) {
            if (l.getStatus() == LifecycleStatus.OPEN) {
                listeners.put(id, l);
            } else {
                listeners.remove(id);
            }
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
    public String render(CollectCommand.Health health, Supplier<String> source, Instant now) {
        StringBuilder b = new StringBuilder();
        long eventsPerSec = 0;
        long nowMs = System.currentTimeMillis();
        if (health != null && lastReceived >= 0 && nowMs > lastTick) {
            eventsPerSec = (health.received() - lastReceived) * 1000 / (nowMs - lastTick);
        }
        if (health != null) {
            lastReceived = health.received();
            lastTick = nowMs;
        }
        b.append(String.format(Locale.ROOT, "sockflow  %s  %s%n", CLOCK.format(now), source.get()));
        if (health != null) {
            b.append(String.format(Locale.ROOT, "collector  %,d events/s  %,d events  %,d dropped in kernel  %,d acked  spool %,d  spool drops %,d%n",
                    eventsPerSec, health.received(), health.droppedInKernel(), health.acked(), health.spoolDepth(), health.spoolDropped()));
        }
        b.append(String.format(Locale.ROOT, "results    %,d flow records  %,d lifecycles  %,d alerts   sockets created %.1f/s  ended %.1f/s%n",
                flowRecords, lifecycleRecords, alertRecords, rate(opened, now), rate(closed, now)));
        b.append(String.format(Locale.ROOT, "%nTOP FLOWS%n%-24s %-28s %10s %10s %9s %s%n", "PROCESS", "PEER", "SENT", "RECEIVED", "DURATION", "STATE"));
        List<Flow> top = new ArrayList<>(flows.values());
        top.sort(Comparator.comparingLong((Flow f) -> f.getSourceBytes() + f.getDestinationBytes()).reversed()
                .thenComparing(Flow::getStart, Comparator.reverseOrder()));
        for (Flow f : top.subList(0, Math.min(10, top.size()))) {
            String proc = f.getSourceComm() != null ? f.getSourceComm() + " (" + f.getSourcePid() + ")"
                    : f.getDestinationComm() + " (" + f.getDestinationPid() + ")";
            String peer = f.getSourceComm() != null ? f.getDestinationAddress() + ":" + f.getDestinationPort()
                    : f.getSourceAddress() + ":" + f.getSourcePort();
            b.append(String.format(Locale.ROOT, "%-24s %-28s %10s %10s %9s %s%n", cut(proc, 24), cut(f.getNetworkTransport() + " " + peer, 28),
                    bytes(f.getSourceBytes()), bytes(f.getDestinationBytes()), duration(f.getDurationMs()),
                    f.getRecordType() == FlowRecordType.END ? "ended" : "open"));
        }
        b.append(String.format(Locale.ROOT, "%nLISTENERS%n"));
        listeners.values().stream().sorted(Comparator.comparing(SocketLifecycle::getLocalPort, Comparator.nullsLast(Integer::compare)))
                .limit(8).forEach(l -> b.append(String.format(Locale.ROOT, "%-24s %s:%s%n", cut(l.getComm() + " (" + l.getPid() + ")", 24),
                        l.getLocalAddress(), l.getLocalPort())));
        b.append(String.format(Locale.ROOT, "%nLATEST ALERTS%n"));
        for (Alert a : alerts) {
            b.append(String.format(Locale.ROOT, "%s %-8s %-16s %s%n", CLOCK.format(a.getTimestamp()), a.getSeverity(), a.getRule(),
                    cut(a.getSummary(), 80)));
        }
        return b.toString();
    }

    public long flowRecords() {
        return flowRecords;
    }

    public List<Flow> flows() {
        return List.copyOf(flows.values());
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
        consumer.close();
    }
}
