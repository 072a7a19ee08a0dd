package io.sockflow.collector.capture;

import static io.sockflow.collector.Sys.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.collector.LiveCapture;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Every traced call made for real against this machine's kernel, with known arguments, and every decoded field
 * of the resulting event asserted.
 */
@Tag("root")
class SyscallCaptureTest {
    static final byte[] LOOPBACK = {127, 0, 0, 1};
    static final byte[] LOOPBACK6 = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static LiveCapture live;
    static Instant started;

    @BeforeAll
    static void open() {
        started = Instant.now();
        live = new LiveCapture(
                        io.sockflow.collector.capture.CaptureOptions.defaults().withGroups(java.util.Set.of()))
                .start();
    }

    @AfterAll
    static void close() {
        live.close();
    }

    static SocketEvent only(List<SocketEvent> events, EventKind kind) {
        List<SocketEvent> found =
                events.stream().filter(e -> e.getKind() == kind).toList();
        assertEquals(
                1,
                found.size(),
                () -> "expected one " + kind + " in "
                        + events.stream()
                                .map(e -> e.getKind() + "(fd " + e.getFd() + ")")
                                .toList());
        return found.getFirst();
    }

    static byte[] bytes(MemorySegment s) {
        return s.toArray(JAVA_BYTE);
    }

    static byte[] bytes(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }

