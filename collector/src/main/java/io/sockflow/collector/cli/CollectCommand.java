package io.sockflow.collector.cli;

import io.sockflow.collector.capture.Capture;
import io.sockflow.collector.capture.CaptureOptions;
import io.sockflow.collector.capture.KernelCounters;
import io.sockflow.collector.decode.ContainerResolver;
import io.sockflow.collector.decode.HostInfo;
import io.sockflow.collector.decode.SocketEventDecoder;
import io.sockflow.collector.output.CaptureFile;
import io.sockflow.collector.output.JsonEventWriter;
import io.sockflow.collector.sockets.SocketCapture;
import io.sockflow.collector.sys.Privileges;
import io.sockflow.collector.transport.KafkaOutput;
import io.sockflow.collector.transport.KafkaShipper;
import io.sockflow.collector.transport.Spool;
import io.sockflow.collector.transport.TransportException;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.registry.RegistryClient;
import io.sockflow.schemas.registry.RegistryException;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** {@code sockflow collect}: live capture to an output until interrupted or for --duration. */
public final class CollectCommand {
    private final Settings settings;
    private final CountDownLatch stop = new CountDownLatch(1);
    private RegistryClient registry;
    private volatile Health health = new Health(0, 0, 0, 0, 0, 0, false, 0, 0, 0, 0, 0, 0, 0, 0);
    /** How long Kafka gets at a stop to acknowledge what is pending (less when the broker is away). */
    static final Duration KAFKA_GRACE = Duration.ofSeconds(10);
    /** How long detaching the programs and draining what the kernel queued may take. */
    static final Duration CAPTURE_STOP = Duration.ofSeconds(5);
    /** Events written, by kind; one writer (the capturing thread), read by the metrics endpoint. */
    private final long[] byKind = new long[io.sockflow.schemas.EventKind.values().length];
    /** The Kafka output once open, for the metrics endpoint. */
    private volatile KafkaOutput kafkaOutput;

    /** What the collector reports of itself while it runs (for a live view or metrics), refreshed every second. */
    public record Health(
            long received,
            long droppedInKernel,
            long acked,
            long spoolDepth,
            long spoolDropped,
            long decodeErrors,
            boolean attached,
            long kafkaFailed,
            long spoolBytes,
            double produceLatencyMs,
            long registryErrors,
            long spoolLost,
            long spoolLostBytes,
            long producerRestarts,
            long shedForDisk) {}

    /**
     * The most a stop takes, step by step: detach and drain the kernel's queue, then Kafka's grace, the shipper's
     * thread, the producer's close and saving to the spool ({@link KafkaShipper#stopBudget}). A process that runs the
     * collector should give it this long to stop before it kills it.
     */
    public static Duration stopBudget() {
        return CAPTURE_STOP.plus(KafkaShipper.stopBudget(KAFKA_GRACE));
    }

    /** Records written so far, every kind. */
    public long written() {
        long n = 0;
        for (long k : byKind) {
            n += k;
        }
        return n;
    }

    /** Clock records written so far (to partitions that got no event in an interval): not events. */
    public long clockRecords() {
        KafkaOutput k = kafkaOutput;
        return k == null ? 0 : k.clockRecords();
    }

    /** Events written so far of one kind. */
    public long events(io.sockflow.schemas.EventKind kind) {
        return byKind[kind.ordinal()];
    }

    /** A collector from command-line settings (the same as {@code sockflow collect}), to run on a thread. */
    public static CollectCommand fromArgs(List<String> args) {
        return new CollectCommand(Settings.parse(args, System.getenv()));
    }

    /** Asks a running collector to stop: it detaches, drains and flushes, and {@link #run()} returns. */
    public void stop() {
        stop.countDown();
    }

    public Health health() {
        return health;
    }

    CollectCommand(Settings settings) {
        this.settings = settings;
        System.setProperty("sockflow.log.level", settings.getString(Settings.LOG_LEVEL));
        // log4j read its configuration when the first logger was made, before the settings: the level goes in now
        org.apache.logging.log4j.Level level = org.apache.logging.log4j.Level.toLevel(
                settings.getString(Settings.LOG_LEVEL), org.apache.logging.log4j.Level.WARN);
        org.apache.logging.log4j.core.config.Configurator.setRootLevel(level);
        org.apache.logging.log4j.core.config.Configurator.setLevel("io.sockflow", level);
    }

    static String usage() {
        return "usage: sockflow collect [settings]\n\n"
                + "Captures every network system call of this host and writes one event per call.\n"
                + "Needs root, or CAP_BPF + CAP_PERFMON + CAP_DAC_READ_SEARCH (and CAP_NET_ADMIN for the socket birth and "
                + "release hooks).\n\nsettings:\n" + Settings.help();
    }

