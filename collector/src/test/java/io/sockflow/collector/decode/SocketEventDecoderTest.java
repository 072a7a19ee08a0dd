package io.sockflow.collector.decode;

import static io.sockflow.collector.bpf.EventLayout.*;
import static java.lang.foreign.ValueLayout.*;
import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.collector.bpf.EventLayout;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The decoder on records made by hand, including ones the kernel should never send. */
class SocketEventDecoderTest {
    final HostInfo host = new HostInfo("h1", "boot-1", 1_000_000_000_000_000_000L);
    final SocketEventDecoder decoder = new SocketEventDecoder(host);
    final Arena arena = Arena.ofAuto();

    MemorySegment record(int kind) {
        MemorySegment r = arena.allocate(EventLayout.SIZE, 8);
        r.set(JAVA_SHORT_UNALIGNED, KIND, (short) kind);
        r.set(JAVA_LONG_UNALIGNED, TS_NS, 5_000_123_456L);
        r.set(JAVA_INT_UNALIGNED, PID, 42);
        r.set(JAVA_INT_UNALIGNED, TID, 43);
        r.set(JAVA_INT_UNALIGNED, PEER_FD, -1);
        r.set(JAVA_INT_UNALIGNED, PEER_FD2, -1);
        MemorySegment.copy("curl\0".getBytes(StandardCharsets.US_ASCII), 0, r, JAVA_BYTE, COMM, 5);
        return r;
    }

    void data(MemorySegment r, int kind, byte[] bytes, int declaredLen) {
        r.set(JAVA_SHORT_UNALIGNED, DATA_KIND, (short) kind);
        r.set(JAVA_SHORT_UNALIGNED, DATA_LEN_OFF, (short) declaredLen);
        MemorySegment.copy(bytes, 0, r, JAVA_BYTE, DATA, Math.min(bytes.length, DATA_LEN));
    }

    @Test
    void timeIsConvertedFromTheBootClockOnce() {
        SocketEvent e = decoder.decode(record(1));
        assertEquals(5_000_123_456L, e.getMonotonicNs());
        assertEquals(1_000_000_005L, e.getTimestamp().getEpochSecond());
        assertEquals(123_000, e.getTimestamp().getNano(), "timestamp-micros keeps microseconds; monotonicNs the rest");
        assertEquals("h1", e.getHost());
        assertEquals("boot-1", e.getBootId());
        assertEquals("curl", e.getComm());
    }

    @Test
    void unknownKindsDecodeAsUnknownInsteadOfFailing() {
        assertEquals(EventKind.UNKNOWN, decoder.decode(record(999)).getKind());
        assertEquals(EventKind.UNKNOWN, decoder.decode(record(0)).getKind());
    }

    /** The kernel's number of IO_URING_SUBMIT, from the contract. */
    static int ioUringSubmit() {
        return Math.toIntExact(
                io.sockflow.collector.bpf.KernelContract.get().value("sf_kind", "SF_KIND_IO_URING_SUBMIT"));
    }

    /**
     * Before 6.10 tcp_send_reset passes no reason, and the program for those kernels says so with -1: the record has
     * no reason rather than reason 0's name (NOT_SPECIFIED) or a made-up REASON_0. Where the kernel passes one, even
     * 0, it is named.
     */
    @Test
    void aResetFromAKernelThatPassesNoReasonHasNoneAndAPassedReasonIsKept() {
        int reset = Math.toIntExact(
                io.sockflow.collector.bpf.KernelContract.get().value("sf_kind", "SF_KIND_TCP_SEND_RESET"));
        MemorySegment r = record(reset);
        r.set(JAVA_INT_UNALIGNED, ARG_B, -1);
        SocketEvent none = decoder.decode(r);
        assertEquals(EventKind.TCP_SEND_RESET, none.getKind());
        assertNull(none.getReason(), none.toString());
        r.set(JAVA_INT_UNALIGNED, ARG_B, 0);
        assertNotNull(decoder.decode(r).getReason(), "reason 0 is a reason the kernel gave (NOT_SPECIFIED)");
        r.set(JAVA_INT_UNALIGNED, ARG_B, 3);
        assertNotNull(decoder.decode(r).getReason());
    }

