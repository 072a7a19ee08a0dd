package io.sockflow.collector.decode;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.collector.bpf.EventLayout;
import io.sockflow.collector.sockets.SocketTracker;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.avro.AvroBinaryBuffer;
import io.sockflow.schemas.avro.SocketEventWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Any bytes the ring buffer could hand over (a kernel bug, a contract drift, a torn record) go through the whole
 * user-space path of a kernel record: decode, the socket tracker, the Avro writer. None may throw: a record the
 * collector cannot make sense of is written with what it has, never a crash of the capture thread. Bounded in CI by
 * the number of tries.
 */
class KernelRecordFuzzTest {
    static final int SIZE = (int) EventLayout.SIZE;
    final SocketEventDecoder decoder = new SocketEventDecoder(new HostInfo("h1", "boot-1", 1_000_000_000_000_000_000L));
    final SocketTracker tracker =
            new SocketTracker(SocketTracker.Options.defaults().withExcluded(Set.of(), Set.of()));
    final AvroBinaryBuffer out = new AvroBinaryBuffer(1024);
    long now = 1;

    /** Wholly random records. */
    @Provide
    Arbitrary<byte[]> anyRecord() {
        return Arbitraries.bytes().array(byte[].class).ofSize(SIZE);
    }

    /**
     * Records that look real: every kind number (and a few past the last), small pids, cookies and descriptors from a
     * handful (so the tracker sees the same socket created, used and ended in any order), the rest random.
     */
    @Provide
    Arbitrary<List<byte[]>> plausibleSequence() {
        return Arbitraries.randomValue(r -> {
            List<byte[]> seq = new ArrayList<>();
            int n = 1 + r.nextInt(40);
            for (int i = 0; i < n; i++) {
                byte[] b = new byte[SIZE];
                r.nextBytes(b);
                MemorySegment s = MemorySegment.ofArray(b);
                s.set(ValueLayout.JAVA_SHORT_UNALIGNED, EventLayout.KIND, (short) r.nextInt(80));
                s.set(ValueLayout.JAVA_LONG_UNALIGNED, EventLayout.COOKIE, 1 + r.nextInt(4));
                s.set(ValueLayout.JAVA_INT_UNALIGNED, EventLayout.PID, 100 + r.nextInt(3));
                s.set(ValueLayout.JAVA_LONG_UNALIGNED, EventLayout.TS_NS, 1_000_000L * (i + 1));
                seq.add(b);
            }
            return seq;
        });
    }

    @Property(tries = 2000)
    void anyBytesDecodeTrackAndSerializeWithoutAnError(@ForAll("anyRecord") byte[] b) {
        pass(b);
    }

    @Property(tries = 500)
    void plausibleRecordsInAnyOrderDecodeTrackAndSerializeWithoutAnError(
            @ForAll("plausibleSequence") List<byte[]> seq) {
        for (byte[] b : seq) {
            pass(b);
        }
    }

    private void pass(byte[] b) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment rec = a.allocate(SIZE, 8);
            MemorySegment.copy(b, 0, rec, ValueLayout.JAVA_BYTE, 0, SIZE);
            SocketEvent e = decoder.decode(rec);
            assertNotNull(e.getKind(), "every record has a kind, UNKNOWN at worst");
            List<SocketEvent> emitted = new ArrayList<>();
            tracker.accept(
                    e,
                    SocketEventDecoder.pendingExec(rec),
                    SocketEventDecoder.releasedByKernelThread(rec),
                    now++,
                    emitted::add);
            for (SocketEvent x : emitted) {
                out.reset();
                SocketEventWriter.write(x, out);
                assertTrue(out.size() > 0);
            }
        }
    }
}
