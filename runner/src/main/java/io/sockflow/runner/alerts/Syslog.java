package io.sockflow.runner.alerts;

import io.sockflow.schemas.Alert;
import io.sockflow.schemas.Severity;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * The syslog output: each alert as one RFC 5424 message, its MSG the alert's JSON ({@link AlertJson}) on one line.
 * Over UDP one datagram a message; over TCP a connection kept open, each message framed by octet counting (RFC 6587:
 * its length in bytes, a space, the message).
 */
public final class Syslog implements AlertOutputs.Destination {
    /** local0: the facility every alert is sent with. */
    public static final int FACILITY = 16;

    /** What one UDP datagram may carry (IPv4's limit, less headers); a larger message goes without its evidences. */
    static final int MAX_DATAGRAM = 65_000;

    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

    private final String description;
    private final boolean tcp;
    private final InetSocketAddress address;
    private final int timeoutMs;
    private DatagramSocket udp;
    private SocketChannel socket;
    private Selector selector;

    public Syslog(String description, boolean tcp, String host, int port, java.time.Duration timeout) {
        this.description = description;
        this.tcp = tcp;
        this.address = new InetSocketAddress(host, port);
        this.timeoutMs = (int) Math.min(Integer.MAX_VALUE, Math.max(1, timeout.toMillis()));
    }

    /** syslog's severity of an alert: 2 crit, 3 err, 4 warning, 5 notice, 6 info. */
    static int severity(Severity s) {
        return switch (s) {
            case CRITICAL -> 2;
            case HIGH -> 3;
            case MEDIUM -> 4;
            case LOW -> 5;
            case INFO -> 6;
        };
    }

    /**
     * The RFC 5424 message: {@code <PRI>1 TIMESTAMP HOSTNAME sockflow - RULE - JSON}, with the alert's time in UTC
     * (microseconds), its host and rule as HOSTNAME and MSGID (printable ASCII, at most 255 and 32 characters), no
     * PROCID and no structured data.
     */
    public static String message(Alert a, String json) {
        return "<" + (FACILITY * 8 + severity(a.getSeverity())) + ">1 " + TIME.format(a.getTimestamp()) + " "
                + header(a.getHost(), 255) + " sockflow - " + header(a.getRule(), 32) + " - " + json;
    }

    /** A header field: printable US-ASCII without spaces (others become '_'), cut to its length, '-' when empty. */
    static String header(String s, int max) {
        if (s == null || s.isEmpty()) {
            return "-";
        }
        StringBuilder b = new StringBuilder(Math.min(s.length(), max));
        for (int i = 0; i < s.length() && b.length() < max; i++) {
            char c = s.charAt(i);
            b.append(c > 32 && c < 127 ? c : '_');
        }
        return b.toString();
    }

    /** Octet-counting framing (RFC 6587 3.4.1): the message's length in bytes, a space, the message. */
    public static byte[] frame(String message) {
        byte[] m = message.getBytes(StandardCharsets.UTF_8);
        byte[] len = (m.length + " ").getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[len.length + m.length];
        System.arraycopy(len, 0, out, 0, len.length);
        System.arraycopy(m, 0, out, len.length, m.length);
        return out;
    }

    @Override
    public String describe() {
        return "syslog " + description;
    }

    @Override
    public void send(Alert a) throws IOException {
        String msg = message(a, AlertJson.line(a));
        if (tcp) {
            sendTcp(frame(msg));
        } else {
            byte[] b = msg.getBytes(StandardCharsets.UTF_8);
            if (b.length > MAX_DATAGRAM) {
                b = message(a, AlertJson.lineWithoutEvidences(a)).getBytes(StandardCharsets.UTF_8);
            }
            if (udp == null) {
                udp = new DatagramSocket();
            }
            udp.send(new DatagramPacket(b, b.length, address));
        }
    }

    /**
     * TCP has no answer to wait for: a message is sent once the kernel has taken it. A connection the receiver has
     * closed is found before writing (a read that ends) and opened again, so that an alert is not written into it.
     * A receiver that stops reading cannot hold the forwarder: the write waits at most the timeout for room in the
     * connection, then the connection is dropped and the attempt fails (and is retried, or counted, as any other).
     */
    private void sendTcp(byte[] framed) throws IOException {
        if (socket != null && closedByPeer(socket)) {
            closeTcp();
        }
        if (socket == null) {
            SocketChannel ch = SocketChannel.open();
            try {
                ch.socket().connect(address, timeoutMs);
                ch.socket().setTcpNoDelay(true);
                ch.configureBlocking(false);
                selector = Selector.open();
                ch.register(selector, SelectionKey.OP_WRITE);
            } catch (IOException e) {
                ch.close();
                throw e;
            }
            socket = ch;
        }
        try {
            ByteBuffer b = ByteBuffer.wrap(framed);
            long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
            while (b.hasRemaining()) {
                if (socket.write(b) > 0) {
                    continue;
                }
                long left = (deadline - System.nanoTime()) / 1_000_000L;
                if (left <= 0) {
                    throw new SocketTimeoutException(
                            "the syslog receiver took no data for " + timeoutMs + " ms: it stopped reading");
                }
                selector.select(left);
                selector.selectedKeys().clear();
            }
        } catch (IOException e) {
            closeTcp();
            throw e;
        }
    }

    private static boolean closedByPeer(SocketChannel ch) {
        try {
            ByteBuffer junk = ByteBuffer.allocate(4096);
            int n;
            while ((n = ch.read(junk)) > 0) {
                junk.clear(); // a syslog receiver says nothing; whatever it did say is dropped
            }
            return n < 0;
        } catch (IOException e) {
            return true;
        }
    }

    private void closeTcp() {
        if (socket != null) {
            try {
                socket.close();
                selector.close();
            } catch (IOException ignored) {
                // closing
            }
            socket = null;
            selector = null;
        }
    }

    @Override
    public void close() {
        closeTcp();
        if (udp != null) {
            udp.close();
        }
    }

    /** When this is the time: for tests of the framing. */
    static String time(Instant t) {
        return TIME.format(t);
    }
}
