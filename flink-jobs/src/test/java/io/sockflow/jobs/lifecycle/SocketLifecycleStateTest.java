package io.sockflow.jobs.lifecycle;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.LifecycleStatus;
import io.sockflow.schemas.ProcessRef;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.SocketLifecycle;
import io.sockflow.schemas.SocketRole;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The lifecycle fold on record sequences as the collector sends them: in order, shuffled, duplicated, with records
 * missing, and in the shapes of real hosts (fork, dup, fd passing, exit without close, non-blocking connects, sockets
 * older than the capture).
 */
class SocketLifecycleStateTest {
    static final long BOOT_TO_WALL = 1_764_000_000_000_000_000L;
    static final long COOKIE = 0x4000_0000_0007L;

    static SocketEvent ev(EventKind kind, long t, long ret) {
        return ev(kind, t, ret, 100, "curl");
    }

    static SocketEvent ev(EventKind kind, long t, long ret, int pid, String comm) {
        SocketEvent e = new SocketEvent();
        e.setHost("h");
        e.setBootId("b");
        // t in microseconds: the wall clock of a record has microseconds (the boot clock nanoseconds)
        e.setMonotonicNs(t * 1000);
        e.setTimestamp(Instant.ofEpochSecond(0, BOOT_TO_WALL + t * 1000));
        e.setDurationNs(1000L);
        e.setKind(kind);
        e.setPid(pid);
        e.setTid(pid + 1);
        e.setProcessStartNs(pid * 10L);
        e.setComm(comm);
        e.setUid(0);
        e.setGid(0);
        e.setCgroupId(1L);
        e.setSocketInode(7L);
        e.setSocketCookie(COOKIE);
        e.setSocketKernelAddress(0xffff0000L);
        e.setFamily("AF_INET");
        e.setSocketType("SOCK_STREAM");
        e.setProtocol("TCP");
        e.setReturnValue(ret);
        e.setAttribution(
                kind.ordinal() >= EventKind.TCP_STATE.ordinal()
                                        && kind.ordinal() <= EventKind.UDP_QUEUE_OVERFLOWS.ordinal()
                                || kind == EventKind.SOCK_ERROR
                        ? "SOCKET_OWNER"
                        : kind == EventKind.INVENTORY || kind == EventKind.OWNER_CHANGE ? "HOLDER" : "CALLER");
        if (ret < 0) {
            e.setErrno(ret == -115 ? "EINPROGRESS" : "ECONNREFUSED");
        }
        return e;
    }

    static SocketEvent close(long t, boolean last, int pid, String comm) {
        SocketEvent e = ev(EventKind.CLOSE, t, 0, pid, comm);
        e.setLastReference(last);
        e.setCause("CLOSE");
        return e;
    }

    static SocketEvent release(long t, String cause, int pid, String comm) {
        SocketEvent e = ev(EventKind.SOCK_RELEASE, t, 0, pid, comm);
        e.setCause(cause);
        return e;
    }

    static SocketEvent drop(long t, String cause, boolean last, int pid, String comm) {
        SocketEvent e = ev(EventKind.FD_DROP, t, 0, pid, comm);
        e.setCause(cause);
        e.setLastReference(last);
        return e;
    }

    static SocketEvent withPorts(SocketEvent e) {
        e.setLocalAddress("127.0.0.1");
        e.setLocalPort(40000);
        e.setRemoteAddress("127.0.0.1");
        e.setRemotePort(8080);
        return e;
    }

    static SocketEvent send(long t, long bytes) {
        SocketEvent e = withPorts(ev(EventKind.SENDTO, t, bytes));
        e.setBytes(bytes);
        return e;
    }

    static SocketEvent recv(long t, long bytes) {
        SocketEvent e = ev(EventKind.RECVFROM, t, bytes);
        e.setBytes(bytes);
        return e;
    }

    static SocketEvent tcpState(long t, String from, String to) {
        SocketEvent e = ev(EventKind.TCP_STATE, t, 0);
        e.setTcpOldState(from);
        e.setTcpState(to);
        return e;
    }

    /** A client: socket, connect, two sends, a receive, shutdown, the close of its last descriptor, the release. */
    static List<SocketEvent> client() {
        return List.of(
                ev(EventKind.SOCKET, 1_000, 3),
                withPorts(ev(EventKind.CONNECT, 2_000, 0)),
                send(3_000, 10),
                send(4_000, 20),
                recv(5_000, 7),
                ev(EventKind.SHUTDOWN, 6_000, 0),
                close(7_000, true, 100, "curl"),
                release(7_100, "CLOSE", 100, "curl"));
    }

