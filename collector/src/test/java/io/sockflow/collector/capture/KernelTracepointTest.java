package io.sockflow.collector.capture;

import io.sockflow.collector.LiveCapture;
import io.sockflow.collector.Sys;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.sockflow.collector.Sys.*;
import static org.junit.jupiter.api.Assertions.*;

/** The SOCK and TCP groups on the real kernel: states, bytes, resets, RTT, interface counters. */
class KernelTracepointTest {
    static final byte[] LOOPBACK = {127, 0, 0, 1};

    /** A TCP server in another process: waits for "go", listens, answers "pong" to "ping!", closes after EOF. */
    static final String SERVER = String.join("\n",
            "import socket, sys",
            "sys.stdin.readline()",
            "srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(4)",
            "print(srv.getsockname()[1], flush=True)",
            "c, _ = srv.accept()",
            "got = b''",
            "while len(got) < 5: got += c.recv(5 - len(got))",
            "c.sendall(b'pong')",
            "while c.recv(100): pass",
            "c.close(); srv.close()",
            "print('done', flush=True)");

    static List<String> states(List<SocketEvent> events, long sk) {
        return events.stream().filter(e -> e.getKind() == EventKind.TCP_STATE && e.getSocketKernelAddress() == sk)
                .map(SocketEvent::getTcpState).toList();
    }

    static long sum(List<SocketEvent> events, EventKind kind, long sk) {
        return events.stream().filter(e -> e.getKind() == kind && e.getSocketKernelAddress() == sk)
                .mapToLong(SocketEvent::getBytes).sum();
    }

