package io.sockflow.collector.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A collector scoped to one network namespace, as a per-pod agent runs: two namespaces of this test joined by a veth
 * pair, a server in one and its client in the other. Scoped to the server's, the collector records the server's
 * sockets (the inventory, the calls, the kernel's records and the bytes) and nothing of the client's; unscoped, it
 * records both.
 */
@Tag("root")
class NetnsScopeTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final int PORT = 7071;
    /** Bytes the client sends, and the server answers. */
    static final int SENT = 3000, ANSWERED = 1200;

    static void sh(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", cmd) + ": " + out);
    }

    static long inode(String path) throws Exception {
        return ((Number) Files.getAttribute(Path.of(path), "unix:ino")).longValue();
    }

    /** A Python program in a namespace; it prints "ready" once its socket is set up. */
    static Process python(String ns, String... lines) throws Exception {
        Process p = new ProcessBuilder("ip", "netns", "exec", ns, "/usr/bin/python3", "-c", String.join("\n", lines))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("ready", r.readLine(), "the program in " + ns + " started");
        return p;
    }

    /** A listener that was there before the collector: the inventory's to find. */
    static Process listener(String ns, String address, int port) throws Exception {
        return python(
                ns,
                "import socket, time",
                "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
                "s.bind(('" + address + "', " + port + ")); s.listen(1)",
                "print('ready', flush=True)",
                "time.sleep(120)");
    }

    record Workload(long serverPid, long clientPid) {}

    /** One connection: the client sends SENT bytes, the server answers ANSWERED; both close. */
    static Workload connection(String serverNs, String clientNs, String serverIp) throws Exception {
        Process server = python(
                serverNs,
                "import socket",
                "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
                "s.bind(('" + serverIp + "', " + PORT + ")); s.listen(1)",
                "print('ready', flush=True)",
                "c, _ = s.accept()",
                "n = 0",
                "while n < " + SENT + ":",
                "    b = c.recv(65536)",
                "    if not b: break",
                "    n += len(b)",
                "c.sendall(b'y' * " + ANSWERED + ")",
                "c.close(); s.close()",
                "assert n == " + SENT + ", n");
        Process client = python(
                clientNs,
                "import socket",
                "print('ready', flush=True)",
                "c = socket.create_connection(('" + serverIp + "', " + PORT + "))",
                "c.sendall(b'x' * " + SENT + ")",
                "n = 0",
                "while n < " + ANSWERED + ":",
                "    b = c.recv(65536)",
                "    if not b: break",
                "    n += len(b)",
                "c.close()",
                "assert n == " + ANSWERED + ", n");
        assertTrue(client.waitFor(20, TimeUnit.SECONDS), "the client ended");
        assertTrue(server.waitFor(20, TimeUnit.SECONDS), "the server ended");
        assertEquals(0, client.exitValue(), "the client got its answer");
        assertEquals(0, server.exitValue(), "the server got the client's bytes");
        return new Workload(server.pid(), client.pid());
    }

    record Run(List<JsonNode> records, Workload workload, String stderr) {
        List<JsonNode> of(long pid) {
            return records.stream().filter(r -> r.path("pid").asLong() == pid).toList();
        }

        Set<String> kindsOf(long pid) {
            Set<String> kinds = new HashSet<>();
            for (JsonNode r : of(pid)) {
                kinds.add(r.path("kind").asText());
            }
            return kinds;
        }

        /** Records of sockets bound to this address (either end). */
        List<JsonNode> atAddress(String ip) {
            return records.stream()
                    .filter(r -> ip.equals(r.path("localAddress").asText(null)))
                    .toList();
        }
    }

    /** A collector (JSON on a file) around one connection; stopped cleanly once the sockets' totals are out. */
    static Run capture(List<String> extra, String serverNs, String clientNs, String serverIp) throws Exception {
        Path out = Files.createTempFile("netns", ".json");
        Path err = Files.createTempFile("netns", ".err");
        Process keeper = new ProcessBuilder("sleep", "300").start(); // the collector stops when it ends
        List<String> args = new ArrayList<>(List.of(
                "collect",
                "--output",
                "json",
                "--duration",
                "90s",
                "--sweep-interval",
                "1s",
                "--aggregate-interval",
                "1s",
                "--counters-interval",
                "1s",
                "--run-as",
                "root",
                "--exit-with-pid",
                Long.toString(keeper.pid())));
        args.addAll(extra);
        Process collector = new ProcessBuilder(
                        CliTest.javaCommand(String.join(":", CliTest.classpath()), args.toArray(String[]::new)))
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
        try {
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Files.readString(err).contains("sockflow: attached")) {
                assertTrue(collector.isAlive(), Files.readString(err));
                assertTrue(System.nanoTime() < until, "attached within 60 s: " + Files.readString(err));
                Thread.sleep(100);
            }
            Workload w = connection(serverNs, clientNs, serverIp);
            Thread.sleep(3_000); // a sweep, the sockets' totals and the kernel's counters are read meanwhile
            keeper.destroy();
            assertTrue(collector.waitFor(60, TimeUnit.SECONDS), "the collector stopped");
            String stderr = Files.readString(err);
            assertEquals(0, collector.exitValue(), stderr);
            assertFalse(stderr.contains("Exception") || stderr.contains("WARN"), stderr);
            assertFalse(stderr.contains("the kernel refused"), "every program loads: " + stderr);
            List<JsonNode> records = new ArrayList<>();
            for (String line : Files.readAllLines(out)) {
                records.add(JSON.readTree(line));
            }
            return new Run(records, w, stderr);
        } finally {
            collector.destroyForcibly();
            keeper.destroyForcibly();
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    @Test
    void scopedToTheServersNetworkNamespaceItRecordsTheServerAndNothingOfTheClientsNamespace() throws Exception {
        long self = ProcessHandle.current().pid();
        String id = Long.toString(self % 10000);
        String serverNs = "sfsrv" + id;
        String clientNs = "sfcli" + id;
        String serverVeth = "sfsv" + id;
        String clientVeth = "sfcv" + id;
        int subnet = (int) (self % 64) * 4; // a /30 of 10.214.77.0/24
        String serverIp = "10.214.77." + (subnet + 1);
        String clientIp = "10.214.77." + (subnet + 2);
        List<Process> started = new ArrayList<>();
        try {
            sh("ip", "netns", "add", serverNs);
            sh("ip", "netns", "add", clientNs);
            sh("ip", "link", "add", serverVeth, "type", "veth", "peer", "name", clientVeth);
            sh("ip", "link", "set", serverVeth, "netns", serverNs);
            sh("ip", "link", "set", clientVeth, "netns", clientNs);
            sh("ip", "-n", serverNs, "addr", "add", serverIp + "/30", "dev", serverVeth);
            sh("ip", "-n", clientNs, "addr", "add", clientIp + "/30", "dev", clientVeth);
            for (String[] nd : new String[][] {{serverNs, serverVeth}, {clientNs, clientVeth}}) {
                sh("ip", "-n", nd[0], "link", "set", nd[1], "up");
                sh("ip", "-n", nd[0], "link", "set", "lo", "up");
            }
            long serverIno = inode("/var/run/netns/" + serverNs);
            long clientIno = inode("/var/run/netns/" + clientNs);
            assertNotEquals(serverIno, clientIno);
            // sockets from before the collector, one in each namespace: the inventory's to find, or not
            started.add(listener(serverNs, serverIp, PORT + 1));
            started.add(listener(clientNs, clientIp, PORT + 1));

            Run scoped = capture(List.of("--netns", "/var/run/netns/" + serverNs), serverNs, clientNs, serverIp);
            assertTrue(
                    scoped.stderr()
                            .contains("sockflow: network namespace " + serverIno + " (/var/run/netns/" + serverNs
                                    + ") only"),
                    scoped.stderr());
            long server = scoped.workload().serverPid();
            long client = scoped.workload().clientPid();
            // the server: its calls, its socket's kernel records and its bytes, all in its namespace
            Set<String> kinds = scoped.kindsOf(server);
            for (String k : List.of("SOCKET", "BIND", "LISTEN", "CLOSE")) {
                assertTrue(kinds.contains(k), k + " of the server in " + kinds);
            }
            assertTrue(kinds.contains("ACCEPT") || kinds.contains("ACCEPT4"), "the server's accept in " + kinds);
            assertTrue(kinds.contains("TCP_STATE"), "the kernel's records of its sockets, by their owner: " + kinds);
            List<JsonNode> totals = scoped.atAddress(serverIp).stream()
                    .filter(r -> (r.path("kind").asText().equals("SOCK_TOTALS")
                                    || r.path("totalsFinal").asBoolean(false))
                            && r.path("localPort").asInt() == PORT
                            && r.path("remotePort").asInt() != 0)
                    .toList();
            assertTrue(
                    totals.stream()
                            .anyMatch(r -> r.path("bytesReceived").asLong() == SENT
                                    && r.path("bytesSent").asLong() == ANSWERED),
                    "the accepted connection's totals: " + totals);
            assertTrue(
                    scoped.records().stream()
                            .anyMatch(r -> r.path("kind").asText().equals("INVENTORY")
                                    && serverIp.equals(r.path("localAddress").asText(null))
                                    && r.path("localPort").asInt() == PORT + 1),
                    "the inventory found the server namespace's listener");
            // nothing of the client's namespace: no call of the client, no socket on its address, no inventory there
            assertEquals(List.of(), scoped.of(client), "records of the client");
            assertEquals(List.of(), scoped.atAddress(clientIp), "records of sockets of the client's namespace");
            Set<Long> cookies = new HashSet<>();
            Set<Long> inodes = new HashSet<>();
            for (JsonNode r : scoped.records()) {
                if (r.hasNonNull("netns")) {
                    assertEquals(serverIno, r.get("netns").asLong(), "every namespace named is the server's: " + r);
                    if (r.hasNonNull("socketCookie")) {
                        cookies.add(r.get("socketCookie").asLong());
                    }
                    if (r.hasNonNull("socketInode")) {
                        inodes.add(r.get("socketInode").asLong());
                    }
                }
            }
            for (JsonNode r : scoped.records()) {
                if (!r.hasNonNull("netns") && !r.path("kind").asText().equals("CAPTURE_START")) {
                    // a record that names no namespace (a close that freed its socket, the RTT the kernel sums per
                    // socket) is of a socket that other records place in the server's
                    assertTrue(
                            cookies.contains(r.path("socketCookie").asLong(-1))
                                    || inodes.contains(r.path("socketInode").asLong(-1)),
                            "without a namespace, a socket of the server's: " + r);
                }
            }
            assertFalse(
                    scoped.records().stream()
                            .anyMatch(r -> r.path("kind")
                                    .asText()
                                    .matches("SKB_DROPS|NETDEV_TRAFFIC|XDP_ERRORS|UDP_QUEUE_OVERFLOWS")),
                    "no host-wide counters from a namespace's collector");

            Run all = capture(List.of(), serverNs, clientNs, serverIp);
            long server2 = all.workload().serverPid();
            long client2 = all.workload().clientPid();
            assertTrue(
                    all.of(client2).stream()
                            .anyMatch(r -> r.path("kind").asText().equals("CONNECT")
                                    && r.path("netns").asLong() == clientIno),
                    "unscoped, the client's connect, in its namespace: " + all.of(client2));
            assertTrue(
                    all.of(server2).stream()
                            .anyMatch(r -> r.path("kind").asText().startsWith("ACCEPT")
                                    && r.path("netns").asLong() == serverIno),
                    "unscoped, the server's accept, in its namespace: " + all.of(server2));
            for (String ip : List.of(serverIp, clientIp)) {
                assertTrue(
                        all.atAddress(ip).stream()
                                .anyMatch(r -> r.path("kind").asText().equals("INVENTORY")
                                        && r.path("localPort").asInt() == PORT + 1),
                        "unscoped, the inventory found the listener on " + ip);
            }
        } finally {
            for (Process p : started) {
                p.destroyForcibly();
            }
            new ProcessBuilder("ip", "netns", "del", serverNs).start().waitFor();
            new ProcessBuilder("ip", "netns", "del", clientNs).start().waitFor();
        }
    }
}
