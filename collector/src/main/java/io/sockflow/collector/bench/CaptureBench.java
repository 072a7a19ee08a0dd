package io.sockflow.collector.bench;

import io.sockflow.collector.capture.Capture;
import io.sockflow.collector.capture.CaptureOptions;
import io.sockflow.collector.decode.HostInfo;
import io.sockflow.collector.decode.SocketEventDecoder;
import io.sockflow.schemas.SocketEvent;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Measures the capture path on this machine: how fast the collector drains and decodes a full ring buffer, the
 * highest offered rate it follows with zero drops, and the kernel's cost per program from bpf_stats. Prints a
 * table and writes JSON to the file given as the first argument.
 */
public final class CaptureBench {
    private CaptureBench() {}

    /** sockflow's programs on the kernel tracepoint groups (the kernel cuts names to 15 characters). */
    static final java.util.Set<String> KERNEL_PROGRAMS = java.util.Set.of(
            "sock_set_state",
            "sock_send_lengt",
            "sock_recv_lengt",
            "tcp_retransmit",
            "tcp_send_reset",
            "tcp_receive_res",
            "tcp_destroy_soc",
            "tcp_probe",
            "skb_drop",
            "net_dev_xmit",
            "netif_receive_s",
            "xdp_exception",
            "xdp_redirect_er",
            "udp_queue_overf",
            "sock_send_length",
            "sock_recv_length",
            "tcp_receive_reset",
            "tcp_destroy_sock",
            "netif_receive_skb",
            "xdp_redirect_err",
            "udp_queue_overflow");

    record Drain(long records, double rawPerSec, double decodedPerSec) {}

    record Step(long offered, long received, long dropped, double seconds, Map<String, long[]> progs) {}

