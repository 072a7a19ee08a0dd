package io.sockflow.collector.transport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

/**
 * What fsync costs the spool: records/s appended (on the capture thread, as the collector does while Kafka is away)
 * with fsync off, with the default (a sync thread every second, a sealed segment at once), every 100 ms, and after
 * every record; each as a ratio to fsync off in the same repetition, the order rotated between repetitions. Also the
 * time a stop takes to save what the producer held (64 MiB, its default buffer.memory) to the spool and fsync it.
 * Writes bench/results/spool.json. Run by bench/spool.
 */
public final class SpoolBench {
    private SpoolBench() {}

    record Mode(String name, Duration fsync, int records) {}

    public static void main(String[] args) throws Exception {
        Path json = Path.of(args.length > 0 ? args[0] : "bench/results/spool.json");
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        Path dir = Files.createTempDirectory(Path.of(args.length > 2 ? args[2] : "/var/tmp"), "sockflow-spool-bench");
        int n = 1_000_000;
        List<Mode> modes = List.of(
                new Mode("off", Spool.NO_FSYNC, n),
                new Mode("1s", Duration.ofSeconds(1), n),
                new Mode("100ms", Duration.ofMillis(100), n),
                new Mode("every record", Duration.ZERO, 3_000));
        byte[][] keys = new byte[64][];
        byte[][] values = new byte[256][];
        Random r = new Random(1);
        for (int i = 0; i < keys.length; i++) {
            keys[i] = ("host-1/" + (4_000_000 + r.nextInt(1_000_000))).getBytes(StandardCharsets.UTF_8);
        }
        for (int i = 0; i < values.length; i++) {
            values[i] = new byte[180 + r.nextInt(80)]; // a SocketEvent in the Confluent framing is about 220 bytes
            r.nextBytes(values[i]);
        }
        // one unmeasured pass, so that the JIT has compiled the append path
        run(dir, new Mode("warm-up", Spool.NO_FSYNC, 300_000), keys, values);
        Map<String, List<Double>> rates = new LinkedHashMap<>();
        Map<String, List<Double>> ratios = new LinkedHashMap<>();
        modes.forEach(m -> {
            rates.put(m.name(), new ArrayList<>());
            ratios.put(m.name(), new ArrayList<>());
        });
        List<Double> saves = new ArrayList<>();
        for (int rep = 0; rep < reps; rep++) {
            Map<String, Double> thisRep = new LinkedHashMap<>();
            for (int k = 0; k < modes.size(); k++) {
                Mode m = modes.get((k + rep) % modes.size());
                thisRep.put(m.name(), run(dir, m, keys, values));
            }
            double off = thisRep.get("off");
            for (Mode m : modes) {
                rates.get(m.name()).add(thisRep.get(m.name()));
                ratios.get(m.name()).add(thisRep.get(m.name()) / off);
            }
            saves.add(save(dir, keys, values));
            System.out.printf(
                    Locale.ROOT,
                    "  run %d/%d: %s; saving 64 MiB at a stop %.2f s%n",
                    rep + 1,
                    reps,
                    String.join(
                            ", ",
                            modes.stream()
                                    .map(m -> String.format(
                                            Locale.ROOT,
                                            "%s %,.0f records/s (%.3f)",
                                            m.name(),
                                            thisRep.get(m.name()),
                                            thisRep.get(m.name()) / off))
                                    .toList()),
                    saves.getLast());
        }
        System.out.println();
        System.out.printf(
                Locale.ROOT, "%-14s %22s %28s%n", "fsync", "records/s (median)", "vs off, same run (min-max)");
        StringBuilder j = new StringBuilder("{\n");
        for (Mode m : modes) {
            double[] rt = stats(rates.get(m.name()));
            double[] ra = stats(ratios.get(m.name()));
            System.out.printf(Locale.ROOT, "%-14s %,22.0f %14.3f (%.3f-%.3f)%n", m.name(), rt[0], ra[0], ra[1], ra[2]);
            j.append(String.format(
                    Locale.ROOT,
                    "  \"%s\": {\"records_per_sec\": %.0f, \"ratio_to_off\": {\"median\": "
                            + "%.3f, \"min\": %.3f, \"max\": %.3f}},%n",
                    m.name().replace(' ', '_'),
                    rt[0],
                    ra[0],
                    ra[1],
                    ra[2]));
        }
        double[] sv = stats(saves);
        System.out.printf(
                Locale.ROOT,
                "%nsaving 64 MiB to the spool at a stop, fsync included: %.2f s (%.2f-%.2f)%n",
                sv[0],
                sv[1],
                sv[2]);
        j.append(String.format(
                Locale.ROOT,
                "  \"stop_save_64mib_seconds\": {\"median\": %.2f, \"min\": %.2f, " + "\"max\": %.2f}%n}%n",
                sv[0],
                sv[1],
                sv[2]));
        Files.createDirectories(json.toAbsolutePath().getParent());
        Files.writeString(json, j.toString());
        System.out.println("\nwrote " + json);
        deleteAll(dir);
        Files.delete(dir);
    }

    /** Records/s appended, from the first append to the close (everything on disk but with fsync off). */
    static double run(Path parent, Mode m, byte[][] keys, byte[][] values) throws IOException {
        Path dir = parent.resolve("spool");
        long t0 = System.nanoTime();
        try (Spool s = new Spool(dir, 4L << 30, 64L << 20, Spool.FullPolicy.DROP_NEWEST, m.fsync())) {
            for (int i = 0; i < m.records(); i++) {
                if (!s.append(keys[i & 63], values[i & 255])) {
                    throw new IllegalStateException("the spool refused a record");
                }
            }
        }
        double rate = m.records() / ((System.nanoTime() - t0) / 1e9);
        deleteAll(dir); // deleted files' dirty pages are dropped: nothing carries over to the next mode
        return rate;
    }

    /** Seconds to write what the producer held at a stop (64 MiB) as a segment in front, and fsync it. */
    static double save(Path parent, byte[][] keys, byte[][] values) throws IOException {
        Path dir = parent.resolve("spool");
        List<byte[][]> held = new ArrayList<>();
        long bytes = 0;
        for (int i = 0; bytes < 64L << 20; i++) {
            held.add(new byte[][] {keys[i & 63], values[i & 255]});
            bytes += keys[i & 63].length + values[i & 255].length;
        }
        Spool s = new Spool(dir, 4L << 30, 64L << 20, Spool.FullPolicy.DROP_NEWEST, Spool.DEFAULT_FSYNC_INTERVAL);
        for (int i = 0; i < 10_000; i++) {
            s.append(keys[i & 63], values[i & 255]);
        }
        long t0 = System.nanoTime();
        s.prepend(held);
        s.rewind();
        s.close();
        double seconds = (System.nanoTime() - t0) / 1e9;
        deleteAll(dir);
        return seconds;
    }

    static double[] stats(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(Comparator.naturalOrder());
        return new double[] {s.get(s.size() / 2), s.getFirst(), s.getLast()};
    }

    static void deleteAll(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                Files.delete(p);
            }
        }
    }
}
