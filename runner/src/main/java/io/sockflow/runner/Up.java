package io.sockflow.runner;

import io.sockflow.collector.bpf.BpfException;
import io.sockflow.collector.capture.CaptureOptions;
import io.sockflow.collector.capture.Preflight;
import io.sockflow.collector.cli.CollectCommand;
import io.sockflow.embedded.LocalStack;
import io.sockflow.jobs.SockflowJob;
import io.sockflow.jobs.config.JobConfig;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * {@code sockflow up}: the whole pipeline on this host. An embedded Kafka broker and schema registry, the Flink jobs
 * on a local MiniCluster, and the collector attached to this kernel (or a recorded capture played back), all in
 * this process, with their data under one folder kept for the next run; then a live view until Ctrl-C or SIGTERM,
 * which stop everything cleanly (the collector detaches every BPF program first).
 */
public final class Up {
    static final String USAGE = """
            usage: sockflow up [--data DIR] [--fresh] [--replay FILE|sample] [--headless] [--duration D]
                               [--kafka-port N] [--registry-port N]

            Runs the whole pipeline on this host: embedded Kafka and schema registry, the Flink jobs (lifecycles,
            flows, alerts) on a local MiniCluster, and the collector; shows a live view until Ctrl-C.
              --data DIR           where Kafka, the lake (Iceberg), checkpoints and the spool live (default data)
              --fresh              delete DIR first
              --replay FILE        play a recorded capture (sockflow collect --output file) instead of capturing;
                                   'sample' plays the one that ships with sockflow
              --headless           print the view as plain text blocks (no terminal control), e.g. into a log
              --duration D         stop after D (e.g. 60s; default: run until Ctrl-C or SIGTERM)
              --kafka-port N       the broker's port (default 9092; the controller uses N+1)
              --registry-port N    the registry's port (default 8081)
              --metrics-port N     the collector's Prometheus endpoint (default 9464; 0: none)
            """;

