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

    public byte[] toByteArray() {
        return Arrays.copyOf(buf, pos);
    }

    private void ensure(int n) {
        if (pos + n > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + n));
        }
    }

    public void writeRawByte(int b) {
        ensure(1);
        buf[pos++] = (byte) b;
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
        ensure(10);
        long n = (v << 1) ^ (v >> 63);
        if ((n & ~0x7FL) == 0) {
            buf[pos++] = (byte) n; // most values here are small: one byte
            return;
        }
        while ((n & ~0x7FL) != 0) {
            buf[pos++] = (byte) ((n & 0x7F) | 0x80);
            n >>>= 7;
        }
        buf[pos++] = (byte) n;
    }

    public void writeBoolean(boolean b) {
        writeRawByte(b ? 1 : 0);
    }

    public void writeString(String s) {
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