    public static void main(String[] args) throws Exception {
        Path json = Path.of(args.length > 0 ? args[0] : "bench/results/capture.json");
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        System.out.println("sockflow capture bench: " + Runtime.getRuntime().availableProcessors() + " cpus, kernel "
                + System.getProperty("os.version"));

        List<Drain> drains = new ArrayList<>();
        for (int r = 0; r < reps; r++) {
            drains.add(drain());
            System.out.printf(
                    Locale.ROOT,
                    "  drain %d/%d: %,d records, raw %,.0f/s, decoded %,.0f/s%n",
                    r + 1,
                    reps,
                    drains.getLast().records,
                    drains.getLast().rawPerSec,
                    drains.getLast().decodedPerSec);
        }

        setBpfStats(true);
        Map<String, long[]> after = new LinkedHashMap<>();
        List<Step> steps = new ArrayList<>();
        long best = 0;
        for (long rate : new long[] {50_000, 100_000, 200_000, 300_000, 400_000, 600_000, 0}) {
            Step s = live(rate, 4.0);
            steps.add(s);
            s.progs().forEach((k, v) -> {
                long[] a = after.computeIfAbsent(k, x -> new long[2]);
                a[0] += v[0];
                a[1] += v[1];
            });
            System.out.printf(
                    Locale.ROOT,
                    "  live offered %s: %,.0f sendto calls/s made, %,.0f records/s decoded "
                            + "(the call and its sock_send_length), %,d dropped%n",
                    rate == 0 ? "max" : String.format(Locale.ROOT, "%,d calls/s", rate),
                    s.offered / s.seconds,
                    s.received / s.seconds,
                    s.dropped);
            if (s.dropped == 0) {
                best = Math.max(best, (long) (s.received / s.seconds));
            }
        }
        // a TCP phase, so that the tcp and sock programs run too: a loopback connection pumped for 2 s and
        // connects refused by a closed port (resets)
        tcpPhase().forEach((k, v) -> {
            long[] a = after.computeIfAbsent(k, x -> new long[2]);
            a[0] += v[0];
            a[1] += v[1];
        });
        setBpfStats(false);

        Map<String, Double> nsPerRun = new LinkedHashMap<>();
        long totalNs = 0;
        long totalRuns = 0;
        long sysNs = 0;
        long sysRuns = 0;
        for (var e : after.entrySet()) {
            long ns = e.getValue()[0];
            long cnt = e.getValue()[1];
            if (cnt > 0) {
                nsPerRun.put(e.getKey(), ns / (double) cnt);
                totalNs += ns;
                totalRuns += cnt;
                if (e.getKey().startsWith("sys_")) {
                    sysNs += ns;
                    sysRuns += cnt;
                }
            }
        }
        double sysAverage = sysRuns == 0 ? 0 : sysNs / (double) sysRuns;
        double[] raw = drains.stream().mapToDouble(Drain::rawPerSec).sorted().toArray();
        double[] dec =
                drains.stream().mapToDouble(Drain::decodedPerSec).sorted().toArray();
        double sendtoPair =
                nsPerRun.getOrDefault("sys_enter_sendto", 0.0) + nsPerRun.getOrDefault("sys_exit_sendto", 0.0);

        System.out.println();
        System.out.printf(Locale.ROOT, "%-52s %16s %s%n", "figure", "median", "(min..max, target)");
        System.out.printf(
                Locale.ROOT,
                "%-52s %,16.0f (%,.0f..%,.0f, >= 1,000,000)%n",
                "drain: records/s decoded to SocketEvent, one core",
                dec[dec.length / 2],
                dec[0],
                dec[dec.length - 1]);
        System.out.printf(
                Locale.ROOT,
                "%-52s %,16.0f (%,.0f..%,.0f)%n",
                "drain: records/s read in place (no decode)",
                raw[raw.length / 2],
                raw[0],
                raw[raw.length - 1]);
        System.out.printf(
                Locale.ROOT,
                "%-52s %,16d (loopback UDP sendto load)%n",
                "live: highest records/s decoded with zero drops",
                best);
        System.out.printf(
                Locale.ROOT,
                "%-52s %16.0f (two program runs)%n",
                "kernel: ns per sendto call (enter + exit)",
                sendtoPair);
        System.out.printf(
                Locale.ROOT, "%-52s %16.0f (< 300)%n", "kernel: ns per syscall program run, average", sysAverage);
        System.out.printf(
                Locale.ROOT,
                "%-52s %16.0f (syscall and tracepoint programs)%n",
                "kernel: ns per program run, all programs",
                totalRuns == 0 ? 0 : totalNs / (double) totalRuns);
        for (var e : nsPerRun.entrySet()) {
            System.out.printf(Locale.ROOT, "    %-48s %16.0f%n", e.getKey(), e.getValue());
        }

        StringBuilder j = new StringBuilder("{\n");
        j.append(String.format(
                Locale.ROOT,
                "  \"drain_decoded_per_sec\": {\"median\": %.0f, \"min\": %.0f, \"max\": %.0f},%n",
                dec[dec.length / 2],
                dec[0],
                dec[dec.length - 1]));
        j.append(String.format(
                Locale.ROOT,
                "  \"drain_raw_per_sec\": {\"median\": %.0f, \"min\": %.0f, \"max\": %.0f},%n",
                raw[raw.length / 2],
                raw[0],
                raw[raw.length - 1]));
        j.append(String.format(Locale.ROOT, "  \"live_zero_drop_per_sec\": %d,%n", best));
        j.append(String.format(Locale.ROOT, "  \"kernel_ns_per_event_sendto\": %.1f,%n", sendtoPair));
        j.append(String.format(Locale.ROOT, "  \"kernel_ns_per_syscall_program_run\": %.1f,%n", sysAverage));
        j.append("  \"kernel_ns_per_run\": {");
        int i = 0;
        for (var e : nsPerRun.entrySet()) {
            j.append(i++ == 0 ? "" : ", ").append(String.format(Locale.ROOT, "\"%s\": %.1f", e.getKey(), e.getValue()));
        }
        j.append("}\n}\n");
        Files.createDirectories(json.toAbsolutePath().getParent());
        Files.writeString(json, j.toString());
        System.out.println("\nwrote " + json);
        System.exit(0);
    }

