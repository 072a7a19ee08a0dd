package io.sockflow.jobs.lifecycle;

import static io.sockflow.schemas.EventKind.*;
import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.jobs.Ev;
import io.sockflow.jobs.Workload;
import io.sockflow.schemas.LifecycleStatus;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.SocketLifecycle;
import io.sockflow.schemas.SocketRole;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** The lifecycle function in Flink's keyed operator harness: exact records out for known event sequences. */
class LifecycleFunctionTest {

    private static KeyedOneInputStreamOperatorTestHarness<String, SocketEvent, SocketLifecycle> harness()
            throws Exception {
        var h = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(
                        new LifecycleFunction(Duration.ofSeconds(1), Duration.ofMinutes(10), Duration.ofMinutes(1))),
                SocketKeys::key,
                Types.STRING);
        h.open();
        return h;
    }

    private static void feed(
            KeyedOneInputStreamOperatorTestHarness<String, SocketEvent, SocketLifecycle> h, List<SocketEvent> events)
            throws Exception {
        for (SocketEvent e : events) {
            for (SocketEvent x : SocketKeys.lifecycleInputs(e)) {
                h.processElement(new StreamRecord<>(x, x.getTimestamp().toEpochMilli()));
            }
        }
    }

    private static Map<Long, SocketLifecycle> byInode(List<SocketLifecycle> out) {
        return out.stream().collect(Collectors.toMap(SocketLifecycle::getSocketInode, Function.identity(), (a, b) -> {
            throw new AssertionError("two records for socket " + a.getSocketInode());
        }));
    }

    private static long end(int n) {
        return Ev.T0.toEpochMilli() + Workload.lastMillis(n);
    }

    @Test
    void theWorkloadGivesOneClosedLifecyclePerSocketWithRolesLinksAndBytes() throws Exception {
        int n = 3;
        var h = harness();
        feed(h, Workload.events(n));
        h.processWatermark(end(n) + 1001);
        Map<Long, SocketLifecycle> got = byInode(h.extractOutputValues());
        assertEquals(Workload.sockets(n), got.size());
        assertTrue(got.values().stream().allMatch(l -> l.getStatus() == LifecycleStatus.CLOSED), "all closed");

        SocketLifecycle listener = got.get(10L);
        assertEquals(SocketRole.LISTENER, listener.getRole());
        assertEquals(8080, listener.getLocalPort());
        assertNotNull(listener.getBoundAt());
        assertNotNull(listener.getListeningAt());
        assertEquals("python3", listener.getComm());
        for (int i = 0; i < n; i++) {
            SocketLifecycle c = got.get(100L + i);
            SocketLifecycle s = got.get(1000L + i);
            assertEquals(SocketRole.CLIENT, c.getRole());
            assertEquals(SocketRole.ACCEPTED, s.getRole());
            assertEquals(10L, s.getListenerInode(), "accepted socket linked to its listener");
            assertEquals(100L * (i + 1), c.getBytesSent());
            assertEquals(1000L + i, c.getBytesReceived());
            assertEquals(1000L + i, s.getBytesSent());
            assertEquals(100L * (i + 1), s.getBytesReceived());
            assertEquals(1L, c.getMessagesSent());
            assertEquals(40000 + i, c.getLocalPort());
            assertEquals(8080, c.getRemotePort());
            assertEquals("CLOSE", c.getEndReason());
            assertEquals(List.of(), c.getNotSeen());
            assertEquals(300 + i, c.getPid());
            assertEquals(200, s.getPid());
        }
        SocketLifecycle refused = got.get(500L);
        assertEquals(SocketRole.CLIENT, refused.getRole());
        assertEquals("ECONNREFUSED", refused.getEndReason());
        assertEquals(1L, refused.getErrorCount());
        assertNull(refused.getConnectedAt());

        SocketLifecycle dig = got.get(600L);
        SocketLifecycle named = got.get(601L);
        assertEquals(SocketRole.DATAGRAM, dig.getRole());
        assertEquals(SocketRole.DATAGRAM, named.getRole());
        assertEquals(40L, dig.getBytesSent());
        assertEquals(120L, dig.getBytesReceived());
        assertEquals(
                50000, named.getRemotePort(), "an unconnected datagram socket's peer comes from its sendto/recvfrom");

        SocketLifecycle a = got.get(700L);
        SocketLifecycle b = got.get(701L);
        assertEquals(SocketRole.PAIR, a.getRole());
        assertEquals(SocketRole.PAIR, b.getRole());
        assertEquals(701L, a.getPairInode());
        assertEquals(700L, b.getPairInode());
        assertEquals(9L, a.getBytesSent());
        assertEquals(9L, b.getBytesReceived());
        h.close();
    }

    @Test
    void theAggregateDataPathGivesTheSameConnectionsAsTheRecordPerCall() throws Exception {
        int n = 5;
        for (int exchanges : new int[] {0, 3}) {
            var perCall = harness();
            feed(perCall, Workload.events(n, exchanges, false));
            perCall.processWatermark(end(n) + 1001);
            Map<Long, SocketLifecycle> expected = byInode(perCall.extractOutputValues());
            List<SocketEvent> aggregate = new ArrayList<>(Workload.events(n, exchanges, true));
            aggregate.addAll(aggregate.subList(0, 30)); // a producer's resend: totals seen twice change nothing
            Collections.shuffle(aggregate, new Random(11));
            var h = harness();
            feed(h, aggregate);
            h.processWatermark(end(n) + 1001);
            Map<Long, SocketLifecycle> got = byInode(h.extractOutputValues());
            assertEquals(expected.keySet(), got.keySet(), "one lifecycle per socket");
            for (int i = 0; i < n; i++) {
                for (long inode : new long[] {100L + i, 1000L + i}) {
                    SocketLifecycle want = expected.get(inode);
                    SocketLifecycle l = got.get(inode);
                    String what = "socket " + inode + " with " + exchanges + " more rounds";
                    assertEquals(LifecycleStatus.CLOSED, l.getStatus(), what);
                    assertEquals(want.getRole(), l.getRole(), what);
                    assertEquals(want.getBytesSent(), l.getBytesSent(), what);
                    assertEquals(want.getBytesReceived(), l.getBytesReceived(), what);
                    assertEquals(want.getMessagesSent(), l.getMessagesSent(), what);
                    assertEquals(want.getMessagesReceived(), l.getMessagesReceived(), what);
                    assertEquals(want.getEndReason(), l.getEndReason(), what);
                    assertEquals(want.getPid(), l.getPid(), what);
                    assertEquals(want.getListenerInode(), l.getListenerInode(), what);
                    assertEquals(want.getRemotePort(), l.getRemotePort(), what);
                    assertNotNull(l.getConnectedAt(), what);
                }
            }
            assertEquals((exchanges + 1) * 100L * 3, got.get(102L).getBytesSent(), "the third client's bytes");
        }
    }

    @Test
    void shuffledAndDuplicatedEventsGiveTheSameRecords() throws Exception {
        int n = 4;
        var ordered = harness();
        feed(ordered, Workload.events(n));
        ordered.processWatermark(end(n) + 1001);
        Map<Long, SocketLifecycle> expected = byInode(ordered.extractOutputValues());

        List<SocketEvent> messy = new ArrayList<>(Workload.events(n));
        messy.addAll(Workload.events(n).subList(0, 25)); // delivered twice (a producer's resend)
        Collections.shuffle(messy, new Random(7));
        var h = harness();
        feed(h, messy);
        h.processWatermark(end(n) + 1001);
        assertEquals(expected, byInode(h.extractOutputValues()));
        // each connected socket announced once, whatever the order and however often its events came
        assertEquals(notices(ordered), notices(h));
        assertEquals(2 * n + 1, notices(h).size(), "both ends of each connection, and the connected UDP client");
    }

    private static List<Long> notices(KeyedOneInputStreamOperatorTestHarness<String, SocketEvent, SocketLifecycle> h) {
        var out = h.getSideOutput(LifecycleFunction.CONNECTED);
        return out == null
                ? List.of()
                : out.stream().map(r -> r.getValue().getSocketInode()).sorted().toList();
    }

    @Test
    void aSocketBornBeforeCaptureAndNeverClosedIsMarkedAndTimedOut() throws Exception {
        var h = harness();
        // no SOCKET/ACCEPT: only later calls on it, then silence
        h.processElement(new StreamRecord<>(
                Ev.of(SENDTO, 77, "sshd", 0)
                        .socket(42)
                        .tcp()
                        .local("10.0.0.1", 22)
                        .remote("10.0.0.9", 50000)
                        .bytes(10)
                        .get(),
                0));
        h.processElement(new StreamRecord<>(
                Ev.of(RECVFROM, 77, "sshd", 5)
                        .socket(42)
                        .tcp()
                        .local("10.0.0.1", 22)
                        .remote("10.0.0.9", 50000)
                        .bytes(3)
                        .get(),
                5));
        h.processWatermark(Ev.T0.toEpochMilli() + Duration.ofMinutes(5).toMillis());
        // one update after a minute; none for the silent minutes after it; nothing final yet
        List<SocketLifecycle> updates = h.extractOutputValues();
        assertEquals(1, updates.size());
        assertEquals(LifecycleStatus.OPEN, updates.get(0).getStatus());
        h.processWatermark(Ev.T0.toEpochMilli() + Duration.ofMinutes(11).toMillis());
        List<SocketLifecycle> all = h.extractOutputValues();
        assertEquals(2, all.size());
        SocketLifecycle last = all.get(1);
        assertEquals(LifecycleStatus.TIMED_OUT, last.getStatus());
        assertEquals("TIMEOUT", last.getEndReason());
        assertEquals(List.of("CREATE", "RELEASE"), last.getNotSeen());
        assertEquals(10L, last.getBytesSent());
        assertEquals(Ev.T0.plusMillis(5), last.getClosedAt(), "ended at the last event seen");
        h.close();
    }

    /** Without a timeout (the default), the end of a bounded input publishes what changed once, and stops. */
    @Test
    void theEndOfABoundedInputPublishesAnOpenSocketOnceAndEnds() throws Exception {
        var h = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(
                        new LifecycleFunction(Duration.ofSeconds(1), Duration.ZERO, Duration.ofMinutes(1))),
                SocketKeys::key,
                Types.STRING);
        h.open();
        h.processElement(new StreamRecord<>(
                Ev.of(SENDTO, 77, "sshd", 0)
                        .socket(42)
                        .tcp()
                        .local("10.0.0.1", 22)
                        .remote("10.0.0.9", 50000)
                        .bytes(10)
                        .get(),
                0));
        h.processWatermark(Ev.T0.toEpochMilli() + Duration.ofMinutes(3).toMillis());
        h.processElement(new StreamRecord<>(
                Ev.of(RECVFROM, 77, "sshd", 190_000)
                        .socket(42)
                        .tcp()
                        .local("10.0.0.1", 22)
                        .remote("10.0.0.9", 50000)
                        .bytes(3)
                        .get(),
                0));
        h.processWatermark(Long.MAX_VALUE); // returns: no tick wraps around
        List<SocketLifecycle> all = h.extractOutputValues();
        assertEquals(2, all.size(), "the first minute's update and the one at the end: " + all);
        assertTrue(
                all.stream().allMatch(l -> l.getStatus() == LifecycleStatus.OPEN),
                "a socket no one released stays open");
        assertEquals(13L, all.get(1).getBytesSent() + all.get(1).getBytesReceived());
        assertEquals(0, h.numEventTimeTimers(), "no timer is left");
        h.close();
    }

    @Test
    void eventsAfterTheEndAreCountedNotANewLifecycle() throws Exception {
        var h = harness();
        feed(
                h,
                List.of(
                        Ev.of(SOCKET, 5, "nc", 0).socket(9).tcp().get(),
                        Ev.of(CLOSE, 5, "nc", 10).socket(9).tcp().last().get(),
                        Ev.of(CLOSE, 5, "nc", 10)
                                .socket(9)
                                .tcp()
                                .released("CLOSE")
                                .get()));
        h.processWatermark(Ev.T0.toEpochMilli() + 2000);
        assertEquals(1, h.extractOutputValues().size());
        // the kernel's last state change comes after the grace
        feed(
                h,
                List.of(Ev.of(TCP_STATE, 5, "nc", 2500)
                        .socket(9)
                        .tcp()
                        .state("FIN_WAIT2", "CLOSE")
                        .get()));
        h.processWatermark(Ev.T0.toEpochMilli() + 20 * 60_000);
        assertEquals(1, h.extractOutputValues().size(), "no second lifecycle for a straggler");
        h.close();
    }

    @Test
    void aKernelRecordMinutesAfterTheReleaseMakesNoLifecycleAndOneBeforeTheBirthIsFoldedIn() throws Exception {
        var h = harness();
        long t0 = Ev.T0.toEpochMilli();
        feed(h, shortSocket(5, 0, 10));
        h.processWatermark(t0 + 2000);
        assertEquals(1, h.extractOutputValues().size());
        // FIN_WAIT2's timer ends the kernel's socket a minute later: long after the lifecycle and its tombstone
        feed(
                h,
                List.of(Ev.of(TCP_STATE, 0, "swapper/0", 70_000)
                        .socket(9)
                        .tcp()
                        .state("FIN_WAIT2", "CLOSE")
                        .get()));
        h.processWatermark(t0 + 5 * 60_000);
        assertEquals(1, h.extractOutputValues().size(), "no lifecycle for a socket no process held");
        assertEquals(0, h.numKeyedStateEntries(), "and nothing kept for it");
        // an accepted connection's handshake reaches the job before its accept(): held, then folded in
        var h2 = harness();
        feed(
                h2,
                List.of(Ev.of(TCP_STATE, 0, "swapper/0", 10)
                        .socket(77)
                        .tcp()
                        .state("SYN_RECV", "ESTABLISHED")
                        .get()));
        assertTrue(h2.extractOutputValues().isEmpty());
        feed(
                h2,
                List.of(
                        Ev.of(ACCEPT4, 8, "srv", 20)
                                .socket(77)
                                .related(76)
                                .tcp()
                                .local("127.0.0.1", 80)
                                .remote("127.0.0.1", 5000)
                                .ret(4, null)
                                .get(),
                        Ev.of(CLOSE, 8, "srv", 30).socket(77).tcp().last().get(),
                        Ev.of(CLOSE, 8, "srv", 30)
                                .socket(77)
                                .tcp()
                                .released("CLOSE")
                                .get()));
        h2.processWatermark(t0 + 2000);
        SocketLifecycle l = h2.extractOutputValues().get(0);
        assertEquals(3 + 1, l.getEventCount(), "the held state change is part of it");
        assertEquals(Ev.T0.plusMillis(10), l.getConnectedAt());
        h.close();
        h2.close();
    }

    /** A TCP socket of process {@code pid}, inode 9, made at {@code at} ms and released {@code life} ms later. */
    private static List<SocketEvent> shortSocket(int pid, long at, long life) {
        return List.of(
                Ev.of(SOCKET, pid, "nc", at).socket(9).tcp().get(),
                Ev.of(CLOSE, pid, "nc", at + life).socket(9).tcp().last().get(),
                Ev.of(CLOSE, pid, "nc", at + life)
                        .socket(9)
                        .tcp()
                        .released("CLOSE")
                        .get());
    }

    @Test
    void aShortSocketCostsTwoTimersAndItsTombstoneEndsAtItsFirstUpdateTick() throws Exception {
        var h = harness();
        long t0 = Ev.T0.toEpochMilli();
        feed(h, shortSocket(5, 0, 10));
        // the update tick (t0 + 1 min) and the close's end (t0 + 10 ms + the 1 s grace); no timeout timer before the
        // tick
        assertEquals(2, h.numEventTimeTimers());
        h.processWatermark(t0 + 2000);
        assertEquals(1, h.extractOutputValues().size());
        assertEquals(1, h.numEventTimeTimers(), "the tick clears the tombstone: no timer of its own");
        assertEquals(1, h.numKeyedStateEntries(), "the tombstone");
        // a straggler before the tick is counted, not a new lifecycle
        feed(
                h,
                List.of(Ev.of(TCP_STATE, 5, "nc", 40_000)
                        .socket(9)
                        .tcp()
                        .state("FIN_WAIT2", "CLOSE")
                        .get()));
        h.processWatermark(t0 + 60_000);
        assertEquals(0, h.numKeyedStateEntries(), "nothing left of the socket after its tick");
        assertEquals(0, h.numEventTimeTimers());
        // a new socket with the same inode after that is a lifecycle of its own
        feed(h, shortSocket(6, 70_000, 10));
        h.processWatermark(t0 + 80_000);
        assertEquals(2, h.extractOutputValues().size());
        assertEquals(6, h.extractOutputValues().get(1).getPid());
        h.close();
    }

    @Test
    void aSocketThatEndsLateInItsTickKeepsItsTombstoneForTheTombstoneTime() throws Exception {
        var h = harness();
        long t0 = Ev.T0.toEpochMilli();
        // closed at 50 s: its end (51 s) is 9 s before the tick, too soon to clear a 30 s tombstone
        feed(h, shortSocket(5, 0, 50_000));
        h.processWatermark(t0 + 52_000);
        assertEquals(1, h.extractOutputValues().size());
        h.processWatermark(t0 + 60_000);
        assertEquals(1, h.numKeyedStateEntries(), "the tombstone outlives the tick");
        feed(
                h,
                List.of(Ev.of(TCP_STATE, 5, "nc", 70_000)
                        .socket(9)
                        .tcp()
                        .state("FIN_WAIT2", "CLOSE")
                        .get()));
        h.processWatermark(t0 + 52_000 + 30_000);
        assertEquals(0, h.numKeyedStateEntries());
        assertEquals(1, h.extractOutputValues().size(), "the straggler was counted, not a new lifecycle");
        h.close();
    }

    @Test
    void aConnectedSocketIsAnnouncedOnceForItsFlowBeforeItEnds() throws Exception {
        var h = harness();
        feed(h, Workload.events(1).subList(0, 7)); // listener, then client connect + accept
        var notices = h.getSideOutput(LifecycleFunction.CONNECTED);
        assertNotNull(notices);
        List<Long> inodes = notices.stream()
                .map(r -> r.getValue().getSocketInode())
                .sorted()
                .toList();
        assertEquals(List.of(100L, 1000L), inodes);
        assertTrue(h.extractOutputValues().isEmpty(), "nothing published before an update or the end");
        h.close();
    }

    @Test
    void stateSurvivesASnapshotAndRestore() throws Exception {
        int n = 2;
        List<SocketEvent> events = Workload.events(n);
        var h = harness();
        feed(h, events.subList(0, 15));
        OperatorSubtaskState snap = h.snapshot(1L, 1L);
        h.close();
        var restored = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(
                        new LifecycleFunction(Duration.ofSeconds(1), Duration.ofMinutes(10), Duration.ofMinutes(1))),
                SocketKeys::key,
                Types.STRING);
        restored.initializeState(snap);
        restored.open();
        feed(restored, events.subList(15, events.size()));
        restored.processWatermark(end(n) + 1001);
        var once = harness();
        feed(once, events);
        once.processWatermark(end(n) + 1001);
        assertEquals(byInode(once.extractOutputValues()), byInode(restored.extractOutputValues()));
        restored.close();
        once.close();
    }
}
