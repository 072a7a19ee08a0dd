import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.security.MessageDigest;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * How fast this machine is right now, per CPU-second of one thread: SHA-256 over a 1 MiB buffer (compute) and a
 * chain of dependent loads through 128 MiB (memory). The VM's speed moves with its neighbours; bench/run measures
 * this before each group so a reader can tell a slower figure from a slower half hour.
 * Prints: {@code sha256_mb_per_cpu_s ns_per_dependent_load}.
 * {@code java bench/Calibrate.java}
 */
public final class Calibrate {
    public static void main(String[] args) throws Exception {
        ThreadMXBean t = ManagementFactory.getThreadMXBean();
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[1 << 20];
        new SplittableRandom(1).nextBytes(buf);
        long sink = 0;
        for (int i = 0; i < 100; i++) { // warm-up: the JIT compiles the digest
            sink += sha.digest(buf)[0];
        }
        long c0 = t.getCurrentThreadCpuTime();
        int n = 0;
        while (t.getCurrentThreadCpuTime() - c0 < 1_000_000_000L) {
            for (int i = 0; i < 20; i++) {
                sink += sha.digest(buf)[0];
            }
            n += 20;
        }
        double mbPerCpuS = n / ((t.getCurrentThreadCpuTime() - c0) / 1e9);

        // one cycle through 32 Mi ints in random order: every load waits for the one before
        int size = 32 << 20;
        int[] next = new int[size];
        for (int i = 0; i < size; i++) {
            next[i] = i;
        }
        SplittableRandom r = new SplittableRandom(2);
        for (int i = size - 1; i > 0; i--) { // Sattolo's shuffle: a single cycle
            int j = r.nextInt(i);
            int x = next[i];
            next[i] = next[j];
            next[j] = x;
        }
        int p = 0;
        for (int i = 0; i < 2_000_000; i++) {
            p = next[p];
        }
        long loads = 0;
        c0 = t.getCurrentThreadCpuTime();
        while (t.getCurrentThreadCpuTime() - c0 < 1_000_000_000L) {
            for (int i = 0; i < 1_000_000; i++) {
                p = next[p];
            }
            loads += 1_000_000;
        }
        double nsPerLoad = (t.getCurrentThreadCpuTime() - c0) / (double) loads;
        if (sink == 42 && p == -1) {
            System.err.print("");
        }
        System.out.printf(Locale.ROOT, "%.0f %.1f%n", mbPerCpuS, nsPerLoad);
    }
}
