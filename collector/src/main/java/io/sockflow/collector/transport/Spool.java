package io.sockflow.collector.transport;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import java.util.zip.CRC32;

/**
 * A bounded, ordered, on-disk queue of Kafka records for the time the broker cannot take them. Records live in
 * numbered segment files read oldest first; a segment is deleted once every record in it was acknowledged.
 * Each record is framed with its length and a CRC, so a torn write at a crash is found and counted, not replayed.
 * Thread-safe: the capture thread appends while the shipper reads.
 */
public final class Spool implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Spool.class);
    private static final String PREFIX = "spool-";
    private static final String SUFFIX = ".seg";

    /** What to do with a record when the spool is full. */
    public enum FullPolicy {
        /** keep what is spooled, drop the new record */
        DROP_NEWEST,
        /** delete the oldest segment to make room */
        DROP_OLDEST
    }

    /** One spooled record and where it came from. */
    public record Entry(long segment, byte[] key, byte[] value) {
    }

    private final Path dir;
    private final long maxBytes;
    private final long segmentBytes;
    private final FullPolicy policy;
    /** segment number -> [bytes, records, records handed out, records acknowledged] */
    private final TreeMap<Long, long[]> segments = new TreeMap<>();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong corrupt = new AtomicLong();
    private final AtomicLong spooled = new AtomicLong();
    private long totalBytes;
    private long writeSegment = -1;
    private DataOutputStream out;
    private long readSegment = -1;
    private DataInputStream in;

    public Spool(Path dir, long maxBytes, FullPolicy policy) {
        this(dir, maxBytes, Math.max(64 * 1024, Math.min(maxBytes / 8, 64L << 20)), policy);
    }

    Spool(Path dir, long maxBytes, long segmentBytes, FullPolicy policy) {
        this.dir = dir;
        this.maxBytes = maxBytes;
        this.segmentBytes = segmentBytes;
        this.policy = policy;
        try {
            Files.createDirectories(dir);
            try (Stream<Path> s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    String n = p.getFileName().toString();
                    if (n.startsWith(PREFIX) && n.endsWith(SUFFIX)) {
                        long seg = Long.parseLong(n.substring(PREFIX.length(), n.length() - SUFFIX.length()));
                        long size = Files.size(p);
                        segments.put(seg, new long[] {size, count(p), 0, 0});
                        totalBytes += size;
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot use spool folder " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Good records in a segment left by an earlier run; a torn or corrupt tail is counted and reported. */
    private long count(Path p) {
        long n = 0;
        long bytes = 0;
        byte[][] r;
        try (DataInputStream d = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(p)))) {
            while ((r = readFrame(d)) != null) {
                n++;
                bytes += 16 + r[0].length + r[1].length;
            }
            if (bytes < Files.size(p)) {
                corrupt.incrementAndGet();
                LOG.warn("spool segment {} ends in a torn or corrupt record (a crash while writing): "
                        + "it is skipped and counted", p.getFileName());
            }
        } catch (IOException e) {
            corrupt.incrementAndGet();
        }
        return n;
    }

    private static Path file(Path dir, long seg) {
        return dir.resolve(String.format("%s%020d%s", PREFIX, seg, SUFFIX));
    }

    /** Appends one record; returns false (and counts it) when the policy dropped it. */
    public synchronized boolean append(byte[] key, byte[] value) {
        int frame = 4 + 8 + 4 + key.length + value.length;
        while (totalBytes + frame > maxBytes) {
            if (policy == FullPolicy.DROP_OLDEST && dropOldest()) {
                continue;
            }
            dropped.incrementAndGet();
            return false;
        }
        try {
            if (out == null || segments.get(writeSegment)[0] >= segmentBytes) {
                roll();
            }
            CRC32 crc = new CRC32();
            crc.update(key);
            crc.update(value);
            out.writeInt(frame - 4);
            out.writeLong(crc.getValue());
            out.writeInt(key.length);
            out.write(key);
            out.write(value);
            long[] s = segments.get(writeSegment);
            s[0] += frame;
            s[1]++;
            totalBytes += frame;
            spooled.incrementAndGet();
            return true;
        } catch (IOException e) {
            dropped.incrementAndGet();
            LOG.error("cannot write to the spool {}: {}; the record is dropped and counted", dir, e.getMessage());
            return false;
        }
    }

    private void roll() throws IOException {
        if (out != null) {
            out.close();
        }
        writeSegment = segments.isEmpty() ? 1 : segments.lastKey() + 1;
        out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file(dir, writeSegment),
                StandardOpenOption.CREATE, StandardOpenOption.APPEND), 1 << 16));
        segments.put(writeSegment, new long[] {0, 0, 0, 0});
    }

    /** Writes records before everything spooled so far (records that were in flight when the broker went away). */
    public synchronized int prepend(List<byte[][]> records) {
        if (records.isEmpty()) {
            return 0;
        }
        long seg = segments.isEmpty() ? 1 : segments.firstKey() - 1;
        Path p = file(dir, seg);
        long bytes = 0;
        try (DataOutputStream d = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(p)))) {
            for (byte[][] r : records) {
                CRC32 crc = new CRC32();
                crc.update(r[0]);
                crc.update(r[1]);
                d.writeInt(8 + 4 + r[0].length + r[1].length);
                d.writeLong(crc.getValue());
                d.writeInt(r[0].length);
                d.write(r[0]);
                d.write(r[1]);
                bytes += 16 + r[0].length + r[1].length;
            }
        } catch (IOException e) {
            dropped.addAndGet(records.size());
            LOG.error("cannot write to the spool {}: {}; {} records dropped and counted", dir, e.getMessage(),
                    records.size());
            return 0;
        }
        segments.put(seg, new long[] {bytes, records.size(), 0, 0});
        totalBytes += bytes;
        spooled.addAndGet(records.size());
        return records.size();
    }

    private boolean dropOldest() {
        if (segments.size() <= 1 && segments.containsKey(writeSegment)) {
            return false; // only the segment being written: nothing old to drop
        }
        long seg = segments.firstKey();
        if (seg == readSegment) {
            closeReader();
        }
        long[] s = segments.remove(seg);
        dropped.addAndGet(s[1] - s[3]);
        totalBytes -= s[0];
        try {
            Files.deleteIfExists(file(dir, seg));
        } catch (IOException e) {
            LOG.warn("cannot delete spool segment {}: {}", seg, e.getMessage());
        }
        return true;
    }

    /** The next spooled record not yet handed out, oldest first, or null when there is none. */
    public synchronized Entry next() {
        try {
            while (true) {
                if (in == null) {
                    Long seg = null;
                    for (var e : segments.entrySet()) {
                        if (e.getValue()[2] < e.getValue()[1]) {
                            seg = e.getKey();
                            break;
                        }
                    }
                    if (seg == null) {
                        return null;
                    }
                    if (seg == writeSegment && out != null) {
                        out.flush();
                    }
                    readSegment = seg;
                    in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(file(dir, seg)), 1 << 16));
                    for (long k = 0; k < segments.get(seg)[2]; k++) {
                        readFrame(in);
                    }
                }
                long[] s = segments.get(readSegment);
                if (s == null || s[2] >= s[1]) {
                    closeReader();
                    continue;
                }
                if (readSegment == writeSegment && out != null) {
                    out.flush();
                }
                byte[][] r = readFrame(in);
                if (r == null) {
                    // torn or corrupt: the rest of the segment cannot be trusted
                    long lost = s[1] - s[2];
                    corrupt.addAndGet(lost);
                    s[2] = s[1];
                    s[3] += lost;
                    LOG.warn("spool segment {} is damaged: {} records skipped and counted", readSegment, lost);
                    long seg = readSegment;
                    closeReader();
                    maybeDelete(seg);
                    continue;
                }
                s[2]++;
                return new Entry(readSegment, r[0], r[1]);
            }
        } catch (IOException e) {
            LOG.error("cannot read the spool {}: {}", dir, e.getMessage());
            return null;
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
    }

    private static byte[][] readFrame(DataInputStream d) throws IOException {
        int len;
        try {
            len = d.readInt();
        } catch (EOFException e) {
            return null;
        }
        if (len < 12 || len > (64 << 20)) {
            return null;
        }
        byte[] body = new byte[len];
        try {
            d.readFully(body);
        } catch (EOFException e) {
            return null;
        }
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(body);
        long crc = b.getLong();
        int keyLen = b.getInt();
        if (keyLen < 0 || keyLen > len - 12) {
            return null;
        }
        byte[] key = new byte[keyLen];
        b.get(key);
        byte[] value = new byte[len - 12 - keyLen];
        b.get(value);
        CRC32 c = new CRC32();
        c.update(key);
        c.update(value);
        return c.getValue() == crc ? new byte[][] {key, value} : null;
    }

    /** Marks one record handed out from {@code segment} as acknowledged by Kafka. */
    public synchronized void acknowledge(long segment) {
        long[] s = segments.get(segment);
        if (s == null) {
            return;
        }
        s[3]++;
        maybeDelete(segment);
    }

    private void maybeDelete(long seg) {
        long[] s = segments.get(seg);
        if (s != null && s[3] >= s[1] && seg != writeSegment) {
            segments.remove(seg);
            totalBytes -= s[0];
            if (seg == readSegment) {
                closeReader();
            }
            try {
                Files.deleteIfExists(file(dir, seg));
            } catch (IOException e) {
                LOG.warn("cannot delete spool segment {}: {}", seg, e.getMessage());
            }
        } else if (s != null && s[3] >= s[1] && seg == writeSegment && s[1] > 0) {
            // the writer's segment is fully delivered: start a fresh one next time
            try {
                out.close();
            } catch (IOException ignored) {
                // nothing to do
            }
            out = null;
            writeSegment = -1;
            maybeDelete(seg);
        }
    }

    /** Records waiting (spooled, not yet acknowledged). */
    public synchronized long depth() {
        long n = 0;
        for (long[] s : segments.values()) {
            n += s[1] - s[3];
        }
        return n;
    }

    /** Records waiting that were not handed out yet. */
    public synchronized boolean hasUnread() {
        for (long[] s : segments.values()) {
            if (s[2] < s[1]) {
                return true;
            }
        }
        return false;
    }

    public synchronized long bytes() {
        return totalBytes;
    }

    public long dropped() {
        return dropped.get();
    }

    public long corrupt() {
        return corrupt.get();
    }

    public long spooled() {
        return spooled.get();
    }

    public synchronized void flush() {
        if (out != null) {
            try {
                out.flush();
            } catch (IOException e) {
                LOG.error("cannot flush the spool: {}", e.getMessage());
            }
        }
    }

    /** Forgets what was handed out but not acknowledged, so the next {@link #next()} starts there again. */
    public synchronized void rewind() {
        closeReader();
        readSegment = -1;
        for (long[] s : segments.values()) {
            s[2] = s[3];
        }
    }

    @Override
    public synchronized void close() {
        flush();
        closeReader();
        if (out != null) {
            try {
                out.close();
            } catch (IOException ignored) {
                // nothing to do
            }
            out = null;
        }
    }

    List<Long> segmentNumbers() {
        return new ArrayList<>(segments.keySet());
    }
}
