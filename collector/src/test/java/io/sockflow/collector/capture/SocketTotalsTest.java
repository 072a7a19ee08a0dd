package io.sockflow.collector.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sockflow.collector.LiveCapture;
import io.sockflow.collector.Sys;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The data path summed in the kernel (aggregate mode): a socket's sends and receives reach user space as its totals,
 * exact in both directions, whether it ends between two reads, is read mid-way, or its process is killed; its last
 * totals ride on its release record.
 */
@org.junit.jupiter.api.Timeout(120)
@Tag("root")
class SocketTotalsTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    /** The last totals of the socket on this local port: its release, which carries them. */
    private static SocketEvent finalTotals(LiveCapture c, int localPort) {
        return c.await(
                e -> e.getKind() == EventKind.SOCK_RELEASE
                        && Boolean.TRUE.equals(e.getTotalsFinal())
                        && e.getLocalPort() != null
                        && e.getLocalPort() == localPort,
                WAIT);
    }

    private static void readFully(InputStream in, int n) throws Exception {
        byte[] b = new byte[n];
        int got = 0;
        while (got < n) {
            int r = in.read(b, got, n - got);
            if (r < 0) {
                throw new AssertionError("end of stream after " + got + " of " + n + " bytes");
            }
            got += r;
        }
    }

    @Test
    void aConnectionEndingBetweenReadsHasExactTotalsBothWaysAndNoRecordPerCall() throws Exception {
        try (LiveCapture c = new LiveCapture(CaptureOptions.defaults().withAggregate(true)).start();
                ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            c.sockets.totalsInterval(Duration.ofSeconds(10)); // the connection ends long before a read is due
            int clientPort;
            int serverPort;
            try (Socket client = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
                    Socket accepted = server.accept()) {
                clientPort = client.getLocalPort();
                serverPort = accepted.getLocalPort();
                OutputStream up = client.getOutputStream();
                for (int i = 0; i < 50; i++) {
                    up.write(new byte[100 + i]); // 50 calls, 6,225 bytes
                }
                up.flush();
                readFully(accepted.getInputStream(), 6_225);
                accepted.getOutputStream().write(new byte[3_000]);
                readFully(client.getInputStream(), 3_000);
            }
            SocketEvent cl = finalTotals(c, clientPort);
            assertEquals(6_225L, cl.getBytesSent());
            assertEquals(3_000L, cl.getBytesReceived());
            assertEquals(50L, cl.getCallsSent());
            assertEquals("TCP", cl.getProtocol());
            assertEquals(server.getLocalPort(), cl.getRemotePort());
            assertTrue(cl.getSocketInode() != null && cl.getSocketInode() != 0, "the socket's inode");
            SocketEvent sv = c.await(
                    e -> e.getKind() == EventKind.SOCK_RELEASE
                            && Boolean.TRUE.equals(e.getTotalsFinal())
                            && e.getLocalPort() != null
                            && e.getLocalPort() == serverPort
                            && e.getRemotePort() != null
                            && e.getRemotePort() == clientPort,
                    WAIT);
            assertEquals(6_225L, sv.getBytesReceived());
            assertEquals(3_000L, sv.getBytesSent());
            assertEquals(1L, sv.getCallsSent());
            // attributed to the socket's owner, this process, like the kernel's other records
            assertEquals((int) ProcessHandle.current().pid(), cl.getPid());
            Set<Long> cookies = Set.of(cl.getSocketCookie(), sv.getSocketCookie());
            List<SocketEvent> perCall = c.events().stream()
                    .filter(e -> e.getSocketCookie() != null
                            && cookies.contains(e.getSocketCookie())
                            && (e.getKind() == EventKind.SOCK_SEND || e.getKind() == EventKind.SOCK_RECV))
                    .toList();
            assertEquals(List.of(), perCall, "no record per call in aggregate mode");
            // the RTT's range and the congestion window ride on the totals: no TCP_RTT, no tcp_probe
            assertTrue(
                    cl.getRttMinUs() != null
                            && cl.getRttMinUs() > 0
                            && cl.getRttMaxUs() >= cl.getRttMinUs()
                            && cl.getRttUs() >= cl.getRttMinUs()
                            && cl.getRttUs() <= cl.getRttMaxUs(),
                    "RTT range on the totals: " + cl);
            assertTrue(cl.getCwnd() != null && cl.getCwnd() > 0, "congestion window on the totals: " + cl);
            c.sockets.readTotals();
            assertTrue(
                    c.readCounters().stream().noneMatch(e -> e.getKind() == EventKind.TCP_RTT),
                    "no TCP_RTT in aggregate mode");
            // of the kernel's state changes only the connection's establishment (both ends); nothing of its end
            // but the release: no closing handshake's states, no TCP_DESTROY
            List<String> states = c.events().stream()
                    .filter(e -> e.getSocketCookie() != null && cookies.contains(e.getSocketCookie()))
                    .filter(e -> e.getKind() == EventKind.TCP_STATE || e.getKind() == EventKind.TCP_DESTROY)
                    .map(e -> e.getKind() + " " + e.getTcpOldState() + "->" + e.getTcpState())
                    .sorted()
                    .toList();
            assertEquals(
                    List.of("TCP_STATE SYN_RECV->ESTABLISHED", "TCP_STATE SYN_SENT->ESTABLISHED"),
                    states,
                    "the state records of the aggregate path");
            // one record at each socket's end: the release carries the last totals, no SOCK_TOTALS of its own
            assertEquals("CLOSE", cl.getCause());
            List<SocketEvent> ends = c.events().stream()
                    .filter(e -> e.getSocketCookie() != null && cookies.contains(e.getSocketCookie()))
                    .filter(e -> e.getKind() == EventKind.SOCK_RELEASE || e.getKind() == EventKind.SOCK_TOTALS)
                    .toList();
            assertEquals(
                    List.of(EventKind.SOCK_RELEASE, EventKind.SOCK_RELEASE),
                    ends.stream().map(SocketEvent::getKind).toList(),
                    "records at the ends: " + ends);
        }
    }

    @Test
    void aReadMidwayCarriesTheTotalsSoFarAndAnUnchangedSocketSendsNothing() throws Exception {
        try (LiveCapture c = new LiveCapture(CaptureOptions.defaults().withAggregate(true)).start();
                ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                Socket client = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
                Socket accepted = server.accept()) {
            client.getOutputStream().write(new byte[1_000]);
            readFully(accepted.getInputStream(), 1_000);
            c.sockets.readTotals();
            SocketEvent first = c.await(
                    e -> e.getKind() == EventKind.SOCK_TOTALS
                            && Integer.valueOf(client.getLocalPort()).equals(e.getLocalPort()),
                    WAIT);
            assertEquals(1_000L, first.getBytesSent());
            assertFalse(first.getTotalsFinal());
            long before = c.events().stream()
                    .filter(e -> e.getKind() == EventKind.SOCK_TOTALS
                            && Integer.valueOf(client.getLocalPort()).equals(e.getLocalPort()))
                    .count();
            c.sockets.readTotals();
            assertEquals(
                    before,
                    c.events().stream()
                            .filter(e -> e.getKind() == EventKind.SOCK_TOTALS
                                    && Integer.valueOf(client.getLocalPort()).equals(e.getLocalPort()))
                            .count(),
                    "nothing moved: no new record");
            client.getOutputStream().write(new byte[500]);
            readFully(accepted.getInputStream(), 500);
            c.sockets.readTotals();
            SocketEvent second = c.await(
                    e -> e.getKind() == EventKind.SOCK_TOTALS
                            && Integer.valueOf(client.getLocalPort()).equals(e.getLocalPort())
                            && e.getBytesSent() == 1_500L,
                    WAIT);
            assertEquals(2L, second.getCallsSent());
        }
    }

    @Test
    void withoutTheLengthTracepointsTheSystemCallsSumStreamSockets() throws Exception {
        // without the sock group the length tracepoints are off, as on kernels before 6.3: sendto/recvfrom sum instead
        try (LiveCapture c = new LiveCapture(
                                CaptureOptions.defaults().withAggregate(true).withGroups(Set.of("tcp")))
                        .start();
                ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                Arena a = Arena.ofConfined()) {
            long fd = Sys.ok(Sys.SOCKET, Sys.AF_INET, Sys.SOCK_STREAM, 0);
            Sys.ok(Sys.CONNECT, fd, Sys.addr(Sys.sockaddrIn(a, new byte[] {127, 0, 0, 1}, server.getLocalPort())), 16);
            int clientPort;
            try (Socket accepted = server.accept()) {
                clientPort = accepted.getPort();
                MemorySegment buf = a.allocate(4_096);
                for (int i = 0; i < 10; i++) {
                    Sys.ok(Sys.SENDTO, fd, Sys.addr(buf), 400, 0, 0, 0);
                }
                readFully(accepted.getInputStream(), 4_000);
                accepted.getOutputStream().write(new byte[700]);
                long got = 0;
                while (got < 700) {
                    got += Sys.ok(Sys.RECVFROM, fd, Sys.addr(buf), 4_096, 0, 0, 0);
                }
            }
            Sys.ok(Sys.CLOSE, fd);
            SocketEvent cl = finalTotals(c, clientPort);
            assertEquals(4_000L, cl.getBytesSent());
            assertEquals(700L, cl.getBytesReceived());
            assertEquals(10L, cl.getCallsSent());
            assertTrue(
                    c.events().stream()
                            .noneMatch(e -> e.getKind() == EventKind.SENDTO
                                    && cl.getSocketCookie().equals(e.getSocketCookie())),
                    "no sendto record of a summed socket");
        }
    }

    @Test
    void aProcessKilledWithSigkillLeavesExactTotals() throws Exception {
        try (ServerSocket server = new ServerSocket()) {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            // every process here (the child's pid is not known before it starts), this JVM's own sockets included
            try (LiveCapture c = new LiveCapture(
                            CaptureOptions.defaults().withAggregate(true).withExcludeSelf(false), Duration.ZERO)
                    .start()) {
                Process child = new ProcessBuilder(
                                "python3",
                                "-c",
                                "import socket,sys,time\n"
                                        + "s=socket.create_connection(('127.0.0.1'," + server.getLocalPort() + "))\n"
                                        + "for i in range(20): s.sendall(b'x'*250)\n"
                                        + "d=b''\n"
                                        + "while len(d)<1234: d+=s.recv(65536)\n"
                                        + "print('ready',flush=True)\n"
                                        + "time.sleep(60)\n")
                        .redirectErrorStream(true)
                        .start();
                try (Socket accepted = server.accept()) {
                    int childPort = accepted.getPort();
                    readFully(accepted.getInputStream(), 5_000);
                    accepted.getOutputStream().write(new byte[1_234]);
                    byte[] line = new byte[6];
                    readFully(child.getInputStream(), 6);
                    child.destroyForcibly(); // SIGKILL
                    child.waitFor();
                    SocketEvent t = finalTotals(c, childPort);
                    assertEquals(5_000L, t.getBytesSent());
                    assertEquals(1_234L, t.getBytesReceived());
                    assertEquals(child.pid(), (long) t.getPid());
                    assertEquals("EXIT", t.getCause(), "the totals ride on the release at the process's exit");
                }
            }
        }
    }
}
