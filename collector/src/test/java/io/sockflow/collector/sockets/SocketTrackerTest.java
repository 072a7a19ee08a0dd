package io.sockflow.collector.sockets;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The collector's socket table on record sequences as the kernel writes them: cookies learnt late, kernel records
 * before their owner is known, execs that fail, owners that exit while others hold their sockets, ends nobody saw,
 * sockflow's own sockets, and a restart. No kernel needed.
 */
class SocketTrackerTest {
    static final String BOOT = "boot-1";
    long now = 1_000_000_000L;

    SocketEvent rec(EventKind k, int pid, String family, Long cookie, Long inode) {
        SocketEvent e = new SocketEvent();
        e.setHost("h");
        e.setBootId(BOOT);
        now += 1000;
        e.setMonotonicNs(now);
        e.setTimestamp(Instant.ofEpochSecond(1_764_000_000L, now));
        e.setDurationNs(1L);
        e.setKind(k);
        e.setPid(pid);
        e.setTid(pid);
        e.setProcessStartNs(pid * 100L);
        e.setComm("p" + pid);
        e.setUid(0);
        e.setGid(0);
        e.setCgroupId(1L);
        e.setReturnValue(0L);
        e.setFamily(family);
        e.setSocketType("SOCK_STREAM");
        e.setProtocol("AF_UNIX".equals(family) ? null : "TCP");
        e.setSocketCookie(cookie);
        e.setSocketInode(inode);
        e.setAttribution(k == EventKind.TCP_STATE ? "UNKNOWN" : k == EventKind.INVENTORY ? "HOLDER" : "CALLER");
        return e;
    }

    static SocketTracker tracker() {
        return new SocketTracker(SocketTracker.Options.defaults().withExcluded(Set.of(999), Set.of()));
    }

    @Test
    void anInetRecordWithoutItsCookieGetsItFromTheInodeOrWaitsForIt() {
        SocketTracker t = tracker();
        List<SocketEvent> out = new ArrayList<>();
        // a call on a socket older than the capture, before the inventory gave it a cookie: it waits
        t.accept(rec(EventKind.SENDTO, 10, "AF_INET", null, 77L), false, false, now, out::add);
        assertEquals(List.of(), out);
        // the inventory names both: the waiting record goes out with the cookie
        t.accept(rec(EventKind.INVENTORY, 10, "AF_INET", 500L, 77L), false, false, now, out::add);
        assertEquals(
                List.of(EventKind.SENDTO, EventKind.INVENTORY),
                out.stream().map(SocketEvent::getKind).toList());
        assertEquals(500L, out.get(0).getSocketCookie());
        // later records without the cookie get it at once
        t.accept(rec(EventKind.RECVFROM, 10, "AF_INET", null, 77L), false, false, now, out::add);
        assertEquals(500L, out.get(2).getSocketCookie());
        // a unix socket is named by its inode: nothing waits
        t.accept(rec(EventKind.SENDTO, 10, "AF_UNIX", null, 88L), false, false, now, out::add);
        assertEquals(4, out.size());
    }

    @Test
    void aReleaseWithoutItsCauseTakesItFromTheDropOfTheLastDescriptor() {
        // kernels whose cgroup programs may not read task storage (6.12 and before) release without a cause
        SocketTracker t = tracker();
        List<SocketEvent> out = new ArrayList<>();
        t.accept(rec(EventKind.SOCKET, 10, "AF_INET", 700L, 70L), false, false, now, out::add);
        // a forked child closes its copy: not the last reference, so not the cause
        SocketEvent childClose = rec(EventKind.CLOSE, 11, "AF_INET", 700L, 70L);
        childClose.setCause("CLOSE");
        childClose.setLastReference(false);
        t.accept(childClose, false, false, now, out::add);
        SocketEvent exitDrop = rec(EventKind.FD_DROP, 10, "AF_INET", 700L, 70L);
        exitDrop.setCause("EXIT");
        exitDrop.setLastReference(true);
        t.accept(exitDrop, false, false, now, out::add);
        t.accept(rec(EventKind.SOCK_RELEASE, 10, "AF_INET", 700L, 70L), false, false, now, out::add);
        assertEquals("EXIT", out.getLast().getCause());
        // close() releases before it returns (6.12): the release waits for the close's record, and goes out after it
        t.accept(rec(EventKind.SOCKET, 10, "AF_INET", 703L, 73L), false, false, now, out::add);
        int before = out.size();
        t.accept(rec(EventKind.SOCK_RELEASE, 10, "AF_INET", 703L, 73L), false, false, now, out::add);
        assertEquals(before, out.size());
        SocketEvent close = rec(EventKind.CLOSE, 10, "AF_INET", 703L, 73L);
        close.setCause("CLOSE");
        close.setLastReference(true);
        t.accept(close, false, false, now, out::add);
        assertEquals(
                List.of(EventKind.CLOSE, EventKind.SOCK_RELEASE),
                out.subList(before, out.size()).stream()
                        .map(SocketEvent::getKind)
                        .toList());
        assertEquals("CLOSE", out.getLast().getCause());
        // one whose descriptors were never seen going: OTHER, once it has waited long enough
        t.accept(rec(EventKind.SOCKET, 10, "AF_INET", 701L, 71L), false, false, now, out::add);
        t.accept(rec(EventKind.SOCK_RELEASE, 10, "AF_INET", 701L, 71L), false, false, now, out::add);
        assertNotEquals(EventKind.SOCK_RELEASE, out.getLast().getKind());
        t.expire(now + 2_000_000_000L, out::add);
        assertEquals(EventKind.SOCK_RELEASE, out.getLast().getKind());
        assertEquals("OTHER", out.getLast().getCause());
        // a release that says its cause keeps it
        t.accept(rec(EventKind.SOCKET, 10, "AF_INET", 702L, 72L), false, false, now, out::add);
        SocketEvent told = rec(EventKind.SOCK_RELEASE, 10, "AF_INET", 702L, 72L);
        told.setCause("EXEC");
        t.accept(told, false, false, now, out::add);
        assertEquals("EXEC", out.getLast().getCause());
    }

