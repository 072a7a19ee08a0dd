package io.sockflow.collector.sockets;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.collector.LiveCapture;
import io.sockflow.collector.Sys;
import io.sockflow.collector.sys.Libc;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The socket capture on the real kernel: what the inventory says of sockets that predate it. */
@Tag("root")
class SocketCaptureTest {

    static long inode(long fd) throws Exception {
        String link = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString(); // socket:[N]
        return Long.parseLong(link.substring(8, link.length() - 1));
    }

    /**
     * An unbound UDP socket is in no socket table, so no iterator makes its cookie; the kernel makes one when its
     * release is recorded. The inventory asks for it, so both name the same socket.
     */
    @Test
    void anUnboundInetSocketMadeBeforeTheStartIsNamedByTheSameCookieAtTheInventoryAndAtItsRelease() throws Exception {
        long udp = Sys.ok(Sys.SOCKET, Sys.AF_INET, Sys.SOCK_DGRAM, 0);
        long udp6 = Sys.ok(Sys.SOCKET, Sys.AF_INET6, Sys.SOCK_DGRAM, 0);
        long ino = inode(udp);
        long ino6 = inode(udp6);
        try (LiveCapture live = new LiveCapture()) {
            live.start();
            SocketEvent seen = live.await(
                    e -> e.getKind() == EventKind.INVENTORY && e.getSocketInode() == ino, Duration.ofSeconds(10));
            SocketEvent seen6 = live.await(
                    e -> e.getKind() == EventKind.INVENTORY && e.getSocketInode() == ino6, Duration.ofSeconds(10));
            assertNotNull(seen.getSocketCookie(), "the inventory names it by its cookie: " + seen);
            assertNotEquals(0L, seen.getSocketCookie());
            Sys.ok(Sys.CLOSE, udp);
            Sys.ok(Sys.CLOSE, udp6);
            SocketEvent end = live.await(
                    e -> e.getKind() == EventKind.SOCK_RELEASE
                            && e.getSocketInode() != null
                            && e.getSocketInode() == ino,
                    Duration.ofSeconds(10));
            SocketEvent end6 = live.await(
                    e -> e.getKind() == EventKind.SOCK_RELEASE
                            && e.getSocketInode() != null
                            && e.getSocketInode() == ino6,
                    Duration.ofSeconds(10));
            assertEquals(seen.getSocketCookie(), end.getSocketCookie(), "the release names the same socket");
            assertEquals(seen6.getSocketCookie(), end6.getSocketCookie(), "the release names the same socket (IPv6)");
            assertNotEquals(seen.getSocketCookie(), seen6.getSocketCookie());
        }
    }

    /**
     * A consumer counts from the capture's start (a learning period; "seen from the start"): the first record says
     * when it began and who captures, before the inventory and whatever happens after, even on a host with no socket.
     */
    @Test
    void theFirstRecordIsTheCapturesStartNamingTheCollectorBeforeTheInventory() throws Exception {
        long before = LiveCapture.now();
        long fd = Sys.ok(Sys.SOCKET, Sys.AF_INET, Sys.SOCK_STREAM, 0);
        long ino = inode(fd);
        try (LiveCapture live = new LiveCapture()) {
            live.start();
            live.await(e -> e.getKind() == EventKind.INVENTORY && e.getSocketInode() == ino, Duration.ofSeconds(10));
            SocketEvent first = live.events().get(0);
            assertEquals(EventKind.CAPTURE_START, first.getKind(), "the first record: " + first);
            assertEquals(ProcessHandle.current().pid(), (long) first.getPid());
            assertEquals("sockflow", first.getComm());
            assertTrue(first.getMonotonicNs() > before, "when the capture began, not before");
            // the kernel it ran on, and what that kernel lacks: the same names the start-up lines give
            assertEquals(
                    java.nio.file.Files.readString(java.nio.file.Path.of("/proc/sys/kernel/osrelease"))
                            .strip(),
                    first.getKernelRelease());
            assertEquals(String.join(",", live.capture.kernel().missing()), first.getKernelLacks());
            assertEquals(
                    1,
                    live.events().stream()
                            .filter(e -> e.getKind() == EventKind.CAPTURE_START)
                            .count());
            for (SocketEvent e : live.events()) {
                assertTrue(e.getMonotonicNs() >= first.getMonotonicNs(), "nothing before the start: " + e);
            }
        } finally {
            Sys.ok(Sys.CLOSE, fd);
        }
    }

    /** The socket's mark (SO_MARK), as the kernel has it: at the inventory and on its calls; none without one. */
    @Test
    void theSocketsMarkIsOnItsRecordsFromTheInventoryOnAndAbsentWithoutOne() throws Exception {
        long marked = Sys.ok(Sys.SOCKET, Sys.AF_INET, Sys.SOCK_STREAM, 0);
        long plain = Sys.ok(Sys.SOCKET, Sys.AF_INET, Sys.SOCK_STREAM, 0);
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            Sys.ok(Sys.SETSOCKOPT, marked, 1 /* SOL_SOCKET */, 36 /* SO_MARK */, Sys.addr(Sys.intValue(a, 0x2a)), 4);
        }
        long ino = inode(marked);
        long plainIno = inode(plain);
        try (LiveCapture live = new LiveCapture()) {
            live.start();
            SocketEvent seen = live.await(
                    e -> e.getKind() == EventKind.INVENTORY && e.getSocketInode() == ino, Duration.ofSeconds(10));
            assertEquals(42L, seen.getMark(), seen.toString());
            SocketEvent none = live.await(
                    e -> e.getKind() == EventKind.INVENTORY && e.getSocketInode() == plainIno, Duration.ofSeconds(10));
            assertNull(none.getMark(), none.toString());
            try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
                Sys.call(
                        Sys.CONNECT,
                        marked,
                        Sys.addr(Sys.sockaddrIn(a, new byte[] {127, 0, 0, 1}, 9)),
                        16); // refused: the call's record is what counts
            }
            SocketEvent call = live.await(
                    e -> e.getKind() == EventKind.CONNECT && e.getSocketInode() != null && e.getSocketInode() == ino,
                    Duration.ofSeconds(10));
            assertEquals(42L, call.getMark(), call.toString());
        } finally {
            Sys.ok(Sys.CLOSE, marked);
            Sys.ok(Sys.CLOSE, plain);
        }
    }

    /** The cookie of another process's descriptor, taken as the kernel has it; 0 for what is not there. */
    @Test
    void theCookieOfADescriptorIsTheKernelsAndNothingForWhatIsNotThere() throws Exception {
        long fd = Sys.ok(Sys.SOCKET, Sys.AF_INET, Sys.SOCK_STREAM, 0);
        try {
            int self = (int) ProcessHandle.current().pid();
            long c = Libc.socketCookie(self, (int) fd);
            assertNotEquals(0L, c);
            assertEquals(c, Libc.socketCookie(self, (int) fd), "made once, the same ever after");
            assertEquals(0L, Libc.socketCookie(self, 1_000_000), "no such descriptor");
            assertEquals(0L, Libc.socketCookie(Integer.MAX_VALUE, 3), "no such process");
        } finally {
            Sys.ok(Sys.CLOSE, fd);
        }
    }
}