    @Test
    void ioUringRequestsAreNamedByOpcodeAndARegisteredFileIsNoDescriptor() {
        MemorySegment r = record(ioUringSubmit());
        r.set(JAVA_INT_UNALIGNED, IO_URING_OP, 45); // IORING_OP_SOCKET
        r.set(JAVA_INT_UNALIGNED, FD, -1);
        r.set(JAVA_INT_UNALIGNED, ARG_A, 10);
        r.set(JAVA_INT_UNALIGNED, ARG_B, 1);
        SocketEvent socket = decoder.decode(r);
        assertEquals(EventKind.IO_URING_SUBMIT, socket.getKind());
        assertEquals("SOCKET", socket.getIoUringOp());
        assertEquals("AF_INET6", socket.getArgFamily());
        assertEquals("SOCK_STREAM", socket.getArgType());
        assertNull(socket.getFd());
        assertEquals("CALLER", socket.getAttribution());

        MemorySegment send = record(ioUringSubmit());
        send.set(JAVA_INT_UNALIGNED, IO_URING_OP, 26); // IORING_OP_SEND
        send.set(JAVA_INT_UNALIGNED, FD, 7);
        send.set(JAVA_LONG_UNALIGNED, ARG_FLAGS, 0x40L); // MSG_DONTWAIT
        SocketEvent s = decoder.decode(send);
        assertEquals("SEND", s.getIoUringOp());
        assertEquals(7, s.getFd());
        assertEquals("MSG_DONTWAIT", s.getFlagNames());
        assertNull(s.getBytes(), "a request's outcome is not known at submission");

        send.set(JAVA_SHORT_UNALIGNED, FLAGS, (short) FLAG_FIXED_FILE);
        assertNull(decoder.decode(send).getFd(), "an index into the ring's registered files is no descriptor");

        send.set(JAVA_INT_UNALIGNED, IO_URING_OP, 200);
        assertEquals("OP_200", decoder.decode(send).getIoUringOp());
        assertNull(decoder.decode(record(11)).getIoUringOp(), "other kinds carry none");
    }

    @Test
    void anOversizedDataLengthIsClampedToTheBuffer() {
        MemorySegment r = record(7);
        byte[] path = new byte[DATA_LEN];
        path[0] = 1; // AF_UNIX
        for (int i = 2; i < path.length; i++) {
            path[i] = 'a';
        }
        data(r, 1, path, 60_000);
        SocketEvent e = decoder.decode(r);
        assertEquals(DATA_LEN, e.getSockaddrBytes().remaining());
        assertEquals(DATA_LEN - 2, e.getSockaddrAddress().length());
    }

    @Test
    void aTruncatedSockaddrKeepsItsFamilyAndBytesButNoAddress() {
        MemorySegment r = record(11);
        data(r, 1, new byte[] {2, 0, 0x1f}, 3);
        SocketEvent e = decoder.decode(r);
        assertEquals("AF_INET", e.getSockaddrFamily());
        assertNull(e.getSockaddrAddress());
        assertNull(e.getSockaddrPort());
        assertEquals(3, e.getSockaddrBytes().remaining());
    }

    @Test
    void errnoIsNamedOnlyForErrorReturns() {
        MemorySegment r = record(11);
        r.set(JAVA_LONG_UNALIGNED, RET, -111L);
        assertEquals("ECONNREFUSED", decoder.decode(r).getErrno());
        r.set(JAVA_LONG_UNALIGNED, RET, -100_000L); // not an errno range value
        assertNull(decoder.decode(r).getErrno());
        r.set(JAVA_LONG_UNALIGNED, RET, -4000L);
        assertEquals("E4000", decoder.decode(r).getErrno());
    }

    @Test
    void aReusedObjectCarriesNothingOver() {
        SocketEvent reused = new SocketEvent();
        MemorySegment listen = record(8);
        listen.set(JAVA_INT_UNALIGNED, ARG_A, 128);
        decoder.decode(listen, reused);
        assertEquals(128, reused.getBacklog());
        decoder.decode(record(12), reused);
        assertNull(reused.getBacklog());
        assertEquals("SHUT_RD", reused.getShutdownHow());
    }

    @Test
    void hostNamesAreTakenAsGiven() {
        MemorySegment r = record(19);
        data(r, 2, "db-7".getBytes(StandardCharsets.UTF_8), 4);
        SocketEvent e = decoder.decode(r);
        assertEquals("db-7", e.getName());
        assertNull(e.getFd());
    }

    @Test
    void ipv6TextFollowsRfc5952() {
        assertEquals("::1", InetText.ipv6(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 0));
        assertEquals("::", InetText.ipv6(new byte[16], 0));
        assertEquals(
                "2001:db8::1:0:0:1",
                InetText.ipv6(new byte[] {0x20, 0x01, 0x0d, (byte) 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1}, 0));
        assertEquals(
                "2001:db8:0:1:1:1:1:1",
                InetText.ipv6(new byte[] {0x20, 0x01, 0x0d, (byte) 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1}, 0),
                "a single zero group is not compressed");
        assertEquals(
                "::ffff:10.0.0.1",
                InetText.ipv6(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 10, 0, 0, 1}, 0));
    }

    @Test
    void namesOfConstants() {
        assertEquals("SOCK_DGRAM|SOCK_NONBLOCK", SocketNames.typeWithFlags(2 | 0x800));
        assertEquals("MSG_PEEK|MSG_DONTWAIT", SocketNames.msgFlags(0x2 | 0x40));
        assertEquals("TCP_NODELAY", SocketNames.optionName(6, 1));
        assertEquals("SO_KEEPALIVE", SocketNames.optionName(1, 9));
        assertEquals("AF_PACKET", SocketNames.family(17));
        assertEquals("AF_NETLINK", SocketNames.family(16));
        assertEquals("AF_999", SocketNames.family(999));
        assertEquals("SOCK_RAW", SocketNames.type(3));
    }
}
