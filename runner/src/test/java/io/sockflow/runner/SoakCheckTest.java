package io.sockflow.runner;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.schemas.LifecycleStatus;
import io.sockflow.schemas.SocketLifecycle;
import io.sockflow.schemas.SocketRole;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The soak's judge on a made-up run: two looks at the kernel (ss lines, the /proc descriptors, sockflow's pids, as
 * bench/soak writes them) 30 s apart, and lifecycle records. A run whose records agree with the kernel counts 0; a
 * false end, a lifecycle with no owner and one of sockflow's own sockets are each counted.
 */
class SoakCheckTest {
    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    static final Instant T1 = T0.plusSeconds(30);
    static final int SERVER = 100;
    static final int SOCKFLOW = 200;

    @TempDir
    Path snaps;

    List<SoakCheck.Snapshot> snapshots;

    /** Two looks, each taking 2 s: a server's listener and unix socket, an unbound UDP socket (in /proc only), and a
     * connection of sockflow's own. */
    @BeforeEach
    void twoLooksAtTheKernel() throws Exception {
        for (Instant at : List.of(T0, T1)) {
            long ms = at.toEpochMilli();
            Files.writeString(
                    snaps.resolve("ss-" + ms + ".txt"),
                    String.join(
                            "\n",
                            "tcp LISTEN 0 128 127.0.0.1:8080 0.0.0.0:* users:((\"server\",pid=100,fd=3)) ino:5001"
                                    + " sk:1001 cgroup:/user.slice <->",
                            "u_str ESTAB 0 0 * 5002 * 5099 users:((\"server\",pid=100,fd=4)) ---",
                            "tcp ESTAB 0 0 127.0.0.1:40000 127.0.0.1:9092 users:((\"java\",pid=200,fd=9)) ino:6001"
                                    + " sk:2001 cgroup:/ <->",
                            "tcp TIME-WAIT 0 0 127.0.0.1:40001 127.0.0.1:9092 ino:0 sk:2002 <->",
                            ""));
            Files.writeString(snaps.resolve("held-" + ms + ".txt"), "100 5001\n100 5002\n100 5003\n200 6001\n");
            Files.writeString(snaps.resolve("sockflow-pids-" + ms + ".txt"), SOCKFLOW + "\n");
            Files.writeString(snaps.resolve("done-" + ms + ".txt"), Long.toString(ms + 2000));
        }
        snapshots = SoakCheck.snapshots(snaps);
        assertEquals(2, snapshots.size());
        assertEquals(3, snapshots.get(0).sockets().size(), "a fileless TIME-WAIT socket is not one the kernel holds");
        assertEquals(T1.plusSeconds(2), snapshots.get(1).done());
    }

    static SocketLifecycle record(
            String family, String protocol, Long cookie, long inode, Integer pid, LifecycleStatus status) {
        SocketLifecycle l = new SocketLifecycle();
        l.setHost("h");
        l.setBootId("b");
        l.setFamily(family);
        l.setProtocol(protocol);
        l.setSocketCookie(cookie);
        l.setSocketInode(inode);
        l.setPid(pid);
        l.setComm(pid == null ? null : pid == SOCKFLOW ? "java" : "server");
        l.setOwnerSource(pid == null ? null : "CREATED");
        l.setStatus(status);
        l.setRole(SocketRole.UNCONNECTED);
        l.setCreatedAt(T0.minusSeconds(60));
        l.setUpdatedAt(T0.minusSeconds(60));
        return l;
    }

    static SocketLifecycle end(SocketLifecycle open, Instant at, String reason) {
        SocketLifecycle l = SocketLifecycle.newBuilder(open).build();
        l.setStatus(LifecycleStatus.CLOSED);
        l.setClosedAt(at);
        l.setUpdatedAt(at);
        l.setEndReason(reason);
        l.setReleaseCause(reason);
        return l;
    }