    static SocketLifecycle fold(List<SocketEvent> events) {
        SocketLifecycleState s = new SocketLifecycleState();
        events.forEach(s::apply);
        return s.toRecord(s.closed() ? LifecycleStatus.CLOSED : LifecycleStatus.OPEN, null);
    }

    static Instant at(long t) {
        return Instant.ofEpochSecond(0, BOOT_TO_WALL + t * 1000);
    }

    static SocketEvent totals(long t, long sent, long received, long calls, boolean last) {
        SocketEvent e = ev(EventKind.SOCK_TOTALS, t, 0, 100, "client");
        e.setAttribution("SOCKET_OWNER");
        e.setBytesSent(sent);
        e.setBytesReceived(received);
        e.setCallsSent(calls);
        e.setCallsReceived(calls);
        e.setErrorsSent(0L);
        e.setErrorsReceived(0L);
        e.setRetransmits(2L);
        e.setRttUs(40L);
        e.setTotalsFinal(last);
        return e;
    }

    @Test
    void theKernelsTotalsGiveTheBytesWhateverTheirOrderOrRepeats() {
        SocketEvent created = ev(EventKind.SOCKET, 1_000, 3, 100, "client");
        SocketEvent mid = totals(3_000, 4_000, 1_000, 4, false);
        SocketEvent last = totals(5_000, 9_000, 2_500, 9, true);
        SocketEvent end = release(5_001, "CLOSE", 100, "client");
        for (List<SocketEvent> order : List.of(
                List.of(created, mid, last, end),
                List.of(created, last, mid, end, mid),
                List.of(end, last, created, mid))) {
            assertLastTotals(fold(order), order.toString());
        }
    }

    /** The lifecycle of the socket whose last totals are those of {@code totals(5_000, 9_000, 2_500, 9, true)}. */
    private static void assertLastTotals(SocketLifecycle r, String what) {
        assertEquals(9_000, r.getBytesSent(), what);
        assertEquals(2_500, r.getBytesReceived(), what);
        assertEquals(9, r.getMessagesSent(), what);
        assertEquals("KERNEL", r.getByteSource(), what);
        assertEquals(2, r.getRetransmits(), what);
        assertEquals(40L, r.getRttUs(), what);
    }

    @Test
    void theLastTotalsOnTheReleaseGiveTheBytesWhateverTheOrderOrRepeats() {
        SocketEvent created = ev(EventKind.SOCKET, 1_000, 3, 100, "client");
        SocketEvent mid = totals(3_000, 4_000, 1_000, 4, false);
        mid.setRttMinUs(25L);
        SocketEvent end = release(5_001, "CLOSE", 100, "client");
        SocketEvent last = totals(5_001, 9_000, 2_500, 9, true);
        for (var f : List.of(
                "bytesSent",
                "bytesReceived",
                "callsSent",
                "callsReceived",
                "errorsSent",
                "errorsReceived",
                "retransmits",
                "rttUs",
                "totalsFinal")) {
            end.put(f, last.get(f)); // the collector's default path: the release carries the socket's last totals
        }
        end.setRttMinUs(31L);
        for (List<SocketEvent> order : List.of(
                List.of(created, mid, end),
                List.of(created, end, mid, end),
                List.of(end, mid, created),
                List.of(created, end))) {
            SocketLifecycle r = fold(order);
            assertEquals(LifecycleStatus.CLOSED, r.getStatus(), order.toString());
            assertLastTotals(r, order.toString());
            assertEquals(order.contains(mid) ? 25L : 31L, r.getRttMinUs());
        }
        // a release without totals (the socket moved no data through the summed path) leaves the bytes alone
        SocketLifecycle plain = fold(List.of(created, release(5_001, "CLOSE", 100, "client")));
        assertEquals(0, plain.getBytesSent());
        assertEquals(null, plain.getRttUs());
    }

