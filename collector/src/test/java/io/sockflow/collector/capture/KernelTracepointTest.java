package io.sockflow.collector.capture;

import static io.sockflow.collector.Sys.*;
import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.collector.LiveCapture;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The SOCK and TCP groups on the real kernel: states, bytes, resets, RTT, interface counters. */
@Tag("root")
class KernelTracepointTest {
    static final byte[] LOOPBACK = {127, 0, 0, 1};

    /** A TCP server in another process: waits for "go", listens, answers "pong" to "ping!", closes after EOF. */
    static final String SERVER = String.join(
            "\n",
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

    /** A socket's records, by its cookie (its struct sock address names the next socket too once it is freed). */
    static boolean of(SocketEvent e, long cookie) {
        return e.getSocketCookie() != null && e.getSocketCookie() == cookie;
    }

    static List<String> states(List<SocketEvent> events, long cookie) {
        return events.stream()
                .filter(e -> e.getKind() == EventKind.TCP_STATE && of(e, cookie))
                .map(SocketEvent::getTcpState)
                .toList();
    }

    static long sum(List<SocketEvent> events, EventKind kind, long cookie) {
        return events.stream()
                .filter(e -> e.getKind() == kind && of(e, cookie))
                .mapToLong(SocketEvent::getBytes)
                .sum();
    }

    @Test
    void aConnectionBetweenTwoProcessesIsFollowedOnBothEndsWithTheRightOwnersAndExactBytes() throws Exception {
        Process server = new ProcessBuilder("/usr/bin/python3", "-c", SERVER).start();
        long serverPid = server.pid();
        long self = ProcessHandle.current().pid();
        Writer toServer = new OutputStreamWriter(server.getOutputStream(), StandardCharsets.UTF_8);
        BufferedReader fromServer =
                new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        try (LiveCapture live =
                        new LiveCapture(CaptureOptions.defaults(), List.of((int) self, (int) serverPid)).start();
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

            SocketEvent sock = ev.stream()
                    .filter(e -> e.getKind() == EventKind.SOCKET && e.getTid() == tid && e.getResultFd() == (int) c)
                    .reduce((x, y) -> y)
                    .orElseThrow();
            long clientSk = sock.getSocketCookie();
            List<String> client = states(ev, clientSk);
            assertEquals(List.of("SYN_SENT", "ESTABLISHED", "FIN_WAIT1"), client.subList(0, 3), client.toString());
            assertEquals("CLOSE", client.getLast(), client.toString());
            for (SocketEvent e : ev) {
                if (e.getKind() == EventKind.TCP_STATE && of(e, clientSk)) {
                    assertEquals("SOCKET_OWNER", e.getAttribution());
                    assertEquals(self, e.getPid());
                    assertEquals(port, e.getRemotePort());
                }
            }

            SocketEvent accepted = ev.stream()
                    .filter(e -> e.getKind() == EventKind.ACCEPT || e.getKind() == EventKind.ACCEPT4)
                    .filter(e -> e.getPid() == serverPid)
                    .findFirst()
                    .orElseThrow();
            long serverSk = accepted.getSocketCookie();
            List<String> srv = states(ev, serverSk);
            assertEquals(List.of("SYN_RECV", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSE"), srv, srv.toString());
            for (SocketEvent e : ev) {
                if (e.getKind() == EventKind.TCP_STATE && of(e, serverSk)) {
                    assertEquals("SOCKET_OWNER", e.getAttribution(), "fired in softirq, attributed through the socket");
                    assertEquals(serverPid, e.getPid());
                    assertEquals("python3", e.getComm());
                    assertEquals(port, e.getLocalPort());
                }
            }
            long listenerSk = accepted.getRelatedSocketCookie();
            assertTrue(states(ev, listenerSk).contains("LISTEN"), "the listener's LISTEN");

            assertEquals(5, sum(ev, EventKind.SOCK_SEND, clientSk), "bytes written with write()");
            assertEquals(4, sum(ev, EventKind.SOCK_RECV, clientSk), "bytes read with read()");
            assertEquals(5, sum(ev, EventKind.SOCK_RECV, serverSk));
            assertEquals(4, sum(ev, EventKind.SOCK_SEND, serverSk));
            assertTrue(
                    ev.stream().anyMatch(e -> e.getKind() == EventKind.TCP_DESTROY && of(e, clientSk)),
                    "destroy of the client socket");
            // both ends were released by the kernel, each in the process that closed it
            SocketEvent clientEnd = ev.stream()
                    .filter(e -> e.getKind() == EventKind.SOCK_RELEASE && of(e, clientSk))
                    .findFirst()
                    .orElseThrow();
            assertEquals(self, clientEnd.getPid());
            assertEquals(5L, clientEnd.getKernelBytesSent());
            assertEquals(4L, clientEnd.getKernelBytesReceived());
            SocketEvent serverEnd = ev.stream()
                    .filter(e -> e.getKind() == EventKind.SOCK_RELEASE && of(e, serverSk))
                    .findFirst()
                    .orElseThrow();
            assertEquals(serverPid, serverEnd.getPid());

            List<SocketEvent> counters = live.readCounters();
            assertTrue(
                    counters.stream()
                            .anyMatch(
                                    e -> e.getKind() == EventKind.TCP_RTT && e.getRttUs() != null && e.getCount() > 0),
                    "RTT samples for a connection that carried traffic: " + counters);
            SocketEvent lo = counters.stream()
                    .filter(e -> e.getKind() == EventKind.NETDEV_TRAFFIC
                            && "lo".equals(e.getInterfaceName())
                            && "TRANSMIT".equals(e.getDirection()))
                    .findFirst()
                    .orElseThrow();
            assertTrue(lo.getCount() >= 6 && lo.getBytes() >= 9, "lo carried the handshake, data and close: " + lo);
        } finally {
            server.destroyForcibly();
        }
    }

    @Test
    void aConnectToAClosedPortYieldsResetRecordsAndADropCounter() throws Exception {
        try (LiveCapture live = new LiveCapture(CaptureOptions.defaults()).start();
                Arena a = Arena.ofConfined()) {
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
            // the probe had the same fd number: the refused connect names the socket
            SocketEvent sock = live.await(
                    e -> e.getKind() == EventKind.CONNECT
                            && e.getTid() == tid
                            && e.getFd() == (int) c
                            && "ECONNREFUSED".equals(e.getErrno()),
                    Duration.ofSeconds(5));
            ok(CLOSE, c);
            SocketEvent rr = live.await(
                    e -> e.getKind() == EventKind.TCP_RECEIVE_RESET && of(e, sock.getSocketCookie()),
                    Duration.ofSeconds(5));
            assertEquals("SYN_SENT", rr.getTcpState(), "the reset answered the SYN");
            assertEquals("SOCKET_OWNER", rr.getAttribution());
            assertEquals(ProcessHandle.current().pid(), rr.getPid());
            assertEquals(closedPort, rr.getRemotePort());
            SocketEvent sr = live.await(
                    e -> e.getKind() == EventKind.TCP_SEND_RESET
                            && e.getLocalPort() != null
                            && e.getLocalPort() == closedPort,
                    Duration.ofSeconds(5));
            assertEquals("NO_SOCKET", sr.getReason(), "no socket on that port: the kernel's own reset");
            assertEquals("UNKNOWN", sr.getAttribution(), "a reset sent for no socket has no owner, and says so");
            assertEquals(0, sr.getPid());
            List<SocketEvent> counters = live.readCounters();
            assertTrue(
                    counters.stream()
                            .anyMatch(e -> e.getKind() == EventKind.SKB_DROPS
                                    && "NO_SOCKET".equals(e.getReason())
                                    && e.getCount() >= 1),
                    counters.toString());
        }
    }

    static void sh(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", cmd) + ": " + out);
    }

    /**
     * A test host in a network namespace of this test, behind a veth pair; a firewall rule there drops the
     * connection's packets, so the kernel retransmits and counts the drops with their reason.
     */
    @Test
    void packetsDroppedByAFirewallYieldRetransmitsAndDropCountersWithTheReason() throws Exception {
        String id = Long.toString(ProcessHandle.current().pid() % 10000);
        String ns = "sfns" + id;
        String v0 = "sfa" + id;
        String v1 = "sfb" + id;
        int port = 7070;
        Process server = null;
        try {
            sh("ip", "netns", "add", ns);
            sh("ip", "link", "add", v0, "type", "veth", "peer", "name", v1);
            sh("ip", "link", "set", v1, "netns", ns);
            sh("ip", "addr", "add", "10.213.7.1/30", "dev", v0);
            sh("ip", "link", "set", v0, "up");
            sh("ip", "netns", "exec", ns, "ip", "addr", "add", "10.213.7.2/30", "dev", v1);
            sh("ip", "netns", "exec", ns, "ip", "link", "set", v1, "up");
            sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
            server = new ProcessBuilder(
                            "ip",
                            "netns",
                            "exec",
                            ns,
                            "/usr/bin/python3",
                            "-c",
                            String.join(
                                    "\n",
                                    "import socket, time",
                                    "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
                                    "s.bind(('10.213.7.2', " + port + ")); s.listen(1)",
                                    "print('ready', flush=True)",
                                    "c, _ = s.accept()",
                                    "time.sleep(30)"))
                    .start();
            BufferedReader r =
                    new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("ready", r.readLine());
            try (LiveCapture live = new LiveCapture(CaptureOptions.defaults()).start();
                    Arena a = Arena.ofConfined()) {
                live.readCounters();
                int tid = gettid();
                long c = ok(SOCKET, AF_INET, SOCK_STREAM, 0);
                ok(CONNECT, c, addr(sockaddrIn(a, new byte[] {10, (byte) 213, 7, 2}, port)), 16);
                sh("ip", "netns", "exec", ns, "nft", "add", "table", "inet", "sfdrop");
                sh(
                        "ip",
                        "netns",
                        "exec",
                        ns,
                        "nft",
                        "add",
                        "chain",
                        "inet",
                        "sfdrop",
                        "input",
                        "{ type filter hook input priority 0 ; policy accept ; }");
                sh(
                        "ip",
                        "netns",
                        "exec",
                        ns,
                        "nft",
                        "add",
                        "rule",
                        "inet",
                        "sfdrop",
                        "input",
                        "tcp",
                        "dport",
                        Integer.toString(port),
                        "drop");
                MemorySegment data = a.allocate(100);
                assertEquals(100, ok(WRITE, c, addr(data), 100));
                SocketEvent sock = live.await(
                        e -> e.getKind() == EventKind.SOCKET && e.getTid() == tid && e.getResultFd() == (int) c,
                        Duration.ofSeconds(5));
                long sk = sock.getSocketCookie();
                // the retransmission timeout starts at 200 ms and doubles: two retransmits within about 1 s
                live.await(
                        e -> e.getKind() == EventKind.TCP_RETRANSMIT
                                && of(e, sk)
                                && live.events().stream()
                                                .filter(x -> x.getKind() == EventKind.TCP_RETRANSMIT && of(x, sk))
                                                .count()
                                        >= 2,
                        Duration.ofSeconds(10));
                SocketEvent retransmit = live.events().stream()
                        .filter(e -> e.getKind() == EventKind.TCP_RETRANSMIT && of(e, sk))
                        .findFirst()
                        .orElseThrow();
                assertEquals("ESTABLISHED", retransmit.getTcpState());
                assertEquals(port, retransmit.getRemotePort());
                assertEquals("10.213.7.2", retransmit.getRemoteAddress());
                assertEquals("SOCKET_OWNER", retransmit.getAttribution());
                assertEquals(ProcessHandle.current().pid(), retransmit.getPid());
                List<SocketEvent> counters = live.readCounters();
                SocketEvent drops = counters.stream()
                        .filter(e -> e.getKind() == EventKind.SKB_DROPS && "NETFILTER_DROP".equals(e.getReason()))
                        .findFirst()
                        .orElseThrow(() -> new AssertionError("no NETFILTER_DROP counter in " + counters));
                assertTrue(drops.getCount() >= 2, drops.toString());
                assertEquals("IPv4", drops.getEventProtocol());
                ok(CLOSE, c);
            }
        } finally {
            if (server != null) {
                server.destroyForcibly();
            }
            new ProcessBuilder("ip", "netns", "del", ns).start().waitFor();
            new ProcessBuilder("ip", "link", "del", v0).start().waitFor();
        }
    }

    @Test
    void perPacketGroupsAddNoRecordsPerPacket() throws Exception {
        // every group on; the pump's own system calls are filtered out by pid, so what reaches the ring buffer
        // from it can only be the kernel records of its one connection, however many packets it moves
        try (LiveCapture live = new LiveCapture(CaptureOptions.defaults(), List.of(1))) {
            live.readCounters();
            long before = live.capture.stats().submitted();
            Process pump = io.sockflow.collector.bench.CaptureBench.pump(2, 0);
            assertEquals("done", new BufferedReader(new InputStreamReader(pump.getInputStream())).readLine());
            pump.waitFor();
            Thread.sleep(300);
            long records = live.capture.stats().submitted() - before;
            long packets = live.readCounters().stream()
                    .filter(e -> e.getKind() == EventKind.NETDEV_TRAFFIC
                            && "lo".equals(e.getInterfaceName())
                            && "TRANSMIT".equals(e.getDirection()))
                    .mapToLong(SocketEvent::getCount)
                    .sum();
            assertTrue(packets > 5_000, "the pump moved many packets: " + packets);
            // the pump's connection makes a few kernel records (states, releases); the host's other sockets a few more
            // (kernel records are not filtered by pid); none of it grows with the packets
            assertTrue(records < packets / 100, records + " ring-buffer records for " + packets + " packets");
        }
    }

    @Test
    void switchedOffGroupsAreNotLoadedOrSayNothing() throws Exception {
        try (LiveCapture live = new LiveCapture(CaptureOptions.defaults().withGroups(java.util.Set.of("tcp"))).start();
                Arena a = Arena.ofConfined()) {
            List<String> programs = live.capture.programNames();
            assertTrue(programs.contains("tcp_probe"));
            assertFalse(programs.contains("skb_drop"));
            assertFalse(programs.contains("net_dev_xmit"));
            // the TCP state hook stays: it gives accepted connections their cookies; it records nothing for a
            // switched-off
            // group
            assertTrue(programs.contains("sock_set_state"));
            assertEquals(
                    CaptureLifecycleTest.PROGRAMS - 6,
                    live.capture.links().size(),
                    "every program but the 6 classic tracepoints of the skb, net, xdp and udp groups");
            int tid = gettid();
            long l = ok(SOCKET, AF_INET, SOCK_STREAM, 0);
            ok(BIND, l, addr(sockaddrIn(a, LOOPBACK, 0)), 16);
            ok(LISTEN, l, 1);
            ok(CLOSE, l);
            live.barrier(tid);
            assertTrue(
                    live.events().stream().noneMatch(e -> e.getKind() == EventKind.TCP_STATE), "no sock group records");
            assertTrue(
                    live.events().stream().anyMatch(e -> e.getKind() == EventKind.SOCK_RELEASE), "the release still");
        }
    }
}
