package io.sockflow.jobs.flow;

import io.sockflow.jobs.types.LifecycleChange;
import io.sockflow.schemas.Flow;
import io.sockflow.schemas.FlowRecordType;
import io.sockflow.schemas.LifecycleStatus;
import io.sockflow.schemas.SocketLifecycle;
import io.sockflow.schemas.SocketRole;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * One flow per connection, keyed by the connection's two endpoints (and the host, unless both addresses name hosts:
 * {@link FlowKeys#key(SocketLifecycle, boolean)}), built from the lifecycles of its observed ends: one end for a
 * connection to a host no collector watches, both ends (client and accepted socket, two processes) for one on this
 * host or between two observed hosts. Like NetObserv's conversation tracking it emits NEW when the connection is
 * first seen (from the lifecycle's early notice), UPDATE with each lifecycle update, and END once every observed end
 * has ended and the other end had a grace to show up. The two ends of a connection on one host reach this function in
 * no set order (they are different sockets, on different partitions): when the first end of a TCP connection has its
 * peer on this host, NEW waits for the other end (at most the pair grace, in event time), so that it names both
 * processes whichever came first. The same 5-tuple used again later is a new flow (its id gets the next
 * generation number).
 */
public final class FlowFunction extends KeyedProcessFunction<String, LifecycleChange, Flow> {
    private static final long serialVersionUID = 1L;

    private final long pairGraceMs;
    private transient MapState<String, SocketLifecycle> sides;
    private transient ValueState<String> flowId;
    private transient java.security.MessageDigest sha1Digest;
    private transient ValueState<Integer> generation;
    private transient ValueState<Long> endedAt;
    private transient ValueState<Long> newDue;
    private transient Counter late;

    public FlowFunction(Duration pairGrace) {
        this.pairGraceMs = pairGrace.toMillis();
    }

    @Override
    public void open(OpenContext ctx) {
        sides = getRuntimeContext()
                .getMapState(new MapStateDescriptor<>(
                        "sides", TypeInformation.of(String.class), TypeInformation.of(SocketLifecycle.class)));
        flowId = getRuntimeContext().getState(new ValueStateDescriptor<>("flowId", String.class));
        ValueStateDescriptor<Integer> gen = new ValueStateDescriptor<>("generation", Integer.class);
        gen.enableTimeToLive(StateTtlConfig.newBuilder(Duration.ofHours(1)).build());
        generation = getRuntimeContext().getState(gen);
        endedAt = getRuntimeContext().getState(new ValueStateDescriptor<>("endedAt", Long.class));
        newDue = getRuntimeContext().getState(new ValueStateDescriptor<>("newDue", Long.class));
        late = getRuntimeContext().getMetricGroup().counter("lifecyclesAfterFlowEnd");
    }

    private static String sideId(SocketLifecycle l) {
        return l.getBootId() + "/"
                + io.sockflow.schemas.SocketIdentity.local(l.getFamily(), l.getSocketCookie(), l.getSocketInode());
    }

    private static boolean isFinal(SocketLifecycle l) {
        return l.getStatus() != LifecycleStatus.OPEN;
    }

    @Override
    public void processElement(LifecycleChange c, Context ctx, Collector<Flow> out) throws Exception {
        SocketLifecycle l = c.record;
        String id = sideId(l);
        if (endedAt.value() != null) {
            if (isFinal(l) || sides.contains(id)) {
                late.inc(); // an end of the flow already ended
                return;
            }
            endedAt.clear(); // a new connection on the same endpoints
        }
        SocketLifecycle before = sides.get(id);
        if (before != null && isFinal(before)) {
            return; // the end is final; nothing later replaces it
        }
        sides.put(id, l);
        if (flowId.value() == null) {
            Integer g = generation.value();
            int next = g == null ? 1 : g + 1;
            generation.update(next);
            flowId.update(HexFormat.of().formatHex(sha1(ctx.getCurrentKey())).substring(0, 20) + "-" + next);
            if ((l.getRole() == SocketRole.ACCEPTED || l.getRole() == SocketRole.CLIENT) && peerOnThisHost(l)) {
                long due = (ctx.timestamp() != null
                                ? ctx.timestamp()
                                : l.getUpdatedAt().toEpochMilli())
                        + pairGraceMs;
                newDue.update(due);
                ctx.timerService().registerEventTimeTimer(due);
            } else {
                out.collect(build(FlowRecordType.NEW));
            }
        } else if (newDue.value() != null) {
            if (countSides() > 1) { // the other end: NEW names both processes
                newDue.clear();
                out.collect(build(FlowRecordType.NEW));
            }
        } else if (c.published && !isFinal(l)) {
            out.collect(build(FlowRecordType.UPDATE));
        }
        if (allFinal()) {
            ctx.timerService().registerEventTimeTimer(endMillis() + pairGraceMs);
        }
    }

    @Override
    public void onTimer(long ts, OnTimerContext ctx, Collector<Flow> out) throws Exception {
        Long due = newDue.value();
        if (due != null && ts >= due) { // the other end did not come: NEW with the one seen
            newDue.clear();
            out.collect(build(FlowRecordType.NEW));
            if (allFinal()) { // an END timer that fired while NEW waited found nothing to do: set it again
                ctx.timerService().registerEventTimeTimer(Math.max(ts, endMillis() + pairGraceMs));
            }
        }
        if (endedAt.value() != null) {
            if (ts >= endedAt.value() + 60_000) {
                endedAt.clear();
            }
            return;
        }
        if (flowId.value() == null || newDue.value() != null || !allFinal() || ts < endMillis() + pairGraceMs) {
            return;
        }
        out.collect(build(FlowRecordType.END));
        sides.clear();
        flowId.clear();
        endedAt.update(ts);
        ctx.timerService().registerEventTimeTimer(ts > Long.MAX_VALUE - 60_000 ? Long.MAX_VALUE : ts + 60_000);
    }

    private int countSides() throws Exception {
        int n = 0;
        for (String ignored : sides.keys()) {
            n++;
        }
        return n;
    }

    private boolean allFinal() throws Exception {
        boolean any = false;
        for (SocketLifecycle l : sides.values()) {
            any = true;
            if (!isFinal(l)) {
                return false;
            }
        }
        return any;
    }

    private long endMillis() throws Exception {
        long end = Long.MIN_VALUE;
        for (SocketLifecycle l : sides.values()) {
            Instant t = l.getClosedAt() != null ? l.getClosedAt() : l.getUpdatedAt();
            end = Math.max(end, t.toEpochMilli());
        }
        return end;
    }

    private Flow build(FlowRecordType type) throws Exception {
        List<SocketLifecycle> all = new ArrayList<>();
        sides.values().forEach(all::add);
        all.sort((a, b) -> sideId(a).compareTo(sideId(b))); // the same result whatever order the ends came in
        SocketLifecycle client = null;
        SocketLifecycle server = null;
        for (SocketLifecycle l : all) {
            if (client == null && isInitiator(l)) {
                client = l;
            } else if (server == null) {
                server = l;
            }
        }
        Flow f = new Flow();
        SocketLifecycle any = client != null ? client : server;
        f.setFlowId(flowId.value());
        f.setRecordType(type);
        f.setHost(any.getHost());
        f.setSourceHost(client != null ? client.getHost() : null);
        f.setDestinationHost(server != null ? server.getHost() : null);
        f.setNetworkTransport(any.getProtocol().toLowerCase(java.util.Locale.ROOT));
        f.setNetworkType("AF_INET6".equals(any.getFamily()) ? "ipv6" : "ipv4");
        if (client != null) {
            f.setSourceAddress(FlowKeys.localAddress(client));
            f.setSourcePort(client.getLocalPort());
            f.setDestinationAddress(client.getRemoteAddress());
            f.setDestinationPort(client.getRemotePort());
            f.setSourceBytes(client.getBytesSent());
            f.setDestinationBytes(client.getBytesReceived());
            f.setSourcePackets(client.getMessagesSent());
            f.setDestinationPackets(client.getMessagesReceived());
            f.setSourcePid(client.getPid());
            f.setSourceComm(client.getComm());
        } else { // only the accepting end is local: the peer is the source
            f.setSourceAddress(server.getRemoteAddress());
            f.setSourcePort(server.getRemotePort());
            f.setDestinationAddress(FlowKeys.localAddress(server));
            f.setDestinationPort(server.getLocalPort());
            f.setSourceBytes(server.getBytesReceived());
            f.setDestinationBytes(server.getBytesSent());
            f.setSourcePackets(server.getMessagesReceived());
            f.setDestinationPackets(server.getMessagesSent());
        }
        if (server != null) {
            f.setDestinationPid(server.getPid());
            f.setDestinationComm(server.getComm());
        }
        f.setCommunityId(CommunityId.v1(
                f.getSourceAddress(),
                f.getSourcePort(),
                f.getDestinationAddress(),
                f.getDestinationPort(),
                FlowKeys.protocolNumber(any.getProtocol()),
                0,
                digest()));
        long start = Long.MAX_VALUE;
        long end = Long.MIN_VALUE;
        long retransmits = 0;
        long sent = 0;
        long received = 0;
        Long rtt = null;
        for (SocketLifecycle l : all) {
            Instant s = l.getConnectedAt() != null
                    ? l.getConnectedAt()
                    : l.getCreatedAt() != null ? l.getCreatedAt() : l.getUpdatedAt();
            start = Math.min(start, micros(s));
            Instant e = l.getClosedAt() != null ? l.getClosedAt() : l.getUpdatedAt();
            end = Math.max(end, micros(e));
            retransmits += l.getRetransmits();
            sent += l.getResetsSent();
            received += l.getResetsReceived();
            if (l.getRttUs() != null && (rtt == null || l == client)) {
                rtt = l.getRttUs();
            }
        }
        end = Math.max(end, start);
        f.setStart(Instant.ofEpochSecond(0, start * 1000));
        f.setEnd(Instant.ofEpochSecond(0, end * 1000));
        f.setDurationMs((end - start) / 1000);
        f.setRetransmits(retransmits);
        // a reset between two local ends is sent by one and received by the other: count it once
        f.setResets(all.size() > 1 ? Math.max(sent, received) : sent + received);
        f.setRttUs(rtt);
        if (type == FlowRecordType.END) {
            String reason = null;
            for (SocketLifecycle l : all) {
                if (l.getEndReason() != null && !"CLOSE".equals(l.getEndReason())) {
                    reason = l.getEndReason();
                }
            }
            f.setEndReason(reason != null ? reason : "CLOSE");
        }
        return f;
    }

    /** The peer is a socket of this host: a loopback address, or the socket's own address (a host's own IP). */
    static boolean peerOnThisHost(SocketLifecycle l) {
        String r = l.getRemoteAddress();
        if (r == null) {
            return false;
        }
        return FlowKeys.loopback(r) || r.equals(l.getLocalAddress());
    }

    private static boolean isInitiator(SocketLifecycle l) {
        return l.getRole() == SocketRole.CLIENT || l.getRole() == SocketRole.DATAGRAM && l.getConnectedAt() != null;
    }

    private static long micros(Instant t) {
        return t.getEpochSecond() * 1_000_000L + t.getNano() / 1000;
    }

    /** This task's SHA-1 digest (each use ends in digest(), which resets it); a lookup per use cost more than hashing. */
    private java.security.MessageDigest digest() {
        if (sha1Digest == null) {
            try {
                sha1Digest = java.security.MessageDigest.getInstance("SHA-1");
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
        return sha1Digest;
    }

    private byte[] sha1(String s) {
        return digest().digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
}
