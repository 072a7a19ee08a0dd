package io.sockflow.collector.bench;

import static io.sockflow.collector.bpf.EventLayout.*;
import static java.lang.foreign.ValueLayout.*;

import io.sockflow.collector.bpf.EventLayout;
import io.sockflow.collector.decode.HostInfo;
import io.sockflow.collector.decode.SocketEventDecoder;
import io.sockflow.collector.transport.KafkaOutput;
import io.sockflow.collector.transport.Spool;
import io.sockflow.embedded.LocalStack;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.registry.RegistryClient;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Collector to Kafka: decoded events serialized (Avro, Confluent framing) and produced to the embedded broker until
 * acknowledged. CPU is counted on the threads that do that work (the caller, the shipper, the producer's network
 * thread), not on the broker that shares this JVM. Writes bench/results/kafka.json.
 */
public final class KafkaBench {
    private KafkaBench() {}

    public static void main(String[] args) throws Exception {
        Path json = Path.of(args.length > 0 ? args[0] : "bench/results/kafka.json");
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int events = 1_000_000;
        Path dir = Files.createTempDirectory("sockflow-kafka-bench");
        List<double[]> runs = new ArrayList<>();
        List<Double> producerOnly = new ArrayList<>();
        List<Double> pairRatios = new ArrayList<>();
        try (LocalStack stack = LocalStack.start(dir, 0, 0)) {
            SocketEvent[] sample = sampleEvents(4096);
            // one run that is not counted: the JIT compiles the path, as it has long done in a running collector
            double[] warm = run(stack, dir, sample, events, "bench-warmup");
            System.out.printf(Locale.ROOT, "  warm-up (not counted): %,.0f events/s per core%n", warm[1]);
            // the Kafka client alone: the same records, serialized beforehand
            var ser = new io.sockflow.schemas.registry.ConfluentAvro.Serializer<SocketEvent>(
                    new RegistryClient(RegistryClient.Config.of(stack.registryUrl())),
                    "bench-pre-value",
                    SocketEvent.getClassSchema(),
                    io.sockflow.schemas.avro.SocketEventWriter::write);
            byte[][][] pre = new byte[2][sample.length][];
            for (int i = 0; i < sample.length; i++) {
                pre[0][i] = KafkaOutput.key(sample[i]);
                pre[1][i] = ser.serialize(sample[i]);
            }
            // each repetition runs the two side by side, in turns (this machine's speed moves within minutes): the
            // ratio of a pair is the figure; the two medians alone would compare runs minutes apart
            for (int r = 0; r < reps; r++) {
                double[] x;
                double alone;
                if (r % 2 == 0) {
                    x = run(stack, dir, sample, events, "bench-" + r);
                    alone = run(stack, dir, sample, pre, events, "bench-pre-" + r)[1];
                } else {
                    alone = run(stack, dir, sample, pre, events, "bench-pre-" + r)[1];
                    x = run(stack, dir, sample, events, "bench-" + r);
                }
                runs.add(x);
                producerOnly.add(alone);
                pairRatios.add(x[1] / alone);
                System.out.printf(
                        Locale.ROOT,
                        "  run %d/%d: %,.0f events/s, %,.0f events/s per core, %.1f MB/s, compression %.2fx;"
                                + " client alone %,.0f records/s per core; ratio %.3f%n",
                        r + 1,
                        reps,
                        x[0],
                        x[1],
                        x[2],
                        x[3],
                        alone,
                        x[1] / alone);
            }
        }
        // the serializer alone, on this thread: how much of the cost is Avro
        double serOnly;
        try (LocalStack stack = LocalStack.start(Files.createTempDirectory("sockflow-ser"), 0, 0)) {
            var ser = new io.sockflow.schemas.registry.ConfluentAvro.Serializer<SocketEvent>(
                    new RegistryClient(RegistryClient.Config.of(stack.registryUrl())),
                    "ser",
                    SocketEvent.getClassSchema(),
                    io.sockflow.schemas.avro.SocketEventWriter::write);
            SocketEvent[] sample = sampleEvents(4096);
            long sink = 0;
            for (int i = 0; i < 500_000; i++) {
                sink += ser.serialize(sample[i & 4095]).length;
            }
            long c0 = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
            for (int i = 0; i < 2_000_000; i++) {
                sink += ser.serialize(sample[i & 4095]).length;
            }
            serOnly = 2_000_000 / ((ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - c0) / 1e9);
            if (sink == 42) {
                System.out.print("");
            }
        }
        double[] perSec = runs.stream().mapToDouble(x -> x[0]).sorted().toArray();
        double[] perCore = runs.stream().mapToDouble(x -> x[1]).sorted().toArray();
        double[] mb = runs.stream().mapToDouble(x -> x[2]).sorted().toArray();
        double[] ratio = runs.stream().mapToDouble(x -> x[3]).sorted().toArray();
        int m = runs.size() / 2;
        System.out.println();
        System.out.printf(Locale.ROOT, "%-52s %16s %s%n", "figure", "median", "(min..max, target)");
        figure("Kafka: events/s per core, decoded -> acknowledged", "%,16.0f", perCore, ">= 500,000");
        System.out.printf(
                Locale.ROOT,
                "%-52s %,16.0f (one thread, no Kafka)%n",
                "Avro serialization alone: events/s per core",
                serOnly);
        double[] prod =
                producerOnly.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        figure("Kafka client alone: records/s per core", "%,16.0f", prod, "records serialized beforehand");
        double[] pairs =
                pairRatios.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        figure(
                "Kafka: events per core over the client alone",
                "%16.3f",
                pairs,
                ">= 0.8; each run over the client alone run beside it");
        figure("Kafka: events/s (wall clock)", "%,16.0f", perSec, null);
        figure("Kafka: MB/s of Avro produced", "%16.1f", mb, null);
        System.out.printf(
                Locale.ROOT, "%-52s %16.2f (lz4, bytes before / on disk)%n", "Kafka: compression ratio", ratio[m]);
        Files.createDirectories(json.toAbsolutePath().getParent());
        Files.writeString(
                json,
                String.format(
                        Locale.ROOT,
                        "{\n  \"events_per_sec_per_core\": {\"median\": %.0f, "
                                + "\"min\": %.0f, \"max\": %.0f},\n  \"events_per_sec\": %.0f,\n  \"mb_per_sec\": %.1f,\n"
                                + "  \"compression_ratio\": %.2f,\n  \"serialize_only_per_sec_per_core\": %.0f,\n"
                                + "  \"producer_only_per_sec_per_core\": %.0f,\n"
                                + "  \"produce_vs_client_pairs\": {\"median\": %.4f, \"min\": %.4f, \"max\": %.4f}\n}\n",
                        perCore[m],
                        perCore[0],
                        perCore[perCore.length - 1],
                        perSec[m],
                        mb[m],
                        ratio[m],
                        serOnly,
                        prod[prod.length / 2],
                        pairs[pairs.length / 2],
                        pairs[0],
                        pairs[pairs.length - 1]));
        System.out.println("\nwrote " + json);
        System.exit(0);
    }

