package io.sockflow.collector.capture;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.collector.LiveCapture;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * io_uring on the real kernel: a process that makes, connects and uses a TCP socket through an io_uring alone (the
 * workload in resources/iouring, built here with the host's C compiler) makes no network system call, and is seen
 * anyway, request by request.
 */
@Tag("root")
class IoUringCaptureTest {
    private static final Pattern SK = Pattern.compile("\\bsk:([0-9a-f]+)");

    /** The workload, built with cc; the test is skipped, saying why, where it cannot be built. */
    static Path build(Path dir) throws Exception {
        String cc = null;
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(d, "cc"))) {
                cc = Path.of(d, "cc").toString();
                break;
            }
        }
        Assumptions.assumeTrue(cc != null, "no C compiler (cc) on the PATH: install gcc or clang to run this test");
        Path src = dir.resolve("uring_net.c");
        try (InputStream in = IoUringCaptureTest.class.getResourceAsStream("/iouring/uring_net.c")) {
            Files.copy(in, src);
        }
        Path bin = dir.resolve("uring_net");
        Process p = new ProcessBuilder(cc, "-O2", "-o", bin.toString(), src.toString())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        Assumptions.assumeTrue(
                p.waitFor() == 0,
                "cannot build the io_uring workload (the kernel headers may predate IORING_OP_SOCKET, 5.19): " + out);
        return bin;
    }

    /** The cookie the kernel shows for a process's descriptor (ss -tnpe: sk:HEX), or -1 when ss lists none. */
    static long ssCookie(long pid, int fd) throws Exception {
        Process ss = new ProcessBuilder("ss", "-tnpe").redirectErrorStream(true).start();
        String out = new String(ss.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        ss.waitFor();
        for (String line : out.split("\n")) {
            Matcher m = SK.matcher(line);
            if (line.contains("pid=" + pid + ",fd=" + fd + ")") && m.find()) {
                return Long.parseUnsignedLong(m.group(1), 16);
            }
        }
        return -1;
    }

    @Test
    void aConnectionMadeAndUsedThroughIoUringAloneIsRecordedRequestByRequestWithTheKernelsCookie(@TempDir Path dir)
            throws Exception {
        Path bin = build(dir);
        Path err = dir.resolve("stderr");
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = listener.getLocalPort();
            Process client = new ProcessBuilder(bin.toString(), Integer.toString(port))
                    .redirectError(err.toFile())
                    .start();
            Writer toClient = new OutputStreamWriter(client.getOutputStream(), StandardCharsets.US_ASCII);
            BufferedReader fromClient =
                    new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.US_ASCII));
            try {
                String first = fromClient.readLine();
                assertNotNull(first, "the workload did not start: " + Files.readString(err));
                int pid = Integer.parseInt(first.trim());
                try (LiveCapture live = new LiveCapture(CaptureOptions.defaults(), List.of(pid)).start()) {
                    toClient.write("go\n");
                    toClient.flush();
                    String fdLine = fromClient.readLine();
                    assertNotNull(fdLine, "the workload failed: " + Files.readString(err));
                    int fd = Integer.parseInt(fdLine.trim());
                    try (Socket accepted = listener.accept()) {
                        assertEquals(
                                "hello",
                                new String(accepted.getInputStream().readNBytes(5), StandardCharsets.US_ASCII));
                        long cookie = ssCookie(pid, fd);
                        assertNotEquals(-1L, cookie, "ss shows the connection of pid " + pid + " fd " + fd);

                        SocketEvent send = live.await(
                                e -> e.getKind() == EventKind.IO_URING_SUBMIT
                                        && e.getPid() == pid
                                        && "SEND".equals(e.getIoUringOp()),
                                Duration.ofSeconds(10));
                        List<SocketEvent> submits = live.events().stream()
                                .filter(e -> e.getKind() == EventKind.IO_URING_SUBMIT && e.getPid() == pid)
                                .toList();
                        assertEquals(
                                List.of("SOCKET", "CONNECT", "SEND"),
                                submits.stream().map(SocketEvent::getIoUringOp).toList(),
                                submits.toString());
                        for (SocketEvent e : submits) {
                            assertEquals("uring_net", e.getComm(), e.toString());
                            assertEquals("CALLER", e.getAttribution(), e.toString());
                        }

                        SocketEvent socket = submits.get(0);
                        assertEquals("AF_INET", socket.getArgFamily(), socket.toString());
                        assertEquals("SOCK_STREAM", socket.getArgType(), socket.toString());
                        assertNull(socket.getFd(), "a socket request names no descriptor: " + socket);
                        assertNull(socket.getSocketCookie(), "its socket does not exist yet: " + socket);

                        SocketEvent connect = submits.get(1);
                        assertEquals(fd, connect.getFd(), connect.toString());
                        assertEquals(cookie, connect.getSocketCookie(), "the kernel's cookie (ss sk:): " + connect);
                        assertEquals("AF_INET", connect.getFamily(), connect.toString());
                        assertEquals("SOCK_STREAM", connect.getSocketType(), connect.toString());
                        assertEquals("TCP", connect.getProtocol(), connect.toString());
                        assertEquals("127.0.0.1", connect.getSockaddrAddress(), "where it connects to: " + connect);
                        assertEquals(port, connect.getSockaddrPort(), connect.toString());

                        assertEquals(fd, send.getFd(), send.toString());
                        assertEquals(cookie, send.getSocketCookie(), "the kernel's cookie (ss sk:): " + send);
                        assertEquals(port, send.getRemotePort(), "connected by then: " + send);

                        Set<EventKind> calls =
                                EnumSet.of(EventKind.SOCKET, EventKind.CONNECT, EventKind.SENDTO, EventKind.SENDMSG);
                        assertTrue(
                                live.events().stream().noneMatch(e -> e.getPid() == pid && calls.contains(e.getKind())),
                                "no network system call was made: io_uring is all there is to see");
                    }
                }
            } finally {
                try {
                    toClient.write("done\n");
                    toClient.flush();
                } catch (java.io.IOException gone) {
                    // it has exited already
                }
                if (!client.waitFor(10, TimeUnit.SECONDS)) {
                    client.destroyForcibly().waitFor();
                }
            }
        }
    }
}
