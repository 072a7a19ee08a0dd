package io.sockflow.collector.transport;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The spool's disk guard, on a file system whose free space the test sets: it sheds new records below the minimum,
 * counts them, says so once when it starts and once when it stops, and spools again when space is back.
 */
class DiskGuardTest {
    static final long GIB = 1L << 30;

    /** A file system of {@code total} bytes with {@code free} of them free, and a clock the test moves. */
    static final class FakeDisk implements DiskGuard.Space {
        long total = 100 * GIB;
        long free = 50 * GIB;
        long nanos;
        int asked;

        @Override
        public long usable() {
            asked++;
            return free;
        }

        @Override
        public long total() {
            return total;
        }

        void tick() {
            nanos += DiskGuard.RECHECK_NANOS;
        }
    }

    final List<String> lines = new ArrayList<>();
    AbstractAppender appender;
    org.apache.logging.log4j.core.Logger logger;

    @BeforeEach
    void captureLog() {
        logger = (org.apache.logging.log4j.core.Logger) LogManager.getLogger(DiskGuard.class);
        appender = new AbstractAppender("disk-guard-test", null, null, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent e) {
                lines.add(e.getLevel() + " " + e.getMessage().getFormattedMessage());
            }
        };
        appender.start();
        logger.addAppender(appender);
        Configurator.setLevel(DiskGuard.class.getName(), Level.INFO);
    }

    @AfterEach
    void stopCapture() {
        logger.removeAppender(appender);
        appender.stop();
    }

    static DiskGuard guard(FakeDisk d, long min) {
        return new DiskGuard("/spool", min, d, () -> d.nanos);
    }

    @Test
    void theDefaultMinimumIsTheLargerOfTwoGibAndFivePercent() {
        DiskGuard g = guard(new FakeDisk(), DiskGuard.AUTO);
        assertEquals(5 * GIB, g.minFree(100 * GIB));
        assertEquals(2 * GIB, g.minFree(10 * GIB), "a small disk: 2 GiB, not 512 MiB");
        assertEquals(123, guard(new FakeDisk(), 123).minFree(100 * GIB), "a minimum given is taken as it is");
    }

    @Test
    void belowTheMinimumNewRecordsAreShedCountedAndSaidOnceAndSpooledAgainWhenSpaceIsBack() {
        FakeDisk d = new FakeDisk(); // 100 GiB: the minimum is 5 GiB
        DiskGuard g = guard(d, DiskGuard.AUTO);
        assertTrue(g.admit(100));
        assertFalse(g.shedding());

        d.free = 4 * GIB;
        assertTrue(g.admit(100), "within the second, the last look holds");
        d.tick();
        for (int i = 0; i < 1000; i++) {
            assertFalse(g.admit(100));
            if (i % 100 == 0) {
                d.tick();
            }
        }
        assertTrue(g.shedding());
        assertEquals(1000, g.shed());
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(
                lines.get(0)
                        .startsWith("WARN spool /spool: its file system has 4.0 GiB free, less than"
                                + " --disk-min-free-bytes 5.0 GiB: new events are shed"),
                lines.get(0));

        // just above the minimum is not enough: shedding stops a tenth above it, so that it does not flap
        d.free = 5 * GIB + 100 * (1L << 20);
        d.tick();
        assertFalse(g.admit(100));
        d.free = 6 * GIB;
        assertFalse(g.admit(100), "no new look at the disk within the second");
        d.tick();
        assertTrue(g.admit(100), "space is back: spooling again");
        assertFalse(g.shedding());
        assertEquals(1002, g.shed(), "the count only grows");
        assertEquals(2, lines.size(), lines.toString());
        assertEquals(
                "INFO spool /spool: its file system has 6.0 GiB free again: spooling again after shedding 1002"
                        + " events",
                lines.get(1));

        // a second spell is said again, with its own count
        d.free = GIB;
        d.tick();
        assertFalse(g.admit(100));
        d.free = 10 * GIB;
        d.tick();
        assertTrue(g.admit(100));
        assertEquals(1003, g.shed());
        assertTrue(lines.get(3).endsWith("after shedding 1 events"), lines.toString());
        assertEquals(4, lines.size());
    }

    @Test
    void theDiskIsAskedOnceASecondOrEveryFewMegabytesWrittenNotPerRecord() {
        FakeDisk d = new FakeDisk();
        DiskGuard g = guard(d, 10 * GIB);
        for (int i = 0; i < 1000; i++) {
            assertTrue(g.admit(100));
        }
        assertEquals(1, d.asked, "1000 small records within a second: one look");
        // a burst of large records: looked at again after every few MiB, so a fast writer cannot run the disk full
        for (int i = 0; i < 100; i++) {
            g.admit(1L << 20);
        }
        assertEquals(1 + 100 / (DiskGuard.RECHECK_BYTES >> 20), d.asked, 1);
        d.free = GIB;
        int admitted = 0;
        for (int i = 0; i < 100; i++) {
            admitted += g.admit(1L << 20) ? 1 : 0;
        }
        assertTrue(admitted <= DiskGuard.RECHECK_BYTES >> 20, admitted + " MiB written after the disk filled");
    }

    @Test
    void zeroTurnsTheGuardOffAndAnUnreadableFileSystemIsSaidOnceAndNotShedFor() {
        FakeDisk d = new FakeDisk();
        d.free = 0;
        DiskGuard off = guard(d, DiskGuard.OFF);
        assertTrue(off.admit(100));
        assertEquals(0, d.asked);

        DiskGuard g = new DiskGuard(
                "/spool",
                DiskGuard.AUTO,
                new DiskGuard.Space() {
                    @Override
                    public long usable() throws IOException {
                        throw new IOException("gone");
                    }

                    @Override
                    public long total() {
                        return 0;
                    }
                },
                () -> d.nanos);
        for (int i = 0; i < 5; i++) {
            assertTrue(g.admit(100));
            d.tick();
        }
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).startsWith("WARN spool /spool: cannot read the free space"), lines.get(0));
    }

    @Test
    void aSpoolWithTheGuardShedsInsteadOfWritingAndCountsItApartFromItsDrops(@TempDir Path dir) {
        FakeDisk d = new FakeDisk();
        try (Spool s = new Spool(dir, 1 << 20, Spool.FullPolicy.DROP_NEWEST, Duration.ofSeconds(1))
                .guard(guard(d, 10 * GIB))) {
            assertTrue(s.append(new byte[] {1}, new byte[100]));
            d.free = GIB;
            d.tick();
            assertFalse(s.append(new byte[] {2}, new byte[100]));
            assertFalse(s.append(new byte[] {3}, new byte[100]));
            assertEquals(1, s.depth(), "only the first is spooled");
            assertEquals(2, s.shed());
            assertEquals(0, s.dropped(), "shed, not dropped by the full spool's policy");
            d.free = 50 * GIB;
            d.tick();
            assertTrue(s.append(new byte[] {4}, new byte[100]));
            assertEquals(2, s.depth());
        }
    }
}