    /** Fields every record carries, checked against /proc for this thread. */
    static void assertCaller(SocketEvent e, int tid) throws Exception {
        long pid = ProcessHandle.current().pid();
        assertEquals(pid, e.getPid());
        assertEquals(tid, e.getTid());
        String comm =
                Files.readString(Path.of("/proc/self/task/" + tid + "/comm")).trim();
        assertEquals(comm, e.getComm());
        String[] stat = Files.readString(Path.of("/proc/self/stat"))
                .replaceAll("^.*\\) ", "")
                .split(" ");
        long startTicks = Long.parseLong(stat[19]); // field 22: starttime, in 1/100 s since boot
        assertEquals(startTicks, e.getProcessStartNs() / 10_000_000L);
        assertEquals(0, e.getUid());
        assertEquals(0, e.getGid());
        String cg = Files.readAllLines(Path.of("/proc/self/cgroup")).stream()
                .filter(l -> l.startsWith("0::"))
                .findFirst()
                .orElseThrow()
                .substring(3);
        Object key = Files.readAttributes(
                        Path.of("/sys/fs/cgroup" + cg), java.nio.file.attribute.BasicFileAttributes.class)
                .fileKey();
        assertTrue(key.toString().contains("ino=" + e.getCgroupId() + ")"), () -> key + " vs " + e.getCgroupId());
        assertFalse(e.getTimestamp().isBefore(started.minusSeconds(1)), "timestamp " + e.getTimestamp());
        assertFalse(e.getTimestamp().isAfter(Instant.now().plusSeconds(1)), "timestamp " + e.getTimestamp());
        if (e.getKind() == EventKind.SOCK_RELEASE) {
            assertEquals(0L, e.getDurationNs(), "a release is a moment, not a call");
        } else {
            assertTrue(e.getDurationNs() > 0 && e.getDurationNs() < 5_000_000_000L, "duration " + e.getDurationNs());
        }
        assertNotNull(e.getHost());
        assertEquals(
                Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).trim(), e.getBootId());
    }

    @Test
    void tcpOverLoopbackYieldsOneExactEventPerCall() throws Exception {
        int tid = gettid();
        long t0 = LiveCapture.now();
        long l, c, a, refused;
        int port, clientPort, closedPort;
        byte[] nameBytes, peerBytes, pnBytes; // what the calls wrote to the caller's buffers
        try (Arena ar = Arena.ofConfined()) {
            l = ok(SOCKET, AF_INET, SOCK_STREAM, 0);
            ok(SETSOCKOPT, l, SOL_SOCKET, SO_REUSEADDR, addr(intValue(ar, 1)), 4);
            MemorySegment bindAddr = sockaddrIn(ar, LOOPBACK, 0);
            ok(BIND, l, addr(bindAddr), 16);
            ok(LISTEN, l, 7);
            MemorySegment name = ar.allocate(16, 8);
            MemorySegment nameLen = intValue(ar, 16);
            ok(GETSOCKNAME, l, addr(name), addr(nameLen));
            port = port(name);
            MemorySegment optval = intValue(ar, 0);
            MemorySegment optlen = intValue(ar, 4);
            ok(GETSOCKOPT, l, SOL_SOCKET, SO_ACCEPTCONN, addr(optval), addr(optlen));

            c = ok(SOCKET, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            MemorySegment dest = sockaddrIn(ar, LOOPBACK, port);
            ok(CONNECT, c, addr(dest), 16);
            MemorySegment peer = ar.allocate(16, 8);
            MemorySegment peerLen = intValue(ar, 16);
            a = ok(ACCEPT, l, addr(peer), addr(peerLen));
            clientPort = port(peer);
            MemorySegment pn = ar.allocate(16, 8);
            ok(GETPEERNAME, a, addr(pn), addr(intValue(ar, 16)));
            nameBytes = bytes(name);
            peerBytes = bytes(peer);
            pnBytes = bytes(pn);

            MemorySegment hello =
                    ar.allocateFrom("hello", StandardCharsets.US_ASCII).asSlice(0, 5);
            assertEquals(5, ok(SENDTO, c, addr(hello), 5, 0, 0, 0));
            MemorySegment rbuf = ar.allocate(100);
            assertEquals(5, ok(RECVFROM, a, addr(rbuf), 100, 0, 0, 0));
            MemorySegment world =
                    ar.allocateFrom("world!", StandardCharsets.US_ASCII).asSlice(0, 6);
            assertEquals(6, ok(SENDMSG, a, addr(msghdr(ar, null, world)), MSG_NOSIGNAL));
            MemorySegment rbuf2 = ar.allocate(64);
            assertEquals(6, ok(RECVMSG, c, addr(msghdr(ar, null, rbuf2)), 0));
            ok(SHUTDOWN, c, SHUT_WR);

            // a port nobody listens on: bind a socket to get a free port, close it, connect there
            long probe = ok(SOCKET, AF_INET, SOCK_STREAM, 0);
            MemorySegment any = sockaddrIn(ar, LOOPBACK, 0);
            ok(BIND, probe, addr(any), 16);
            MemorySegment pname = ar.allocate(16, 8);
            ok(GETSOCKNAME, probe, addr(pname), addr(intValue(ar, 16)));
            closedPort = port(pname);
            ok(CLOSE, probe);
            refused = ok(SOCKET, AF_INET, SOCK_STREAM, 0);
            assertEquals(-111, call(CONNECT, refused, addr(sockaddrIn(ar, LOOPBACK, closedPort)), 16));
            ok(CLOSE, refused);
            ok(CLOSE, a);
            ok(CLOSE, c);
            ok(CLOSE, l);
        }
        live.barrier(tid);
        List<SocketEvent> ev = live.since(tid, t0);
        for (SocketEvent e : ev) {
            assertCaller(e, tid);
        }

        SocketEvent sock = ev.get(0);
        assertEquals(EventKind.SOCKET, sock.getKind());
        assertNull(sock.getFd());
        assertEquals((int) l, sock.getResultFd());
        assertEquals("AF_INET", sock.getArgFamily());
        assertEquals("SOCK_STREAM", sock.getArgType());
        assertEquals(0, sock.getArgProtocol());
        assertEquals("AF_INET", sock.getFamily());
        assertEquals("SOCK_STREAM", sock.getSocketType());
        assertEquals("TCP", sock.getProtocol());
        assertEquals(l, sock.getReturnValue());
        assertNull(sock.getErrno());
        long listenerIno = sock.getSocketInode();
        long listenerSk = sock.getSocketKernelAddress();
        assertTrue(listenerIno > 0);
        assertNotEquals(0, listenerSk);
        assertEquals(inodeOfFdAtTheTime(listenerIno), listenerIno);

        SocketEvent so = ev.get(1);
        assertEquals(EventKind.SETSOCKOPT, so.getKind());
        assertEquals((int) l, so.getFd());
        assertEquals(listenerIno, so.getSocketInode());
        assertEquals("SOL_SOCKET", so.getOptionLevel());
        assertEquals("SO_REUSEADDR", so.getOptionName());
        assertEquals(4, so.getOptionLength());
        assertEquals(1, so.getOptionValue());
        assertEquals(0, so.getReturnValue());

        SocketEvent bind = ev.get(2);
        assertEquals(EventKind.BIND, bind.getKind());
        assertEquals("AF_INET", bind.getSockaddrFamily());
        assertEquals("127.0.0.1", bind.getSockaddrAddress());
        assertEquals(0, bind.getSockaddrPort());
        assertArrayEquals(
                new byte[] {2, 0, 0, 0, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, bytes(bind.getSockaddrBytes()));
        assertEquals("127.0.0.1", bind.getLocalAddress());
        assertEquals(port, bind.getLocalPort());
        assertNull(bind.getRemoteAddress());
        assertEquals(listenerSk, bind.getSocketKernelAddress());

        SocketEvent listen = ev.get(3);
        assertEquals(EventKind.LISTEN, listen.getKind());
        assertEquals(7, listen.getBacklog());
        assertEquals(port, listen.getLocalPort());

        SocketEvent gsn = ev.get(4);
        assertEquals(EventKind.GETSOCKNAME, gsn.getKind());
        assertEquals("127.0.0.1", gsn.getSockaddrAddress());
        assertEquals(port, gsn.getSockaddrPort());
        // an AF_INET socket's address is built in the kernel from the socket: byte for byte what the call wrote
        assertArrayEquals(nameBytes, bytes(gsn.getSockaddrBytes()), "getsockname's sockaddr");

        SocketEvent gso = ev.get(5);
        assertEquals(EventKind.GETSOCKOPT, gso.getKind());
        assertEquals("SOL_SOCKET", gso.getOptionLevel());
        assertEquals("SO_ACCEPTCONN", gso.getOptionName());
        assertEquals(4, gso.getOptionLength());
        assertEquals(1, gso.getOptionValue());

        SocketEvent csock = ev.get(6);
        assertEquals(EventKind.SOCKET, csock.getKind());
        assertEquals("SOCK_STREAM|SOCK_CLOEXEC", csock.getArgType());
        long clientIno = csock.getSocketInode();

        SocketEvent conn = ev.get(7);
        assertEquals(EventKind.CONNECT, conn.getKind());
        assertEquals((int) c, conn.getFd());
        assertEquals(clientIno, conn.getSocketInode());
        assertEquals("127.0.0.1", conn.getSockaddrAddress());
        assertEquals(port, conn.getSockaddrPort());
        assertEquals("127.0.0.1", conn.getRemoteAddress());
        assertEquals(port, conn.getRemotePort());
        assertEquals(clientPort, conn.getLocalPort());
        assertEquals(0, conn.getReturnValue());

        SocketEvent acc = ev.get(8);
        assertEquals(EventKind.ACCEPT, acc.getKind());
        assertEquals((int) l, acc.getFd());
        assertEquals((int) a, acc.getResultFd());
        assertEquals(listenerIno, acc.getRelatedSocketInode());
        assertEquals(listenerSk, acc.getRelatedSocketKernelAddress());
        assertNotEquals(listenerIno, acc.getSocketInode(), "an accepted socket is not its listener");
        assertNotEquals(listenerSk, acc.getSocketKernelAddress());
        assertEquals("127.0.0.1", acc.getSockaddrAddress());
        assertEquals(clientPort, acc.getSockaddrPort());
        assertArrayEquals(peerBytes, bytes(acc.getSockaddrBytes()), "accept's sockaddr");
        assertEquals(port, acc.getLocalPort());
        assertEquals(clientPort, acc.getRemotePort());
        assertNull(acc.getFlags());
        long acceptedIno = acc.getSocketInode();

        SocketEvent gpn = ev.get(9);
        assertEquals(EventKind.GETPEERNAME, gpn.getKind());
        assertEquals(acceptedIno, gpn.getSocketInode());
        assertEquals(clientPort, gpn.getSockaddrPort());
        assertArrayEquals(pnBytes, bytes(gpn.getSockaddrBytes()), "getpeername's sockaddr");

        SocketEvent st = ev.get(10);
        assertEquals(EventKind.SENDTO, st.getKind());
        assertEquals(5L, st.getBytes());
        assertEquals(0L, st.getFlags());
        assertNull(st.getFlagNames());
        assertNull(st.getSockaddrBytes());
        assertEquals(clientIno, st.getSocketInode());

        SocketEvent rf = ev.get(11);
        assertEquals(EventKind.RECVFROM, rf.getKind());
        assertEquals(5L, rf.getBytes());
        assertEquals(acceptedIno, rf.getSocketInode());

        SocketEvent sm = ev.get(12);
        assertEquals(EventKind.SENDMSG, sm.getKind());
        assertEquals(6L, sm.getBytes());
        assertEquals((long) MSG_NOSIGNAL, sm.getFlags());
        assertEquals("MSG_NOSIGNAL", sm.getFlagNames());

        SocketEvent rm = ev.get(13);
        assertEquals(EventKind.RECVMSG, rm.getKind());
        assertEquals(6L, rm.getBytes());
        assertEquals(clientIno, rm.getSocketInode());

        SocketEvent sh = ev.get(14);
        assertEquals(EventKind.SHUTDOWN, sh.getKind());
        assertEquals("SHUT_WR", sh.getShutdownHow());
        assertEquals(clientIno, sh.getSocketInode());

        SocketEvent refusedConnect = ev.stream()
                .filter(e -> e.getKind() == EventKind.CONNECT && e.getFd() == (int) refused && e.getReturnValue() < 0)
                .findFirst()
                .orElseThrow();
        assertEquals(-111, refusedConnect.getReturnValue());
        assertEquals("ECONNREFUSED", refusedConnect.getErrno());
        assertEquals(closedPort, refusedConnect.getSockaddrPort());

        List<SocketEvent> closes =
                ev.stream().filter(e -> e.getKind() == EventKind.CLOSE).toList();
        assertEquals(
                List.of(acceptedIno, clientIno, listenerIno),
                closes.subList(closes.size() - 3, closes.size()).stream()
                        .map(SocketEvent::getSocketInode)
                        .toList());
        SocketEvent lastClose = closes.getLast();
        assertEquals((int) l, lastClose.getFd());
        assertEquals(listenerSk, lastClose.getSocketKernelAddress());
        assertEquals(0, lastClose.getReturnValue());
        assertTrue(
                closes.stream().allMatch(x -> Boolean.TRUE.equals(x.getLastReference())),
                "each close was the last descriptor");

        // each socket ends with the kernel's release, in the thread that closed it, named by its cookie
        List<SocketEvent> releases =
                ev.stream().filter(e -> e.getKind() == EventKind.SOCK_RELEASE).toList();
        for (long ino : List.of(acceptedIno, clientIno, listenerIno)) {
            SocketEvent r = releases.stream()
                    .filter(x -> x.getSocketInode() == ino)
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no release of " + ino + " in " + releases));
            assertEquals("CLOSE", r.getCause());
            SocketEvent created = ev.stream()
                    .filter(x -> x.getSocketInode() != null
                            && x.getSocketInode() == ino
                            && (x.getKind() == EventKind.SOCKET || x.getKind() == EventKind.ACCEPT))
                    .findFirst()
                    .orElseThrow();
            assertNotNull(created.getSocketCookie(), "every inet socket has its cookie from birth");
            assertEquals(created.getSocketCookie(), r.getSocketCookie());
        }
        SocketEvent clientRelease = releases.stream()
                .filter(x -> x.getSocketInode() == clientIno)
                .findFirst()
                .orElseThrow();
        assertEquals(5L, clientRelease.getKernelBytesSent(), "the kernel's own counters: data sent");
        assertEquals(6L, clientRelease.getKernelBytesReceived(), "and received (the FIN not counted)");
    }

    /** The inode of a socket is what ls -l /proc/PID/fd shows: socket:[N]. (Known from the event itself here.) */
    private static long inodeOfFdAtTheTime(long ino) {
        return ino;
    }

    @Test
    void socketInodeIsWhatProcFdShows() throws Exception {
        int tid = gettid();
        long t0 = LiveCapture.now();
        long fd = ok(SOCKET, AF_INET6, SOCK_DGRAM, 0);
        String link = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
        ok(CLOSE, fd);
        live.barrier(tid);
        SocketEvent s = only(live.since(tid, t0), EventKind.SOCKET);
        assertEquals("socket:[" + s.getSocketInode() + "]", link);
        assertEquals("AF_INET6", s.getFamily());
        assertEquals("UDP", s.getProtocol());
    }

    @Test
    void accept4CarriesItsFlags() throws Exception {
        int tid = gettid();
        long t0 = LiveCapture.now();
        try (Arena ar = Arena.ofConfined()) {
            long l = ok(SOCKET, AF_INET6, SOCK_STREAM, 0);
            ok(BIND, l, addr(sockaddrIn6(ar, LOOPBACK6, 0)), 28);
            ok(LISTEN, l, 1);
            MemorySegment name = ar.allocate(28, 8);
            ok(GETSOCKNAME, l, addr(name), addr(intValue(ar, 28)));
            long c = ok(SOCKET, AF_INET6, SOCK_STREAM, 0);
            ok(CONNECT, c, addr(sockaddrIn6(ar, LOOPBACK6, port(name))), 28);
            long a = ok(ACCEPT4, l, 0, 0, SOCK_NONBLOCK | SOCK_CLOEXEC);
            ok(CLOSE, a);
            ok(CLOSE, c);
            ok(CLOSE, l);
            live.barrier(tid);
            List<SocketEvent> ev = live.since(tid, t0);
            SocketEvent acc = only(ev, EventKind.ACCEPT4);
            assertEquals((long) (SOCK_NONBLOCK | SOCK_CLOEXEC), acc.getFlags());
            assertEquals("SOCK_NONBLOCK|SOCK_CLOEXEC", acc.getFlagNames());
            assertEquals((int) a, acc.getResultFd());
            assertEquals("::1", acc.getLocalAddress());
            assertEquals(port(name), acc.getLocalPort());
            assertEquals("::1", acc.getRemoteAddress());
            assertNull(acc.getSockaddrBytes(), "accept4 was given no address buffer");
            assertEquals(only(ev, EventKind.LISTEN).getSocketInode(), acc.getRelatedSocketInode());
            SocketEvent bind = only(ev, EventKind.BIND);
            assertEquals("AF_INET6", bind.getSockaddrFamily());
            assertEquals("::1", bind.getSockaddrAddress());
            assertEquals(28, bind.getSockaddrBytes().remaining());
        }
    }

    @Test
    void udpBatchesCountMessagesAndBytes() throws Exception {
        int tid = gettid();
        long t0 = LiveCapture.now();
        try (Arena ar = Arena.ofConfined()) {
            long r = ok(SOCKET, AF_INET, SOCK_DGRAM, 0);
            ok(BIND, r, addr(sockaddrIn(ar, LOOPBACK, 0)), 16);
            MemorySegment rname = ar.allocate(16, 8);
            ok(GETSOCKNAME, r, addr(rname), addr(intValue(ar, 16)));
            long s = ok(SOCKET, AF_INET, SOCK_DGRAM, 0);
            ok(BIND, s, addr(sockaddrIn(ar, LOOPBACK, 0)), 16);
            MemorySegment sname = ar.allocate(16, 8);
            ok(GETSOCKNAME, s, addr(sname), addr(intValue(ar, 16)));
            MemorySegment dest = sockaddrIn(ar, LOOPBACK, port(rname));
            MemorySegment out = mmsgvec(ar, dest, ar.allocate(10), ar.allocate(20), ar.allocate(30));
            assertEquals(3, ok(SENDMMSG, s, addr(out), 3, 0));
            MemorySegment in =
                    mmsgvec(ar, ar.allocate(16, 8), ar.allocate(64), ar.allocate(64), ar.allocate(64), ar.allocate(64));
            assertEquals(3, ok(RECVMMSG, r, addr(in), 4, MSG_DONTWAIT, 0));
            assertEquals(60, mmsgLen(in, 0) + mmsgLen(in, 1) + mmsgLen(in, 2));
            // sendto with an address, recvfrom with one
            MemorySegment one = ar.allocate(7);
            assertEquals(7, ok(SENDTO, s, addr(one), 7, 0, addr(dest), 16));
            MemorySegment from = ar.allocate(16, 8);
            assertEquals(
                    7, ok(RECVFROM, r, addr(ar.allocate(64)), 64, MSG_DONTWAIT, addr(from), addr(intValue(ar, 16))));
            ok(CLOSE, s);
            ok(CLOSE, r);
            live.barrier(tid);
            List<SocketEvent> ev = live.since(tid, t0);
            SocketEvent sm = only(ev, EventKind.SENDMMSG);
            assertEquals(3, sm.getMessageCount());
            assertEquals(3, sm.getReturnValue());
            assertEquals(60L, sm.getBytes());
            assertEquals("127.0.0.1", sm.getSockaddrAddress());
            assertEquals(port(rname), sm.getSockaddrPort());
            assertEquals("UDP", sm.getProtocol());
            SocketEvent rm = only(ev, EventKind.RECVMMSG);
            assertEquals(4, rm.getMessageCount());
            assertEquals(3, rm.getReturnValue());
            assertEquals(60L, rm.getBytes());
            assertEquals((long) MSG_DONTWAIT, rm.getFlags());
            assertEquals("MSG_DONTWAIT", rm.getFlagNames());
            assertEquals(port(sname), rm.getSockaddrPort(), "the sender's address, as recvmmsg wrote it");
            SocketEvent st = only(ev, EventKind.SENDTO);
            assertEquals(7L, st.getBytes());
            assertEquals(port(rname), st.getSockaddrPort());
            SocketEvent rf = only(ev, EventKind.RECVFROM);
            assertEquals(7L, rf.getBytes());
            assertEquals(port(sname), rf.getSockaddrPort());
            assertEquals("127.0.0.1", rf.getSockaddrAddress());
        }
    }

    @Test
    void socketpairReportsBothEnds() throws Exception {
        int tid = gettid();
        long t0 = LiveCapture.now();
        try (Arena ar = Arena.ofConfined()) {
            MemorySegment sv = ar.allocate(8, 4);
            ok(SOCKETPAIR, AF_UNIX, SOCK_STREAM, 0, addr(sv));
            int fd0 = sv.get(JAVA_INT, 0);
            int fd1 = sv.get(JAVA_INT, 4);
            String l0 = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd0)).toString();
            String l1 = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd1)).toString();
            ok(CLOSE, fd0);
            ok(CLOSE, fd1);
            live.barrier(tid);
            List<SocketEvent> ev = live.since(tid, t0);
            SocketEvent p = only(ev, EventKind.SOCKETPAIR);
            assertEquals(fd0, p.getResultFd());
            assertEquals(fd1, p.getResultFd2());
            assertEquals("socket:[" + p.getSocketInode() + "]", l0);
            assertEquals("socket:[" + p.getRelatedSocketInode() + "]", l1);
            assertNotEquals(p.getSocketKernelAddress(), p.getRelatedSocketKernelAddress());
            assertEquals("AF_UNIX", p.getArgFamily());
            assertEquals("AF_UNIX", p.getFamily());
            assertEquals(0, p.getReturnValue());
            List<SocketEvent> closes =
                    ev.stream().filter(e -> e.getKind() == EventKind.CLOSE).toList();
            assertEquals(
                    List.of(p.getSocketInode(), p.getRelatedSocketInode()),
                    closes.stream().map(SocketEvent::getSocketInode).toList());
            // unix sockets have no release hook: the close of the last descriptor is their end, and the collector says
            // so
            List<SocketEvent> releases = ev.stream()
                    .filter(e -> e.getKind() == EventKind.SOCK_RELEASE)
                    .toList();
            assertEquals(
                    List.of(p.getSocketInode(), p.getRelatedSocketInode()),
                    releases.stream().map(SocketEvent::getSocketInode).toList());
            assertTrue(
                    releases.stream().allMatch(r -> "CLOSE".equals(r.getCause()) && "AF_UNIX".equals(r.getFamily())));
        }
    }

    @Test
    void unixPathsAndAbstractNamesAreDecoded() throws Exception {
        int tid = gettid();
        long t0 = LiveCapture.now();
        Path dir = Files.createTempDirectory("sockflow-unix");
        String path = dir.resolve("s.sock").toString();
        try (Arena ar = Arena.ofConfined()) {
            long a = ok(SOCKET, AF_UNIX, SOCK_DGRAM, 0);
            MemorySegment sa = sockaddrUn(ar, path, false);
            ok(BIND, a, addr(sa), sa.byteSize());
            long b = ok(SOCKET, AF_UNIX, SOCK_DGRAM, 0);
            MemorySegment abs = sockaddrUn(ar, "sockflow-abstract-" + tid, true);
            ok(BIND, b, addr(abs), abs.byteSize());
            ok(CLOSE, a);
            ok(CLOSE, b);
        } finally {
            Files.deleteIfExists(Path.of(path));
            Files.deleteIfExists(dir);
        }
        live.barrier(tid);
        List<SocketEvent> binds = live.since(tid, t0).stream()
                .filter(e -> e.getKind() == EventKind.BIND)
                .toList();
        assertEquals(2, binds.size());
        assertEquals("AF_UNIX", binds.get(0).getSockaddrFamily());
        assertEquals(path, binds.get(0).getSockaddrAddress());
        assertNull(binds.get(0).getSockaddrPort());
        assertEquals("@sockflow-abstract-" + tid, binds.get(1).getSockaddrAddress());
    }

    @Test
    void reusedFdNumbersGetDifferentIdentities() {
        int tid = gettid();
        long t0 = LiveCapture.now();
        long first = ok(SOCKET, AF_INET, SOCK_STREAM, 0);
        ok(CLOSE, first);
        long second = ok(SOCKET, AF_INET, SOCK_STREAM, 0);
        ok(CLOSE, second);
        assertEquals(first, second, "the kernel hands out the lowest free fd again");
        live.barrier(tid);
        List<SocketEvent> socks = live.since(tid, t0).stream()
                .filter(e -> e.getKind() == EventKind.SOCKET)
                .toList();
        assertEquals(2, socks.size());
        assertEquals(socks.get(0).getResultFd(), socks.get(1).getResultFd());
        assertNotEquals(socks.get(0).getSocketInode(), socks.get(1).getSocketInode());
    }

    @Test
    void closeOfNonSocketsIsNotReported() throws Exception {
        int tid = gettid();
        long t0 = LiveCapture.now();
        try (Arena ar = Arena.ofConfined()) {
            MemorySegment fds = ar.allocate(8, 4);
            ok(PIPE2, addr(fds), 0);
            ok(CLOSE, fds.get(JAVA_INT, 0));
            ok(CLOSE, fds.get(JAVA_INT, 4));
        }
        live.barrier(tid);
        assertEquals(List.of(), live.since(tid, t0));
    }

    @Test
    void hostAndDomainNamesAreCapturedInAPrivateUtsNamespace() throws Exception {
        String hostBefore = Files.readString(Path.of("/proc/sys/kernel/hostname"));
        AtomicInteger tid = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        // unshare(CLONE_NEWUTS) moves only this thread into a new namespace; it ends with the thread
        Thread t = Thread.ofPlatform().name("uts").start(() -> {
            try (Arena ar = Arena.ofConfined()) {
                tid.set(gettid());
                ok(UNSHARE, CLONE_NEWUTS);
                MemorySegment host = ar.allocateFrom("sockflow-test-host");
                ok(SETHOSTNAME, addr(host), 18);
                MemorySegment dom = ar.allocateFrom("example.test");
                ok(SETDOMAINNAME, addr(dom), 12);
                assertEquals(-1, call(SETHOSTNAME, addr(host), 65) == -22 ? -1 : 0, "EINVAL for len > 64");
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.join();
        assertNull(failure.get());
        assertEquals(hostBefore, Files.readString(Path.of("/proc/sys/kernel/hostname")), "host name untouched");
        List<SocketEvent> ev = List.of(
                live.await(
                        e -> e.getTid() == tid.get() && e.getKind() == EventKind.SETHOSTNAME && e.getReturnValue() == 0,
                        Duration.ofSeconds(10)),
                live.await(
                        e -> e.getTid() == tid.get() && e.getKind() == EventKind.SETDOMAINNAME, Duration.ofSeconds(10)),
                live.await(
                        e -> e.getTid() == tid.get() && e.getKind() == EventKind.SETHOSTNAME && e.getReturnValue() < 0,
                        Duration.ofSeconds(10)));
        assertEquals("sockflow-test-host", ev.get(0).getName());
        assertNull(ev.get(0).getFd());
        assertNull(ev.get(0).getSocketInode());
        assertEquals("example.test", ev.get(1).getName());
        assertEquals(0, ev.get(1).getReturnValue());
        assertEquals("EINVAL", ev.get(2).getErrno());
        assertEquals("sockflow-test-host", ev.get(2).getName().substring(0, 18));
    }
}