    /** Tracepoint groups that count for the whole host, not for one network namespace: off with --netns. */
    static final List<String> HOST_WIDE_GROUPS = List.of("skb", "net", "xdp", "udp");

    CaptureOptions captureOptions() {
        java.util.Set<String> groups = new java.util.HashSet<>(settings.getList(Settings.TRACEPOINT_GROUPS));
        if (settings.netns() != 0) {
            // every namespace's collector would count the same drops and interfaces again
            groups.removeAll(HOST_WIDE_GROUPS);
        }
        return CaptureOptions.defaults()
                .withPidInclude(settings.ints(Settings.PID_INCLUDE))
                .withPidExclude(settings.ints(Settings.PID_EXCLUDE))
                .withCgroups(settings.longs(Settings.CGROUP_INCLUDE), settings.longs(Settings.CGROUP_EXCLUDE))
                .withExcludeSelf(settings.getBoolean(Settings.EXCLUDE_SELF))
                .withRingBufferBytes(settings.getInt(Settings.RING_BUFFER_BYTES))
                .withBtfPath(Path.of(settings.getString(Settings.BTF_PATH)))
                .withTracefsPath(Path.of(settings.getString(Settings.TRACEFS_PATH)))
                .withGroups(groups)
                .withAggregate(settings.getString(Settings.DATA_PATH).equals("aggregate"))
                .withNetns(settings.netns());
    }

    public int run() {
        Duration duration = settings.duration(Settings.DURATION);
        Duration statsEvery = settings.duration(Settings.STATS_INTERVAL);
        HostInfo host = HostInfo.local(settings.getString(Settings.HOST_NAME));
        SocketEventDecoder decoder =
                new SocketEventDecoder(host, ContainerResolver.fromCgroupFs(Path.of("/sys/fs/cgroup")));
        OutputStream stdout = new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16);
        JsonEventWriter json = new JsonEventWriter(stdout);
        CountDownLatch done = new CountDownLatch(1);