    /** One line of the table: the median of {@code sorted} in {@code format}, its range and a note. */
    private static void figure(String name, String format, double[] sorted, String note) {
        String range = format.replace("16", "");
        System.out.printf(
                Locale.ROOT,
                "%-52s " + format + " (" + range + ".." + range + "%s)%n",
                name,
                sorted[sorted.length / 2],
                sorted[0],
                sorted[sorted.length - 1],
                note == null ? "" : ", " + note);
    }

    /** Events as the decoder makes them from kernel records: a mix of sends, receives and connects. */
    static SocketEvent[] sampleEvents(int n) {
        SocketEventDecoder d = new SocketEventDecoder(HostInfo.local("bench-host"));
        SocketEvent[] out = new SocketEvent[n];
        try (Arena a = Arena.ofConfined()) {
            MemorySegment r = a.allocate(EventLayout.SIZE, 8);
            for (int i = 0; i < n; i++) {
                r.fill((byte) 0);
                int kind = new int[] {16, 13, 11, 21, 1}[i % 5];
                r.set(JAVA_SHORT_UNALIGNED, KIND, (short) kind);
                r.set(JAVA_LONG_UNALIGNED, TS_NS, 1_000_000_000L + i * 1000L);
                r.set(JAVA_LONG_UNALIGNED, DURATION_NS, 2_000 + i % 300);
                r.set(JAVA_INT_UNALIGNED, PID, 1000 + i % 17);
                r.set(JAVA_INT_UNALIGNED, TID, 1000 + i % 23);
                r.set(JAVA_LONG_UNALIGNED, SOCK_INO, 50_000 + i % 300);
                r.set(JAVA_LONG_UNALIGNED, SOCK_ADDR, 0xffff888100000000L + (i % 300) * 4096L);
                r.set(JAVA_INT_UNALIGNED, FD, 5 + i % 30);
                r.set(JAVA_INT_UNALIGNED, PEER_FD, -1);
                r.set(JAVA_INT_UNALIGNED, PEER_FD2, -1);
                r.set(JAVA_SHORT_UNALIGNED, FAMILY, (short) 2);
                r.set(JAVA_SHORT_UNALIGNED, SK_TYPE, (short) 1);
                r.set(JAVA_SHORT_UNALIGNED, SK_PROTOCOL, (short) 6);
                r.set(JAVA_SHORT_UNALIGNED, LPORT, (short) (40_000 + i % 300));
                r.set(JAVA_SHORT_UNALIGNED, RPORT, (short) 443);
                r.set(JAVA_INT_UNALIGNED, LADDR, 0x0100007f);
                r.set(JAVA_INT_UNALIGNED, RADDR, 0x0a00000a + (i % 50 << 24));
                r.set(JAVA_LONG_UNALIGNED, RET, 100 + i % 1400);
                r.set(JAVA_LONG_UNALIGNED, BYTES, 100 + i % 1400);
                MemorySegment.copy(("worker-" + i % 7).getBytes(), 0, r, JAVA_BYTE, COMM, 8);
                out[i] = d.decode(r);
            }
        }
        return out;
    }

