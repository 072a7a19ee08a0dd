package io.sockflow.jobs;

import static io.sockflow.schemas.EventKind.*;

import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;
import java.util.ArrayList;
import java.util.List;

/**
 * A known workload as the collector reports it: a listener (python3, pid 200) on 127.0.0.1:8080 accepting
 * {@code n} connections from curl processes, each sending {@code 100 * (i + 1)} bytes and getting {@code 1000 + i}
 * back (counted by the kernel's sock_send/recv_length records), one refused connect, one UDP exchange on a
 * connected client socket, and a socketpair; each socket ends with the close of its last descriptor and the release
 * the collector reports after it. Times in ms after {@link Ev#T0}.
 */
public final class Workload {
    public static final String LO = "127.0.0.1";
    public static final int PORT = 8080;

    private Workload() {}

    public static List<SocketEvent> events(int n) {
        return events(n, 0);
    }

    /**
     * The same, with {@code exchanges} more request/response rounds on every connection (4 kernel byte records
     * each), as a keep-alive connection has: the shape of busier traffic, for the benchmark.
     */
    public static List<SocketEvent> events(int n, int exchanges) {
        return events(n, exchanges, false);
    }

    /**
     * The same, with {@code aggregate} as the collector's default data path sends it: no record per send or
     * receive; each connection's ends have both TCP_STATE changes into ESTABLISHED, their totals on their releases,
     * and, when {@code exchanges} is above 0 (a keep-alive connection that outlives an aggregate interval), one
     * SOCK_TOTALS each on the way: 9 records per connection, 11 with those. Byte totals are those of {@code exchanges}
     * + 1 rounds.
     */
    public static List<SocketEvent> events(int n, int exchanges, boolean aggregate) {
        List<SocketEvent> out = new ArrayList<>();
        long t = 0;
        out.add(Ev.of(SOCKET, 200, "python3", t)
                .socket(10)
                .tcp()
                .args("AF_INET", "SOCK_STREAM")
                .get());
        out.add(Ev.of(BIND, 200, "python3", t + 1)
                .socket(10)
                .tcp()
                .local(LO, PORT)
                .sockaddr(LO, PORT)
                .get());
        out.add(Ev.of(LISTEN, 200, "python3", t + 2)
                .socket(10)
                .tcp()
                .local(LO, PORT)
                .get());
        for (int i = 0; i < n; i++) {
            long at = 100 + i * 50L;
            int pid = 300 + i;
            // socket inodes, all different for any n (the other sockets are 10, 500, 600 and 601): 100 + i and
            // 1000 + i for the first 400 connections, as the tests read them; past those the two ranges would meet
            long ci = i < 400 ? 100 + i : 1_000_000 + i; // client socket inode
            long si = i < 400 ? 1000 + i : 2_000_000 + i; // accepted socket inode
            // client ports 40000 + i for the first 20,000 connections; past those the next 20,000 come from another
            // loopback address, so every port stays a port and every connection its own 4-tuple
            int cport = 40000 + i % 20_000;
            String caddr = i < 20_000 ? LO : "127.0." + i / 20_000 + ".1";
            long up = 100L * (i + 1);
            long down = 1000 + i;
            out.add(Ev.of(SOCKET, pid, "curl", at)
                    .socket(ci)
                    .tcp()
                    .args("AF_INET", "SOCK_STREAM")
                    .get());
            out.add(Ev.of(CONNECT, pid, "curl", at + 1)
                    .socket(ci)
                    .tcp()
                    .local(caddr, cport)
                    .remote(LO, PORT)
                    .sockaddr(LO, PORT)
                    .get());
            out.add(Ev.of(TCP_STATE, pid, "curl", at + 1)
                    .socket(ci)
                    .tcp()
                    .local(caddr, cport)
                    .remote(LO, PORT)
                    .state("SYN_SENT", "ESTABLISHED")
                    .get());
            out.add(Ev.of(ACCEPT4, 200, "python3", at + 2)
                    .socket(si)
                    .related(10)
                    .tcp()
                    .local(LO, PORT)
                    .remote(caddr, cport)
                    .ret(5, null)
                    .get());
            if (aggregate) {
                long rounds = exchanges + 1L;
                out.add(Ev.of(TCP_STATE, 200, "python3", at + 2)
                        .socket(si)
                        .tcp()
                        .local(LO, PORT)
                        .remote(caddr, cport)
                        .state("SYN_RECV", "ESTABLISHED")
                        .get());
                if (exchanges > 0) {
                    out.add(Ev.of(SOCK_TOTALS, pid, "curl", at + 5)
                            .socket(ci)
                            .tcp()
                            .local(caddr, cport)
                            .remote(LO, PORT)
                            .totals(up, down, 1, 1, false)
                            .get());
                    out.add(Ev.of(SOCK_TOTALS, 200, "python3", at + 5)
                            .socket(si)
                            .tcp()
                            .local(LO, PORT)
                            .remote(caddr, cport)
                            .totals(down, up, 1, 1, false)
                            .get());
                }
                Ev client = Ev.of(CLOSE, pid, "curl", at + 7)
                        .socket(ci)
                        .tcp()
                        .local(caddr, cport)
                        .remote(LO, PORT);
                out.add(client.last().get());
                out.add(client.released("CLOSE")
                        .totals(up * rounds, down * rounds, rounds, rounds, true)
                        .get());
                Ev server = Ev.of(CLOSE, 200, "python3", at + 8)
                        .socket(si)
                        .tcp()
                        .local(LO, PORT)
                        .remote(caddr, cport);
                out.add(server.last().get());
                out.add(server.released("CLOSE")
                        .totals(down * rounds, up * rounds, rounds, rounds, true)
                        .get());
                continue;
            }
            out.add(Ev.of(SOCK_SEND, pid, "curl", at + 3)
                    .socket(ci)
                    .tcp()
                    .local(caddr, cport)
                    .remote(LO, PORT)
                    .bytes(up)
                    .get());
            out.add(Ev.of(SOCK_RECV, 200, "python3", at + 4)
                    .socket(si)
                    .tcp()
                    .local(LO, PORT)
                    .remote(caddr, cport)
                    .bytes(up)
                    .get());
            out.add(Ev.of(SOCK_SEND, 200, "python3", at + 5)
                    .socket(si)
                    .tcp()
                    .local(LO, PORT)
                    .remote(caddr, cport)
                    .bytes(down)
                    .get());
            out.add(Ev.of(SOCK_RECV, pid, "curl", at + 6)
                    .socket(ci)
                    .tcp()
                    .local(caddr, cport)
                    .remote(LO, PORT)
                    .bytes(down)
                    .get());
            for (int x = 0; x < exchanges; x++) {
                int tid = pid * 100 + x
                        + 1; // distinct ids: the fold would take a repeat of (tid, time, kind) for a duplicate
                out.add(Ev.of(SOCK_SEND, pid, "curl", at + 6)
                        .tid(tid)
                        .socket(ci)
                        .tcp()
                        .local(caddr, cport)
                        .remote(LO, PORT)
                        .bytes(up)
                        .get());
                out.add(Ev.of(SOCK_RECV, 200, "python3", at + 6)
                        .tid(tid)
                        .socket(si)
                        .tcp()
                        .local(LO, PORT)
                        .remote(caddr, cport)
                        .bytes(up)
                        .get());
                out.add(Ev.of(SOCK_SEND, 200, "python3", at + 6)
                        .tid(tid)
                        .socket(si)
                        .tcp()
                        .local(LO, PORT)
                        .remote(caddr, cport)
                        .bytes(down)
                        .get());
                out.add(Ev.of(SOCK_RECV, pid, "curl", at + 6)
                        .tid(tid)
                        .socket(ci)
                        .tcp()
                        .local(caddr, cport)
                        .remote(LO, PORT)
                        .bytes(down)
                        .get());
            }
            closeLast(
                    out,
                    Ev.of(CLOSE, pid, "curl", at + 7)
                            .socket(ci)
                            .tcp()
                            .local(caddr, cport)
                            .remote(LO, PORT));
            closeLast(
                    out,
                    Ev.of(CLOSE, 200, "python3", at + 8)
                            .socket(si)
                            .tcp()
                            .local(LO, PORT)
                            .remote(caddr, cport));
        }
        long at = 100 + n * 50L;
        // a refused connect
        out.add(Ev.of(SOCKET, 400, "curl", at).socket(500).tcp().get());
        out.add(Ev.of(CONNECT, 400, "curl", at + 1)
                .socket(500)
                .tcp()
                .sockaddr(LO, 9)
                .ret(-111, "ECONNREFUSED")
                .get());
        closeLast(out, Ev.of(CLOSE, 400, "curl", at + 2).socket(500).tcp());
        // UDP: a connected client and an unconnected server
        out.add(Ev.of(SOCKET, 500, "dig", at + 10).socket(600).udp().get());
        out.add(Ev.of(SOCKET, 501, "named", at + 10).socket(601).udp().get());
        out.add(Ev.of(BIND, 501, "named", at + 11)
                .socket(601)
                .udp()
                .local(LO, 5353)
                .sockaddr(LO, 5353)
                .get());
        out.add(Ev.of(CONNECT, 500, "dig", at + 12)
                .socket(600)
                .udp()
                .local(LO, 50000)
                .remote(LO, 5353)
                .sockaddr(LO, 5353)
                .get());
        out.add(Ev.of(SENDTO, 500, "dig", at + 13)
                .socket(600)
                .udp()
                .local(LO, 50000)
                .remote(LO, 5353)
                .bytes(40)
                .get());
        out.add(Ev.of(RECVFROM, 501, "named", at + 14)
                .socket(601)
                .udp()
                .local(LO, 5353)
                .sockaddr(LO, 50000)
                .bytes(40)
                .get());
        out.add(Ev.of(SENDTO, 501, "named", at + 15)
                .socket(601)
                .udp()
                .local(LO, 5353)
                .sockaddr(LO, 50000)
                .bytes(120)
                .get());
        out.add(Ev.of(RECVFROM, 500, "dig", at + 16)
                .socket(600)
                .udp()
                .local(LO, 50000)
                .remote(LO, 5353)
                .bytes(120)
                .get());
        closeLast(out, Ev.of(CLOSE, 500, "dig", at + 17).socket(600).udp());
        closeLast(out, Ev.of(CLOSE, 501, "named", at + 18).socket(601).udp());
        // a socketpair, by a process renamed after its exec
        SocketEvent exec = Ev.of(EXEC, 600, "python3", at + 19).get();
        exec.setPath("/usr/bin/python3");
        out.add(exec);
        out.add(Ev.of(SOCKETPAIR, 600, "worker", at + 20)
                .socket(700)
                .related(701)
                .unix()
                .get());
        out.add(Ev.of(SENDMSG, 600, "worker", at + 21)
                .socket(700)
                .unix()
                .bytes(9)
                .get());
        out.add(Ev.of(RECVMSG, 600, "worker", at + 22)
                .socket(701)
                .unix()
                .bytes(9)
                .get());
        closeLast(out, Ev.of(CLOSE, 600, "worker", at + 23).socket(700).unix());
        closeLast(out, Ev.of(CLOSE, 600, "worker", at + 24).socket(701).unix());
        // the listener closes last
        closeLast(out, Ev.of(CLOSE, 200, "python3", at + 30).socket(10).tcp().local(LO, PORT));
        return out;
    }

    /** The close of a socket's last descriptor and, as the collector reports it, the kernel's release of it. */
    static void closeLast(List<SocketEvent> out, Ev close) {
        out.add(close.last().get());
        out.add(close.released("CLOSE").get());
    }

    /** Sockets in the workload: listener, 2 per connection, refused, 2 UDP, 2 pair ends. */
    public static int sockets(int n) {
        return 1 + 2 * n + 1 + 2 + 2;
    }

    public static long lastMillis(int n) {
        return 100 + n * 50L + 30;
    }

    static EventKind unused() {
        return UNKNOWN;
    }
}
