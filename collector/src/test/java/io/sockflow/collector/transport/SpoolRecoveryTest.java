package io.sockflow.collector.transport;

import static io.sockflow.collector.transport.SpoolTest.b;
import static io.sockflow.collector.transport.SpoolTest.drain;
import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a spool folder left by a crash, a power loss or a damaged disk gives back: every record whose frame checks
 * out, in order; the rest counted (records and bytes) once, and said in one log line.
 */
class SpoolRecoveryTest {
    /** Small segments: 40 records of "v0".."v39" in several sealed segments, closed cleanly. */
    static List<String> fill(Path dir, int n) {
        Spool s = new Spool(dir, 1 << 20, 200, Spool.FullPolicy.DROP_NEWEST);
        List<String> written = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            assertTrue(s.append(b("key-" + i % 5), b("v" + i)));
            written.add("v" + i);
        }
        s.close();
        return written;
    }

    static Spool open(Path dir) {
        return SpoolTest.spool(dir, 1 << 20, 200, Spool.FullPolicy.DROP_NEWEST);
    }

    @AfterEach
    void closeAll() {
        SpoolTest.OPENED.forEach(Spool::close);
        SpoolTest.OPENED.clear();
    }

    static List<String> values(SpoolFiles.Segment s) {
        return s.records().stream()
                .map(r -> new String(r[1], java.nio.charset.StandardCharsets.UTF_8))
                .toList();
    }

    static void overwrite(Path p, long at, byte[] bytes) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.seek(at);
            f.write(bytes);
        }
    }

    @Test
    void aCleanStopSealsEverySegmentWithItsCount(@TempDir Path dir) throws IOException {
        fill(dir, 40);
        List<SpoolFiles.Segment> segs = SpoolFiles.segments(dir);
        assertTrue(segs.size() >= 4, "several segments: " + segs.size());
        long total = 0;
        for (SpoolFiles.Segment s : segs) {
            assertTrue(s.sealed(), s.path() + " sealed");
            assertEquals(s.claimed(), s.records().size(), s.path() + " holds what its name says");
            assertEquals(0, s.leftover(), s.path() + " has nothing after its records");
            total += s.records().size();
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(s.path())));
        }
        assertEquals(40, total);
    }

    @Test
    void aSegmentDestroyedWholeIsSkippedAndItsRecordsCountedExactly(@TempDir Path dir) throws IOException {
        List<String> written = fill(dir, 40);
        List<SpoolFiles.Segment> segs = SpoolFiles.segments(dir);
        SpoolFiles.Segment victim = segs.get(segs.size() / 2);
        byte[] noise = new byte[(int) Files.size(victim.path())];
        new Random(7).nextBytes(noise);
        Files.write(victim.path(), noise);

        Spool again = open(dir);
        List<String> expected = new ArrayList<>(written);
        expected.removeAll(values(victim));
        assertEquals(expected, drain(again, true), "every record of the other segments, in order");
        assertEquals(victim.records().size(), again.corrupt(), "the lost records, from the segment's name");
        assertEquals(noise.length, again.lostBytes());
        assertEquals(1, again.damagedSegments());
        assertFalse(Files.exists(victim.path()), "nothing left to read in it");
    }

    @Test
    void theFirstSegmentDestroyedWholeIsCountedExactlyToo(@TempDir Path dir) throws IOException {
        List<String> written = fill(dir, 40);
        SpoolFiles.Segment first = SpoolFiles.segments(dir).getFirst();
        Files.write(first.path(), new byte[(int) Files.size(first.path())]);
        Spool again = open(dir);
        assertEquals(written.subList(first.records().size(), 40), drain(again, true));
        assertEquals(first.records().size(), again.corrupt());
    }

    @Test
    void aBadCrcCostsOnlyItsRecordAndTheRecordsAfterItAreKept(@TempDir Path dir) throws IOException {
        List<String> written = fill(dir, 40);
        SpoolFiles.Segment seg = SpoolFiles.segments(dir).get(1);
        assertTrue(seg.records().size() >= 3);
        long second = seg.offsets().get(1);
        overwrite(seg.path(), second + 12 + 3, new byte[] {'X'}); // inside the second record's key

        Spool again = open(dir);
        List<String> expected = new ArrayList<>(written);
        expected.remove(values(seg).get(1));
        assertEquals(expected, drain(again, true));
        assertEquals(1, again.corrupt());
        assertEquals(12 + 5 + values(seg).get(1).length(), again.lostBytes(), "that frame's bytes");
    }

    @Test
    void aLossIsCountedOnceEvenWhenTheNextRunStopsBeforeSendingIt(@TempDir Path dir) throws IOException {
        fill(dir, 40);
        SpoolFiles.Segment seg = SpoolFiles.segments(dir).get(2);
        overwrite(seg.path(), seg.offsets().getFirst() + 4, new byte[] {1, 2, 3, 4}); // its first CRC
        Spool again = open(dir);
        assertEquals(1, again.corrupt());
        again.close();
        Spool third = open(dir);
        assertEquals(0, third.corrupt(), "the rewritten segment says what was lost, and is not counted again");
        assertEquals(0, third.lostBytes());
        assertEquals(39, drain(third, true).size());
    }

    @Test
    void aTornLastRecordOfTheOpenSegmentIsTheNormalCrash(@TempDir Path dir, @TempDir Path crashed) throws IOException {
        Spool s = SpoolTest.spool(dir, 1 << 20, 1 << 16, Spool.FullPolicy.DROP_NEWEST);
        for (int i = 0; i < 10; i++) {
            s.append(b("k"), b("value-" + i));
        }
        s.flush();
        copy(dir, crashed); // what the disk holds when the process dies here
        s.close();
        SpoolFiles.Segment open = SpoolFiles.segments(crashed).getFirst();
        assertFalse(open.sealed(), "the segment being written keeps its open name");
        try (RandomAccessFile f = new RandomAccessFile(open.path().toFile(), "rw")) {
            f.setLength(f.length() - 5); // the crash came in the middle of the last write
        }
        Spool again = SpoolTest.spool(crashed, 1 << 20, 1 << 16, Spool.FullPolicy.DROP_NEWEST);
        assertEquals(
                List.of(
                        "value-0", "value-1", "value-2", "value-3", "value-4", "value-5", "value-6", "value-7",
                        "value-8"),
                drain(again, true));
        assertEquals(1, again.corrupt(), "the record cut short");
        assertEquals(8 + 4 + 1 + 7 - 5, again.lostBytes(), "the part of it that was written");
    }

    @Test
    void aCrashRightAfterASegmentStartedLosesNothing(@TempDir Path dir) throws IOException {
        fill(dir, 10);
        Files.write(dir.resolve(Spool.openName(99)), new byte[] {0x53, 0x46}); // its header cut short
        Spool again = open(dir);
        assertEquals(10, drain(again, true).size());
        assertEquals(0, again.corrupt());
        assertFalse(Files.exists(dir.resolve(Spool.openName(99))));
    }

    @Test
    void aDamagedHeaderCostsNoRecord(@TempDir Path dir) throws IOException {
        List<String> written = fill(dir, 40);
        SpoolFiles.Segment seg = SpoolFiles.segments(dir).get(1);
        overwrite(seg.path(), 0, new byte[] {0, 0, 0, 0, 0, 0, 0, 0});
        Spool again = open(dir);
        assertEquals(written, drain(again, true));
        assertEquals(0, again.corrupt());
        assertEquals(8, again.lostBytes());
    }

    @Test
    void aSealedSegmentShorterThanItsNameCountsTheMissingRecords(@TempDir Path dir) throws IOException {
        fill(dir, 40);
        SpoolFiles.Segment seg = SpoolFiles.segments(dir).getLast();
        long cut = seg.offsets().get(seg.records().size() - 2); // a power loss took its last two, whole
        try (RandomAccessFile f = new RandomAccessFile(seg.path().toFile(), "rw")) {
            f.setLength(cut);
        }
        Spool again = open(dir);
        assertEquals(38, drain(again, true).size());
        assertEquals(2, again.corrupt());
    }

    @Test
    void strayFilesAreLeftAloneAndCountedAndTheRestIsSent(@TempDir Path dir, @TempDir Path elsewhere)
            throws IOException {
        List<String> written = fill(dir, 20);
        Files.writeString(dir.resolve("spool-abc.seg"), "not a segment");
        Files.writeString(dir.resolve("spool-00000000000000000001.seg.bak"), "a copy someone made");
        Files.writeString(dir.resolve("spool-999999999999999999999.seg"), "a number too large");
        Path target = Files.writeString(elsewhere.resolve("x"), "a segment name that points elsewhere");
        Files.createSymbolicLink(dir.resolve(Spool.openName(500)), target);
        Files.writeString(dir.resolve("collector.state"), "clean=true"); // the collector's, not the spool's

        Spool again = open(dir);
        assertEquals(written, drain(again, true));
        assertEquals(4, again.strayFiles());
        assertEquals(0, again.corrupt());
        for (String n : List.of(
                "spool-abc.seg",
                "spool-00000000000000000001.seg.bak",
                "spool-999999999999999999999.seg",
                Spool.openName(500),
                "collector.state")) {
            assertTrue(Files.exists(dir.resolve(n), java.nio.file.LinkOption.NOFOLLOW_LINKS), n + " left in place");
        }
        assertEquals("a segment name that points elsewhere", Files.readString(target));
        // new records do not collide with a stray's number
        assertTrue(again.append(b("k"), b("after")));
        assertEquals(List.of("after"), drain(again, true));
    }

    @Test
    void anInterruptedPrependIsTakenIn(@TempDir Path dir) throws IOException {
        Spool s = open(dir);
        s.append(b("k"), b("later"));
        s.prepend(List.<byte[][]>of(new byte[][] {b("k"), b("earlier")}));
        s.close();
        SpoolFiles.Segment first = SpoolFiles.segments(dir).getFirst();
        assertEquals(List.of("earlier"), values(first));
        // the stop ended before the rename
        Files.move(first.path(), dir.resolve(Spool.openName(first.number()) + ".tmp"));
        assertEquals(List.of("earlier", "later"), drain(open(dir), true));
    }

    @Test
    void anInterruptedRewriteLeavesTheOriginalToBeRecoveredAgain(@TempDir Path dir) throws IOException {
        List<String> written = fill(dir, 40);
        SpoolFiles.Segment seg = SpoolFiles.segments(dir).get(1);
        Files.writeString(seg.path().resolveSibling(seg.path().getFileName() + ".tmp"), "half a rewrite");
        assertEquals(written, drain(open(dir), true));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(), s.filter(p -> p.toString().endsWith(".tmp")).toList());
        }
    }

    @Test
    void aSegmentOfTheFirstFormatIsReadAndConverted(@TempDir Path dir) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(bytes);
        for (int i = 0; i < 3; i++) { // [length][CRC32 of key and value, as a long][key length][key][value]
            byte[] key = b("k");
            byte[] value = b("old-" + i);
            CRC32 c = new CRC32();
            c.update(key);
            c.update(value);
            d.writeInt(12 + key.length + value.length);
            d.writeLong(c.getValue());
            d.writeInt(key.length);
            d.write(key);
            d.write(value);
        }
        Files.write(dir.resolve("spool-00000000000000000001.seg"), bytes.toByteArray());
        Spool s = open(dir);
        assertEquals(0, s.corrupt());
        s.append(b("k"), b("new"));
        assertEquals(List.of("old-0", "old-1", "old-2", "new"), drain(s, true));
    }

    @Test
    void damageFoundWhileRunningCostsTheRestOfThatSegmentOnly(@TempDir Path dir) throws IOException {
        List<String> written = fill(dir, 40);
        Spool s = open(dir);
        SpoolFiles.Segment seg = SpoolFiles.segments(dir).get(1);
        overwrite(seg.path(), seg.offsets().get(1) + 4, new byte[] {9, 9, 9, 9}); // after the spool read the folder
        List<String> got = drain(s, true);
        List<String> expected = new ArrayList<>(written);
        List<String> lost = values(seg).subList(1, seg.records().size());
        expected.removeAll(lost);
        assertEquals(expected, got);
        assertEquals(lost.size(), s.corrupt());
    }

    @Test
    void sealingFsyncsAndTheOpenSegmentReachesTheFileWithinTheInterval(@TempDir Path dir) throws Exception {
        Spool s = new Spool(dir, 1 << 20, 200, Spool.FullPolicy.DROP_NEWEST, Duration.ofMillis(50));
        s.append(b("k"), b("first"));
        Path open = dir.resolve(Spool.openName(1));
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (Files.size(open) <= 8 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(List.of("first"), values(SpoolFiles.read(open, 1, -1)), "written out without a close");
        long before = s.syncs();
        for (int i = 0; i < 20; i++) {
            s.append(b("k"), b("more-" + i));
        }
        while (s.syncs() == before && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(s.syncs() > before, "fsynced by the sync thread");
        s.close();
    }

    @Test
    void fsyncOnEveryRecordKeepsEachOnTheFileAtOnce(@TempDir Path dir) throws IOException {
        Spool s = new Spool(dir, 1 << 20, 1 << 16, Spool.FullPolicy.DROP_NEWEST, Duration.ZERO);
        for (int i = 0; i < 5; i++) {
            s.append(b("k"), b("r" + i));
            assertEquals(
                    i + 1,
                    SpoolFiles.read(dir.resolve(Spool.openName(1)), 1, -1)
                            .records()
                            .size());
        }
        s.close();
    }

    @Test
    void aSecondSpoolOnAFolderInUseIsRefusedWithTheFix(@TempDir Path dir) {
        Spool first = open(dir);
        TransportException e = assertThrows(TransportException.class, () -> open(dir));
        assertEquals(
                "the spool folder " + dir + " is in use by another collector: give each collector a "
                        + "--spool-dir of its own",
                e.getMessage());
        first.close();
        open(dir).close(); // free again once closed
    }

    static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.list(from)) {
            for (Path p : s.toList()) {
                Files.copy(p, to.resolve(p.getFileName()));
            }
        }
    }
}