    static Process load(int threads, long rate, long total, double seconds) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        return new ProcessBuilder(
                        java,
                        "--enable-native-access=ALL-UNNAMED",
                        "-XX:+UseSerialGC",
                        "-cp",
                        ManagementFactory.getRuntimeMXBean().getClassPath(),
                        LoadGenerator.class.getName(),
                        Integer.toString(threads),
                        Long.toString(rate),
                        Long.toString(total),
                        Double.toString(seconds))
                .redirectErrorStream(true)
                .start();
    }

    static long[] loadResult(Process p) throws Exception {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
            String line = r.readLine();
            p.waitFor();
            String[] f = line.trim().split(" ");
            return new long[] {Long.parseLong(f[0]), (long) (Double.parseDouble(f[1]) * 1e9)};
        }
    }

    /** Fills a 1 GiB ring with the load (nobody reading), then times reading it back; twice: raw, then decoded. */
    static Drain drain() throws Exception {
        long total = 1_400_000;
        SocketEventDecoder decoder = new SocketEventDecoder(HostInfo.local(null));
        SocketEvent reused = new SocketEvent();
        boolean[] decode = {false};
        long[] sink = {0};
        CaptureOptions o = CaptureOptions.defaults().withRingBufferBytes(1 << 30);
        try (Capture c = Capture.open(o, rec -> {
            if (decode[0]) {
                sink[0] += decoder.decode(rec, reused).getDurationNs();
            } else {
                sink[0] += rec.get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 8);
            }
        })) {
            double[] rates = new double[2];
            long records = 0;
            for (int pass = 0; pass < 2; pass++) {
                decode[0] = pass == 1;
                loadResult(load(2, 0, total, 60));
                long t0 = System.nanoTime();
                long n = c.drain();
                rates[pass] = n / ((System.nanoTime() - t0) / 1e9);
                records += n;
            }
            if (sink[0] == 42) {
                System.out.print("");
            }
            return new Drain(records, rates[0], rates[1]);
        }
    }

    /** The collector as it runs: its own reader thread decoding, the load offered at {@code rate}. */
    static Step live(long rate, double seconds) throws Exception {
        SocketEventDecoder decoder = new SocketEventDecoder(HostInfo.local(null));
        SocketEvent reused = new SocketEvent();
        long[] sink = {0};
        try (Capture c = Capture.open(
                        CaptureOptions.defaults(),
                        rec -> sink[0] += decoder.decode(rec, reused).getPid())
                .start()) {
            Capture.Stats s0 = c.stats();
            Process p = load(rate == 0 ? 2 : 1, rate, Long.MAX_VALUE, seconds);
            long[] r = loadResult(p);
            Thread.sleep(300);
            Map<String, long[]> progs = progStats();
            c.close();
            Capture.Stats s1 = c.stats();
            return new Step(r[0], s1.received() - s0.received(), s1.dropped() - s0.dropped(), r[1] / 1e9, progs);
        }
    }

    /** Starts the loopback TCP pump shipped with the collector (bench/pump.py): SECONDS of traffic, REFUSED connects. */
    public static Process pump(double seconds, int refused) throws IOException {
        Path script = Files.createTempFile("sockflow-pump", ".py");
        try (var in = CaptureBench.class.getResourceAsStream("pump.py")) {
            Files.write(script, in.readAllBytes());
        }
        script.toFile().deleteOnExit();
        return new ProcessBuilder(
                        "/usr/bin/python3", script.toString(), Double.toString(seconds), Integer.toString(refused))
                .redirectErrorStream(true)
                .start();
    }

    static Map<String, long[]> tcpPhase() throws Exception {
        long[] sink = {0};
        try (Capture c =
                Capture.open(CaptureOptions.defaults(), rec -> sink[0]++).start()) {
            Process p = pump(2, 200);
            p.getInputStream().readAllBytes();
            p.waitFor();
            Thread.sleep(200);
            return progStats();
        }
    }

    static void setBpfStats(boolean on) throws IOException {
        Files.writeString(Path.of("/proc/sys/kernel/bpf_stats_enabled"), on ? "1" : "0");
    }

    /** run_time_ns and run_cnt of sockflow's programs, by name. */
    static Map<String, long[]> progStats() throws Exception {
        Process p = new ProcessBuilder("bpftool", "prog", "show", "-j").start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        Map<String, long[]> m = new LinkedHashMap<>();
        var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out);
        for (var prog : node) {
            String name = prog.path("name").asText();
            if (name.startsWith("sys_enter_") || name.startsWith("sys_exit_") || KERNEL_PROGRAMS.contains(name)) {
                long[] v = m.computeIfAbsent(name, k -> new long[2]);
                v[0] += prog.path("run_time_ns").asLong();
                v[1] += prog.path("run_cnt").asLong();
            }
        }
        return m;
    }
}
