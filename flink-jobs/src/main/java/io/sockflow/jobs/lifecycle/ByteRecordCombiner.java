package io.sockflow.jobs.lifecycle;

import io.sockflow.jobs.types.SocketEventSerializer;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Sums the kernel's byte records ({@code SOCK_SEND}, {@code SOCK_RECV}) per socket and direction before the
 * lifecycle shuffle, in the task that reads them. On a busy connection they are most of its events (44 of 50 in the
 * benchmark's keep-alive shape), and the lifecycle fold only adds them up, so sending each across the shuffle,
 * decoding it again and folding it into keyed state is work spent on an addition. Per socket and direction one
 * record goes on: the newest of the records summed (its time, thread and addresses), with {@code bytes} their sum
 * and {@code count} how many they were; the fold weighs it by {@code count}. Every other record passes at once, as
 * do byte records with no bytes and records that already carry a count.
 *
 * <p>Pending sums go out before every watermark (so none arrives behind the timers it feeds), before every
 * checkpoint barrier (so they are never state), at the end of input, a flush interval of processing time after the
 * first of them came, and whenever more than {@code maxSockets} sockets have one.
 *
 * <p>A byte record delivered twice is recognised by socket, thread, time and kind among the last
 * {@code remembered} byte records of this subtask, dropped, and counted ({@code duplicateEvents}). That window is
 * checkpointed, so a duplicate on either side of a restore is still caught. The fold's own per-socket check still
 * sees each summed record's id.
 *
 * <p>A sum goes out as the newest record it summed, changed in place: the decoder makes a fresh object per record,
 * the operators chained beside this one (the detection rules) are done with it by then, and the shuffle's serializer
 * is told to forget the Kafka bytes it was read from.
 */
public final class ByteRecordCombiner extends AbstractStreamOperator<SocketEvent>
        implements OneInputStreamOperator<SocketEvent, SocketEvent> {
    private static final long serialVersionUID = 1L;

    private final long flushMs;
    private final int maxSockets;
    private final int remembered;

    private transient Map<String, Pending> sends;
    private transient Map<String, Pending> receives;
    private transient RecentIds recent;
    private transient ListState<long[]> recentState;
    private transient boolean timerSet;
    private transient StreamRecord<SocketEvent> reuse;
    private transient Counter duplicates;
    private transient Counter summed;
    private transient Counter sent;

    public ByteRecordCombiner(Duration flushInterval, int maxSockets, int remembered) {
        if (flushInterval.isNegative() || flushInterval.isZero() || maxSockets < 1 || remembered < 1) {
            throw new IllegalArgumentException("flush interval, sockets and remembered ids must be positive");
        }
        this.flushMs = flushInterval.toMillis();
        this.maxSockets = maxSockets;
        this.remembered = remembered;
    }

    /** A sum in progress for one socket and direction. */
    private static final class Pending {
        SocketEvent newest;
        long bytes;
        long records;
        long timestamp = Long.MIN_VALUE;
        boolean timed;
    }

    @Override
    public void initializeState(StateInitializationContext ctx) throws Exception {
        super.initializeState(ctx);
        recent = new RecentIds(remembered);
        recentState = ctx.getOperatorStateStore().getListState(new ListStateDescriptor<>("recent-byte-records", long[].class));
        if (ctx.isRestored()) {
            for (long[] ids : recentState.get()) {
                for (long id : ids) {
                    recent.add(id);
                }
            }
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        sends = new HashMap<>();
        receives = new HashMap<>();
        reuse = new StreamRecord<>(null);
        duplicates = getMetricGroup().counter("duplicateEvents");
        summed = getMetricGroup().counter("byteRecordsIn");
        sent = getMetricGroup().counter("byteRecordsOut");
    }

    /** Whether the record is one this operator sums. */
    static boolean summable(SocketEvent e) {
        EventKind k = e.getKind();
        return (k == EventKind.SOCK_SEND || k == EventKind.SOCK_RECV) && e.getBytes() != null && e.getBytes() > 0
                && e.getCount() == null;
    }

    @Override
    public void processElement(StreamRecord<SocketEvent> r) throws Exception {
        SocketEvent e = r.getValue();
        String key = summable(e) ? SocketKeys.key(e) : null;
        if (key == null) {
            output.collect(r);
            return;
        }
        if (!recent.add(id(key, e))) {
            duplicates.inc();
            return;
        }
        summed.inc();
        Map<String, Pending> m = e.getKind() == EventKind.SOCK_SEND ? sends : receives;
        Pending p = m.get(key);
        if (p == null) {
            p = new Pending();
            m.put(key, p);
        }
        p.bytes += e.getBytes();
        p.records++;
        if (p.newest == null || e.getMonotonicNs() >= p.newest.getMonotonicNs()) {
            p.newest = e;
        }
        if (r.hasTimestamp()) {
            p.timed = true;
            p.timestamp = Math.max(p.timestamp, r.getTimestamp());
        }
        if (sends.size() + receives.size() > maxSockets) {
            flush();
        } else if (!timerSet) {
            timerSet = true;
            long now = getProcessingTimeService().getCurrentProcessingTime();
            getProcessingTimeService().registerTimer(now + flushMs, t -> {
                timerSet = false;
                flush();
            });
        }
    }

    /** Socket, thread, time and kind, mixed into 64 bits. */
    static long id(String key, SocketEvent e) {
        long x = e.getMonotonicNs() * 0x9E3779B97F4A7C15L;
        x ^= ((long) e.getTid() << 32 | key.hashCode() & 0xffffffffL) * 0xC2B2AE3D27D4EB4FL;
        x ^= e.getKind().ordinal();
        x ^= x >>> 33;
        x *= 0xff51afd7ed558ccdL;
        x ^= x >>> 33;
        x *= 0xc4ceb9fe1a85ec53L;
        return x ^ x >>> 33;
    }

    /** Sends every pending sum. */
    void flush() {
        flush(sends);
        flush(receives);
    }

    private void flush(Map<String, Pending> m) {
        if (m.isEmpty()) {
            return;
        }
        for (Pending p : m.values()) {
            SocketEvent e = p.newest;
            if (p.records > 1) {
                SocketEventSerializer.forgetEncoding(e); // its Kafka bytes no longer say what it says
                e.setBytes(p.bytes);
                e.setCount(p.records);
            }
            sent.inc();
            if (p.timed) {
                output.collect(reuse.replace(e, p.timestamp));
            } else {
                reuse.replace(e);
                reuse.eraseTimestamp();
                output.collect(reuse);
            }
        }
        m.clear();
    }

    /** Sockets with a sum pending (both directions counted). */
    int pending() {
        return sends.size() + receives.size();
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        flush();
        super.processWatermark(mark);
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        flush();
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    @Override
    public void snapshotState(StateSnapshotContext ctx) throws Exception {
        super.snapshotState(ctx);
        recentState.update(List.of(recent.toArray()));
    }

    @Override
    public void finish() throws Exception {
        flush();
        super.finish();
    }
}
