package io.sockflow.collector.transport;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bounded, ordered, on-disk queue of Kafka records for the time the broker cannot take them. Thread-safe: the
 * capture thread appends while the shipper reads.
 *
 * <p>Records live in numbered segment files, read oldest first; a segment is deleted once every record in it was
 * acknowledged. The segment being written is {@code spool-N.seg}; when the next one starts it is sealed by renaming
 * it {@code spool-N-C.seg}, C being the records it holds, so that even a segment destroyed whole still says how many
 * records went with it. A segment starts with an 8-byte header (magic, format version); each record is a frame
 * {@code [body length][CRC32C of the body][key length][key][value]}.
 *
 * <p>Durability: a background thread writes out and fsyncs the open segment every {@code fsyncInterval}, and a
 * sealed segment (and the folder, so that its name survives) as soon as it is sealed; {@link #close()} seals and
 * fsyncs everything. A power loss costs at most the last interval's records; a crash of the process alone costs the
 * records not yet written out of its 64 KiB buffer (at most one interval's).
 *
 * <p>Recovery, when a spool folder is opened: every frame whose CRC holds is kept, in order; damage (a bad CRC, a
 * record cut short, a header overwritten) is skipped by searching for the next valid frame. What is lost is counted,
 * in records (exact for a sealed segment, from its name; for the segment that was open at a crash, its last record
 * cut short counts as one and other damage as at least one each) and in bytes, and said in one log line. Damaged
 * segments are rewritten without the damage, so that a loss is counted once. Files named {@code spool-*} that are
 * not segments are left in place and reported.
 */
public final class Spool implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Spool.class);
    static final String PREFIX = "spool-";
    static final String SUFFIX = ".seg";
    static final String TMP = ".tmp";
    /** held locked while a spool has the folder open */
    static final String LOCK = "spool.lock";
    /** "SFSP" */
    static final int MAGIC = 0x53465350;

    static final int VERSION = 2;
    static final int HEADER = 8;
    /** body length, CRC and key length */
    static final int FRAME_OVERHEAD = 12;
    /** a frame's body is never larger: a damaged length cannot make the reader allocate more */
    static final int MAX_BODY = 64 << 20;
    /** the key length that marks a tombstone: records a recovery counted as lost, so that the count holds later */
    static final int TOMBSTONE = -1;

    static final int TOMBSTONE_BODY = 4 + 8 + 8;
    /** how long a power loss can cost, by default */
    public static final Duration DEFAULT_FSYNC_INTERVAL = Duration.ofSeconds(1);
    /** for benchmarks only: never fsync */
    static final Duration NO_FSYNC = Duration.ofNanos(-1);

    private static final Pattern NAME = Pattern.compile("spool-(-?\\d{1,20})(?:-(\\d{1,20}))?\\.seg");
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final FileAttribute<Set<PosixFilePermission>> PRIVATE_FILE =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
    private static final FileAttribute<Set<PosixFilePermission>> PRIVATE_DIR =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));

    /** What to do with a record when the spool is full. */
    public enum FullPolicy {
        /** keep what is spooled, drop the new record */
        DROP_NEWEST,
        /** delete the oldest segment to make room */
        DROP_OLDEST
    }

    /** One spooled record and where it came from. */
    public record Entry(long segment, byte[] key, byte[] value) {}

    /** One segment file and what has become of its records in this run. */
    private static final class Seg {
        final long number;
        Path path;
        long bytes;
        long records;
        long handedOut;
        long acked;

        Seg(long number, Path path, long bytes, long records) {
            this.number = number;
            this.path = path;
            this.bytes = bytes;
            this.records = records;
        }
    }

    private final Path dir;
    private final long maxBytes;
    private final long segmentBytes;
    private final FullPolicy policy;
    /** negative: never (benchmarks); 0: after every record; else the most time between writing and fsync */
    private final long fsyncNanos;

    private final TreeMap<Long, Seg> segments = new TreeMap<>();
    /** numbers of files left in place (unreadable, duplicates): never reused */
    private final Set<Long> taken = new HashSet<>();

    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong lostRecords = new AtomicLong();
    private final AtomicLong lostBytes = new AtomicLong();
    private final AtomicLong damagedSegments = new AtomicLong();
    private final AtomicLong strayFiles = new AtomicLong();
    private final AtomicLong spooled = new AtomicLong();
    private final AtomicLong syncs = new AtomicLong();
    private final CRC32C crc = new CRC32C();
    private final byte[] four = new byte[4];
    private long totalBytes;
    private long highest;

    private Seg writing;
    private FileChannel outCh;
    private DataOutputStream out;
    /** records written since the last fsync of the open segment */
    private boolean dirty;
    /** a file was created or renamed since the folder was last fsynced */
    private boolean dirDirty;
    /** sealed segments' channels, fsynced and closed by the next {@link #sync()} */
    private final List<FileChannel> sealedUnsynced = new ArrayList<>();

    private Seg reading;
    private DataInputStream in;
    private long readOffset;

    /** keeps new records off a nearly full file system; null: no guard */
    private volatile DiskGuard guard;

    private final Object syncLock = new Object();
    private FileChannel lockChannel;
    private final Thread syncer;
    private volatile boolean closed;
    private long lastErrorLog;
    private long errorsSinceLog;

    public Spool(Path dir, long maxBytes, FullPolicy policy) {
        this(dir, maxBytes, policy, DEFAULT_FSYNC_INTERVAL);
    }

    public Spool(Path dir, long maxBytes, FullPolicy policy, Duration fsyncInterval) {
        this(dir, maxBytes, Math.max(64 * 1024, Math.min(maxBytes / 8, 64L << 20)), policy, fsyncInterval);
    }

    Spool(Path dir, long maxBytes, long segmentBytes, FullPolicy policy) {
        this(dir, maxBytes, segmentBytes, policy, DEFAULT_FSYNC_INTERVAL);
    }

    Spool(Path dir, long maxBytes, long segmentBytes, FullPolicy policy, Duration fsyncInterval) {
        this.dir = dir;
        this.maxBytes = maxBytes;
        this.segmentBytes = segmentBytes;
        this.policy = policy;
        this.fsyncNanos = fsyncInterval.isNegative() ? -1 : fsyncInterval.toNanos();
        try {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir, PRIVATE_DIR);
            }
            // two collectors on one folder would rename and delete each other's segments
            lockChannel = FileChannel.open(
                    dir.resolve(LOCK), Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE), PRIVATE_FILE);
            FileLock held;
            try {
                held = lockChannel.tryLock(); // released when the channel closes
            } catch (OverlappingFileLockException e) {
                held = null;
            }
            if (held == null) {
                closeQuietly(lockChannel);
                throw new TransportException("the spool folder " + dir + " is in use by another collector: give each "
                        + "collector a --spool-dir of its own");
            }
            recover();
        } catch (IOException | UnsupportedOperationException e) {
            closeQuietly(lockChannel);
            throw new TransportException("cannot use the spool folder " + dir + ": " + e.getMessage()
                    + ": check --spool-dir (a folder this user can write, on a POSIX file system)");
        }
        this.syncer = fsyncNanos > 0
                ? Thread.ofPlatform().name("sockflow-spool-sync").daemon().start(this::syncLoop)
                : null;
    }

    // ---------------------------------------------------------------- writing

    /**
     * From now on, new records are not appended while {@code g} says the file system is nearly full (they are shed,
     * and {@code g} counts them). Records {@link #prepend}ed (what the producer held) are still saved.
     */
    public Spool guard(DiskGuard g) {
        this.guard = g;
        return this;
    }

    /** Records shed for want of disk space (see {@link #guard}). */
    public long shed() {
        DiskGuard g = guard;
        return g == null ? 0 : g.shed();
    }

    /** Appends one record; returns false (and counts it) when the policy dropped it or the disk guard shed it. */
    public synchronized boolean append(byte[] key, byte[] value) {
        if (closed) {
            dropped.incrementAndGet();
            rateLimitedError("the spool {} is closed: a record written after the stop is dropped and counted", dir);
            return false;
        }
        long body = 4L + key.length + value.length;
        if (body > MAX_BODY) {
            dropped.incrementAndGet();
            rateLimitedError(
                    "a record of {} bytes is larger than the spool takes ({}): it is dropped and counted",
                    body,
                    MAX_BODY);
            return false;
        }
        long frame = 8 + body;
        DiskGuard g = guard;
        if (g != null && !g.admit(frame)) {
            return false; // shed for want of disk space, and counted there
        }
        boolean rolls = writing == null || writing.bytes >= segmentBytes;
        while (totalBytes + frame + (rolls ? HEADER : 0) > maxBytes) {
            if (policy == FullPolicy.DROP_OLDEST && dropOldest()) {
                continue;
            }
            dropped.incrementAndGet();
            return false;
        }
        try {
            if (rolls) {
                roll();
            }
        } catch (IOException e) {
            dropped.incrementAndGet();
            rateLimitedError(
                    "cannot start a spool segment in {}: {}; the record is dropped and counted", dir, e.getMessage());
            return false;
        }
        try {
            crc.reset();
            four[0] = (byte) (key.length >>> 24);
            four[1] = (byte) (key.length >>> 16);
            four[2] = (byte) (key.length >>> 8);
            four[3] = (byte) key.length;
            crc.update(four);
            crc.update(key);
            crc.update(value);
            out.writeInt((int) body);
            out.writeInt((int) crc.getValue());
            out.writeInt(key.length);
            out.write(key);
            out.write(value);
            writing.bytes += frame;
            writing.records++;
            totalBytes += frame;
            spooled.incrementAndGet();
            dirty = true;
            if (fsyncNanos == 0) {
                out.flush();
                outCh.force(false);
                dirty = false;
            }
            return true;
        } catch (IOException e) {
            // what the buffer held is lost with the writer: its records are counted when the reader finds them missing
            dropped.incrementAndGet();
            rateLimitedError(
                    "cannot write to the spool {}: {}; the record is dropped and counted", dir, e.getMessage());
            abandonWriter();
            return false;
        }
    }

    private void roll() throws IOException {
        if (writing != null) {
            seal();
        }
        long n = ++highest;
        while (taken.contains(n)) {
            n = ++highest;
        }
        Path p = dir.resolve(openName(n));
        FileChannel ch =
                FileChannel.open(p, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), PRIVATE_FILE);
        DataOutputStream o = new DataOutputStream(new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16));
        try {
            o.writeInt(MAGIC);
            o.writeInt(VERSION);
            if (fsyncNanos == 0) {
                o.flush();
                ch.force(false);
            }
        } catch (IOException e) {
            closeQuietly(ch);
            Files.deleteIfExists(p);
            throw e;
        }
        outCh = ch;
        out = o;
        writing = new Seg(n, p, HEADER, 0);
        segments.put(n, writing);
        totalBytes += HEADER;
        dirty = true;
        dirDirty = true;
        if (fsyncNanos == 0) {
            syncDir();
            dirDirty = false;
        }
    }

    /** Ends the open segment: renamed with its record count, then fsynced (here or by the sync thread). */
    private void seal() {
        Seg s = writing;
        try {
            out.flush();
        } catch (IOException e) {
            rateLimitedError("cannot write to the spool {}: {}", dir, e.getMessage());
        }
        rename(s, dir.resolve(sealedName(s.number, s.records)));
        FileChannel ch = outCh;
        writing = null;
        out = null;
        outCh = null;
        dirty = false;
        dirDirty = true;
        if (fsyncNanos < 0) {
            closeQuietly(ch);
        } else if (fsyncNanos == 0) {
            force(ch);
            closeQuietly(ch);
            syncDir();
            dirDirty = false;
        } else {
            sealedUnsynced.add(ch);
            if (syncer != null) {
                LockSupport.unpark(syncer); // a segment boundary: on disk now, not at the next interval
            }
        }
    }

    private void rename(Seg s, Path to) {
        try {
            Files.move(s.path, to, StandardCopyOption.ATOMIC_MOVE);
            s.path = to;
        } catch (IOException e) {
            rateLimitedError(
                    "cannot rename spool segment {} to {}: {}", s.path.getFileName(), to.getFileName(), e.getMessage());
        }
    }

    /** After a write error: no more records go to this segment; a new one is started for the next. */
    private void abandonWriter() {
        Seg s = writing;
        closeQuietly(outCh);
        writing = null;
        out = null;
        outCh = null;
        dirty = false;
        if (s != null) {
            rename(s, dir.resolve(sealedName(s.number, s.records)));
            if (s.records == 0) {
                maybeDelete(s);
            }
        }
    }

    /**
     * Writes records before everything spooled so far (records that were in flight when the broker went away), as a
     * sealed segment of their own, fsynced. The size bound does not apply: these records were accepted already.
     */
    public synchronized int prepend(List<byte[][]> records) {
        if (records.isEmpty()) {
            return 0;
        }
        long n = segments.isEmpty() ? ++highest : segments.firstKey() - 1;
        while (taken.contains(n) || segments.containsKey(n)) {
            n--;
        }
        Path tmp = dir.resolve(openName(n) + TMP);
        Path target = dir.resolve(sealedName(n, records.size()));
        long bytes = HEADER;
        try (FileChannel ch = FileChannel.open(
                tmp,
                Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING),
                PRIVATE_FILE)) {
            DataOutputStream d = new DataOutputStream(new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16));
            d.writeInt(MAGIC);
            d.writeInt(VERSION);
            CRC32C c = new CRC32C();
            for (byte[][] r : records) {
                c.reset();
                c.update(ByteBuffer.allocate(4).putInt(0, r[0].length).array());
                c.update(r[0]);
                c.update(r[1]);
                d.writeInt(4 + r[0].length + r[1].length);
                d.writeInt((int) c.getValue());
                d.writeInt(r[0].length);
                d.write(r[0]);
                d.write(r[1]);
                bytes += FRAME_OVERHEAD + r[0].length + r[1].length;
            }
            d.flush();
            if (fsyncNanos >= 0) {
                ch.force(false);
            }
        } catch (IOException e) {
            dropped.addAndGet(records.size());
            LOG.error(
                    "cannot write to the spool {}: {}; {} records dropped and counted",
                    dir,
                    e.getMessage(),
                    records.size());
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // reported above
            }
            return 0;
        }
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            // left as spool-N.seg.tmp: the next start takes it in as a segment
            LOG.error("cannot rename {} in the spool: {}; the next start reads it", tmp.getFileName(), e.getMessage());
            target = tmp;
        }
        if (fsyncNanos >= 0) {
            syncDir();
        }
        segments.put(n, new Seg(n, target, bytes, records.size()));
        totalBytes += bytes;
        spooled.addAndGet(records.size());
        return records.size();
    }

    private boolean dropOldest() {
        Seg s = segments.firstEntry() == null ? null : segments.firstEntry().getValue();
        if (s == null || s == writing) {
            return false; // only the segment being written: nothing old to drop
        }
        if (s == reading) {
            closeReader();
        }
        segments.remove(s.number);
        dropped.addAndGet(s.records - s.acked);
        totalBytes -= s.bytes;
        delete(s);
        return true;
    }

    // ---------------------------------------------------------------- reading

    /** The next spooled record not yet handed out, oldest first, or null when there is none. */
    public synchronized Entry next() {
        while (true) {
            if (reading == null) {
                Seg s = null;
                for (Seg c : segments.values()) {
                    if (c.handedOut < c.records) {
                        s = c;
                        break;
                    }
                }
                if (s == null) {
                    return null;
                }
                if (!open(s)) {
                    continue;
                }
            }
            Seg s = reading;
            if (segments.get(s.number) != s || s.handedOut >= s.records) {
                closeReader();
                continue;
            }
            if (s == writing) {
                flushWriter();
            }
            byte[][] r = readRecord(s);
            if (r == null) {
                damagedWhileReading(s, "a damaged record");
                continue;
            }
            s.handedOut++;
            return new Entry(s.number, r[0], r[1]);
        }
    }

    /** Opens a segment for reading at its first record not handed out; false (and counted) when it cannot be. */
    private boolean open(Seg s) {
        if (s == writing) {
            flushWriter();
        }
        try {
            in = new DataInputStream(new BufferedInputStream(Files.newInputStream(s.path), 1 << 16));
            reading = s;
            readOffset = HEADER;
            if (in.readInt() != MAGIC || in.readInt() != VERSION) {
                damagedWhileReading(s, "a damaged header");
                return false;
            }
            for (long k = 0; k < s.handedOut; k++) {
                if (readRecord(s) == null) {
                    damagedWhileReading(s, "a damaged record");
                    return false;
                }
            }
            return true;
        } catch (IOException e) {
            reading = s;
            damagedWhileReading(s, e.toString());
            return false;
        }
    }

    /** The next record of the segment being read, past tombstones; null when the frame is damaged or missing. */
    private byte[][] readRecord(Seg s) {
        try {
            while (true) {
                int body = in.readInt();
                if (body < 4 || body > MAX_BODY || readOffset + 8 + body > s.bytes) {
                    return null;
                }
                int sum = in.readInt();
                byte[] b = new byte[body];
                in.readFully(b);
                crc.reset();
                crc.update(b);
                if ((int) crc.getValue() != sum) {
                    return null;
                }
                readOffset += 8 + body;
                int keyLen = ByteBuffer.wrap(b).getInt();
                if (keyLen == TOMBSTONE && body == TOMBSTONE_BODY) {
                    continue;
                }
                if (keyLen < 0 || keyLen > body - 4) {
                    return null;
                }
                byte[] key = new byte[keyLen];
                System.arraycopy(b, 4, key, 0, keyLen);
                byte[] value = new byte[body - 4 - keyLen];
                System.arraycopy(b, 4 + keyLen, value, 0, value.length);
                return new byte[][] {key, value};
            }
        } catch (EOFException e) {
            return null;
        } catch (IOException e) {
            rateLimitedError("cannot read the spool segment {}: {}", s.path.getFileName(), e.getMessage());
            return null;
        }
    }

    /** Damage found while running (a disk error, or a record a failed write never finished): the rest is lost. */
    private void damagedWhileReading(Seg s, String what) {
        long lost = s.records - s.handedOut;
        long bytes = Math.max(0, s.bytes - readOffset);
        lostRecords.addAndGet(lost);
        lostBytes.addAndGet(bytes);
        damagedSegments.incrementAndGet();
        LOG.warn(
                "spool segment {} holds {} after record {}: its last {} records ({} bytes) are lost and counted",
                s.path.getFileName(),
                what,
                s.handedOut,
                lost,
                bytes);
        s.acked += lost;
        s.handedOut = s.records;
        closeReader();
        if (s == writing) {
            abandonWriter();
        }
        maybeDelete(s);
    }

    private void flushWriter() {
        if (out != null) {
            try {
                out.flush();
            } catch (IOException e) {
                rateLimitedError("cannot write to the spool {}: {}", dir, e.getMessage());
            }
        }
    }

    private void closeReader() {
        if (in != null) {
            try {
                in.close();
            } catch (IOException ignored) {
                // nothing to do
            }
            in = null;
        }
        reading = null;
    }

    /** Marks one record handed out from {@code segment} as acknowledged by Kafka. */
    public synchronized void acknowledge(long segment) {
        Seg s = segments.get(segment);
        if (s == null) {
            return;
        }
        s.acked++;
        maybeDelete(s);
    }

    private void maybeDelete(Seg s) {
        if (s.acked < s.records || segments.get(s.number) != s) {
            return;
        }
        if (s == writing) {
            if (s.records == 0) {
                return; // just started
            }
            // the writer's segment is fully delivered: the next record starts a fresh one
            try {
                out.close();
            } catch (IOException ignored) {
                // its records are all delivered
            }
            writing = null;
            out = null;
            outCh = null;
            dirty = false;
        }
        if (s == reading) {
            closeReader();
        }
        segments.remove(s.number);
        totalBytes -= s.bytes;
        delete(s);
    }

    private void delete(Seg s) {
        try {
            Files.deleteIfExists(s.path);
        } catch (IOException e) {
            LOG.warn("cannot delete spool segment {}: {}", s.path.getFileName(), e.getMessage());
        }
    }

    // ---------------------------------------------------------------- state

    /** Records waiting (spooled, not yet acknowledged). */
    public synchronized long depth() {
        long n = 0;
        for (Seg s : segments.values()) {
            n += s.records - s.acked;
        }
        return n;
    }

    /** Records waiting that were not handed out yet. */
    public synchronized boolean hasUnread() {
        for (Seg s : segments.values()) {
            if (s.handedOut < s.records) {
                return true;
            }
        }
        return false;
    }

    public synchronized long bytes() {
        return totalBytes;
    }

    /** Records the full spool's policy (or a write error) dropped. */
    public long dropped() {
        return dropped.get();
    }

    /** Records lost to damage (a lower bound where the count cannot be known), at recovery or while reading. */
    public long corrupt() {
        return lostRecords.get();
    }

    /** Bytes of damaged segments that held no readable record. */
    public long lostBytes() {
        return lostBytes.get();
    }

    /** Segments found damaged, at recovery or while reading. */
    public long damagedSegments() {
        return damagedSegments.get();
    }

    /** Files named like the spool's that are not segments, left in place. */
    public long strayFiles() {
        return strayFiles.get();
    }

    public long spooled() {
        return spooled.get();
    }

    /** How many times something was fsynced. */
    long syncs() {
        return syncs.get();
    }

    /** Writes buffered records to the file (the operating system's cache; {@link #sync()} puts them on disk). */
    public synchronized void flush() {
        flushWriter();
    }

    /**
     * Forgets what was handed out: the next {@link #next()} starts again at each segment's first record, as the next
     * run would (records acknowledged in a segment not yet deleted are sent again: acknowledgements can come out of
     * order, so no shorter resume point is safe).
     */
    public synchronized void rewind() {
        closeReader();
        for (Seg s : segments.values()) {
            s.handedOut = 0;
            s.acked = 0;
        }
    }

    /**
     * Reads on from the oldest segment with records not handed out (one {@link #prepend} just wrote, say), keeping
     * what was handed out and acknowledged.
     */
    public synchronized void restartReading() {
        closeReader();
    }

    /** Writes out and fsyncs the open segment, sealed segments not yet fsynced, and the folder. */
    public void sync() {
        synchronized (syncLock) {
            List<FileChannel> sealedNow;
            FileChannel open = null;
            boolean folder;
            synchronized (this) {
                sealedNow = new ArrayList<>(sealedUnsynced);
                sealedUnsynced.clear();
                if (out != null && dirty) {
                    flushWriter();
                    open = outCh;
                    dirty = false;
                }
                folder = dirDirty;
                dirDirty = false;
            }
            if (fsyncNanos < 0) {
                sealedNow.forEach(Spool::closeQuietly);
                return;
            }
            for (FileChannel c : sealedNow) {
                force(c);
                closeQuietly(c);
            }
            if (open != null) {
                force(open);
            }
            if (folder) {
                syncDir();
            }
            if (open != null || folder || !sealedNow.isEmpty()) {
                syncs.incrementAndGet();
            }
        }
    }

    private void syncLoop() {
        while (!closed) {
            LockSupport.parkNanos(this, fsyncNanos);
            if (!closed) {
                sync();
            }
        }
    }

    private void force(FileChannel c) {
        try {
            c.force(false);
        } catch (ClosedChannelException e) {
            // closed because its records were all delivered (or the spool closed and fsynced it)
        } catch (IOException e) {
            rateLimitedError(
                    "cannot fsync the spool in {}: {}; its latest records may not survive a power loss",
                    dir,
                    e.getMessage());
        }
    }

    private void syncDir() {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            rateLimitedError("cannot fsync the spool folder {}: {}", dir, e.getMessage());
        }
    }

    /** Stops the sync thread, seals the open segment and fsyncs everything: a clean stop loses no spooled record. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        if (syncer != null) {
            LockSupport.unpark(syncer);
            try {
                syncer.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (this) {
            closeReader();
            if (writing != null) {
                seal();
            }
        }
        sync();
        closeQuietly(lockChannel); // releases the folder's lock
    }

    synchronized List<Long> segmentNumbers() {
        return new ArrayList<>(segments.keySet());
    }

    static String openName(long n) {
        return String.format(Locale.ROOT, "%s%020d%s", PREFIX, n, SUFFIX);
    }

    static String sealedName(long n, long records) {
        return String.format(Locale.ROOT, "%s%020d-%d%s", PREFIX, n, records, SUFFIX);
    }

    private static void closeQuietly(FileChannel c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException ignored) {
                // nothing to do
            }
        }
    }

    /** Errors that repeat (a full disk) are logged once a minute with how many there were. */
    private void rateLimitedError(String format, Object... args) {
        long now = System.nanoTime();
        errorsSinceLog++;
        if (lastErrorLog != 0 && now - lastErrorLog < 60_000_000_000L) {
            return;
        }
        if (errorsSinceLog > 1) {
            LOG.error("{} more spool errors in the last minute", errorsSinceLog - 1);
        }
        errorsSinceLog = 0;
        lastErrorLog = now;
        LOG.error(format, args);
    }

    // ---------------------------------------------------------------- recovery

    /** What one segment file holds: runs of valid frames, and the damage between them. */
    static final class Scan {
        final List<long[]> runs = new ArrayList<>();
        long records;
        long tombstoneRecords;
        long damagedBytes;
        int damageRegions;
        long firstDamage = -1;
        /** the damage reaches the end of the file */
        boolean tail;
        /** ... and starts with a frame the end of the file cut short: one record, torn by a crash */
        boolean torn;
        /** damage with valid frames after it */
        boolean middle;

        boolean header;
        boolean legacy;
        /** for legacy files: where the readable frames end */
        long legacyEnd;

        boolean damaged() {
            return damagedBytes > 0;
        }
    }

    /**
     * The valid frame at {@code pos}: its length; 0 when there is none; -1 when its lengths are plausible but the
     * file ends inside it (a record cut short).
     */
    static long frameAt(MemorySegment m, long pos, long size, CRC32C c) {
        if (size - pos < 8) {
            return -1;
        }
        int body = m.get(INT, pos);
        if (body < 4 || body > MAX_BODY) {
            return 0;
        }
        if (pos + 8 + body > size) {
            return -1;
        }
        int keyLen = m.get(INT, pos + 8);
        if (keyLen == TOMBSTONE ? body != TOMBSTONE_BODY : keyLen < 0 || keyLen > body - 4) {
            return 0;
        }
        c.reset();
        c.update(m.asSlice(pos + 8, body).asByteBuffer());
        return (int) c.getValue() == m.get(INT, pos + 4) ? 8 + body : 0;
    }

    /** Reads a segment's frames, skipping damage by searching for the next valid frame byte by byte. */
    static Scan scan(MemorySegment m, long size) {
        Scan sc = new Scan();
        CRC32C c = new CRC32C();
        long pos = 0;
        if (size >= HEADER && m.get(INT, 0) == MAGIC && m.get(INT, 4) == VERSION) {
            sc.header = true;
            pos = HEADER;
        } else if (legacyFrameAt(m, 0, size) > 0) {
            return scanLegacy(m, size, sc);
        }
        long runStart = -1;
        while (pos < size) {
            long f = frameAt(m, pos, size, c);
            if (f > 0) {
                if (runStart < 0) {
                    runStart = pos;
                }
                if (m.get(INT, pos + 8) == TOMBSTONE) {
                    sc.tombstoneRecords += m.get(LONG, pos + 12);
                } else {
                    sc.records++;
                }
                pos += f;
                continue;
            }
            if (runStart >= 0) {
                sc.runs.add(new long[] {runStart, pos});
                runStart = -1;
            }
            long next = -1;
            for (long p = pos + 1; p + FRAME_OVERHEAD <= size; p++) {
                if (frameAt(m, p, size, c) > 0) {
                    next = p;
                    break;
                }
            }
            long end = next < 0 ? size : next;
            if (sc.firstDamage < 0) {
                sc.firstDamage = pos;
            }
            sc.damagedBytes += end - pos;
            sc.damageRegions++;
            if (next < 0) {
                sc.tail = true;
                sc.torn = f < 0;
                break;
            }
            sc.middle = true;
            pos = next;
        }
        if (runStart >= 0) {
            sc.runs.add(new long[] {runStart, pos});
        }
        return sc;
    }

    /** A frame of the first format (no header; an 8-byte CRC32 of key and value): its length, or 0. */
    static long legacyFrameAt(MemorySegment m, long pos, long size) {
        if (size - pos < 16) {
            return 0;
        }
        int len = m.get(INT, pos);
        if (len < 12 || len > MAX_BODY || pos + 4 + len > size) {
            return 0;
        }
        long sum = m.get(LONG, pos + 4);
        int keyLen = m.get(INT, pos + 12);
        if (sum >>> 32 != 0 || keyLen < 0 || keyLen > len - 12) {
            return 0;
        }
        CRC32 c = new CRC32();
        c.update(m.asSlice(pos + 16, len - 12).asByteBuffer());
        return c.getValue() == sum ? 4 + len : 0;
    }

    private static Scan scanLegacy(MemorySegment m, long size, Scan sc) {
        sc.legacy = true;
        long pos = 0;
        long f;
        while ((f = legacyFrameAt(m, pos, size)) > 0) {
            sc.records++;
            pos += f;
        }
        sc.legacyEnd = pos;
        if (pos < size) {
            sc.firstDamage = pos;
            sc.damagedBytes = size - pos;
            sc.damageRegions = 1;
            sc.tail = true;
            sc.torn = size - pos < 4 || pos + 4 + m.get(INT, pos) > size;
        }
        return sc;
    }

    private void recover() throws IOException {
        TreeMap<Long, List<Path>> byNumber = new TreeMap<>();
        Map<Long, Path> tmps = new TreeMap<>();
        List<String> strays = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.sorted().toList()) {
                String n = p.getFileName().toString();
                if (!n.startsWith(PREFIX)) {
                    continue; // not the spool's (the collector keeps its state file here too)
                }
                boolean tmp = n.endsWith(TMP);
                Matcher m = NAME.matcher(tmp ? n.substring(0, n.length() - TMP.length()) : n);
                Long number = null;
                if (m.matches() && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    try {
                        number = Long.parseLong(m.group(1));
                        if (m.group(2) != null) {
                            Long.parseLong(m.group(2));
                        }
                    } catch (NumberFormatException e) {
                        number = null;
                    }
                }
                if (number == null) {
                    strays.add(n);
                } else if (tmp) {
                    tmps.put(number, p);
                } else {
                    byNumber.computeIfAbsent(number, k -> new ArrayList<>()).add(p);
                }
            }
        }
        for (var t : tmps.entrySet()) {
            if (byNumber.containsKey(t.getKey())) {
                Files.deleteIfExists(t.getValue()); // a rewrite cut short: the original is still there
            } else {
                // a prepend cut short before its rename: its records are read like any other segment's
                Path open = dir.resolve(openName(t.getKey()));
                Files.move(t.getValue(), open, StandardCopyOption.ATOMIC_MOVE);
                byNumber.put(t.getKey(), new ArrayList<>(List.of(open)));
            }
        }
        List<String> damage = new ArrayList<>();
        List<String> unreadable = new ArrayList<>();
        for (var e : byNumber.entrySet()) {
            long n = e.getKey();
            highest = Math.max(highest, n);
            List<Path> files = e.getValue();
            Path sealed = null;
            Path open = null;
            for (Path p : files) {
                if (isSealed(p) && sealed == null) {
                    sealed = p;
                } else if (!isSealed(p) && open == null) {
                    open = p;
                } else {
                    strays.add(p.getFileName().toString());
                    taken.add(n);
                }
            }
            if (sealed != null && open != null) {
                // a rewrite that ended between its rename and the deletion of the damaged original
                Files.deleteIfExists(open);
                open = null;
            }
            Path p = sealed != null ? sealed : open;
            try {
                recoverSegment(n, p, damage);
            } catch (IOException ex) {
                taken.add(n);
                unreadable.add(p.getFileName() + " (" + ex.getMessage() + ")");
            }
        }
        strayFiles.addAndGet(strays.size());
        long records = 0;
        for (Seg s : segments.values()) {
            records += s.records;
        }
        if (!damage.isEmpty() || !strays.isEmpty() || !unreadable.isEmpty()) {
            StringBuilder b = new StringBuilder("spool ")
                    .append(dir)
                    .append(": ")
                    .append(plural(records, "record", "records"))
                    .append(" in ")
                    .append(plural(segments.size(), "segment", "segments"))
                    .append(" to send");
            if (!damage.isEmpty()) {
                b.append("; ")
                        .append(plural(damage.size(), "damaged segment", "damaged segments"))
                        .append(" skipped in part or whole, ")
                        .append(plural(lostRecords.get(), "record", "records"))
                        .append(" and ")
                        .append(plural(lostBytes.get(), "byte", "bytes"))
                        .append(" lost: ")
                        .append(String.join("; ", damage));
            }
            if (!unreadable.isEmpty()) {
                b.append("; ")
                        .append(unreadable.size())
                        .append(" unreadable, left in place and not sent this run: ")
                        .append(String.join(", ", unreadable));
            }
            if (!strays.isEmpty()) {
                b.append("; ")
                        .append(strays.size())
                        .append(" files that are not spool segments, left in place: ")
                        .append(String.join(", ", strays));
            }
            LOG.warn(b.toString());
        } else if (records > 0) {
            LOG.info("spool {}: {} records from an earlier run to send", dir, records);
        }
    }

    private static boolean isSealed(Path p) {
        Matcher m = NAME.matcher(p.getFileName().toString());
        return m.matches() && m.group(2) != null;
    }

    private static long sealedCount(Path p) {
        Matcher m = NAME.matcher(p.getFileName().toString());
        return m.matches() && m.group(2) != null ? Long.parseLong(m.group(2)) : -1;
    }

    /** Takes one segment in: clean as it is, or rewritten without its damage (counted and described in {@code report}). */
    private void recoverSegment(long n, Path p, List<String> report) throws IOException {
        long size = Files.size(p);
        long claimed = sealedCount(p);
        String name = p.getFileName().toString();
        try (Arena arena = Arena.ofConfined();
                FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            MemorySegment m = size == 0 ? MemorySegment.NULL : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            Scan sc = scan(m, size);
            long good = sc.records;
            if (claimed < 0 && !sc.legacy && good == 0 && size <= HEADER) {
                Files.delete(p); // a segment the crash caught at its creation: no record in it
                return;
            }
            // records known lost, and whether that is exact
            long lost;
            boolean exact;
            if (claimed >= 0) {
                lost = Math.max(0, claimed - good - sc.tombstoneRecords);
                exact = true;
            } else if (sc.damaged()) {
                // the header alone is no record; a record cut short at the end is exactly one
                boolean headerOnly = !sc.header
                        && !sc.legacy
                        && sc.firstDamage == 0
                        && sc.damageRegions == 1
                        && !sc.tail
                        && sc.damagedBytes <= HEADER;
                lost = headerOnly ? 0 : sc.damageRegions;
                exact = headerOnly || sc.torn && sc.damageRegions == 1;
            } else {
                lost = 0;
                exact = true;
            }
            if (!sc.damaged() && lost == 0 && good == 0) {
                Files.delete(p); // nothing left to send
                return;
            }
            if (!sc.damaged() && lost == 0 && !sc.legacy) {
                Path target = p;
                if (claimed < 0) {
                    target = dir.resolve(sealedName(n, good));
                    Files.move(p, target, StandardCopyOption.ATOMIC_MOVE);
                }
                register(n, target, size, good);
                return;
            }
            lostRecords.addAndGet(lost);
            lostBytes.addAndGet(sc.damagedBytes);
            if (sc.damaged() || lost > 0) {
                damagedSegments.incrementAndGet();
                report.add(describe(name, sc, lost, exact, good));
            }
            if (good == 0) {
                Files.delete(p);
                return;
            }
            long tombstone = claimed >= 0 ? lost : 0;
            Path target = dir.resolve(claimed >= 0 ? name : sealedName(n, good));
            if (claimed < 0 && !sc.middle && !sc.legacy && sc.header) {
                // the usual crash: only the end is damaged, cut it off
                try (FileChannel w = FileChannel.open(p, StandardOpenOption.WRITE)) {
                    w.truncate(sc.firstDamage);
                    w.force(false);
                }
                Files.move(p, target, StandardCopyOption.ATOMIC_MOVE);
                syncDir();
                register(n, target, sc.firstDamage, good);
                return;
            }
            long bytes = rewrite(m, sc, target, tombstone, sc.damagedBytes);
            if (!target.equals(p)) {
                Files.deleteIfExists(p);
            }
            syncDir();
            register(n, target, bytes, good);
        }
    }

    private void register(long n, Path p, long bytes, long records) {
        segments.put(n, new Seg(n, p, bytes, records));
        totalBytes += bytes;
    }

    private static String describe(String name, Scan sc, long lost, boolean exact, long good) {
        String what;
        if (sc.legacy) {
            what = "a segment of the first format, damaged at byte " + sc.firstDamage;
        } else if (!sc.damaged()) {
            what = "shorter than its name says (a power loss before its fsync)";
        } else if (sc.torn && sc.damageRegions == 1) {
            what = "its last record cut short (a crash while writing)";
        } else if (good == 0) {
            what = "no readable record in it";
        } else {
            what = plural(sc.damageRegions, "damaged stretch", "damaged stretches") + " from byte " + sc.firstDamage;
        }
        return String.format(
                Locale.ROOT,
                "%s: %s, %s%s (%s) lost, %s kept",
                name,
                what,
                exact ? "" : "at least ",
                plural(lost, "record", "records"),
                plural(sc.damagedBytes, "byte", "bytes"),
                plural(good, "record", "records"));
    }

    private static String plural(long n, String one, String many) {
        return String.format(Locale.ROOT, "%,d %s", n, n == 1 ? one : many);
    }

    /** Writes the valid frames (and a tombstone for what was lost) to a temporary file renamed onto {@code target}. */
    private long rewrite(MemorySegment m, Scan sc, Path target, long tombRecords, long tombBytes) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + TMP);
        long bytes = HEADER;
        try (FileChannel w = FileChannel.open(
                tmp,
                Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING),
                PRIVATE_FILE)) {
            writeFully(
                    w, ByteBuffer.allocate(HEADER).putInt(MAGIC).putInt(VERSION).flip());
            if (sc.legacy) {
                CRC32C c = new CRC32C();
                for (long pos = 0; pos < sc.legacyEnd; ) {
                    int len = m.get(INT, pos);
                    int keyLen = m.get(INT, pos + 12);
                    ByteBuffer f = ByteBuffer.allocate(FRAME_OVERHEAD + len - 12);
                    f.putInt(4 + len - 12)
                            .putInt(0)
                            .putInt(keyLen)
                            .put(m.asSlice(pos + 16, len - 12).asByteBuffer());
                    c.reset();
                    c.update(f.array(), 8, f.capacity() - 8);
                    f.putInt(4, (int) c.getValue()).flip();
                    bytes += writeFully(w, f);
                    pos += 4 + len;
                }
            } else {
                for (long[] r : sc.runs) {
                    bytes += writeFully(w, m.asSlice(r[0], r[1] - r[0]).asByteBuffer());
                }
            }
            if (tombRecords > 0) {
                ByteBuffer t = ByteBuffer.allocate(8 + TOMBSTONE_BODY);
                t.putInt(TOMBSTONE_BODY)
                        .putInt(0)
                        .putInt(TOMBSTONE)
                        .putLong(tombRecords)
                        .putLong(tombBytes);
                CRC32C c = new CRC32C();
                c.update(t.array(), 8, TOMBSTONE_BODY);
                t.putInt(4, (int) c.getValue()).flip();
                bytes += writeFully(w, t);
            }
            w.force(false);
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return bytes;
    }

    private static long writeFully(FileChannel w, ByteBuffer b) throws IOException {
        long n = b.remaining();
        while (b.hasRemaining()) {
            w.write(b);
        }
        return n;
    }
}
