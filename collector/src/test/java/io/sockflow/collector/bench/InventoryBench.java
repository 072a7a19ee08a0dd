package io.sockflow.collector.bench;

import io.sockflow.collector.capture.CaptureOptions;
import io.sockflow.collector.decode.HostInfo;
import io.sockflow.collector.decode.SocketEventDecoder;
import io.sockflow.collector.sockets.SocketCapture;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The start-up inventory's cost with many existing sockets: the collector's own inventory (cookie iterators, the walk
 * of every process's descriptors with their holders, decoding, the socket table) timed from inside, next to
 * {@code ss -tuxanp}, which finds the same sockets and their processes by walking /proc, timed in the same run.
 *
 * <p>A collector inventories once, at its start, in a JVM that has compiled nothing yet: that first inventory is the
 * figure the target is about, so every repetition is a JVM of its own (as a collector's start is), which does one
 * cold inventory and then {@value #WARM} more (the cost once compiled, for comparison). Arguments: the result file,
 * repetitions.
 */
public final class InventoryBench {
    static final int WARM = 3;

    private InventoryBench() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 1 && args[0].equals("--one")) {
            one();
            return;
        }
        Path result = Path.of(args[0]);
        int reps = Integer.parseInt(args[1]);
        List<Long> cold = new ArrayList<>();
        List<Long> warm = new ArrayList<>();
        List<Long> ss = new ArrayList<>();
        long sockets = 0;
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), InventoryBench.class.getName(), "--one"));
        for (int i = 0; i < reps; i++) {
            Process p = new ProcessBuilder(cmd)
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
            String line =
                    new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
            if (p.waitFor() != 0 || line.isEmpty()) {
                throw new IllegalStateException("bench/inventory: repetition " + (i + 1) + " failed (exit "
                        + p.exitValue() + "); its error is above");
            }
            String[] f = line.split(" ");
            sockets = Long.parseLong(f[0]);
            cold.add(Long.parseLong(f[1]));
            warm.add(Long.parseLong(f[2]));
            ss.add(Long.parseLong(f[3]));
            System.out.printf(
                    Locale.ROOT,
                    "  JVM %d of %d: first inventory %.0f ms, compiled %.0f ms, ss %.0f ms%n",
                    i + 1,
                    reps,
                    cold.getLast() / 1e6,
                    warm.getLast() / 1e6,
                    ss.getLast() / 1e6);
        }
        long first = median(cold);
        long steady = median(warm);
        long walk = median(ss);
        boolean met = first < 1_000_000_000L;
        Files.writeString(
                result,
                String.format(
                        Locale.ROOT,
                        "{\"sockets\": %d, \"first_inventory_ms\": %.1f, \"first_inventory_max_ms\": %.1f, "
                                + "\"inventory_ms\": %.1f, \"ss_ms\": %.1f, \"first_ratio_to_ss\": %.3f, "
                                + "\"ratio_to_ss\": %.3f, \"target_ms\": 1000, \"met\": %b, \"jvms\": %d}%n",
                        sockets,
                        first / 1e6,
                        cold.stream().mapToLong(Long::longValue).max().orElse(0) / 1e6,
                        steady / 1e6,
                        walk / 1e6,
                        (double) first / walk,
                        (double) steady / walk,
                        met,
                        reps));
        System.out.printf(
                Locale.ROOT,
                "inventory of %,d socket descriptors (holders included), each in a fresh JVM as at a collector's "
                        + "start: %.0f ms (median of %d; slowest %.0f; target < 1000 ms: %s); once compiled %.0f ms; "
                        + "ss -tuxanp, which walks /proc for the same, %.0f ms; first/ss %.2f, compiled/ss %.2f%n",
                sockets,
                first / 1e6,
                reps,
                cold.stream().mapToLong(Long::longValue).max().orElse(0) / 1e6,
                met ? "met" : "MISSED",
                steady / 1e6,
                walk / 1e6,
                (double) first / walk,
                (double) steady / walk);
    }

    /** One JVM: the cold inventory, then {@link #WARM} more, then ss; prints "sockets cold warm ss" in ns. */
    private static void one() throws Exception {
        HostInfo host = HostInfo.local(null);
        List<Long> times = new ArrayList<>();
        int records = 0;
        for (int i = 0; i <= WARM; i++) {
            AtomicLong out = new AtomicLong();
            try (SocketCapture c = new SocketCapture(
                    CaptureOptions.defaults(),
                    new SocketEventDecoder(host),
                    Duration.ZERO,
                    e -> out.incrementAndGet())) {
                times.add(c.inventoryNanos());
                records = c.inventoried();
            }
        }
        long t0 = System.nanoTime();
        Process p =
                new ProcessBuilder("ss", "-tuxanp").redirectErrorStream(true).start();
        p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
        p.waitFor();
        long ss = System.nanoTime() - t0;
        System.out.println(records + " " + times.getFirst() + " " + median(times.subList(1, times.size())) + " " + ss);
    }

    static long median(List<Long> v) {
        List<Long> s = new ArrayList<>(v);
        s.sort(null);
        return s.get(s.size() / 2);
    }
}