    @Test
    void theTotalsRttRangeGivesTheSmallestRttWithoutTcpRttRecords() {
        SocketEvent created = ev(EventKind.SOCKET, 1_000, 3, 100, "client");
        SocketEvent mid = totals(3_000, 4_000, 1_000, 4, false);
        mid.setRttMinUs(25L);
        mid.setRttMaxUs(60L);
        SocketEvent last = totals(5_000, 9_000, 2_500, 9, true);
        last.setRttMinUs(31L); // the smallest of a later read can only be larger; the fold keeps the smallest
        last.setRttMaxUs(60L);
        SocketEvent end = release(5_001, "CLOSE", 100, "client");
        for (List<SocketEvent> order :
                List.of(List.of(created, mid, last, end), List.of(end, last, created, mid), List.of(created, last))) {
            SocketLifecycle r = fold(order);
            assertEquals(order.contains(mid) ? 25L : 31L, r.getRttMinUs(), order.toString());
            assertEquals(40L, r.getRttUs());
        }
        assertEquals(null, fold(List.of(created, totals(3_000, 1, 1, 1, false))).getRttMinUs(), "no range: none");
    }

    @Test
    void aClientFromSocketToRelease() {
        SocketLifecycle r = fold(client());
        assertEquals(SocketRole.CLIENT, r.getRole());
        assertEquals(LifecycleStatus.CLOSED, r.getStatus());
        assertEquals(at(1_000), r.getCreatedAt());
        assertEquals(at(2_000), r.getConnectedAt());
        assertEquals(at(6_000), r.getShutdownAt());
        assertEquals(at(7_100), r.getClosedAt(), "it ended when the kernel released it");
        assertNull(r.getBoundAt());
        assertEquals(30, r.getBytesSent());
        assertEquals(2, r.getMessagesSent());
        assertEquals(7, r.getBytesReceived());
        assertEquals(1, r.getMessagesReceived());
        assertEquals("CALLS", r.getByteSource());
        assertEquals(8, r.getEventCount());
        assertEquals(0, r.getErrorCount());
        assertEquals("CLOSE", r.getEndReason());
        assertEquals("CLOSE", r.getReleaseCause());
        assertEquals(100, r.getReleasedByPid());
        assertEquals("CONNECTED", r.getConnectOutcome());
        assertEquals(8080, r.getRemotePort());
        assertEquals(40000, r.getLocalPort());
        assertEquals(100, r.getPid());
        assertEquals("curl", r.getComm());
        assertEquals("CREATED", r.getOwnerSource());
        assertEquals(COOKIE, r.getSocketCookie());
        assertEquals(List.of(), r.getHolders());
        assertEquals(List.of(), r.getNotSeen());
    }

    @Test
    void theOrderRecordsArriveInDoesNotMatter() {
        SocketLifecycle expected = fold(client());
        Random random = new Random(7);
        for (int i = 0; i < 50; i++) {
            List<SocketEvent> shuffled = new ArrayList<>(client());
            Collections.shuffle(shuffled, random);
            assertEquals(
                    expected,
                    fold(shuffled),
                    "order " + shuffled.stream().map(SocketEvent::getKind).toList());
        }
    }

    @Test
    void duplicatesCountOnce() {
        List<SocketEvent> twice = new ArrayList<>(client());
        twice.addAll(client());
        twice.add(send(3_000, 10));
        SocketLifecycleState s = new SocketLifecycleState();
        long applied = twice.stream().filter(s::apply).count();
        assertEquals(8, applied);
        assertEquals(fold(client()), s.toRecord(LifecycleStatus.CLOSED, null));
    }

    @Test
    void aCloseOfOneDescriptorAmongSeveralIsACallNotAnEnd() {
        // dup()ed, then one of the two closed: the file still has a reference, the kernel has not released it
        SocketLifecycleState s = new SocketLifecycleState();
        List.of(
                        ev(EventKind.SOCKET, 1_000, 3),
                        withPorts(ev(EventKind.CONNECT, 2_000, 0)),
                        close(3_000, false, 100, "curl"),
                        send(4_000, 5))
                .forEach(s::apply);
        assertFalse(s.closed());
        SocketLifecycle r = s.toRecord(LifecycleStatus.OPEN, null);
        assertNull(r.getClosedAt());
        assertNull(r.getEndReason());
        assertEquals(100, r.getPid());
        assertEquals(5, r.getBytesSent());
    }

