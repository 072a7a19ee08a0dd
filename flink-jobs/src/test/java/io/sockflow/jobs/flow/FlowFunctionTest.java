package io.sockflow.jobs.flow;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.jobs.Ev;
import io.sockflow.jobs.Workload;
import io.sockflow.jobs.lifecycle.LifecycleFunction;
import io.sockflow.jobs.lifecycle.SocketKeys;
import io.sockflow.jobs.types.LifecycleChange;
import io.sockflow.schemas.Flow;
import io.sockflow.schemas.FlowRecordType;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.SocketLifecycle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** Lifecycles (as the lifecycle function emits them) into the flow function, in several arrival orders. */
class FlowFunctionTest {

    /** The lifecycle function's output for the workload: published records and connection notices. */
    private static List<LifecycleChange> lifecycleChanges(int n) throws Exception {
        var h = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(
                        new LifecycleFunction(Duration.ofSeconds(1), Duration.ofMinutes(10), Duration.ofMinutes(1))),
                SocketKeys::key,
                Types.STRING);
        h.open();
        for (SocketEvent e : Workload.events(n)) {
            for (SocketEvent x : SocketKeys.lifecycleInputs(e)) {
                h.processElement(new StreamRecord<>(x, x.getTimestamp().toEpochMilli()));
            }
        }
        h.processWatermark(Ev.T0.toEpochMilli() + Workload.lastMillis(n) + 1001);
        List<LifecycleChange> out = new ArrayList<>();
        h.getSideOutput(LifecycleFunction.CONNECTED).forEach(r -> out.add(new LifecycleChange(r.getValue(), false)));
        h.extractOutputValues().forEach(l -> out.add(new LifecycleChange(l, true)));
        h.close();
        return out;
    }

    private static List<Flow> flows(List<LifecycleChange> in, long watermark) throws Exception {
        return flows(in, watermark, false);
    }

    private static List<Flow> flows(List<LifecycleChange> in, long watermark, boolean fleet) throws Exception {
        var h = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new FlowFunction(Duration.ofSeconds(2))),
                (LifecycleChange c) -> FlowKeys.key(c.record, fleet),
                Types.STRING);
        h.open();
        for (LifecycleChange c : in) {
            if (FlowKeys.isFlowSide(c.record)) {
                h.processElement(new StreamRecord<>(c, c.record.getUpdatedAt().toEpochMilli()));
            }
        }
        h.processWatermark(watermark);
        List<Flow> out = h.extractOutputValues();
        h.close();
        return out;
    }

    @Test
    void eachConnectionIsOneFlowWithBothProcessesAndBothDirections() throws Exception {
        int n = 3;
        List<Flow> out = flows(lifecycleChanges(n), Long.MAX_VALUE);
        Map<FlowRecordType, List<Flow>> byType = out.stream().collect(Collectors.groupingBy(Flow::getRecordType));
        assertEquals(n + 1, byType.get(FlowRecordType.NEW).size(), "one NEW per TCP connection and the UDP exchange");
        assertEquals(n + 1, byType.get(FlowRecordType.END).size());
        assertNull(byType.get(FlowRecordType.UPDATE));
        Map<Integer, Flow> tcp = byType.get(FlowRecordType.END).stream()
                .filter(f -> f.getNetworkTransport().equals("tcp"))
                .collect(Collectors.toMap(Flow::getSourcePort, f -> f));
        for (int i = 0; i < n; i++) {
            Flow f = tcp.get(40000 + i);
            assertEquals("127.0.0.1", f.getSourceAddress());
            assertEquals(8080, f.getDestinationPort());
            assertEquals(100L * (i + 1), f.getSourceBytes());
            assertEquals(1000L + i, f.getDestinationBytes());
            assertEquals(1L, f.getSourcePackets());
            assertEquals(300 + i, f.getSourcePid());
            assertEquals("curl", f.getSourceComm());
            assertEquals(200, f.getDestinationPid());
            assertEquals("python3", f.getDestinationComm());
            assertEquals("ipv4", f.getNetworkType());
            assertEquals("CLOSE", f.getEndReason());
            assertEquals(CommunityId.v1("127.0.0.1", 40000 + i, "127.0.0.1", 8080, 6, 0), f.getCommunityId());
            assertTrue(f.getDurationMs() >= 0);
        }
        Flow udp = byType.get(FlowRecordType.END).stream()
                .filter(f -> f.getNetworkTransport().equals("udp"))
                .findFirst()
                .orElseThrow();
        assertEquals(50000, udp.getSourcePort());
        assertEquals(5353, udp.getDestinationPort());
        assertEquals(40L, udp.getSourceBytes());
        assertEquals(120L, udp.getDestinationBytes());
        assertEquals("dig", udp.getSourceComm());
        assertEquals(
                "named", udp.getDestinationComm(), "the unconnected server joins its flow through its peer address");
        // NEW and END of a flow share its id
        assertEquals(
                byType.get(FlowRecordType.NEW).stream()
                        .map(Flow::getFlowId)
                        .sorted()
                        .toList(),
                byType.get(FlowRecordType.END).stream()
                        .map(Flow::getFlowId)
                        .sorted()
                        .toList());
    }

    /**
     * The workload's TCP connections as two hosts see them: the clients on h2 (10.77.0.2), the server on h1
     * (10.77.0.1), or both ends on loopback of their own host ({@code loopback}).
     */
    private static List<LifecycleChange> acrossHosts(List<LifecycleChange> in, boolean loopback) {
        List<LifecycleChange> out = new ArrayList<>();
        for (LifecycleChange c : in) {
            SocketLifecycle l = SocketLifecycle.newBuilder(c.record).build();
            if (!"TCP".equals(l.getProtocol())) {
                continue;
            }
            boolean client = l.getRole() == io.sockflow.schemas.SocketRole.CLIENT;
            l.setHost(client ? "h2" : "h1");
            if (!loopback) {
                boolean listener = l.getRemoteAddress() == null;
                l.setLocalAddress(client ? "10.77.0.2" : listener ? "0.0.0.0" : "10.77.0.1");
                if (!listener) {
                    l.setRemoteAddress(client ? "10.77.0.1" : "10.77.0.2");
                }
            }
            out.add(new LifecycleChange(l, c.published));
        }
        return out;
    }

    @Test
    void aConnectionBetweenTwoObservedHostsIsOneFlowNamingBothEnds() throws Exception {
        int n = 3;
        List<LifecycleChange> in = acrossHosts(lifecycleChanges(n), false);
        List<Flow> ends = flows(in, Long.MAX_VALUE, true).stream()
                .filter(f -> f.getRecordType() == FlowRecordType.END)
                .toList();
        assertEquals(n, ends.size(), "one flow per connection, not one per host: " + ends);
        Map<Integer, Flow> bySourcePort = ends.stream().collect(Collectors.toMap(Flow::getSourcePort, f -> f));
        for (int i = 0; i < n; i++) {
            Flow f = bySourcePort.get(40000 + i);
            assertEquals("10.77.0.2", f.getSourceAddress());
            assertEquals("10.77.0.1", f.getDestinationAddress());
            assertEquals("h2", f.getSourceHost());
            assertEquals("h1", f.getDestinationHost());
            assertEquals("h2", f.getHost(), "the flow's host is the initiating end's");
            assertEquals(300 + i, f.getSourcePid());
            assertEquals("curl", f.getSourceComm());
            assertEquals(200, f.getDestinationPid());
            assertEquals("python3", f.getDestinationComm());
            assertEquals(100L * (i + 1), f.getSourceBytes());
            assertEquals(1000L + i, f.getDestinationBytes());
        }
        // per host, each host's end is a flow of its own
        List<Flow> perHost = flows(in, Long.MAX_VALUE, false).stream()
                .filter(f -> f.getRecordType() == FlowRecordType.END)
                .toList();
        assertEquals(2 * n, perHost.size(), perHost.toString());
        assertEquals(
                n,
                perHost.stream()
                        .filter(f -> "h1".equals(f.getHost())
                                && f.getSourceHost() == null
                                && "h1".equals(f.getDestinationHost())
                                && f.getSourcePid() == null)
                        .count(),
                "the server's host alone sees the accepting ends: " + perHost);
    }

    @Test
    void loopbackConnectionsOfTwoHostsStayTwoFlowsInTheFleetScope() throws Exception {
        int n = 2;
        List<LifecycleChange> in = new ArrayList<>(acrossHosts(lifecycleChanges(n), true));
        for (LifecycleChange c : new ArrayList<>(in)) { // the same connections, ports and all, on a third host
            SocketLifecycle l = SocketLifecycle.newBuilder(c.record).build();
            l.setHost("h3");
            in.add(new LifecycleChange(l, c.published));
        }
        List<Flow> ends = flows(in, Long.MAX_VALUE, true).stream()
                .filter(f -> f.getRecordType() == FlowRecordType.END)
                .toList();
        // h1 holds the servers, h2 the clients (each half a loopback connection), h3 both ends
        assertEquals(3 * n, ends.size(), ends.toString());
        assertEquals(
                n,
                ends.stream()
                        .filter(f -> "h3".equals(f.getSourceHost()) && "h3".equals(f.getDestinationHost()))
                        .count(),
                ends.toString());
    }

    @Test
    void theEndRecordsDoNotDependOnArrivalOrder() throws Exception {
        int n = 4;
        List<LifecycleChange> in = lifecycleChanges(n);
        List<Flow> expected = flows(in, Long.MAX_VALUE).stream()
                .filter(f -> f.getRecordType() == FlowRecordType.END)
                .sorted((a, b) -> a.getFlowId().compareTo(b.getFlowId()))
                .toList();
        for (int seed = 1; seed <= 3; seed++) {
            List<LifecycleChange> shuffled = new ArrayList<>(in);
            Collections.shuffle(shuffled, new Random(seed));
            List<Flow> got = flows(shuffled, Long.MAX_VALUE).stream()
                    .filter(f -> f.getRecordType() == FlowRecordType.END)
                    .sorted((a, b) -> a.getFlowId().compareTo(b.getFlowId()))
                    .toList();
            assertEquals(expected, got, "seed " + seed);
        }
    }

    @Test
    void theNewRecordsNameBothLocalProcessesWhateverEndArrivesFirst() throws Exception {
        int n = 4;
        List<LifecycleChange> in = lifecycleChanges(n);
        // the accepted ends first, then the clients, and the reverse: as two partitions may deliver them
        List<LifecycleChange> acceptedFirst = new ArrayList<>(in);
        acceptedFirst.sort((a, b) -> Boolean.compare(
                a.record.getRole() != io.sockflow.schemas.SocketRole.ACCEPTED,
                b.record.getRole() != io.sockflow.schemas.SocketRole.ACCEPTED));
        List<LifecycleChange> clientsFirst = new ArrayList<>(in);
        clientsFirst.sort((a, b) -> Boolean.compare(
                a.record.getRole() != io.sockflow.schemas.SocketRole.CLIENT,
                b.record.getRole() != io.sockflow.schemas.SocketRole.CLIENT));
        for (List<LifecycleChange> order : List.of(in, acceptedFirst, clientsFirst)) {
            List<Flow> news = flows(order, Long.MAX_VALUE).stream()
                    .filter(f -> f.getRecordType() == FlowRecordType.NEW && "tcp".equals(f.getNetworkTransport()))
                    .toList();
            assertEquals(n, news.size(), news.toString());
            // and on the second end's arrival, not at the pair grace's end: before any watermark
            assertEquals(
                    news,
                    flows(order, Long.MIN_VALUE).stream()
                            .filter(f ->
                                    f.getRecordType() == FlowRecordType.NEW && "tcp".equals(f.getNetworkTransport()))
                            .toList());
            for (Flow f : news) {
                assertEquals("curl", f.getSourceComm(), f.toString());
                assertEquals("python3", f.getDestinationComm(), f.toString());
            }
        }
    }

    @Test
    void aThousandConnectionsAreAThousandFlowsEachNewOnItsSecondEndsArrival() throws Exception {
        // the benchmark's workload is thousands of connections: every socket in it is a socket of its own
        int n = 1000;
        long news = flows(lifecycleChanges(n), Long.MIN_VALUE).stream()
                .filter(f -> f.getRecordType() == FlowRecordType.NEW
                        && "tcp".equals(f.getNetworkTransport())
                        && "curl".equals(f.getSourceComm())
                        && "python3".equals(f.getDestinationComm()))
                .count();
        assertEquals(n, news);
    }

    @Test
    void aNewRecordWaitsAtMostThePairGraceForTheOtherLocalEnd() throws Exception {
        List<LifecycleChange> in = lifecycleChanges(1);
        LifecycleChange accepted = in.stream()
                .filter(c -> c.record.getRole() == io.sockflow.schemas.SocketRole.ACCEPTED)
                .findFirst()
                .orElseThrow();
        long t = accepted.record.getUpdatedAt().toEpochMilli();
        // within the grace: nothing yet
        assertEquals(List.of(), flows(List.of(accepted), t + 1999));
        // after it: NEW with the accepted end alone, its peer the source
        List<Flow> out = flows(List.of(accepted), t + 2000);
        assertEquals(1, out.size(), out.toString());
        Flow f = out.get(0);
        assertEquals(FlowRecordType.NEW, f.getRecordType());
        assertNull(f.getSourceComm());
        assertEquals("python3", f.getDestinationComm());
        assertEquals(8080, f.getDestinationPort());
    }

    @Test
    void aFlowWaitsForItsSecondLocalEndBeforeEnding() throws Exception {
        List<LifecycleChange> in = lifecycleChanges(1);
        SocketLifecycle client = in.stream()
                .map(c -> c.record)
                .filter(l -> l.getSocketInode() == 100L && l.getStatus() != io.sockflow.schemas.LifecycleStatus.OPEN)
                .findFirst()
                .orElseThrow();
        // only the client's end so far, watermark within the pair grace: no END yet (nor NEW, which waits as long
        // for the other local end)
        List<Flow> out = flows(
                List.of(new LifecycleChange(client, true)), client.getClosedAt().toEpochMilli() + 1000);
        assertEquals(List.of(), out.stream().map(Flow::getRecordType).toList());
        // after the grace, the END has the client alone (the peer's process unknown)
        out = flows(
                List.of(new LifecycleChange(client, true)), client.getClosedAt().toEpochMilli() + 2001);
        Flow end = out.get(1);
        assertEquals(FlowRecordType.END, end.getRecordType());
        assertNull(end.getDestinationPid());
        assertEquals(100L, end.getSourceBytes());
    }

    @Test
    void communityIdMatchesTheSpecificationsExample() {
        // the Community ID specification's TCP example: 128.232.110.120:34855 -> 66.35.250.204:80, seed 0
        assertEquals(
                "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", CommunityId.v1("128.232.110.120", 34855, "66.35.250.204", 80, 6, 0));
        assertEquals(
                CommunityId.v1("66.35.250.204", 80, "128.232.110.120", 34855, 6, 0),
                CommunityId.v1("128.232.110.120", 34855, "66.35.250.204", 80, 6, 0),
                "both directions, one id");
    }
}
