package io.sockflow.schemas.avro;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.Test;

/**
 * The buffer's cache of recently written strings never changes what is written: byte for byte Avro's encoding of the
 * same strings, through hits in either way of a set, evictions, strings sharing a set, strings just too long to be
 * kept, non-ASCII text and the empty string, in a long random sequence where the same instances come back.
 */
class AvroStringCacheTest {
    private static byte[] avro(List<String> strings) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder e = EncoderFactory.get().directBinaryEncoder(out, null);
        for (String s : strings) {
            e.writeString(s);
        }
        e.flush();
        return out.toByteArray();
    }

    private static byte[] ours(List<String> strings) {
        AvroBinaryBuffer b = new AvroBinaryBuffer(1);
        for (String s : strings) {
            b.writeString(s);
        }
        return b.toByteArray();
    }

    @Test
    void writesWhatAvroWritesThroughHitsMissesAndEvictions() throws IOException {
        List<String> pool = new ArrayList<>();
        pool.add("");
        pool.add("héllo wörld");
        pool.add("日本語のプロセス");
        pool.add("x".repeat(63)); // 64 bytes with its length: the longest kept
        pool.add("y".repeat(64)); // one more: written, never kept
        pool.add("z".repeat(300));
        for (int i = 0; i < 2_000; i++) {
            pool.add(new String("10.0." + (i / 256) + "." + (i % 256))); // many distinct instances, many sets shared
        }
        // instances whose hashes fall in one set: three of them take turns in two ways
        String a = "Aa", b = "BB";
        pool.add(a);
        pool.add(b);
        pool.add(new String("Aa"));
        Random r = new Random(11);
        for (int round = 0; round < 20; round++) {
            List<String> seq = new ArrayList<>();
            for (int i = 0; i < 5_000; i++) {
                // mostly a few hot instances, as events repeat their host and process names, and a tail of others
                int k = r.nextInt(10) < 7 ? pool.size() - 1 - r.nextInt(8) : r.nextInt(pool.size());
                seq.add(pool.get(k));
            }
            assertArrayEquals(avro(seq), ours(seq), "round " + round);
        }
    }

    @Test
    void aReusedBufferWritesTheSameAsAFreshOne() throws IOException {
        AvroBinaryBuffer reused = new AvroBinaryBuffer(8);
        List<String> seq = List.of("host-a", "worker", "host-a", "AF_INET", "worker", "10.0.0.1", "host-a");
        for (int i = 0; i < 3; i++) {
            reused.reset();
            for (String s : seq) {
                reused.writeString(s);
            }
            assertArrayEquals(avro(seq), reused.toByteArray(), "record " + i);
        }
    }
}
