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
     * Two ways per set, so that two hot strings whose hashes collide (a host and a process name) do not evict each
     * other. The encodings live in one array of fixed-size slots, reused: a miss allocates nothing.
     */
    private static final int RECENT = 256;

    private static final int SLOT = 64;
    private final String[] recent = new String[RECENT];
    /** The slot of {@code store} that holds the encoding of {@code recent[way]}; ways swap slots, not bytes. */
    private final int[] slotOf = new int[RECENT];

    private final byte[] length = new byte[RECENT];
    private final byte[] store = new byte[RECENT * SLOT];

    {
        for (int i = 0; i < RECENT; i++) {
            slotOf[i] = i;
        }
    }

    public void writeString(String s) {
        int way = (s.hashCode() & (RECENT / 2 - 1)) << 1;
        if (recent[way] == s) {
            copyRecent(slotOf[way]);
            return;
        }
        int other = way + 1;
        if (recent[other] == s) {
            int slot = slotOf[other];
            copyRecent(slot);
            // the one just used goes first
            recent[other] = recent[way];
            slotOf[other] = slotOf[way];
            recent[way] = s;
            slotOf[way] = slot;
            return;
        }
        int start = pos;
        writeStringEncoded(s);
        int n = pos - start;
        if (n <= SLOT) {
            // the second way's slot is the one evicted; the first way's string moves there
            int slot = slotOf[other];
            recent[other] = recent[way];
            slotOf[other] = slotOf[way];
            recent[way] = s;
            slotOf[way] = slot;
            System.arraycopy(buf, start, store, slot * SLOT, n);
            length[slot] = (byte) n;
        }
    }

    private void copyRecent(int slot) {
        int n = length[slot] & 0xff;
        ensure(n);
        System.arraycopy(store, slot * SLOT, buf, pos, n);
        pos += n;
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