    record Options(Path data, boolean fresh, String replay, boolean headless, Duration duration, int kafkaPort, int registryPort,
            int metricsPort) {
        static Options parse(String[] args) {
            Path data = Path.of("data");
            boolean fresh = false;
            boolean headless = false;
            String replay = null;
            Duration duration = Duration.ZERO;
            int kafkaPort = 9092;
            int registryPort = 8081;
            int metricsPort = 9464;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                try {
                    switch (a) {
                        case "--data" -> data = Path.of(args[++i]);
                        case "--fresh" -> fresh = true;
                        case "--headless" -> headless = true;
                        case "--replay" -> replay = args[++i];
                        case "--duration" -> duration = JobConfig.parseDuration(args[++i]);
                        case "--kafka-port" -> kafkaPort = Integer.parseInt(args[++i]);
                        case "--registry-port" -> registryPort = Integer.parseInt(args[++i]);
                        case "--metrics-port" -> metricsPort = Integer.parseInt(args[++i]);
                        default -> throw new IllegalArgumentException("unknown argument '" + a + "'");
                    }
                } catch (ArrayIndexOutOfBoundsException e) {
                    throw new IllegalArgumentException(a + " needs a value");
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(a + " needs a port number, not '" + args[i] + "'");
                }
            }
            return new Options(data, fresh, replay, headless, duration, kafkaPort, registryPort, metricsPort);
        }
    }

    public static void main(String[] args) {
        // logging stays up until `up` has stopped everything (its own shutdown hook would close the console first)
        System.setProperty("log4j.shutdownHookEnabled", "false");
        System.exit(run(args, System.out));
    }

    static int run(String[] args, PrintStream out) {
        if (List.of(args).contains("--help") || List.of(args).contains("-h")) {
            out.print(USAGE);
            return 0;
        }
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("sockflow up: " + e.getMessage() + " (see sockflow up --help)");
            return 2;
        }
        if (o.replay() == null) {
            try {
                Preflight.checkAll(CaptureOptions.defaults());
            } catch (BpfException e) {
                System.err.println("sockflow up: live capture cannot run here: " + e.getMessage()
                        + "; to run the rest of the pipeline on a recorded capture: ./sockflow up --replay sample");
                return e.exitCode();
            }
        }
        if (o.fresh()) {
            deleteTree(o.data());
        }
        return new Up(o, out).start();
    }

    private final Options o;
    private final PrintStream out;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final CountDownLatch done = new CountDownLatch(1);

    private Up(Options o, PrintStream out) {
        this.o = o;
        this.out = out;
    }

    private void step(int n, String what) {
        out.printf("[%d/5] %s%n", n, what);
        out.flush();
    }

    int start() {
        Thread hook = new Thread(() -> {
            stopped.countDown();
            try {
                done.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }, "sockflow-up-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        LocalStack stack = null;
        java.util.concurrent.atomic.AtomicReference<JobClient> job = new java.util.concurrent.atomic.AtomicReference<>();
        CollectCommand collector = null;
        Thread collectorThread = null;
        Replay replay = null;
        Thread replayThread = null;
        try {
            Path data = o.data().toAbsolutePath().normalize();
            Files.createDirectories(data);
            boolean previous = Files.isDirectory(data.resolve("kafka"));
            step(1, "Kafka broker (KRaft) and schema registry in " + data + (previous ? " (previous run's data found)" : ""));
            stack = LocalStack.start(data, o.kafkaPort(), o.registryPort(), o.kafkaPort() == 0 ? 0 : o.kafkaPort() + 1);

            // the jobs go on from the previous run's last checkpoint (its open sockets, flows and learned listeners),
            // whether it stopped cleanly or was killed; without one they start at the committed Kafka offsets
            java.util.Optional<Path> resume = io.sockflow.jobs.Checkpoints.latest(data.resolve("checkpoints"));
            step(2, "Flink jobs on a local MiniCluster (lifecycles, flows, alerts → Kafka and Iceberg)"
                    + resume.map(c -> ", resuming from " + data.relativize(c)).orElse(""));
            Map<String, String> m = new HashMap<>();
            m.put("bootstrap.servers", stack.bootstrapServers());
            m.put("registry.url", stack.registryUrl());
            m.put("warehouse", data.resolve("warehouse").toString());
            m.put("checkpoint.dir", data.resolve("checkpoints").toString());
            m.put("checkpoint.interval", "2s");
            m.put("lifecycle.update-interval", "10s");
            m.put("starting.offsets", "committed");
            m.put("restore", "latest");
            m.put("group.id", "sockflow-up");
            m.put("transactional.id.prefix", "sockflow-up");
            JobConfig cfg = JobConfig.of(m);
            SockflowJob.prepare(cfg);
            // no attempt limit: a spell without the registry or broker must not stop the pipeline for good
            Configuration conf = SockflowJob.restartForever(new Configuration());
            if (resume.isEmpty()) {
                job.set(startJobs(cfg, conf));
            } else {
                JobConfig fresh = cfg.with(Map.of("restore", ""));
                try {
                    job.set(startJobs(cfg, conf));
                    watchResume(job, resume.get(), fresh, conf, out);
                } catch (Exception e) {
                    // refused at submission (a checkpoint Flink cannot read)
                    cannotResume(resume.get(), e, out);
                    job.set(startJobs(fresh, conf));
                }
            }

            String source;
            if (o.replay() != null) {
                step(3, "replaying " + (Replay.SAMPLE.equals(o.replay()) ? "the sample capture" : o.replay()) + " (no live capture)");
                replay = new Replay(Replay.load(o.replay()), stack.bootstrapServers(), stack.registryUrl(), cfg.get(JobConfig.EVENTS_TOPIC));
                replayThread = new Thread(replay, "sockflow-replay");
                replayThread.start();
                source = "replay of " + o.replay();
            } else {
                step(3, "collector: attaching the eBPF programs to this kernel");
                collector = CollectCommand.fromArgs(List.of("--output", "kafka", "--bootstrap-servers", stack.bootstrapServers(),
                        "--registry-url", stack.registryUrl(), "--spool-dir", data.resolve("spool").toString(),
                        "--counters-interval", "5s", "--metrics-port", Integer.toString(o.metricsPort())));
                CollectCommand c = collector;
                collectorThread = new Thread(() -> {
                    int rc = c.run();
                    if (rc != 0) {
                        System.err.println("sockflow up: the collector stopped with exit code " + rc);
                    }
                }, "sockflow-collector");
                collectorThread.start();
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (!collector.health().attached() && collectorThread.isAlive() && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                if (!collectorThread.isAlive()) {
                    return 4;
                }
                source = "live capture (this process's own traffic excluded)";
            }
            step(4, "ready");
            out.printf("""
                    Kafka            %s   topics sockflow.events, .lifecycles, .flows, .alerts, .events.dlq
                    schema registry  %s
                    lake (Iceberg)   %s
                    checkpoints      %s
                    query            ./sockflow sql --warehouse %s
                    metrics          %s
                    stop             Ctrl-C (data kept in %s; --fresh starts over)
                    %n""", stack.bootstrapServers(), stack.registryUrl(), data.resolve("warehouse"), data.resolve("checkpoints"),
                    data.resolve("warehouse"),
                    collector != null && o.metricsPort() > 0 ? "http://127.0.0.1:" + o.metricsPort() + "/metrics (the collector, Prometheus)"
                            : "the collector's health is in the view below",
                    data);
            step(5, "live view" + (o.headless() ? " (headless: a block every second)" : ""));
            try (LiveView view = new LiveView(stack.bootstrapServers(), stack.registryUrl(), cfg.get(JobConfig.LIFECYCLES_TOPIC),
                    cfg.get(JobConfig.FLOWS_TOPIC), cfg.get(JobConfig.ALERTS_TOPIC))) {
                long end = o.duration().isZero() ? Long.MAX_VALUE : System.nanoTime() + o.duration().toNanos();
                final CollectCommand health = collector;
                final String src = source;
                final Replay rep = replay;
                while (stopped.getCount() > 0 && System.nanoTime() < end) {
                    long t0 = System.nanoTime();
                    view.poll();
                    String text = view.render(health == null ? null : health.health(),
                            () -> rep == null ? src : src + " (" + rep.sent() + " events sent)", Instant.now());
                    if (o.headless()) {
                        out.print("--- view\n" + text + "\n");
                    } else {
                        out.print("\033[H\033[2J" + text);
                    }
                    out.flush();
                    stopped.await(Math.max(0, 1000 - (System.nanoTime() - t0) / 1_000_000), TimeUnit.MILLISECONDS);
                }
            }
            return 0;
        } catch (IOException e) {
            System.err.println("sockflow up: " + e.getMessage());
            return 1;
        } catch (BpfException e) {
            System.err.println("sockflow up: " + e.getMessage());
            return e.exitCode();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        } catch (Exception e) {
            System.err.println("sockflow up: " + e.getMessage());
            return 1;
        } finally {
            out.println("sockflow up: stopping...");
            if (collector != null) {
                collector.stop(); // detaches every BPF program, drains, flushes to Kafka
                try {
                    collectorThread.join(30_000);
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            }
            if (replay != null) {
                replay.stop();
            }
            JobClient jobs = job.getAndSet(null); // null: the resume watcher starts nothing more
            if (jobs != null) {
                try {
                    jobs.cancel().get(30, TimeUnit.SECONDS);
                } catch (Exception e) {
                    System.err.println("sockflow up: stopping the jobs: " + e.getMessage());
                }
            }
            if (stack != null) {
                stack.close();
            }
            out.println("sockflow up: stopped; data kept in " + o.data().toAbsolutePath().normalize() + " (--fresh starts over)");
            out.flush();
            done.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // stopped by a signal
            }
        }
    }

    static JobClient startJobs(JobConfig cfg, Configuration conf) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
        SockflowJob.build(env, cfg);
        return env.executeAsync("sockflow jobs");
    }

    /**
     * A checkpoint the jobs cannot go on from (written by another version of them, or damaged) must not keep them
     * down: when the resumed jobs fail within their first minute, they start afresh from the committed offsets, and
     * the line says so. The checkpoint stays where it is.
     */
    static void watchResume(java.util.concurrent.atomic.AtomicReference<JobClient> job, Path checkpoint, JobConfig fresh,
            Configuration conf, PrintStream out) {
        JobClient resumed = job.get();
        Thread.ofPlatform().daemon().name("sockflow-up-resume").start(() -> {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            try {
                while (System.nanoTime() < deadline && job.get() == resumed) {
                    if (resumed.getJobStatus().get(10, TimeUnit.SECONDS) == org.apache.flink.api.common.JobStatus.FAILED) {
                        Exception why = new IllegalStateException("failed");
                        try {
                            resumed.getJobExecutionResult().get(10, TimeUnit.SECONDS);
                        } catch (Exception e) {
                            why = e;
                        }
                        cannotResume(checkpoint, why, out);
                        JobClient started = startJobs(fresh, conf);
                        if (!job.compareAndSet(resumed, started)) {
                            started.cancel(); // up is stopping
                        }
                        return;
                    }
                    Thread.sleep(500);
                }
            } catch (Exception e) {
                System.err.println("sockflow up: watching the resumed jobs: " + e.getMessage());
            }
        });
    }

    static void cannotResume(Path checkpoint, Throwable e, PrintStream out) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        String why = String.valueOf(t.getMessage()).lines().findFirst().orElse("failed");
        int sentence = why.indexOf(". ");
        why = sentence > 0 ? why.substring(0, sentence) : why;
        out.println("sockflow up: the jobs cannot go on from " + checkpoint + " (" + why
                + "): starting them afresh from the committed offsets");
        out.flush();
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir + ": " + e.getMessage(), e);
        }
    }
}