    @Test
    void aKernelRecordIsAttributedToTheSocketsOwnerOnceItIsKnown() {
        SocketTracker t = tracker();
        List<SocketEvent> out = new ArrayList<>();
        // the server side's handshake fires before accept() returns the socket
        SocketEvent state = rec(EventKind.TCP_STATE, 0, "AF_INET", 600L, null);
        state.setComm("swapper/1");
        t.accept(state, false, false, now, out::add);
        assertEquals(List.of(), out, "waits for its owner");
        t.accept(rec(EventKind.ACCEPT4, 20, "AF_INET", 600L, 90L), false, false, now, out::add);
        SocketEvent attributed = out.stream()
                .filter(e -> e.getKind() == EventKind.TCP_STATE)
                .findFirst()
                .orElseThrow();
        assertEquals(20, attributed.getPid());
        assertEquals("SOCKET_OWNER", attributed.getAttribution());
        // one whose owner never shows up goes out as unknown, never as the task the kernel ran in
        t.accept(rec(EventKind.TCP_STATE, 0, "AF_INET", 601L, null), false, false, now, out::add);
        t.expire(now + 2_000_000_000L, out::add);
        SocketEvent unknown = out.get(out.size() - 1);
        assertEquals("UNKNOWN", unknown.getAttribution());
        assertEquals(0, unknown.getPid());
    }

    @Test
    void theDropOfAUnixSocketsLastReferenceIsItsEndAndAnExecThatFailedDropsNothing() {
        SocketTracker t = tracker();
        List<SocketEvent> out = new ArrayList<>();
        t.accept(rec(EventKind.SOCKETPAIR, 30, "AF_UNIX", null, 100L), false, false, now, out::add);
        SocketEvent notLast = rec(EventKind.CLOSE, 31, "AF_UNIX", null, 100L);
        notLast.setLastReference(false);
        t.accept(notLast, false, false, now, out::add);
        assertTrue(out.stream().noneMatch(e -> e.getKind() == EventKind.SOCK_RELEASE), "a copy closed: no end");
        // close-on-exec drops wait for the exec: a failed exec closed nothing
        SocketEvent pending = rec(EventKind.FD_DROP, 30, "AF_UNIX", null, 100L);
        pending.setCause("EXEC");
        pending.setLastReference(true);
        t.accept(pending, true, false, now, out::add);
        SocketEvent failed = rec(EventKind.EXEC, 30, null, null, null);
        failed.setReturnValue(-2L);
        t.accept(failed, false, false, now, out::add);
        assertTrue(
                out.stream().noneMatch(e -> e.getKind() == EventKind.SOCK_RELEASE || e.getKind() == EventKind.FD_DROP));
        // a successful one did
        t.accept(pending, true, false, now, out::add);
        t.accept(rec(EventKind.EXEC, 30, null, null, null), false, false, now, out::add);
        SocketEvent end = out.stream()
                .filter(e -> e.getKind() == EventKind.SOCK_RELEASE)
                .findFirst()
                .orElseThrow();
        assertEquals("EXEC", end.getCause());
        assertEquals(100L, end.getSocketInode());
    }

