package io.sockflow.schemas.avro;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads Avro's binary encodings (zig-zag varints, length-prefixed strings and bytes) from a byte array, checking
 * every length against the end: a malformed record ends in an {@link IllegalArgumentException}, never in a read
 * past it. Strings decoded recently are returned again when the same bytes come (host, boot id, process names,
 * families, addresses repeat event after event): fewer objects, and lifecycle state that shares them.
 */
public final class AvroBinaryInput {
    private static final int RECENT = 256;
    private final byte[][] recentBytes = new byte[RECENT][];
    private final String[] recent = new String[RECENT];
    private byte[] buf;
    private int pos;
    private int end;

    /** Reads {@code len} bytes of {@code b} from {@code off}. */
    public AvroBinaryInput reset(byte[] b, int off, int len) {
        if (off < 0 || len < 0 || off + len > b.length) {
            throw new IllegalArgumentException("bad range " + off + "+" + len + " of " + b.length + " bytes");
        }
        buf = b;
        pos = off;
        end = off + len;
        return this;
    }

    public boolean atEnd() {
        return pos == end;
    }

    public int remaining() {
        return end - pos;
    }

    public long readLong() {
        // most numbers in these records take one byte: that case is small enough to be inlined everywhere
        int p = pos;
        if (p < end) {
            int b = buf[p];
            if (b >= 0) {
                pos = p + 1;
                return (b >>> 1) ^ -(b & 1);
            }
        }
        return readLongSlow();
    }

    private long readLongSlow() {
        byte[] b = buf;
        int p = pos;
        int limit = Math.min(end, p + 10);
        long n = 0;
        for (int shift = 0; p < limit; shift += 7) {
            byte x = b[p++];
            n |= (long) (x & 0x7F) << shift;
            if (x >= 0) {
                pos = p;
                return (n >>> 1) ^ -(n & 1);
            }
        }
        if (p >= end) {
            throw new IllegalArgumentException("a number runs past the end of the record");
        }
        throw new IllegalArgumentException("a number longer than 10 bytes");
    }

    public int readInt() {
        long v = readLong();
        if (v != (int) v) {
            throw new IllegalArgumentException("an int out of range: " + v);
        }
        return (int) v;
    }

    /** A union's branch index. */
    public int readIndex() {
        int p = pos;
        if (p < end) {
            int b = buf[p];
            if (b == 0 || b == 2) { // zig-zag 0 and 1
                pos = p + 1;
                return b >> 1;
            }
        }
        int i = readInt();
        throw new IllegalArgumentException("a union branch " + i + " where there are two");
    }

    /** {@code n} bytes, little-endian (Avro's float and double). */
    public long readFixed(int n) {
        if (n > end - pos) {
            throw new IllegalArgumentException("a " + n + "-byte number with " + (end - pos) + " bytes left");
        }
        long v = 0;
        for (int i = 0; i < n; i++) {
            v |= (buf[pos++] & 0xFFL) << (8 * i);
        }
        return v;
    }

    public boolean readBoolean() {
        if (pos >= end) {
            throw new IllegalArgumentException("a boolean past the end of the record");
        }
        return buf[pos++] != 0;
    }

    private int length() {
        long n = readLong();
        if (n < 0 || n > end - pos) {
            throw new IllegalArgumentException("a length of " + n + " with " + (end - pos) + " bytes left");
        }
        return (int) n;
    }

    public String readString() {
        int n = length();
        // two ways per set: two hot strings whose hashes collide (a host and a process name) do not evict each other
        int way = (hash(buf, pos, n) & (RECENT / 2 - 1)) << 1;
        byte[] seen = recentBytes[way];
        if (seen != null && Arrays.equals(seen, 0, seen.length, buf, pos, pos + n)) {
            pos += n;
            return recent[way];
        }
        seen = recentBytes[way + 1];
        if (seen != null && Arrays.equals(seen, 0, seen.length, buf, pos, pos + n)) {
            pos += n;
            String s = recent[way + 1];
            promote(way);
            return s;
        }
        String s = new String(buf, pos, n, StandardCharsets.UTF_8);
        if (n <= 64) {
            // the newest goes first, the one it displaces second, the second's leaves
            recentBytes[way + 1] = recentBytes[way];
            recent[way + 1] = recent[way];
            recentBytes[way] = Arrays.copyOfRange(buf, pos, pos + n);
            recent[way] = s;
        }
        pos += n;
        return s;
    }

    /** Swaps the two ways of a set: the one just used goes first. */
    private void promote(int way) {
        byte[] b = recentBytes[way];
        recentBytes[way] = recentBytes[way + 1];
        recentBytes[way + 1] = b;
        String s = recent[way];
        recent[way] = recent[way + 1];
        recent[way + 1] = s;
    }

    /** Skips {@code n} bytes (a fixed, a float or a double), refusing to go past the end. */
    public void skip(int n) {
        if (n < 0 || n > end - pos) {
            throw new IllegalArgumentException("a " + n + "-byte value with " + (end - pos) + " bytes left");
        }
        pos += n;
    }

    /** Skips a string or bytes value: its length is checked against what is left, nothing is copied. */
    public void skipLengthPrefixed() {
        int n = length(); // read before pos is: the length moves it
        pos += n;
    }

    public ByteBuffer readBytes() {
        int n = length();
        ByteBuffer b = ByteBuffer.wrap(Arrays.copyOfRange(buf, pos, pos + n));
        pos += n;
        return b;
    }

    private static int hash(byte[] b, int off, int n) {
        int h = n;
        int last = off + Math.min(n, 16); // the first 16 bytes tell these strings apart well enough
        for (int i = off; i < last; i++) {
            h = 31 * h + b[i];
        }
        if (n > 16) {
            h = 31 * h + b[off + n - 1];
        }
        return h ^ (h >>> 16);
    }
}
