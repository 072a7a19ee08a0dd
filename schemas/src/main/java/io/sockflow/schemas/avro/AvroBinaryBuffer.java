package io.sockflow.schemas.avro;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** A growable byte buffer with Avro's binary encodings (zig-zag varints, length-prefixed strings and bytes). */
public final class AvroBinaryBuffer {
    private byte[] buf;
    private int pos;

    public AvroBinaryBuffer(int initialCapacity) {
        buf = new byte[initialCapacity];
    }

    public void reset() {
        pos = 0;
    }

    public int size() {
        return pos;
    }

    /** Writes the bytes so far to {@code out}, without a copy. */
    public void writeTo(java.io.DataOutput out) throws java.io.IOException {
        out.write(buf, 0, pos);
    }

    public byte[] toByteArray() {
        return Arrays.copyOf(buf, pos);
    }

    private void ensure(int n) {
        if (pos + n > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + n));
        }
    }

    public void writeRawByte(int b) {
        int p = pos;
        if (p >= buf.length) {
            ensure(1);
        }
        buf[p] = (byte) b;
        pos = p + 1;
    }

    public void writeRaw(byte[] b, int off, int len) {
        ensure(len);
        System.arraycopy(b, off, buf, pos, len);
        pos += len;
    }

    public void writeInt(int v) {
        writeLong(v);
    }

    public void writeLong(long v) {
        long n = (v << 1) ^ (v >> 63);
        int p = pos;
        if ((n & ~0x7FL) == 0 && p < buf.length) {
            buf[p] = (byte) n; // most values here are small: one byte, a case small enough to be inlined everywhere
            pos = p + 1;
            return;
        }
        writeVarint(n);
    }

    private void writeVarint(long n) {
        if (pos + 10 > buf.length) {
            ensure(10);
        }
        byte[] b = buf;
        int p = pos;
        while ((n & ~0x7FL) != 0) {
            b[p++] = (byte) ((n & 0x7F) | 0x80);
            n >>>= 7;
        }
        b[p++] = (byte) n;
        pos = p;
    }

    public void writeBoolean(boolean b) {
        writeRawByte(b ? 1 : 0);
    }

    /**
     * Encodings of recently written strings, by identity: an event's host, boot id, process name, family and most
     * addresses are the same String instances event after event, so their bytes are copied instead of re-encoded.
     */
    private final String[] recent = new String[RECENT];

    private final byte[][] recentBytes = new byte[RECENT][];
    private static final int RECENT = 256;

    public void writeString(String s) {
        // two ways per set: two hot strings whose hashes collide (a host and a process name) do not evict each other
        int way = (s.hashCode() & (RECENT / 2 - 1)) << 1;
        if (recent[way] == s) {
            copyRecent(way);
            return;
        }
        if (recent[way + 1] == s) {
            copyRecent(way + 1);
            // the one just used goes first
            recent[way + 1] = recent[way];
            recent[way] = s;
            byte[] b = recentBytes[way + 1];
            recentBytes[way + 1] = recentBytes[way];
            recentBytes[way] = b;
            return;
        }
        int start = pos;
        writeStringEncoded(s);
        if (pos - start <= 64) {
            recent[way + 1] = recent[way];
            recentBytes[way + 1] = recentBytes[way];
            recent[way] = s;
            recentBytes[way] = Arrays.copyOfRange(buf, start, pos);
        }
    }

    private void copyRecent(int way) {
        byte[] b = recentBytes[way];
        ensure(b.length);
        System.arraycopy(b, 0, buf, pos, b.length);
        pos += b.length;
    }

    private void writeStringEncoded(String s) {
        int n = s.length();
        if (n < 64 && isAscii(s, n)) {
            // ASCII (names, addresses): one byte per char, written in place
            ensure(1 + n);
            buf[pos++] = (byte) (n << 1);
            for (int i = 0; i < n; i++) {
                buf[pos++] = (byte) s.charAt(i);
            }
            return;
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        writeLong(b.length);
        writeRaw(b, 0, b.length);
    }

    private static boolean isAscii(String s, int n) {
        for (int i = 0; i < n; i++) {
            if (s.charAt(i) >= 0x80) {
                return false;
            }
        }
        return true;
    }

    public void writeBytes(ByteBuffer bb) {
        int n = bb.remaining();
        writeLong(n);
        ensure(n);
        bb.duplicate().get(buf, pos, n);
        pos += n;
    }
}
