package io.sockflow.collector.decode;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.function.Function;

/**
 * Turns up to 16 bytes of a record (a comm, an address) into a String without allocating when the same bytes
 * were seen recently: the decoder meets the same few process names and addresses millions of times.
 * Direct-mapped and single-threaded.
 */
final class StringCache {
    private static final int SLOTS = 1024;
    /** One layout for every read: a layout made per call would look its access handle up in a shared map. */
    private static final ValueLayout.OfLong LE_LONG = JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final long[] lo = new long[SLOTS];
    private final long[] hi = new long[SLOTS];
    private final int[] tag = new int[SLOTS];
    private final String[] values = new String[SLOTS];
    private final Function<byte[], String> render;

    StringCache(Function<byte[], String> render) {
        this.render = render;
    }

    /** The String for 16 bytes at {@code off}, rendered from those bytes on a miss; {@code kind} separates uses. */
    String get(MemorySegment rec, long off, int kind) {
        long a = rec.get(LE_LONG, off);
        long b = rec.get(LE_LONG, off + 8);
        long h = (a * 0x9E3779B97F4A7C15L) ^ (b * 0xC2B2AE3D27D4EB4FL) ^ kind;
        int slot = (int) ((h ^ (h >>> 29)) & (SLOTS - 1));
        String v = values[slot];
        if (v != null && lo[slot] == a && hi[slot] == b && tag[slot] == kind) {
            return v;
        }
        byte[] bytes = new byte[16];
        MemorySegment.copy(rec, java.lang.foreign.ValueLayout.JAVA_BYTE, off, bytes, 0, 16);
        v = render.apply(bytes);
        lo[slot] = a;
        hi[slot] = b;
        tag[slot] = kind;
        values[slot] = v;
        return v;
    }
}