        CaptureFile file = settings.getString(Settings.OUTPUT).equals("file")
                ? CaptureFile.create(Path.of(settings.getString(Settings.FILE)))
                : null;
        // Kafka and the metrics endpoint are opened once the programs are attached and the privileges given up, so
        // that no network client or server of the collector ever runs as root
        KafkaOutput[] kafkaRef = new KafkaOutput[1];
        CollectorMetrics[] metricsRef = new CollectorMetrics[1];
        java.util.function.Consumer<SocketEvent> write = e -> {
            byKind[e.getKind().ordinal()]++;
            if (kafkaRef[0] != null) {
                kafkaRef[0].write(e); // a record the spool's policy drops is counted by the shipper
            } else if (file != null) {
                file.write(e);
            } else {
                json.write(e);
            }
        };
        Path statusFile = settings.getString(Settings.STATUS_FILE) == null
                ? null
                : Path.of(settings.getString(Settings.STATUS_FILE));
        Runnable attached = () -> {
            Privileges.Identity who = runAs();
            boolean keptRoot = who != null && who.uid() != 0 && Capture.bpfNeedsCapability();
            if (keptRoot) {
                // giving up root here would silently stop the counters, the kernel's drop count and the sweep
                System.err.println("sockflow: stays root, not " + who + ": this kernel refuses every bpf() call to a "
                        + "process without CAP_BPF (kernel.unprivileged_bpf_disabled=" + unprivilegedBpf()
                        + ", as older kernels do), and the kernel counters, the drop count and the sweep need them");
                who = null;
            }
            if (who != null) {
                if (settings.getString(Settings.OUTPUT).equals("kafka")) {
                    handOver(Path.of(settings.getString(Settings.SPOOL_DIR)), who);
                    // the Kafka client reads its version from its jar when first used; read it while root may
                    try {
                        Class.forName(
                                "org.apache.kafka.common.utils.AppInfoParser",
                                true,
                                getClass().getClassLoader());
                    } catch (ClassNotFoundException ignored) {
                        // no Kafka client: openKafka says so
                    }
                }
                try {
                    Privileges.switchTo(who);
                } catch (IllegalStateException e) {
                    throw new io.sockflow.collector.bpf.BpfException(
                            "after attaching: " + e.getMessage()
                                    + ": grant CAP_SETUID and CAP_SETGID, or keep root with --run-as root",
                            4);
                }
            }
            if (settings.getString(Settings.OUTPUT).equals("kafka")) {
                kafkaRef[0] = openKafka();
                kafkaOutput = kafkaRef[0];
                if (kafkaRef[0].previousRunReport() != null) {
                    System.err.println("sockflow: " + kafkaRef[0].previousRunReport());
                }
            }
            // what the spool's recovery found is known now, before the first poll of the ring buffer
            health = health(new Capture.Stats(0, 0, 0, 0, 0), false, kafkaRef[0], registry);
            if (settings.getInt(Settings.METRICS_PORT) > 0) {
                metricsRef[0] = CollectorMetrics.serve(
                        settings.getString(Settings.METRICS_ADDRESS),
                        settings.getInt(Settings.METRICS_PORT),
                        settings.getPassword(Settings.METRICS_USER_INFO) == null
                                ? null
                                : settings.getPassword(Settings.METRICS_USER_INFO)
                                        .value(),
                        this);
            }
            // said once everything is open, so that a broker or registry that cannot be reached stays the one line
            System.err.println("sockflow: attached; running as " + Privileges.describe()
                    + (who == null && Privileges.isRoot() && !keptRoot ? " (--run-as USER gives them up)" : ""));
        };
        // on SIGINT/SIGTERM: ask the loop to stop, and hold the JVM until it has detached and drained. Registered
        // before the programs are attached, so a signal during start-up still ends in a clean stop and a report.
        // The JVM halts when this hook returns, so it waits the whole stop budget (and a margin), not less.
        Thread hook = new Thread(
                () -> {
                    stop.countDown();
                    try {
                        long limit = stopBudget().plusSeconds(5).toSeconds();
                        if (!done.await(limit, TimeUnit.SECONDS)) {
                            System.err.println(
                                    "sockflow: the stop took longer than " + limit + " s; exiting before it ended");
                        }
                    } catch (InterruptedException ignored) {
                        Thread.currentThread().interrupt();
                    }
                },
                "sockflow-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        long parent = settings.getLong(Settings.EXIT_WITH_PID);
        if (parent > 0) {
            ProcessHandle.of(parent).ifPresentOrElse(p -> p.onExit().thenRun(stop::countDown), stop::countDown);
        }
        KafkaOutput kafka = null;
        CollectorMetrics metrics = null;
        // with Kafka the spool folder is the collector's own: the live sockets are kept there between runs
        Path state = settings.getString(Settings.OUTPUT).equals("kafka")
                ? Path.of(settings.getString(Settings.SPOOL_DIR)).resolve("live-sockets.tsv")
                : null;
        try (SocketCapture sockets = new SocketCapture(
                captureOptions(), decoder, settings.duration(Settings.SWEEP_INTERVAL), state, write, attached)) {
            kafka = kafkaRef[0];
            metrics = metricsRef[0];
            Capture capture = sockets.capture();
            sockets.totalsInterval(settings.duration(Settings.AGGREGATE_INTERVAL));
            for (String line : kernelReport(sockets)) {
                System.err.println("sockflow: " + line);
            }
            if (settings.netns() != 0) {
                System.err.println("sockflow: network namespace " + settings.netns() + " ("
                        + settings.getString(Settings.NETNS).strip() + ") only; the host-wide counters ("
                        + String.join(", ", HOST_WIDE_GROUPS) + ") are off");
            }
            long deadline = duration.isZero() ? Long.MAX_VALUE : System.nanoTime() + duration.toNanos();
            long nextStats = statsEvery.isZero() ? Long.MAX_VALUE : System.nanoTime() + statsEvery.toNanos();
            long nextClock = System.nanoTime() + 60_000_000_000L;
            long clockEvery = settings.duration(Settings.CLOCK_INTERVAL).toNanos();
            long nextTick = clockEvery == 0 || kafka == null ? Long.MAX_VALUE : System.nanoTime() + clockEvery;
            long nextCheckpoint = System.nanoTime();
            Duration countersEvery = settings.duration(Settings.COUNTERS_INTERVAL);
            KernelCounters counters = new KernelCounters(capture, host);
            long nextCounters = countersEvery.isZero() ? Long.MAX_VALUE : System.nanoTime() + countersEvery.toNanos();
            // polls on this thread: the decoder and the JSON writer are single-threaded
            while (stop.getCount() > 0 && System.nanoTime() < deadline) {
                sockets.poll(io.sockflow.collector.bpf.RingBufferReader.POLL_TIMEOUT_MS);
                if (System.nanoTime() >= nextCounters) {
                    sockets.counters(counters.read());
                    nextCounters = System.nanoTime() + countersEvery.toNanos();
                }
                json.flush();
                long now = System.nanoTime();
                if (now >= nextStats) {
                    System.err.println("sockflow: " + describe(capture.stats()) + describe(kafka));
                    nextStats = now + statsEvery.toNanos();
                }
                if (now >= nextCheckpoint) {
                    if (kafka != null) {
                        kafka.checkpoint();
                    }
                    health = health(capture.stats(), true, kafka, registry);
                    if (statusFile != null) {
                        StatusFile.write(statusFile, health);
                    }
                    nextCheckpoint = now + 1_000_000_000L;
                }
                if (now >= nextClock) {
                    host.refreshClock();
                    nextClock = now + 60_000_000_000L;
                }
                if (now >= nextTick) {
                    // stamped once the kernel's queue is handed over: no later record of this host is older
                    kafka.clock(host.ownRecord(io.sockflow.schemas.EventKind.CLOCK, sockets.settledNs()));
                    nextTick = now + clockEvery;
                }
            }
            sockets.close();
            json.flush();
            if (kafka != null) {
                kafka.close(KAFKA_GRACE);
            }
            if (file != null) {
                file.close();
                System.err.println(
                        "sockflow: " + file.count() + " events recorded in " + settings.getString(Settings.FILE));
            }
            Capture.Stats s = capture.stats();
            System.err.println("sockflow: " + describe(s) + describe(sockets.tracker(), written())
                    + (kafka != null && kafka.clockRecords() > 0
                            ? "; " + kafka.clockRecords() + " clock records to partitions that got no event"
                            : "")
                    + describe(kafka));
            return 0;
        } finally {
            kafka = kafkaRef[0];
            metrics = metricsRef[0];
            if (statusFile != null) {
                StatusFile.delete(statusFile);
            }
            if (kafka != null) {
                kafka.close(KAFKA_GRACE);
            }
            if (file != null) {
                file.close();
            }
            if (metrics != null) {
                metrics.close();
            }
            done.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // stopped by a signal: the hook is running
            }
        }
    }

    /** Whom the collector becomes after attaching; null: it stays as it is. */
    private static String unprivilegedBpf() {
        try {
            return java.nio.file.Files.readString(Path.of("/proc/sys/kernel/unprivileged_bpf_disabled"))
                    .strip();
        } catch (java.io.IOException e) {
            return "?";
        }
    }

    Privileges.Identity runAs() {
        String s = settings.getString(Settings.RUN_AS);
        if (!Privileges.isRoot() || s.equals("root")) {
            return null;
        }
        return s.equals("auto") ? Privileges.sudoUser(System.getenv()) : Privileges.parse(s);
    }

    /** The spool folder made (0700) and given to the user the collector becomes, with what it holds. */
    static void handOver(Path dir, Privileges.Identity who) {
        try {
            java.nio.file.Files.createDirectories(dir);
            try (java.util.stream.Stream<Path> all = java.nio.file.Files.walk(dir)) {
                for (Path p : all.toList()) {
                    java.nio.file.Files.setAttribute(p, "unix:uid", who.uid(), java.nio.file.LinkOption.NOFOLLOW_LINKS);
                    java.nio.file.Files.setAttribute(p, "unix:gid", who.gid(), java.nio.file.LinkOption.NOFOLLOW_LINKS);
                }
            }
        } catch (java.io.IOException e) {
            throw new TransportException("cannot give the spool folder " + dir + " to uid " + who.uid() + " ("
                    + e.getMessage() + "): choose another --spool-dir, or --run-as root");
        }
    }

    KafkaOutput openKafka() {
        RegistryClient.Config rc = RegistryClient.Config.of(settings.getString(Settings.REGISTRY_URL));
        if (settings.getPassword(Settings.REGISTRY_USER_INFO) != null) {
            rc = rc.withBasicAuth(
                    settings.getPassword(Settings.REGISTRY_USER_INFO).value());
        }
        if (settings.getString(Settings.REGISTRY_TRUSTSTORE) != null) {
            rc = rc.withTrustStore(
                    Path.of(settings.getString(Settings.REGISTRY_TRUSTSTORE)),
                    settings.getPassword(Settings.REGISTRY_TRUSTSTORE_PASSWORD) == null
                            ? null
                            : settings.getPassword(Settings.REGISTRY_TRUSTSTORE_PASSWORD)
                                    .value());
        }
        String extra = settings.getString(Settings.KAFKA_CONFIG);
        java.util.Map<String, Object> client = KafkaOutput.clientConfig(extra == null ? null : Path.of(extra));
        client.putIfAbsent("compression.type", settings.getString(Settings.COMPRESSION));
        KafkaOutput.Options o = new KafkaOutput.Options(
                settings.getString(Settings.BOOTSTRAP_SERVERS),
                settings.getString(Settings.TOPIC),
                settings.getInt(Settings.TOPIC_PARTITIONS),
                settings.getShort(Settings.TOPIC_REPLICATION),
                client,
                Path.of(settings.getString(Settings.SPOOL_DIR)),
                settings.getLong(Settings.SPOOL_MAX_BYTES),
                settings.getString(Settings.SPOOL_FULL_POLICY).equals("drop-oldest")
                        ? Spool.FullPolicy.DROP_OLDEST
                        : Spool.FullPolicy.DROP_NEWEST,
                settings.getLong(Settings.BUFFER_MEMORY),
                settings.duration(Settings.SPOOL_FSYNC_INTERVAL),
                settings.getLong(Settings.DISK_MIN_FREE));
        try {
            registry = new RegistryClient(rc);
            return new KafkaOutput(o, registry);
        } catch (RegistryException e) {
            throw new TransportException("schema registry " + settings.getString(Settings.REGISTRY_URL) + ": "
                    + e.getMessage() + ": check --registry-url (and its credentials)");
        }
    }

    private static Health health(Capture.Stats s, boolean attached, KafkaOutput kafka, RegistryClient registry) {
        KafkaShipper.Stats k = kafka == null ? null : kafka.stats();
        return new Health(
                s.received(),
                s.dropped(),
                k == null ? 0 : k.acked(),
                k == null ? 0 : k.spoolDepth(),
                k == null ? 0 : k.spoolDropped(),
                s.sinkErrors(),
                attached,
                k == null ? 0 : k.failed(),
                k == null ? 0 : k.spoolBytes(),
                k == null ? 0 : k.meanLatencyMs(),
                registry == null ? 0 : registry.errors(),
                k == null ? 0 : k.spoolCorrupt(),
                k == null ? 0 : k.spoolLostBytes(),
                k == null ? 0 : k.producerRestarts(),
                k == null ? 0 : k.spoolShed());
    }

    static String describe(KafkaOutput kafka) {
        if (kafka == null) {
            return "";
        }
        KafkaShipper.Stats k = kafka.stats();
        return String.format(
                "; Kafka: %d acknowledged, %d in flight, spool %d records (%d bytes), "
                        + "%d dropped by the spool policy, %d lost to spool damage (%d bytes), %d refused, "
                        + "%d producer restarts%s",
                k.acked(),
                k.inFlight(),
                k.spoolDepth(),
                k.spoolBytes(),
                k.spoolDropped(),
                k.spoolCorrupt(),
                k.spoolLostBytes(),
                k.failed(),
                k.producerRestarts(),
                k.spoolShed() > 0 ? ", " + k.spoolShed() + " shed (the spool's disk nearly full)" : "");
    }

    /** What this kernel lacks, one line each, and what sockflow does without it; what the inventory found. */
    static java.util.List<String> kernelReport(SocketCapture sockets) {
        java.util.List<String> lines = new java.util.ArrayList<>();
        for (io.sockflow.collector.capture.KernelFeatures.Feature f :
                sockets.capture().kernel().all()) {
            if (!f.present()) {
                lines.add("this kernel lacks " + f.name() + ": " + f.without());
            }
        }
        sockets.capture().switchedOff().forEach((p, why) -> lines.add("program " + p + " is off: " + why));
        lines.add("inventory: " + sockets.inventoried()
                + " socket descriptors of processes that existed before the start ("
                + sockets.inventoryNanos() / 1_000_000 + " ms)");
        return lines;
    }

    /** What the socket tracker did: records written, and what it left out or made itself. */
    static String describe(io.sockflow.collector.sockets.SocketTracker.Stats t, long written) {
        return String.format(
                "; %d records written (%d of sockflow's own or filtered processes left out, %d kernel "
                        + "records after their socket's release, %d ends found by the sweep, %d owners taken "
                        + "over, %d records without a known owner)",
                written, t.excluded(), t.afterRelease(), t.sweptEnds(), t.ownerChanges(), t.unknownOwners());
    }

    static String describe(Capture.Stats s) {
        return String.format(
                "%d events received, %d dropped in the kernel (ring buffer full)%s%s%s",
                s.received(),
                s.dropped(),
                s.totalsFull() > 0
                        ? ", " + s.totalsFull() + " sends and receives recorded per call (the kernel's "
                                + "per-socket totals were full)"
                        : "",
                s.sinkErrors() > 0 ? ", " + s.sinkErrors() + " failed to decode" : "",
                s.inFlight() > 0 ? ", " + s.inFlight() + " still queued" : "");
    }
}