    @Test
    void aForkedChildThatClosesItsInheritedCopyNeitherOwnsNorEndsIt() {
        List<SocketEvent> events = new ArrayList<>(client().subList(0, 5));
        events.add(close(4_500, false, 300, "sh")); // the child's copy
        events.add(drop(4_600, "EXIT", false, 300, "sh"));
        SocketLifecycle open = fold(events);
        assertEquals(LifecycleStatus.OPEN, open.getStatus());
        assertEquals(100, open.getPid(), "the creator owns it");
        assertEquals("curl", open.getComm());
        assertEquals(SocketRole.CLIENT, open.getRole(), "the role comes from what it did, not from who closed it");
        assertEquals(List.of(), open.getHolders(), "the child let go of its copy");
        events.add(close(9_000, true, 100, "curl"));
        events.add(release(9_000, "CLOSE", 100, "curl"));
        SocketLifecycle ended = fold(events);
        assertEquals(at(9_000), ended.getClosedAt(), "ended once, at the parent's close");
        assertEquals(100, ended.getReleasedByPid());
    }

    @Test
    void aProcessThatExitsHoldingItEndsItWithExit() {
        List<SocketEvent> events = new ArrayList<>(client().subList(0, 5));
        events.add(drop(8_000, "EXIT", true, 100, "curl"));
        events.add(release(8_000, "EXIT", 100, "curl"));
        SocketLifecycle r = fold(events);
        assertEquals(LifecycleStatus.CLOSED, r.getStatus());
        assertEquals("EXIT", r.getEndReason());
        assertEquals("EXIT", r.getReleaseCause());
        assertEquals(at(8_000), r.getClosedAt());
    }

    @Test
    void aSocketThatExistedBeforeCaptureIsOwnedByItsOldestHolderAndCountsFromTheKernelsCounters() {
        SocketEvent parent = withPorts(ev(EventKind.INVENTORY, 500, 0, 200, "nginx"));
        parent.setSocketState("ESTABLISHED");
        parent.setKernelBytesSent(1_000L);
        parent.setKernelBytesReceived(2_000L);
        SocketEvent worker = withPorts(ev(EventKind.INVENTORY, 500, 0, 201, "nginx"));
        worker.setSocketState("ESTABLISHED");
        worker.setKernelBytesSent(1_000L);
        worker.setKernelBytesReceived(2_000L);
        SocketEvent more = ev(EventKind.SOCK_SEND, 600, 50, 200, "nginx");
        more.setBytes(50L);
        more.setAttribution("CALLER");
        SocketLifecycle r = fold(List.of(worker, parent, more));
        assertEquals(200, r.getPid(), "the holder with the earliest start owns it");
        assertEquals("INVENTORY", r.getOwnerSource());
        assertEquals(List.of(new ProcessRef(201, 2010L, "nginx")), r.getHolders());
        assertEquals(List.of("CREATE"), r.getNotSeen());
        assertEquals(at(500), r.getInventoriedAt());
        assertNull(r.getCreatedAt());
        assertEquals(1_050, r.getBytesSent());
        assertEquals(2_000, r.getBytesReceived());
        assertEquals("TCP_COUNTERS", r.getByteSource());

        SocketEvent rel = release(9_000, "CLOSE", 200, "nginx");
        rel.setKernelBytesSent(5_000L);
        rel.setKernelBytesReceived(6_000L);
        SocketLifecycle ended = fold(List.of(worker, parent, more, rel));
        assertEquals(5_000, ended.getBytesSent(), "the release's counters cover the whole life");
        assertEquals(6_000, ended.getBytesReceived());
    }

    @Test
    void aListenerFoundAtTheInventoryIsAListener() {
        SocketEvent inv = ev(EventKind.INVENTORY, 500, 0, 200, "sshd");
        inv.setSocketState("LISTEN");
        inv.setLocalAddress("0.0.0.0");
        inv.setLocalPort(22);
        SocketLifecycle r = fold(List.of(inv));
        assertEquals(SocketRole.LISTENER, r.getRole());
        assertEquals(22, r.getLocalPort());
    }

    @Test
    void whenTheOwnerGoesTheHolderTakesOverAndTheRecordSaysSo() {
        List<SocketEvent> events = new ArrayList<>(client().subList(0, 5));
        SocketEvent child = send(4_200, 3);
        child.setPid(300);
        child.setTid(301);
        child.setProcessStartNs(3000L);
        child.setComm("worker");
        events.add(child);
        events.add(drop(5_000, "EXIT", false, 100, "curl"));
        SocketEvent change = ev(EventKind.OWNER_CHANGE, 5_300, 0, 300, "worker");
        events.add(change);
        SocketLifecycle r = fold(events);
        assertEquals(300, r.getPid());
        assertEquals("worker", r.getComm());
        assertEquals("TAKEN_OVER", r.getOwnerSource());
        assertEquals(List.of(), r.getHolders(), "the new owner is no longer a mere holder");
        assertEquals(LifecycleStatus.OPEN, r.getStatus());
    }