    @Test
    void whenTheOwnerExitsTheWalkNamesTheHolderThatTookItOver() {
        SocketTracker t = tracker();
        List<SocketEvent> out = new ArrayList<>();
        t.accept(rec(EventKind.SOCKET, 40, "AF_INET", 700L, 110L), false, false, now, out::add);
        SocketEvent exit = rec(EventKind.FD_DROP, 40, "AF_INET", 700L, 110L);
        exit.setCause("EXIT");
        exit.setLastReference(false);
        t.accept(exit, false, false, now, out::add);
        assertTrue(t.wantsWalk());
        t.beginWalk(now);
        t.walkRecord(rec(EventKind.INVENTORY, 40, "AF_INET", 700L, 110L)); // the exiting owner, not gone yet
        t.walkRecord(rec(EventKind.INVENTORY, 41, "AF_INET", 700L, 110L));
        t.endWalk(now, out::add);
        SocketEvent change = out.stream()
                .filter(e -> e.getKind() == EventKind.OWNER_CHANGE)
                .findFirst()
                .orElseThrow();
        assertEquals(41, change.getPid());
        assertFalse(t.wantsWalk());
        // a kernel record of the socket is now the new owner's
        t.accept(rec(EventKind.TCP_STATE, 0, "AF_INET", 700L, null), false, false, now, out::add);
        assertEquals(41, out.get(out.size() - 1).getPid());
    }

    @Test
    void theSweepEndsWhatWentUnseenAndAnnouncesWhatItsBirthDidNotSay() {
        SocketTracker t = tracker();
        List<SocketEvent> out = new ArrayList<>();
        t.accept(rec(EventKind.SOCKET, 50, "AF_INET", 800L, 120L), false, false, now, out::add);
        t.beginWalk(now + 1);
        t.walkRecord(rec(EventKind.INVENTORY, 51, "AF_UNIX", null, 121L)); // born unseen (a dropped record)
        t.endWalk(now, out::add);
        SocketEvent gone = out.stream()
                .filter(e -> e.getKind() == EventKind.SOCK_RELEASE)
                .findFirst()
                .orElseThrow();
        assertEquals("UNSEEN", gone.getCause());
        assertEquals(800L, gone.getSocketCookie());
        assertTrue(out.stream().anyMatch(e -> e.getKind() == EventKind.INVENTORY && e.getSocketInode() == 121L));
        // a socket the walk did not see because it was born after the walk began is not ended
        t.accept(rec(EventKind.SOCKET, 50, "AF_INET", 801L, 122L), false, false, now, out::add);
        t.beginWalk(now - 5);
        t.walkRecord(rec(EventKind.INVENTORY, 51, "AF_UNIX", null, 121L)); // still held
        t.endWalk(now, out::add);
        assertEquals(
                1,
                out.stream().filter(e -> e.getKind() == EventKind.SOCK_RELEASE).count());
    }

    @Test
    void sockflowsOwnSocketsAndTheirRecordsAreLeftOutWhoeverTouchesThem() {
        SocketTracker t = tracker();
        List<SocketEvent> out = new ArrayList<>();
        t.accept(rec(EventKind.SOCKET, 999, "AF_INET", 900L, 130L), false, false, now, out::add);
        // a helper process of sockflow's (not itself excluded) closes its inherited copy
        SocketEvent close = rec(EventKind.CLOSE, 1001, "AF_INET", 900L, 130L);
        close.setLastReference(false);
        t.accept(close, false, false, now, out::add);
        t.accept(rec(EventKind.TCP_STATE, 0, "AF_INET", 900L, null), false, false, now, out::add);
        t.accept(rec(EventKind.SOCK_RELEASE, 1001, "AF_INET", 900L, 130L), false, false, now, out::add);
        t.accept(rec(EventKind.TCP_STATE, 0, "AF_INET", 900L, null), false, false, now, out::add);
        assertEquals(List.of(), out);
        assertEquals(5, t.stats().excluded());
    }

    @Test
    void aRestartEndsTheSocketsThatWentWhileNoCollectorRan(@TempDir Path dir) throws Exception {
        SocketTracker before = tracker();
        List<SocketEvent> out = new ArrayList<>();
        before.accept(rec(EventKind.SOCKET, 60, "AF_INET", 1000L, 140L), false, false, now, out::add);
        before.accept(rec(EventKind.SOCKET, 60, "AF_INET", 1001L, 141L), false, false, now, out::add);
        Path file = dir.resolve("live-sockets.tsv");
        LiveSocketsFile.write(file, before.live());
        // the next start: its inventory finds only the second
        SocketTracker after = tracker();
        List<SocketEvent> out2 = new ArrayList<>();
        after.accept(rec(EventKind.INVENTORY, 60, "AF_INET", 1001L, 141L), false, false, now, out2::add);
        int ended = after.endedWhileStopped(LiveSocketsFile.read(file), BOOT, now, Instant.now(), out2::add);
        assertEquals(1, ended);
        SocketEvent gone = out2.get(out2.size() - 1);
        assertEquals(EventKind.SOCK_RELEASE, gone.getKind());
        assertEquals(1000L, gone.getSocketCookie());
        assertEquals("UNSEEN", gone.getCause());
        // after a reboot, every socket of the old boot went with it
        assertEquals(2, tracker().endedWhileStopped(LiveSocketsFile.read(file), "boot-2", now, Instant.now(), x -> {}));
    }
}
