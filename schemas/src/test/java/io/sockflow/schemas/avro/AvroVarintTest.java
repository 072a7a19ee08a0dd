package io.sockflow.schemas.avro;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.Test;

/**
 * Zig-zag varints, written and read a word at a time: byte for byte what Avro's own encoder writes, for every length
 * from one to ten bytes and both signs, wherever in the record the number sits (a word read near the end of a
 * record must not run past it).
 */
class AvroVarintTest {
    static List<Long> values() {
        List<Long> v = new ArrayList<>();
        for (int bits = 0; bits < 64; bits++) {
            long p = 1L << bits;
            for (long x : new long[] {p - 1, p, p + 1, -p, -p - 1, -p + 1}) {
                v.add(x);
            }
        }
        v.addAll(List.of(Long.MAX_VALUE, Long.MIN_VALUE, 0L, -1L, 1_764_000_000_000_000L, 0xffff888100000000L));
        Random r = new Random(3);
        for (int i = 0; i < 20_000; i++) {
            v.add(r.nextLong() >> r.nextInt(64));
        }
        return v;
    }

    private static byte[] avro(long x) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder e = EncoderFactory.get().directBinaryEncoder(out, null);
        e.writeLong(x);
        e.flush();
        return out.toByteArray();
    }

    @Test
    void writesWhatAvroWritesForEveryLength() throws IOException {
        AvroBinaryBuffer b = new AvroBinaryBuffer(1); // grows: a word written at the end of the array must fit
        for (long x : values()) {
            b.reset();
            b.writeLong(x);
            assertArrayEquals(avro(x), b.toByteArray(), () -> "value " + x);
        }
    }

    @Test
    void readsBackEveryValueAtEveryDistanceFromTheEnd() throws IOException {
        AvroBinaryInput in = new AvroBinaryInput();
        for (long x : values()) {
            byte[] enc = avro(x);
            for (int tail = 0; tail <= 9; tail++) {
                // the number, then `tail` more bytes (a one-byte zero each), inside a larger array
                byte[] rec = new byte[3 + enc.length + tail + 5];
                System.arraycopy(enc, 0, rec, 3, enc.length);
                Arrays.fill(rec, 3 + enc.length + tail, rec.length, (byte) 0xFF);
                in.reset(rec, 3, enc.length + tail);
                assertEquals(x, in.readLong(), "value " + x + " with " + tail + " bytes after it");
                for (int i = 0; i < tail; i++) {
                    assertEquals(0, in.readLong());
                }
                assertThrows(IllegalArgumentException.class, in::readLong, "nothing is read past the end");
            }
        }
    }

    @Test
    void truncatedOverlongAndNonMinimalNumbers() {
        AvroBinaryInput in = new AvroBinaryInput();
        // 300 written in three bytes instead of two: readers accept it, as Avro's do
        byte[] padded = {(byte) 0xD8, (byte) 0x84, 0x00, 0, 0, 0, 0, 0, 0, 0};
        assertEquals(300, in.reset(padded, 0, padded.length).readLong());
        // continuation bits up to the end of the record: truncated, with bytes behind the end it must not read
        byte[] cut = {(byte) 0x80, (byte) 0x80, (byte) 0x80, 0x01, 0, 0, 0, 0, 0, 0};
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> in.reset(cut, 0, 3).readLong());
        assertEquals("a number runs past the end of the record", e.getMessage());
        byte[] eleven = new byte[16];
        Arrays.fill(eleven, (byte) 0x80);
        e = assertThrows(
                IllegalArgumentException.class,
                () -> in.reset(eleven, 0, eleven.length).readLong());
        assertEquals("a number longer than 10 bytes", e.getMessage());
    }
}
