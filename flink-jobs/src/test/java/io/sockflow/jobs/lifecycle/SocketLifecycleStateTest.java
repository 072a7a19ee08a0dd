package io.sockflow.jobs.lifecycle;

import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.LifecycleStatus;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.SocketLifecycle;
import io.sockflow.schemas.SocketRole;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** The lifecycle fold on event sequences: in order, shuffled, duplicated, and with events missing. */
class SocketLifecycleStateTest {
    static final long BOOT_TO_WALL = 1_764_000_000_000_000_000L;

    static SocketEvent ev(EventKind kind, long t, long ret) {
        SocketEvent e = new SocketEvent();
        e.setHost("h");
        e.setBootId("b");
        e.setMonotonicNs(t);
        e.setTimestamp(Instant.ofEpochSecond(0, BOOT_TO_WALL + t));
        e.setDurationNs(1000L);
        e.setKind(kind);
        e.setPid(100);
        e.setTid(101);
        e.setProcessStartNs(5L);
        e.setComm("curl");
        e.setUid(0);
        e.setGid(0);
        e.setCgroupId(1L);
        e.setSocketInode(7L);
        e.setSocketKernelAddress(0xffff0000L);
        e.setFamily("AF_INET");
        e.setSocketType("SOCK_STREAM");
        e.setProtocol("TCP");
        e.setReturnValue(ret);
        if (ret < 0) {
            e.setErrno("ECONNREFUSED");
        }
        return e;
    }

    static SocketEvent send(long t, long bytes) {
        SocketEvent e = ev(EventKind.SENDTO, t, bytes);
        e.setBytes(bytes);
        e.setLocalAddress("127.0.0.1");
        e.setLocalPort(40000);
        e.setRemoteAddress("127.0.0.1");
        e.setRemotePort(8080);
        return e;
    }

    static SocketEvent recv(long t, long bytes) {
        SocketEvent e = ev(EventKind.RECVFROM, t, bytes);
        e.setBytes(bytes);
        return e;
    }

    /** A client: socket, connect, two sends, a receive, shutdown, close. */
    static List<SocketEvent> client() {
        SocketEvent connect = ev(EventKind.CONNECT, 2_000, 0);
        connect.setLocalAddress("127.0.0.1");
        connect.setLocalPort(40000);
        connect.setRemoteAddress("127.0.0.1");
        connect.setRemotePort(8080);
        return List.of(ev(EventKind.SOCKET, 1_000, 3), connect, send(3_000, 10), send(4_000, 20), recv(5_000, 7),
                ev(EventKind.SHUTDOWN, 6_000, 0), ev(EventKind.CLOSE, 7_000, 0));
    }

    static SocketLifecycle fold(List<SocketEvent> events) {
        SocketLifecycleState s = new SocketLifecycleState();
        events.forEach(s::apply);
        return s.toRecord(s.closed() ? LifecycleStatus.CLOSED : LifecycleStatus.OPEN, null);
    }

    static Instant at(long t) {
        return Instant.ofEpochSecond(0, BOOT_TO_WALL + t);
    }

    @Test
    void aClientFromSocketToClose() {
        SocketLifecycle r = fold(client());
        assertEquals(SocketRole.CLIENT, r.getRole());
        assertEquals(LifecycleStatus.CLOSED, r.getStatus());
        assertEquals(at(1_000), r.getCreatedAt());
        assertEquals(at(2_000), r.getConnectedAt());
        assertEquals(at(6_000), r.getShutdownAt());
        assertEquals(at(7_000), r.getClosedAt());
        assertNull(r.getBoundAt());
        assertEquals(30, r.getBytesSent());
        assertEquals(2, r.getMessagesSent());
        assertEquals(7, r.getBytesReceived());
        assertEquals(1, r.getMessagesReceived());
        assertEquals(7, r.getEventCount());
        assertEquals(0, r.getErrorCount());
        assertEquals("CLOSE", r.getEndReason());
        assertEquals(8080, r.getRemotePort());
        assertEquals(40000, r.getLocalPort());
        assertEquals(100, r.getPid());
        assertEquals("curl", r.getComm());
        assertEquals(List.of(), r.getNotSeen());
    }

