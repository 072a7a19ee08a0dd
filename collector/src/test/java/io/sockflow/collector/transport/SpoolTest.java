package io.sockflow.collector.transport;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The on-disk spool: order, bounds, policies, restarts and damage. */
class SpoolTest {
    /** Spools a test opened: closed after it, so that no sync thread outlives its folder. */
    static final List<Spool> OPENED = new ArrayList<>();

    static Spool spool(Path dir, long maxBytes, long segmentBytes, Spool.FullPolicy policy) {
        Spool s = new Spool(dir, maxBytes, segmentBytes, policy);
        OPENED.add(s);
        return s;
    }

    @AfterEach
    void closeAll() {
        OPENED.forEach(Spool::close);
        OPENED.clear();
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static List<String> drain(Spool s, boolean ack) {
        List<String> out = new ArrayList<>();
        Spool.Entry e;
        while ((e = s.next()) != null) {
            out.add(new String(e.value(), StandardCharsets.UTF_8));
            if (ack) {
                s.acknowledge(e.segment());
            }
        }
        return out;
    }

    @Test
    void recordsComeBackInOrderAcrossSegmentsAndAreDeletedWhenAcknowledged(@TempDir Path dir) throws IOException {
        Spool s = spool(dir, 1 << 20, 256, Spool.FullPolicy.DROP_NEWEST);
        for (int i = 0; i < 100; i++) {
            assertTrue(s.append(b("k" + i % 3), b("v" + i)));
        }
        assertTrue(s.segmentNumbers().size() > 5, "small segments roll");
        List<String> got = drain(s, true);
        assertEquals(100, got.size());
        for (int i = 0; i < 100; i++) {
            assertEquals("v" + i, got.get(i));
        }
        assertEquals(0, s.depth());
        s.close();
        try (Stream<Path> files = Files.list(dir)) {
            assertTrue(files.count() <= 1, "acknowledged segments are deleted");
        }
    }

    @Test
    void appendsWhileReadingKeepTheirPlace(@TempDir Path dir) {
        Spool s = spool(dir, 1 << 20, 128, Spool.FullPolicy.DROP_NEWEST);
        s.append(b("k"), b("a"));
        s.append(b("k"), b("b"));
        assertEquals("a", new String(s.next().value(), StandardCharsets.UTF_8));
        s.append(b("k"), b("c"));
        assertEquals(List.of("b", "c"), drain(s, false));
        assertTrue(s.hasUnread() == false);
        assertEquals(3, s.depth(), "handed out is not acknowledged");
    }

    @Test
    void whenFullDropNewestKeepsTheOldestAndCountsTheRest(@TempDir Path dir) {
        Spool s = spool(dir, 2048, 512, Spool.FullPolicy.DROP_NEWEST);
        int accepted = 0;
        for (int i = 0; i < 500; i++) {
            accepted += s.append(b("k"), b("value-" + i)) ? 1 : 0;
        }
        assertEquals(500, accepted + s.dropped(), "every record is either kept or counted");
        List<String> kept = drain(s, true);
        assertEquals(accepted, kept.size());
        assertEquals("value-0", kept.getFirst());
    }

    @Test
    void whenFullDropOldestKeepsTheNewestAndCountsTheRest(@TempDir Path dir) {
        Spool s = spool(dir, 2048, 512, Spool.FullPolicy.DROP_OLDEST);
        for (int i = 0; i < 500; i++) {
            assertTrue(s.append(b("k"), b("value-" + i)));
        }
        List<String> kept = drain(s, true);
        assertEquals(500, kept.size() + s.dropped());
        assertEquals("value-499", kept.getLast());
        assertNotEquals("value-0", kept.getFirst());
    }

    @Test
    void aRestartReplaysWhatWasNotAcknowledged(@TempDir Path dir) {
        Spool s = spool(dir, 1 << 20, 1 << 16, Spool.FullPolicy.DROP_NEWEST);
        for (int i = 0; i < 10; i++) {
            s.append(b("k"), b("v" + i));
        }
        s.close();
        Spool again = spool(dir, 1 << 20, 1 << 16, Spool.FullPolicy.DROP_NEWEST);
        assertEquals(10, again.depth());
        assertEquals(10, drain(again, true).size());
    }

    @Test
    void prependedRecordsComeFirst(@TempDir Path dir) {
        Spool s = spool(dir, 1 << 20, 1 << 16, Spool.FullPolicy.DROP_NEWEST);
        s.append(b("k"), b("later"));
        s.prepend(List.of(new byte[][] {b("k"), b("earlier-1")}, new byte[][] {b("k"), b("earlier-2")}));
        assertEquals(List.of("earlier-1", "earlier-2", "later"), drain(s, true));
    }

    @Test
    void aTornTailIsSkippedAndCounted(@TempDir Path dir) throws IOException {
        Spool s = spool(dir, 1 << 20, 1 << 16, Spool.FullPolicy.DROP_NEWEST);
        for (int i = 0; i < 5; i++) {
            s.append(b("k"), b("v" + i));
        }
        s.close();
        Path seg;
        try (Stream<Path> files = Files.list(dir)) {
            seg = files.filter(p -> p.toString().endsWith(".seg")).findFirst().orElseThrow();
        }
        try (RandomAccessFile f = new RandomAccessFile(seg.toFile(), "rw")) {
            f.setLength(f.length() - 3); // a crash in the middle of the last write
        }
        Spool again = spool(dir, 1 << 20, 1 << 16, Spool.FullPolicy.DROP_NEWEST);
        assertEquals(List.of("v0", "v1", "v2", "v3"), drain(again, true));
        assertEquals(1, again.corrupt());
    }
}
