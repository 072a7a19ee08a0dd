package io.sockflow.jobs.input;

import io.sockflow.jobs.config.JobConfig;
import io.sockflow.jobs.types.SocketEventSerializer;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.registry.ConfluentAvro;
import io.sockflow.schemas.registry.RegistryClient;
import io.sockflow.schemas.registry.RegistryException;
import java.io.Serializable;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Decodes in the Kafka source itself, so event-time watermarks are kept per partition (a partition that lags or
 * goes quiet does not hold the others back beyond the idleness timeout). Confluent wire format (magic 0, schema id,
 * Avro binary) to {@link SocketEvent}, resolved from the writer's schema (fetched by id from the registry, cached)
 * to this build's.
 *
 * <p>A record the jobs cannot use becomes a dead letter with its reason, and the job goes on: a null, empty, short
 * or oversized value, a wrong magic byte, an id the registry does not know (404), corrupt or hostile Avro (every
 * length is bounded by the record before anything is allocated), a time before 1970 or too far ahead of this
 * task's clock (it would carry the watermark past every later record), an address that is not an IP literal, a
 * port out of range. A registry that cannot answer (down, 5xx, a timeout) is not the record's fault: the task
 * fails and is retried from its last checkpoint, and nothing is lost.
 */
public final class EventDecoder implements KafkaRecordDeserializationSchema<Decoded> {
    private static final long serialVersionUID = 1L;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(EventDecoder.class);

    /** Serializable way to make the registry client in the task. */
    public interface RegistrySupplier extends Supplier<RegistryClient>, Serializable {}

    /** What the source accepts: values up to {@code maxEventBytes}, times up to {@code maxAhead} past its clock. */
    public record Limits(int maxEventBytes, Duration maxAhead) implements Serializable {
        public static final Limits DEFAULT = of(JobConfig.defaults());

        public static Limits of(JobConfig cfg) {
            return new Limits(cfg.getInt(JobConfig.MAX_EVENT_BYTES), cfg.getDuration(JobConfig.MAX_CLOCK_AHEAD));
        }
    }

    private final RegistrySupplier registry;
    private final Limits limits;
    private transient ConfluentAvro.Deserializer<SocketEvent> deserializer;
    private transient Counter decoded;
    private transient Counter clocks;
    private transient Counter clocksDropped;
    private transient Counter dead;
    private transient Counter aheadOfClock;
    private transient Counter oversized;
    private transient Counter badAddresses;
    private transient String validAddress;
    private transient String validAddress2;
    private transient long deadSinceLog;
    private transient long lastLogNanos;

    public EventDecoder(RegistrySupplier registry) {
        this(registry, Limits.DEFAULT);
    }

    public EventDecoder(RegistrySupplier registry, Limits limits) {
        this.registry = registry;
        this.limits = limits;
    }

    @Override
    public void open(DeserializationSchema.InitializationContext ctx) {
        deserializer = new ConfluentAvro.Deserializer<>(
                registry.get(), SocketEvent.getClassSchema(), io.sockflow.schemas.avro.SocketEventReader::read);
        decoded = ctx.getMetricGroup().counter("eventsDecoded");
        clocks = ctx.getMetricGroup().counter("clockRecords");
        clocksDropped = ctx.getMetricGroup().counter("clockRecordsDropped");
        dead = ctx.getMetricGroup().counter("eventsDeadLettered");
        aheadOfClock = ctx.getMetricGroup().counter("eventsAheadOfClock");
        oversized = ctx.getMetricGroup().counter("eventsOversized");
        badAddresses = ctx.getMetricGroup().counter("eventsWithBadAddresses");
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> r, Collector<Decoded> out) {
        Decoded d = decode(r.value());
        if (d == CLOCK_DROPPED) {
            count(clocksDropped); // the host's events say why, as dead letters; its clock adds nothing to them
            return;
        }
        if (d.event != null) {
            (isClock(d.event) ? clocks : decoded).inc();
        } else {
            dead.inc();
            d.dead.record = new RawRecord(r.topic(), r.partition(), r.offset(), r.timestamp(), r.key(), r.value());
            report(r, d.dead.reason);
        }
        out.collect(d);
    }

    /** What {@link #decode} answers for a clock record it drops. */
    static final Decoded CLOCK_DROPPED = new Decoded();

    Decoded decode(byte[] value) {
        String reason = framing(value);
        if (reason == null && value.length > limits.maxEventBytes()) {
            count(oversized);
            reason = "a value of " + value.length + " bytes, more than input.max-event-bytes (" + limits.maxEventBytes()
                    + ")";
        }
        if (reason == null) {
            try {
                SocketEvent e = deserializer.deserialize(value);
                reason = problem(e);
                if (reason != null && isClock(e)) {
                    // a clock record that cannot move the watermark (a host clock far ahead, say) is no one's event:
                    // a dead letter for it every second and partition would bury the host's own
                    return CLOCK_DROPPED;
                }
                if (reason == null) {
                    if (deserializer.lastWasCurrentSchema()) {
                        // the shuffles can send these bytes as they are instead of encoding the event again
                        SocketEventSerializer.rememberEncoding(
                                e, value, ConfluentAvro.HEADER, value.length - ConfluentAvro.HEADER);
                    }
                    return Decoded.of(e);
                }
            } catch (RegistryException ex) {
                if (ex.status() != 404) {
                    // the registry is away or failing: fail the task, which is retried from its last checkpoint
                    throw ex;
                }
                reason = "schema id " + ConfluentAvro.schemaId(value) + " is not in the registry (" + ex.getMessage()
                        + ")";
            } catch (IllegalArgumentException ex) {
                reason = "undecodable Avro: " + ex.getMessage();
            }
        }
        return Decoded.dead(null, reason);
    }