    @Test
    void theOrderEventsArriveInDoesNotMatter() {
        SocketLifecycle expected = fold(client());
        Random random = new Random(7);
        for (int i = 0; i < 50; i++) {
            List<SocketEvent> shuffled = new ArrayList<>(client());
            Collections.shuffle(shuffled, random);
            assertEquals(expected, fold(shuffled), "order " + shuffled.stream().map(SocketEvent::getKind).toList());
        }
    }

    @Test
    void duplicatesCountOnce() {
        List<SocketEvent> twice = new ArrayList<>(client());
        twice.addAll(client());
        twice.add(send(3_000, 10));
        SocketLifecycleState s = new SocketLifecycleState();
        long applied = twice.stream().filter(s::apply).count();
        assertEquals(7, applied);
        assertEquals(fold(client()), s.toRecord(LifecycleStatus.CLOSED, null));
    }

    @Test
    void aSocketBornBeforeCaptureSaysItsCreationWasNotSeen() {
        List<SocketEvent> late = new ArrayList<>(client().subList(2, client().size()));
        SocketLifecycle r = fold(late);
        assertNull(r.getCreatedAt());
        assertEquals(List.of("CREATE"), r.getNotSeen());
        assertEquals(30, r.getBytesSent());
    }

    @Test
    void aSocketWithoutCloseIsEndedByTimeoutAndSaysSo() {
        SocketLifecycleState s = new SocketLifecycleState();
        client().subList(0, 5).forEach(s::apply);
        assertFalse(s.closed());
        SocketLifecycle r = s.toRecord(LifecycleStatus.TIMED_OUT, 65_000L);
        assertEquals(LifecycleStatus.TIMED_OUT, r.getStatus());
        assertEquals("TIMEOUT", r.getEndReason());
        assertEquals(at(65_000), r.getClosedAt());
        assertEquals(List.of("CLOSE"), r.getNotSeen());
    }

    @Test
    void aRefusedConnectEndsWithItsError() {
        SocketLifecycle r = fold(List.of(ev(EventKind.SOCKET, 1_000, 3), ev(EventKind.CONNECT, 2_000, -111),
                ev(EventKind.CLOSE, 3_000, 0)));
        assertEquals(SocketRole.CLIENT, r.getRole());
        assertNull(r.getConnectedAt());
        assertEquals(1, r.getErrorCount());
        assertEquals("ECONNREFUSED", r.getLastError());
        assertEquals("ECONNREFUSED", r.getEndReason());
    }

    @Test
    void listenersAcceptedSocketsAndPairsGetTheirRoles() {
        SocketLifecycle listener = fold(List.of(ev(EventKind.SOCKET, 1_000, 3), ev(EventKind.BIND, 2_000, 0),
                ev(EventKind.LISTEN, 3_000, 0)));
        assertEquals(SocketRole.LISTENER, listener.getRole());
        assertEquals(at(3_000), listener.getListeningAt());
        assertEquals(LifecycleStatus.OPEN, listener.getStatus());

        SocketEvent accept = ev(EventKind.ACCEPT4, 10_000, 5);
        accept.setRelatedSocketInode(3L);
        SocketLifecycle accepted = fold(List.of(accept, ev(EventKind.CLOSE, 20_000, 0)));
        assertEquals(SocketRole.ACCEPTED, accepted.getRole());
        assertEquals(3L, accepted.getListenerInode());
        assertEquals(at(10_000), accepted.getCreatedAt());

        SocketEvent pair = ev(EventKind.SOCKETPAIR, 1_000, 0);
        pair.setRelatedSocketInode(8L);
        SocketLifecycle p = fold(List.of(pair));
        assertEquals(SocketRole.PAIR, p.getRole());
        assertEquals(8L, p.getPairInode());
    }
}
