package io.sockflow.collector.sockets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;

import io.sockflow.collector.bpf.EventLayout;
import io.sockflow.collector.decode.HostInfo;
import io.sockflow.collector.decode.SocketEventDecoder;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The tracker's copy of a record (kept as a socket's template, held while its owner or cookie is awaited): equal to
 * Avro's own deep copy for records of every kind with random contents, and independent of the original afterwards.
 */
class SocketTrackerCopyTest {
    private final SocketEventDecoder decoder =
            new SocketEventDecoder(new HostInfo("h1", "boot-1", 1_000_000_000_000_000_000L));

    private SocketEvent random(Random r, int kind) {
        byte[] b = new byte[(int) EventLayout.SIZE];
        r.nextBytes(b);
        MemorySegment s = MemorySegment.ofArray(b);
        s.set(ValueLayout.JAVA_SHORT_UNALIGNED, EventLayout.KIND, (short) kind);
        return decoder.decode(s);
    }

    @Test
    void equalsAvrosDeepCopyForEveryKind() {
        Random r = new Random(5);
        int withBytes = 0;
        for (int i = 0; i < 20_000; i++) {
            SocketEvent e = random(r, i % 80);
            if (i % 2 == 0) {
                byte[] addr = new byte[4 + r.nextInt(40)];
                r.nextBytes(addr);
                // a buffer whose bytes start past its array's first: what counts is from its position on
                e.setSockaddrBytes(ByteBuffer.wrap(addr, 2, addr.length - 2));
            }
            SocketEvent c = SocketTracker.copy(e);
            assertEquals(SocketEvent.newBuilder(e).build(), c, "record " + i + " of kind " + e.getKind());
            assertNotSame(e, c);
            if (e.getSockaddrBytes() != null) {
                withBytes++;
            }
        }
        // the one bytes field was among what was copied, many times
        assertEquals(true, withBytes >= 10_000, "records with a sockaddr: " + withBytes);
    }

    @Test
    void theCopyIsIndependentOfTheOriginal() {
        SocketEvent e = random(new Random(9), 11);
        e.setSockaddrBytes(ByteBuffer.wrap(new byte[] {2, 0, 0, 80, 127, 0, 0, 1}));
        e.setKind(EventKind.CONNECT);
        SocketEvent c = SocketTracker.copy(e);
        c.setKind(EventKind.SOCK_RELEASE);
        c.setFd(null);
        e.getSockaddrBytes().put(0, (byte) 10); // the original's bytes written after the copy
        assertEquals(EventKind.CONNECT, e.getKind());
        byte[] copied = new byte[c.getSockaddrBytes().remaining()];
        c.getSockaddrBytes().duplicate().get(copied);
        assertArrayEquals(new byte[] {2, 0, 0, 80, 127, 0, 0, 1}, copied);
    }
}