    private static String framing(byte[] value) {
        if (value == null) {
            return "a null value (a tombstone)";
        }
        if (value.length < ConfluentAvro.HEADER + 1) {
            return "too short for the Confluent wire format (" + value.length + " bytes)";
        }
        if (value[0] != ConfluentAvro.MAGIC) {
            return "magic byte " + value[0] + " is not the Confluent wire format's 0";
        }
        return null;
    }

    /** Why a decoded event cannot go on, or null. */
    private String problem(SocketEvent e) {
        if (e.getHost() == null || e.getKind() == null || e.getTimestamp() == null) {
            return "decoded record lacks host, kind or timestamp";
        }
        Instant t = e.getTimestamp();
        if (t.getEpochSecond() < 0) {
            return "timestamp " + t + " is before 1970";
        }
        // micros on the wire: at most ~292,000 years, so milliseconds do not overflow
        long ahead = t.toEpochMilli() - System.currentTimeMillis();
        if (ahead > limits.maxAhead().toMillis()) {
            count(aheadOfClock);
            return "timestamp " + t + " is " + Duration.ofMillis(ahead).toSeconds()
                    + " s ahead of this job's clock, more than " + "input.max-clock-ahead ("
                    + limits.maxAhead().toSeconds() + " s): fix the clock of host " + quote(e.getHost());
        }
        String bad = address("localAddress", e.getLocalAddress());
        if (bad == null) {
            bad = address("remoteAddress", e.getRemoteAddress());
        }
        if (bad == null && ("AF_INET".equals(e.getSockaddrFamily()) || "AF_INET6".equals(e.getSockaddrFamily()))) {
            // other families' sockaddrs are paths (AF_UNIX) or nothing
            bad = address("sockaddrAddress", e.getSockaddrAddress());
        }
        if (bad == null) {
            bad = port("localPort", e.getLocalPort());
        }
        if (bad == null) {
            bad = port("remotePort", e.getRemotePort());
        }
        if (bad == null) {
            bad = port("sockaddrPort", e.getSockaddrPort());
        }
        if (bad != null) {
            count(badAddresses);
        }
        return bad;
    }

    /** Why an IP address field is bad, or null; the last two good ones are remembered (the reader shares strings). */
    private String address(String field, String s) {
        if (s == null || s == validAddress || s == validAddress2) {
            return null;
        }
        if (!IpLiteral.isValid(s)) {
            return field + " " + quote(s) + " is not an IP address";
        }
        validAddress2 = validAddress;
        validAddress = s;
        return null;
    }

    private static String port(String field, Integer p) {
        return p == null || p >= 0 && p <= 65535 ? null : field + " " + p + " is not a port (0 to 65535)";
    }

    private static void count(Counter c) {
        if (c != null) {
            c.inc();
        }
    }

    /** Text from a record, for a reason: quoted, at most 64 characters, control and non-ASCII characters escaped. */
    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        int n = Math.min(s.length(), 64);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        b.append('"');
        if (s.length() > n) {
            b.append(" (").append(s.length()).append(" characters)");
        }
        return b.toString();
    }

    /** One line for the first dead letter, then at most one a minute with how many came since. */
    private void report(ConsumerRecord<byte[], byte[]> r, String reason) {
        deadSinceLog++;
        long now = System.nanoTime();
        if (lastLogNanos == 0 || now - lastLogNanos > 60_000_000_000L) {
            LOG.warn(
                    "{} input record(s) went to the dead-letter topic; the latest, {}-{}@{}: {}",
                    deadSinceLog,
                    r.topic(),
                    r.partition(),
                    r.offset(),
                    reason);
            deadSinceLog = 0;
            lastLogNanos = now;
        }
    }

    @Override
    public TypeInformation<Decoded> getProducedType() {
        return TypeInformation.of(Decoded.class);
    }

    /**
     * A collector's clock record (kind CLOCK): not an event of any socket. Its timestamp moves the watermark of its
     * partition at the source, so a quiet host does not hold event time back; {@link Split} then drops it.
     */
    public static boolean isClock(SocketEvent e) {
        return e.getKind() == io.sockflow.schemas.EventKind.CLOCK;
    }

    /**
     * Splits decoded events from dead letters (a side output), and drops clock records: they have done their work
     * (the watermark) by the time they get here, and no operator downstream sees them.
     */
    public static final class Split extends ProcessFunction<Decoded, SocketEvent> {
        private static final long serialVersionUID = 1L;
        public static final OutputTag<DeadLetter> DEAD_LETTERS =
                new OutputTag<>("dead-letters", TypeInformation.of(DeadLetter.class)) {};

        @Override
        public void processElement(Decoded d, Context ctx, Collector<SocketEvent> out) {
            if (d.event != null) {
                if (!isClock(d.event)) {
                    out.collect(d.event);
                }
            } else {
                ctx.output(DEAD_LETTERS, d.dead);
            }
        }
    }
}