    @Test
    void aConnectionBetweenTwoProcessesIsFollowedOnBothEndsWithTheRightOwnersAndExactBytes() throws Exception {
        Process server = new ProcessBuilder("/usr/bin/python3", "-c", SERVER).start();
        long serverPid = server.pid();
        long self = ProcessHandle.current().pid();
        Writer toServer = new OutputStreamWriter(server.getOutputStream(), StandardCharsets.UTF_8);
        BufferedReader fromServer = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        try (LiveCapture live = new LiveCapture(CaptureOptions.defaults(), List.of((int) self, (int) serverPid)).start();
                Arena a = Arena.ofConfined()) {
            toServer.write("go\n");
            toServer.flush();
            int port = Integer.parseInt(fromServer.readLine().trim());
            int tid = gettid();
            long c = ok(SOCKET, AF_INET, SOCK_STREAM, 0);
            ok(CONNECT, c, addr(sockaddrIn(a, LOOPBACK, port)), 16);
            MemorySegment ping = a.allocateFrom("ping!", StandardCharsets.US_ASCII);
            assertEquals(5, ok(WRITE, c, addr(ping), 5), "plain write(), which no send hook sees");
            MemorySegment buf = a.allocate(16);
            long got = 0;
            while (got < 4) {
                got += ok(READ, c, addr(buf) + got, 4 - got);
            }
            ok(CLOSE, c);
            assertEquals("done", fromServer.readLine());
            assertTrue(server.waitFor(10, TimeUnit.SECONDS));
            Thread.sleep(300);
            live.flushOwners();
            List<SocketEvent> ev = live.events();

            SocketEvent sock = ev.stream().filter(e -> e.getKind() == EventKind.SOCKET && e.getTid() == tid
                    && e.getResultFd() == (int) c).reduce((x, y) -> y).orElseThrow();
            long clientSk = sock.getSocketKernelAddress();
            List<String> client = states(ev, clientSk);
            assertEquals(List.of("SYN_SENT", "ESTABLISHED", "FIN_WAIT1"), client.subList(0, 3), client.toString());
            assertEquals("CLOSE", client.getLast(), client.toString());
            for (SocketEvent e : ev) {
                if (e.getKind() == EventKind.TCP_STATE && e.getSocketKernelAddress() == clientSk) {
                    assertEquals("SOCKET_OWNER", e.getAttribution());
                    assertEquals(self, e.getPid());
                    assertEquals(port, e.getRemotePort());
                }
            }

            SocketEvent accepted = ev.stream().filter(e -> e.getKind() == EventKind.ACCEPT
                    || e.getKind() == EventKind.ACCEPT4).filter(e -> e.getPid() == serverPid).findFirst().orElseThrow();
            long serverSk = accepted.getSocketKernelAddress();
            List<String> srv = states(ev, serverSk);
            assertEquals(List.of("SYN_RECV", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSE"), srv, srv.toString());
            for (SocketEvent e : ev) {
                if (e.getKind() == EventKind.TCP_STATE && e.getSocketKernelAddress() == serverSk) {
                    assertEquals("SOCKET_OWNER", e.getAttribution(), "fired in softirq, attributed through the socket");
                    assertEquals(serverPid, e.getPid());
                    assertEquals("python3", e.getComm());
                    assertEquals(port, e.getLocalPort());
                }
            }
            long listenerSk = accepted.getRelatedSocketKernelAddress();
            assertTrue(states(ev, listenerSk).contains("LISTEN"), "the listener's LISTEN");

            assertEquals(5, sum(ev, EventKind.SOCK_SEND, clientSk), "bytes written with write()");
            assertEquals(4, sum(ev, EventKind.SOCK_RECV, clientSk), "bytes read with read()");
            assertEquals(5, sum(ev, EventKind.SOCK_RECV, serverSk));
            assertEquals(4, sum(ev, EventKind.SOCK_SEND, serverSk));
            assertTrue(ev.stream().anyMatch(e -> e.getKind() == EventKind.TCP_DESTROY
                    && e.getSocketKernelAddress() == clientSk), "destroy of the client socket");

            List<SocketEvent> counters = live.readCounters();
            assertTrue(counters.stream().anyMatch(e -> e.getKind() == EventKind.TCP_RTT && e.getRttUs() != null
                    && e.getCount() > 0), "RTT samples for a connection that carried traffic: " + counters);
            SocketEvent lo = counters.stream().filter(e -> e.getKind() == EventKind.NETDEV_TRAFFIC
                    && "lo".equals(e.getInterfaceName()) && "TRANSMIT".equals(e.getDirection())).findFirst().orElseThrow();
            assertTrue(lo.getCount() >= 6 && lo.getBytes() >= 9, "lo carried the handshake, data and close: " + lo);
        } finally {
            server.destroyForcibly();
        }
    }

    @Test
    void aConnectToAClosedPortYieldsResetRecordsAndADropCounter() throws Exception {
        try (LiveCapture live = new LiveCapture(CaptureOptions.defaults()).start(); Arena a = Arena.ofConfined()) {
            live.readCounters(); // start the interval from here
            long probe = ok(SOCKET, AF_INET, SOCK_STREAM, 0);
            ok(BIND, probe, addr(sockaddrIn(a, LOOPBACK, 0)), 16);
            MemorySegment name = a.allocate(16, 8);
            ok(GETSOCKNAME, probe, addr(name), addr(intValue(a, 16)));
            int closedPort = port(name);
            ok(CLOSE, probe);
            long c = ok(SOCKET, AF_INET, SOCK_STREAM, 0);
            assertEquals(-111, call(CONNECT, c, addr(sockaddrIn(a, LOOPBACK, closedPort)), 16));
            int tid = gettid();
            SocketEvent sock = live.await(e -> e.getKind() == EventKind.SOCKET && e.getTid() == tid
                    && e.getResultFd() == (int) c, Duration.ofSeconds(5));
            ok(CLOSE, c);
            SocketEvent rr = live.await(e -> e.getKind() == EventKind.TCP_RECEIVE_RESET
                    && e.getSocketKernelAddress().equals(sock.getSocketKernelAddress()), Duration.ofSeconds(5));
            assertEquals("SOCKET_OWNER", rr.getAttribution());
            assertEquals(ProcessHandle.current().pid(), rr.getPid());
            assertEquals(closedPort, rr.getRemotePort());
            SocketEvent sr = live.await(e -> e.getKind() == EventKind.TCP_SEND_RESET
                    && e.getLocalPort() == closedPort, Duration.ofSeconds(5));
            assertEquals("NO_SOCKET", sr.getReason(), "no socket on that port: the kernel's own reset");
            assertEquals("UNKNOWN", sr.getAttribution(), "a reset sent for no socket has no owner, and says so");
            assertEquals(0, sr.getPid());
            List<SocketEvent> counters = live.readCounters();
            assertTrue(counters.stream().anyMatch(e -> e.getKind() == EventKind.SKB_DROPS
                    && "NO_SOCKET".equals(e.getReason()) && e.getCount() >= 1), counters.toString());
        }
    }

    @Test
    void switchedOffGroupsAreNotLoaded() {
        try (LiveCapture live = new LiveCapture(CaptureOptions.defaults().withGroups(java.util.Set.of("tcp")))) {
            List<String> programs = live.capture.programNames();
            assertTrue(programs.contains("tcp_probe"));
            assertFalse(programs.contains("sock_set_state"));
            assertFalse(programs.contains("skb_drop"));
            assertEquals(42 + 5, live.capture.links().size(), "42 syscall programs and the tcp group's 5");
        }
    }
}