    static double[] run(LocalStack stack, Path dir, SocketEvent[] sample, int events, String topic) throws Exception {
        return run(stack, dir, sample, null, events, topic);
    }

    /** With {@code preSerialized} (keys, values), the records are handed to the shipper as they are: the producer alone. */
    static double[] run(
            LocalStack stack, Path dir, SocketEvent[] sample, byte[][][] preSerialized, int events, String topic)
            throws Exception {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        KafkaOutput out = new KafkaOutput(
                new KafkaOutput.Options(
                        stack.bootstrapServers(),
                        topic,
                        6,
                        (short) 1,
                        Map.of("compression.type", System.getProperty("compression", "lz4")),
                        dir.resolve("spool-" + topic),
                        1L << 30,
                        Spool.FullPolicy.DROP_NEWEST,
                        64L << 20),
                new RegistryClient(RegistryClient.Config.of(stack.registryUrl())));
        long cpu0 = workerCpu(threads);
        long t0 = System.nanoTime();
        if (preSerialized == null) {
            for (int i = 0; i < events; i++) {
                out.write(sample[i & (sample.length - 1)]);
            }
        } else {
            for (int i = 0; i < events; i++) {
                int j = i & (sample.length - 1);
                out.shipper().offer(preSerialized[0][j], preSerialized[1][j]);
            }
        }
        if (!out.shipper().awaitAcked(Duration.ofMinutes(5))) {
            throw new IllegalStateException("not acknowledged in 5 minutes");
        }
        long wall = System.nanoTime() - t0;
        long cpu = workerCpu(threads) - cpu0;
        long bytes = out.stats().ackedBytes();
        out.close(Duration.ofSeconds(10));
        long onDisk = 0;
        try (Stream<Path> s = Files.walk(dir.resolve("kafka"))) {
            for (Path p : s.filter(p -> p.getFileName().toString().endsWith(".log")
                            && p.getParent().getFileName().toString().startsWith(topic + "-"))
                    .toList()) {
                onDisk += Files.size(p);
            }
        }
        return new double[] {
            events / (wall / 1e9),
            events / (cpu / 1e9),
            bytes / (wall / 1e9) / 1e6,
            onDisk == 0 ? 0 : bytes / (double) onDisk
        };
    }

    /** CPU of this thread, the shipper and the producer's network threads, in ns. */
    static long workerCpu(ThreadMXBean threads) {
        long sum = threads.getCurrentThreadCpuTime();
        for (ThreadInfo t : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (t != null
                    && (t.getThreadName().equals("sockflow-shipper")
                            || t.getThreadName().startsWith("kafka-producer-network-thread"))) {
                long c = threads.getThreadCpuTime(t.getThreadId());
                if (c > 0) {
                    sum += c;
                }
            }
        }
        return sum;
    }
}