    /** The records of a run that agree with the kernel: each held socket open over both looks, ended after them. */
    static List<SocketLifecycle> agreeing() {
        List<SocketLifecycle> all = new ArrayList<>();
        SocketLifecycle listener = record("AF_INET", "TCP", 0x1001L, 5001, SERVER, LifecycleStatus.OPEN);
        listener.setRole(SocketRole.LISTENER);
        all.add(listener);
        all.add(end(listener, T1.plusSeconds(20), "CLOSE"));
        SocketLifecycle unix = record("AF_UNIX", null, null, 5002, SERVER, LifecycleStatus.OPEN);
        unix.setRole(SocketRole.PAIR);
        all.add(unix);
        all.add(record("AF_INET", "UDP", 0x1003L, 5003, SERVER, LifecycleStatus.OPEN)); // held, in no socket table
        // found at the inventory, ended between the looks
        SocketLifecycle old = record("AF_INET", "TCP", 0x0fffL, 4999, SERVER, LifecycleStatus.OPEN);
        old.setCreatedAt(null);
        old.setInventoriedAt(T0.minusSeconds(120));
        old.setOwnerSource("INVENTORY");
        old.setNotSeen(List.of("CREATE"));
        all.add(end(old, T0.plusSeconds(10), "EXIT"));
        return all;
    }

    String printed;

    int check(List<SocketLifecycle> all) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int n = SoakCheck.check(
                all, snapshots, java.util.Set.of(SOCKFLOW), new PrintStream(b, true, StandardCharsets.UTF_8));
        printed = b.toString(StandardCharsets.UTF_8);
        return n;
    }

    static String counts(int falseEnds, int noOwner, int own) {
        return "soak: false ends " + falseEnds + ", sockets held with no open lifecycle 0, open lifecycles of sockets"
                + " no process held 0, lifecycles with no owner " + noOwner + ", sockflow's own " + own;
    }

    @Test
    void aRunWhoseLifecyclesAgreeWithTheKernelCountsNothing() {
        assertEquals(0, check(agreeing()), printed);
        assertTrue(printed.contains(counts(0, 0, 0)), printed);
    }

    @Test
    void aLifecycleEndedWhileTheKernelStillHoldsTheSocketIsAFalseEnd() {
        List<SocketLifecycle> all = agreeing();
        // the listener ended 10 s before the first look (a child's close taken for its end), yet both looks show it
        all.add(1, end(all.get(0), T0.minusSeconds(10), "CLOSE"));
        assertEquals(1, check(all), printed);
        assertTrue(printed.contains(counts(1, 0, 0)), printed);
        assertTrue(printed.contains("false end: ended " + T0.minusSeconds(10) + " (CLOSE) but held at"), printed);
    }

    @Test
    void aLifecycleWithNoOwnerIsCounted() {
        List<SocketLifecycle> all = agreeing();
        // kernel-side records of a socket whose owner sockflow never learnt: neither created, nor found at the
        // inventory
        SocketLifecycle ownerless = record("AF_INET", "TCP", 0x1004L, 5004, null, LifecycleStatus.OPEN);
        ownerless.setCreatedAt(null);
        ownerless.setNotSeen(List.of("CREATE"));
        all.add(end(ownerless, T0.plusSeconds(15), "CLOSE"));
        assertEquals(1, check(all), printed);
        assertTrue(printed.contains(counts(0, 1, 0)), printed);
        assertTrue(printed.contains("no owner: c1004 AF_INET UNCONNECTED CLOSED"), printed);
    }

    @Test
    void aSocketOfSockflowsOwnIsCounted() {
        List<SocketLifecycle> all = agreeing();
        SocketLifecycle own = record("AF_INET", "TCP", 0x2001L, 6001, SOCKFLOW, LifecycleStatus.OPEN);
        own.setRole(SocketRole.CLIENT);
        all.add(own);
        assertEquals(1, check(all), printed);
        assertTrue(printed.contains(counts(0, 0, 1)), printed);
        assertTrue(printed.contains("sockflow's own: c2001 java (200)"), printed);
    }
}
