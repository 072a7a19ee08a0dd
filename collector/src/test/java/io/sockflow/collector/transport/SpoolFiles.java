package io.sockflow.collector.transport;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * The spool's files read the way its format is documented, independently of {@link Spool}'s own reader: tests count
 * what a segment holds with it before they damage it.
 */
final class SpoolFiles {
    private static final Pattern NAME = Pattern.compile("spool-(-?\\d+)(?:-(\\d+))?\\.seg");

    private SpoolFiles() {}

    /** One segment file: its number, the count its name gives (-1 while open), its records and what follows them. */
    record Segment(Path path, long number, long claimed, List<byte[][]> records, List<Long> offsets, long leftover) {
        boolean sealed() {
            return claimed >= 0;
        }
    }

    /** Every segment in the folder, by number. */
    static List<Segment> segments(Path dir) throws IOException {
        List<Segment> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                Matcher m = NAME.matcher(p.getFileName().toString());
                if (m.matches()) {
                    out.add(read(p, Long.parseLong(m.group(1)), m.group(2) == null ? -1 : Long.parseLong(m.group(2))));
                }
            }
        }
        out.sort((a, b) -> Long.compare(a.number(), b.number()));
        return out;
    }

    /** Frames from the start until the first that does not check out; the bytes after them are the leftover. */
    static Segment read(Path p, long number, long claimed) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p));
        List<byte[][]> records = new ArrayList<>();
        List<Long> offsets = new ArrayList<>();
        if (b.remaining() < 8 || b.getInt(0) != 0x53465350 || b.getInt(4) != 2) {
            return new Segment(p, number, claimed, records, offsets, b.remaining());
        }
        b.position(8);
        while (b.remaining() >= 12) {
            int at = b.position();
            int body = b.getInt(at);
            if (body < 4 || body > b.remaining() - 8) {
                break;
            }
            int keyLen = b.getInt(at + 8);
            CRC32C c = new CRC32C();
            c.update(b.array(), at + 8, body);
            if ((int) c.getValue() != b.getInt(at + 4)) {
                break;
            }
            b.position(at + 8 + body);
            if (keyLen == -1) {
                continue; // a tombstone
            }
            byte[] key = new byte[keyLen];
            byte[] value = new byte[body - 4 - keyLen];
            System.arraycopy(b.array(), at + 12, key, 0, keyLen);
            System.arraycopy(b.array(), at + 12 + keyLen, value, 0, value.length);
            records.add(new byte[][] {key, value});
            offsets.add((long) at);
        }
        return new Segment(p, number, claimed, records, offsets, b.remaining());
    }
}