    @Test
    void aReceiverOfThePassedDescriptorIsAHolderNotTheOwner() {
        List<SocketEvent> events = new ArrayList<>(client().subList(0, 3));
        SocketEvent used = send(3_500, 4);
        used.setPid(400);
        used.setTid(401);
        used.setProcessStartNs(4000L);
        used.setComm("receiver");
        events.add(used);
        SocketLifecycle r = fold(events);
        assertEquals(100, r.getPid());
        assertEquals(List.of(new ProcessRef(400, 4000L, "receiver")), r.getHolders());
    }

    @Test
    void anotherThreadsCloseKeepsTheOwner() {
        List<SocketEvent> events = new ArrayList<>(client().subList(0, 5));
        SocketEvent c = close(7_000, true, 100, "curl");
        c.setTid(177);
        SocketEvent rel = release(7_000, "CLOSE", 100, "curl");
        rel.setTid(177);
        events.add(c);
        events.add(rel);
        SocketLifecycle r = fold(events);
        assertEquals(100, r.getPid());
        assertEquals("CREATED", r.getOwnerSource());
        assertEquals(LifecycleStatus.CLOSED, r.getStatus());
    }

    @Test
    void aNonBlockingConnectRefusedEndsRefusedNotInProgress() {
        SocketEvent reset = ev(EventKind.TCP_RECEIVE_RESET, 2_100, 0);
        reset.setTcpState("SYN_SENT");
        SocketEvent error = ev(EventKind.SOCK_ERROR, 2_100, 0);
        error.setErrno("ECONNREFUSED");
        List<SocketEvent> events = List.of(
                ev(EventKind.SOCKET, 1_000, 3),
                ev(EventKind.CONNECT, 2_000, -115),
                tcpState(2_000, "CLOSE", "SYN_SENT"),
                reset,
                tcpState(2_100, "SYN_SENT", "CLOSE"),
                error,
                close(3_000, true, 100, "curl"),
                release(3_000, "CLOSE", 100, "curl"));
        SocketLifecycle r = fold(events);
        assertEquals(SocketRole.CLIENT, r.getRole());
        assertNull(r.getConnectedAt());
        assertEquals("ECONNREFUSED", r.getConnectOutcome());
        assertEquals("ECONNREFUSED", r.getEndReason());
        Random random = new Random(3);
        for (int i = 0; i < 20; i++) {
            List<SocketEvent> shuffled = new ArrayList<>(events);
            Collections.shuffle(shuffled, random);
            assertEquals(r, fold(shuffled));
        }
    }

    @Test
    void aNonBlockingConnectThatSucceedsIsConnectedAtTheHandshake() {
        SocketLifecycle r = fold(List.of(
                ev(EventKind.SOCKET, 1_000, 3),
                ev(EventKind.CONNECT, 2_000, -115),
                tcpState(2_000, "CLOSE", "SYN_SENT"),
                tcpState(2_050, "SYN_SENT", "ESTABLISHED"),
                send(3_000, 9)));
        assertEquals("CONNECTED", r.getConnectOutcome());
        assertEquals(at(2_050), r.getConnectedAt());
        assertEquals(SocketRole.CLIENT, r.getRole());
    }

    @Test
    void aConnectTheKernelGivesUpOnTimesOut() {
        SocketEvent error = ev(EventKind.SOCK_ERROR, 130_000, 0);
        error.setErrno("ETIMEDOUT");
        SocketLifecycle r = fold(List.of(
                ev(EventKind.SOCKET, 1_000, 3),
                ev(EventKind.CONNECT, 2_000, -115),
                tcpState(2_000, "CLOSE", "SYN_SENT"),
                error,
                tcpState(130_000, "SYN_SENT", "CLOSE"),
                close(131_000, true, 100, "curl"),
                release(131_000, "CLOSE", 100, "curl")));
        assertEquals("ETIMEDOUT", r.getConnectOutcome());
        assertEquals("ETIMEDOUT", r.getEndReason());
    }

