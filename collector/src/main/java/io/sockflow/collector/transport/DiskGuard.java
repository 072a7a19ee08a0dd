package io.sockflow.collector.transport;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the spool from filling its file system: while the file system has less free space than the minimum, new
 * records are not written to the spool but shed, and counted. Shedding starts with one WARN line and ends, once the
 * free space is back above the minimum by a margin (a tenth of it, so that it does not start and stop by the
 * second), with one INFO line and the count.
 *
 * <p>The free space is asked of the file system at most once a second, and again after every {@value #RECHECK_BYTES}
 * bytes admitted, so the spool cannot write far past the minimum between two looks.
 */
public final class DiskGuard {
    private static final Logger LOG = LoggerFactory.getLogger(DiskGuard.class);

    /** The minimum chosen from the file system's size: the larger of {@link #FLOOR} and {@link #PERCENT}%. */
    public static final long AUTO = -1;
    /** No minimum: never shed. */
    public static final long OFF = 0;

    static final long FLOOR = 2L << 30;
    static final int PERCENT = 5;
    static final long RECHECK_NANOS = 1_000_000_000L;
    static final long RECHECK_BYTES = 4L << 20;

    /** What the file system says of itself. */
    public interface Space {
        /** Bytes this process may still write there. */
        long usable() throws IOException;

        /** The file system's size in bytes. */
        long total() throws IOException;
    }

    private final String where;
    private final long setting;
    private final Space space;
    private final LongSupplier nanoTime;
    private final AtomicLong shed = new AtomicLong();

    private boolean checked;
    private long lastCheck;
    private long admittedSinceCheck;
    private boolean shedding;
    private long shedAtStart;
    private boolean failedOnce;

    /**
     * @param where the folder, for the log lines
     * @param minFreeBytes {@link #AUTO}, {@link #OFF} or a number of bytes
     */
    public DiskGuard(String where, long minFreeBytes, Space space, LongSupplier nanoTime) {
        this.where = where;
        this.setting = minFreeBytes;
        this.space = space;
        this.nanoTime = nanoTime;
    }

    /** The guard of a folder's file system, as the collector runs it. */
    public static DiskGuard of(Path dir, long minFreeBytes) {
        return new DiskGuard(dir.toString(), minFreeBytes, fileStore(dir), System::nanoTime);
    }

    static Space fileStore(Path dir) {
        return new Space() {
            private FileStore store;

            private FileStore store() throws IOException {
                if (store == null) {
                    store = Files.getFileStore(dir);
                }
                return store;
            }

            @Override
            public long usable() throws IOException {
                return store().getUsableSpace();
            }

            @Override
            public long total() throws IOException {
                return store().getTotalSpace();
            }
        };
    }

    /** The minimum free space for a file system of {@code total} bytes. */
    long minFree(long total) {
        return setting == AUTO ? Math.max(FLOOR, total / 100 * PERCENT) : setting;
    }

    /**
     * Whether a record of {@code bytes} may be written to the spool now; false means it is shed, and it is counted
     * as such.
     */
    public synchronized boolean admit(long bytes) {
        if (setting == OFF) {
            return true;
        }
        long now = nanoTime.getAsLong();
        if (!checked || now - lastCheck >= RECHECK_NANOS || admittedSinceCheck >= RECHECK_BYTES) {
            check(now);
        }
        if (shedding) {
            shed.incrementAndGet();
            return false;
        }
        admittedSinceCheck += bytes;
        return true;
    }

    private void check(long now) {
        checked = true;
        lastCheck = now;
        admittedSinceCheck = 0;
        long free;
        long min;
        try {
            free = space.usable();
            min = minFree(space.total());
        } catch (IOException | RuntimeException e) {
            // cannot tell: keep deciding as before (a write that fails is counted by the spool)
            if (!failedOnce) {
                failedOnce = true;
                LOG.warn("spool {}: cannot read the free space of its file system ({})", where, e.toString());
            }
            return;
        }
        if (!shedding && free < min) {
            shedding = true;
            shedAtStart = shed.get();
            LOG.warn(
                    "spool {}: its file system has {} free, less than --disk-min-free-bytes {}: new events are shed "
                            + "(not spooled), counted in sockflow_shed_events_total{reason=\"disk\"}, until space"
                            + " is back",
                    where,
                    bytes(free),
                    bytes(min));
        } else if (shedding && free >= min + min / 10) {
            shedding = false;
            LOG.info(
                    "spool {}: its file system has {} free again: spooling again after shedding {} events",
                    where,
                    bytes(free),
                    shed.get() - shedAtStart);
        }
    }

    /** Whether new records are being shed now (as of the last look at the file system). */
    public synchronized boolean shedding() {
        return shedding;
    }

    /** Records shed for want of disk space, since the start. */
    public long shed() {
        return shed.get();
    }

    static String bytes(long n) {
        if (n >= 1L << 30) {
            return String.format(java.util.Locale.ROOT, "%.1f GiB", n / (double) (1L << 30));
        }
        return String.format(java.util.Locale.ROOT, "%d MiB", n >> 20);
    }
}
