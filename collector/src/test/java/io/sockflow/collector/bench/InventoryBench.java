package io.sockflow.collector.bench;

import io.sockflow.collector.capture.CaptureOptions;
import io.sockflow.collector.decode.HostInfo;
import io.sockflow.collector.decode.SocketEventDecoder;
import io.sockflow.collector.sockets.SocketCapture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The start-up inventory's cost with many existing sockets: the collector's own inventory (cookie iterators, the walk
 * of every process's descriptors with their holders, decoding, the socket table) timed from inside, next to
 * {@code ss -tuxanp}, which finds the same sockets and their processes by walking /proc, timed in the same run.
 * Arguments: the result file, repetitions.
 */
public final class InventoryBench {
    private InventoryBench() {}

    public static void main(String[] args) throws Exception {
        Path result = Path.of(args[0]);
        int reps = Integer.parseInt(args[1]);
        List<Long> inventory = new ArrayList<>();
        List<Long> ss = new ArrayList<>();
        List<Integer> records = new ArrayList<>();
        HostInfo host = HostInfo.local(null);
        for (int i = 0; i < reps; i++) {
            AtomicLong out = new AtomicLong();
            try (SocketCapture c = new SocketCapture(
                    CaptureOptions.defaults(),
                    new SocketEventDecoder(host),
                    Duration.ZERO,
                    e -> out.incrementAndGet())) {
                inventory.add(c.inventoryNanos());
                records.add(c.inventoried());
            }
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder("ss", "-tuxanp")
                    .redirectErrorStream(true)
                    .start();
            p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
            p.waitFor();
            ss.add(System.nanoTime() - t0);
        }
        long inv = median(inventory);
        long walk = median(ss);
        String json = String.format(
                java.util.Locale.ROOT,
                "{\"sockets\": %d, \"inventory_ms\": %.1f, \"first_inventory_ms\": %.1f, \"ss_ms\": %.1f, "
                        + "\"ratio_to_ss\": %.3f, \"target_ms\": 1000}%n",
                records.get(records.size() - 1),
                inv / 1e6,
                inventory.get(0) / 1e6,
                walk / 1e6,
                (double) inv / walk);
        Files.writeString(result, json);
        System.out.printf(
                java.util.Locale.ROOT,
                "inventory of %,d socket descriptors (holders included): %.0f ms (median of %d; target < 1000 ms), "
                        + "the first in this JVM (the decoder not yet compiled, as at a collector's start) %.0f ms; "
                        + "ss -tuxanp, which walks /proc for the same, %.0f ms; ratio %.2f%n",
                records.get(records.size() - 1),
                inv / 1e6,
                reps,
                inventory.get(0) / 1e6,
                walk / 1e6,
                (double) inv / walk);
    }

    static long median(List<Long> v) {
        List<Long> s = new ArrayList<>(v);
        s.sort(null);
        return s.get(s.size() / 2);
    }
}