    @Test
    void aConnectAbandonedByItsProcessSaysSo() {
        SocketEvent rel = release(5_000, "CLOSE", 100, "curl");
        rel.setSocketState("SYN_SENT");
        SocketLifecycle r = fold(List.of(
                ev(EventKind.SOCKET, 1_000, 3),
                ev(EventKind.CONNECT, 2_000, -115),
                tcpState(2_000, "CLOSE", "SYN_SENT"),
                close(5_000, true, 100, "curl"),
                rel));
        assertEquals("ABANDONED", r.getConnectOutcome());
        assertEquals("CLOSE", r.getEndReason());
        SocketLifecycle pending = fold(List.of(ev(EventKind.SOCKET, 1_000, 3), ev(EventKind.CONNECT, 2_000, -115)));
        assertEquals("IN_PROGRESS", pending.getConnectOutcome());
    }

    @Test
    void aBlockingConnectRefusedEndsWithItsError() {
        SocketLifecycle r = fold(List.of(
                ev(EventKind.SOCKET, 1_000, 3),
                ev(EventKind.CONNECT, 2_000, -111),
                close(3_000, true, 100, "curl"),
                release(3_000, "CLOSE", 100, "curl")));
        assertEquals(SocketRole.CLIENT, r.getRole());
        assertNull(r.getConnectedAt());
        assertEquals(1, r.getErrorCount());
        assertEquals("ECONNREFUSED", r.getLastError());
        assertEquals("ECONNREFUSED", r.getEndReason());
    }

    @Test
    void anEndTheCollectorFoundWithoutSeeingItSaysSo() {
        List<SocketEvent> events = new ArrayList<>(client().subList(0, 5));
        SocketEvent gone = release(60_000, "UNSEEN", 0, "");
        gone.setAttribution("UNKNOWN");
        events.add(gone);
        SocketLifecycle r = fold(events);
        assertEquals(LifecycleStatus.CLOSED, r.getStatus());
        assertEquals("UNSEEN", r.getReleaseCause());
        assertNull(r.getReleasedByPid());
        assertEquals(List.of("RELEASE"), r.getNotSeen());
    }

    @Test
    void aSocketWithoutReleaseTimedOutSaysSo() {
        SocketLifecycleState s = new SocketLifecycleState();
        client().subList(0, 5).forEach(s::apply);
        assertFalse(s.closed());
        SocketLifecycle r = s.toRecord(LifecycleStatus.TIMED_OUT, 65_000_000L);
        assertEquals(LifecycleStatus.TIMED_OUT, r.getStatus());
        assertEquals("TIMEOUT", r.getEndReason());
        assertEquals(at(65_000), r.getClosedAt());
        assertEquals(List.of("RELEASE"), r.getNotSeen());
    }

    @Test
    void listenersAcceptedSocketsAndPairsGetTheirRoles() {
        SocketLifecycle listener = fold(
                List.of(ev(EventKind.SOCKET, 1_000, 3), ev(EventKind.BIND, 2_000, 0), ev(EventKind.LISTEN, 3_000, 0)));
        assertEquals(SocketRole.LISTENER, listener.getRole());
        assertEquals(at(3_000), listener.getListeningAt());
        assertEquals(LifecycleStatus.OPEN, listener.getStatus());

        SocketEvent accept = ev(EventKind.ACCEPT4, 10_000, 5);
        accept.setRelatedSocketInode(3L);
        SocketLifecycle accepted =
                fold(List.of(accept, close(20_000, true, 100, "curl"), release(20_000, "CLOSE", 100, "curl")));
        assertEquals(SocketRole.ACCEPTED, accepted.getRole());
        assertEquals(3L, accepted.getListenerInode());
        assertEquals(at(10_000), accepted.getCreatedAt());
        assertNull(accepted.getConnectOutcome(), "an accepted socket made no connect");

        SocketEvent pair = ev(EventKind.SOCKETPAIR, 1_000, 0);
        pair.setFamily("AF_UNIX");
        pair.setRelatedSocketInode(8L);
        SocketLifecycle p = fold(List.of(pair));
        assertEquals(SocketRole.PAIR, p.getRole());
        assertEquals(8L, p.getPairInode());
    }

    @Test
    void theReleaseCausesNameHowTheSocketWent() {
        for (String cause : List.of("EXEC", "DUP2", "CLOSE_RANGE", "OTHER")) {
            List<SocketEvent> events = new ArrayList<>(client().subList(0, 5));
            events.add(release(8_000, cause, 100, "curl"));
            assertEquals(cause, fold(events).getEndReason(), cause);
        }
    }
}
