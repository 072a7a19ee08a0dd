package io.sockflow.runner;

import io.sockflow.collector.bpf.BpfException;
import io.sockflow.collector.capture.CaptureOptions;
import io.sockflow.collector.capture.Preflight;
import io.sockflow.collector.sys.Privileges;
import io.sockflow.jobs.SockflowJob;
import io.sockflow.jobs.config.JobConfig;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code sockflow up}: the whole pipeline on this host, as separate processes. This one only supervises: it checks
 * the options and the data folder, puts itself (and so every process it starts) in the cgroup {@code sockflow}, and
 * starts the {@link Pipeline} (Kafka, the registry, the Flink jobs and the live view), which becomes the runtime user
 * at once, and then the collector, which attaches its programs as root and then becomes that user too, with no
 * capability left. Ctrl-C or SIGTERM stops them in order: the collector first (it detaches and flushes), then the
 * jobs, then Kafka; nothing is left behind.
 */
public final class Up {
    static final String USAGE = """
            usage: sockflow up [--data DIR] [--fresh] [--replay FILE|sample] [--headless] [--duration D]
                               [--kafka-port N] [--registry-port N] [--metrics-port N] [--user USER]

            Runs the whole pipeline on this host: embedded Kafka and schema registry, the Flink jobs (lifecycles,
            flows, alerts) on a local MiniCluster, and the collector; shows a live view until Ctrl-C.
              --data DIR           where Kafka, the lake (Iceberg), checkpoints and the spool live (default data);
                                   a folder of the runtime user's, made 0700 (a symbolic link is refused)
              --fresh              delete DIR first
              --replay FILE        play a recorded capture (sockflow collect --output file) instead of capturing;
                                   'sample' plays the one that ships with sockflow
              --headless           print the view as plain text blocks (no terminal control), e.g. into a log
              --duration D         stop after D (e.g. 60s; default: run until Ctrl-C or SIGTERM)
              --kafka-port N       the broker's port (default 9092; the controller uses N+1; 0: any free ones)
              --registry-port N    the registry's port (default 8081)
              --metrics-port N     the collector's Prometheus endpoint (default 9464; 0: none)
              --user USER          who runs Kafka, the registry, the jobs and (once attached) the collector, when
                                   up runs as root: a user name or uid[:gid] (default: the user who ran sudo,
                                   else nobody)
              --registry-address A listen there instead of 127.0.0.1; needs SOCKFLOW_REGISTRY_BASIC_AUTH_USER_INFO
                                   (user:password) in the environment, which every sockflow client then sends
              --metrics-address A  the same for the collector's metrics, with SOCKFLOW_METRICS_BASIC_AUTH_USER_INFO
            Every port listens on 127.0.0.1 unless opened with one of the --*-address flags, and then only with
            authentication. Kafka stays on 127.0.0.1 (it has no authentication here yet).
            """;

    /** The environment variables that carry credentials to up's processes (never their command lines). */
    static final String REGISTRY_AUTH_ENV = "SOCKFLOW_REGISTRY_BASIC_AUTH_USER_INFO";
    static final String METRICS_AUTH_ENV = "SOCKFLOW_METRICS_BASIC_AUTH_USER_INFO";

    record Options(Path data, boolean fresh, String replay, boolean headless, Duration duration, int kafkaPort, int registryPort,
            int metricsPort, String user, String registryAddress, String metricsAddress) {
        static Options parse(String[] args) {
            return parse(args, System.getenv());
        }

        static Options parse(String[] args, java.util.Map<String, String> env) {
            String registryAddress = "127.0.0.1";
            String metricsAddress = "127.0.0.1";
            Path data = Path.of("data");
            boolean fresh = false;
            boolean headless = false;
            String replay = null;
            Duration duration = Duration.ZERO;
            int kafkaPort = 9092;
            int registryPort = 8081;
            int metricsPort = 9464;
            String user = null;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                try {
                    switch (a) {
                        case "--data" -> data = Path.of(args[++i]);
                        case "--fresh" -> fresh = true;
                        case "--headless" -> headless = true;
                        case "--replay" -> replay = args[++i];
                        case "--duration" -> duration = duration(a, args[++i]);
                        case "--kafka-port" -> kafkaPort = port(a, args[++i], 65534);
                        case "--registry-port" -> registryPort = port(a, args[++i], 65535);
                        case "--metrics-port" -> metricsPort = port(a, args[++i], 65535);
                        case "--user" -> user = args[++i];
                        case "--registry-address" -> registryAddress = opened(a, args[++i], REGISTRY_AUTH_ENV, env);
                        case "--metrics-address" -> metricsAddress = opened(a, args[++i], METRICS_AUTH_ENV, env);
                        case "--kafka-address" -> throw new IllegalArgumentException("--kafka-address: the embedded broker "
                                + "has no authentication yet, so it stays on 127.0.0.1; run a Kafka cluster with SASL for that");
                        default -> throw new IllegalArgumentException("unknown argument '" + a + "'");
                    }
                } catch (ArrayIndexOutOfBoundsException e) {
                    throw new IllegalArgumentException(a + " needs a value");
                } catch (java.nio.file.InvalidPathException e) {
                    throw new IllegalArgumentException(a + " '" + args[i] + "' is not a path");
                }
            }
            return new Options(data, fresh, replay, headless, duration, kafkaPort, registryPort, metricsPort, user,
                    registryAddress, metricsAddress);
        }

        /** An address beyond loopback is taken only with credentials in the environment. */
        private static String opened(String flag, String address, String authEnv, java.util.Map<String, String> env) {
            String a = address.strip();
            boolean loopback = a.equals("localhost") || a.equals("::1") || a.matches("127(\\.\\d{1,3}){3}");
            String auth = env.get(authEnv);
            if (!loopback && (auth == null || auth.indexOf(':') <= 0)) {
                throw new IllegalArgumentException(flag + " " + a + " opens it beyond this host: set " + authEnv
                        + "=user:password in the environment (it is then required of every client), or leave it on 127.0.0.1");
            }
            return a;
        }

        private static int port(String flag, String v, int max) {
            try {
                int p = Integer.parseInt(v);
                if (p >= 0 && p <= max) {
                    return p;
                }
            } catch (NumberFormatException e) {
                // below
            }
            throw new IllegalArgumentException(flag + " needs a port number from 0 to " + max + ", not '" + v + "'");
        }

        private static Duration duration(String flag, String v) {
            try {
                Duration d = JobConfig.parseDuration(v);
                if (d != null && !d.isNegative()) {
                    return d;
                }
            } catch (RuntimeException e) {
                // below
            }
            throw new IllegalArgumentException(flag + " needs a duration such as 60s, 5m or 1h, not '" + v + "'");
        }
    }

    /** A value the user gave that cannot work: one line, exit 2. */
    static final class UsageError extends Exception {
        UsageError(String message) {
            super(message);
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
        Privileges.privateFiles();
        Options o;
        Privileges.Identity user;
        try {
            o = Options.parse(args);
            user = runtimeUser(o.user());
        } catch (IllegalArgumentException e) {
            System.err.println("sockflow up: " + e.getMessage() + " (see sockflow up --help)");
            return 2;
        }
        if (o.replay() != null && !Replay.SAMPLE.equals(o.replay()) && !Files.isReadable(Path.of(o.replay()))) {
            System.err.println("sockflow up: --replay " + o.replay() + " is not a readable file: give a capture made with "
                    + "sockflow collect --output file, or --replay sample");
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
        Path data;
        try {
            data = DataFolder.prepare(o.data(), o.fresh(), user);
        } catch (UsageError e) {
            System.err.println("sockflow up: " + e.getMessage());
            return 2;
        } catch (IOException e) {
            System.err.println("sockflow up: cannot prepare the data folder " + o.data() + ": " + e.getMessage());
            return 1;
        }
        return new Up(o, data, user, out).start();
    }

    /** Who runs everything but the collector's attach: --user, else the user who ran sudo, else nobody; or oneself. */
    static Privileges.Identity runtimeUser(String given) {
        if (!Privileges.isRoot()) {
            if (given != null) {
                throw new IllegalArgumentException("--user needs up to run as root: leave it out to run as yourself");
            }
            return null;
        }
        if (given != null) {
            Privileges.Identity who;
            try {
                who = Privileges.parse(given);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--user " + given + ": " + e.getMessage());
            }
            if (who.uid() == 0) {
                throw new IllegalArgumentException("--user " + given + " is root: name an ordinary user; root runs only the collector's attach");
            }
            return who;
        }
        Privileges.Identity sudo = Privileges.sudoUser(System.getenv());
        return sudo != null ? sudo : new Privileges.Identity(65534, 65534);
    }

    private final Options o;
    private final Path data;
    private final Privileges.Identity user;
    private final PrintStream out;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final CountDownLatch done = new CountDownLatch(1);

    private Up(Options o, Path data, Privileges.Identity user, PrintStream out) {
        this.o = o;
        this.data = data;
        this.user = user;
        this.out = out;
    }

    int start() {
        Thread hook = new Thread(() -> {
            stopped.countDown();
            try {
                done.await(180, TimeUnit.SECONDS);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }, "sockflow-up-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        Cgroup cgroup = null;
        Process pipeline = null;
        Process collector = null;
        int rc = 0;
        try {
            Path run = Pipeline.runDir(data);
            DataFolder.cleanRun(run, user);
            if (Privileges.isRoot()) {
                cgroup = Cgroup.join();
            }
            int kafkaPort = o.kafkaPort() == 0 ? freePort() : o.kafkaPort();
            int controllerPort = o.kafkaPort() == 0 ? freePort() : o.kafkaPort() + 1;
            int registryPort = o.registryPort() == 0 ? freePort() : o.registryPort();
            List<String> p = new ArrayList<>(List.of("--data", data.toString(), "--kafka-port", Integer.toString(kafkaPort),
                    "--controller-port", Integer.toString(controllerPort), "--registry-port", Integer.toString(registryPort),
                    "--metrics-port", Integer.toString(o.metricsPort()), "--registry-address", o.registryAddress(),
                    "--metrics-address", o.metricsAddress()));
            if (o.replay() != null) {
                String replay = Replay.SAMPLE.equals(o.replay()) ? o.replay() : Path.of(o.replay()).toAbsolutePath().toString();
                if (user != null && !Replay.SAMPLE.equals(o.replay())) {
                    // a capture recorded with sudo is root's and 0600: the pipeline reads the copy it is given
                    Path copy = run.resolve("replay.capture");
                    Files.copy(Path.of(replay), copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    Files.setPosixFilePermissions(copy, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
                    DataFolder.chown(copy, user);
                    replay = copy.toString();
                }
                p.addAll(List.of("--replay", replay));
            } else {
                p.add("--live");
            }
            if (o.headless()) {
                p.add("--headless");
            }
            String classPath = System.getProperty("java.class.path");
            String pipelinePath = user == null ? classPath : ClassPath.forUser(classPath, data.resolve("lib"), user);
            pipeline = Children.java(Pipeline.class.getName(), "3g", List.of("-XX:+UseParallelGC",
                    "-Djava.io.tmpdir=" + run.resolve("tmp")), pipelinePath, user, p);
            // the collector comes once the jobs are submitted, as its events are what they read
            while (!Files.exists(run.resolve("jobs.started")) && pipeline.isAlive() && stopped.getCount() > 0) {
                stopped.await(200, TimeUnit.MILLISECONDS);
            }
            if (o.replay() == null && pipeline.isAlive() && stopped.getCount() > 0) {
                List<String> c = new ArrayList<>(List.of("collect", "--output", "kafka", "--bootstrap-servers",
                        "127.0.0.1:" + kafkaPort, "--registry-url", "http://" + Pipeline.clientHost(o.registryAddress()) + ":" + registryPort,
                        "--metrics-address", o.metricsAddress(),
                        "--spool-dir", data.resolve("spool").toString(), "--counters-interval", "5s",
                        "--metrics-port", Integer.toString(o.metricsPort()), "--status-file",
                        run.resolve("collector.status").toString(), "--exit-with-pid",
                        Long.toString(ProcessHandle.current().pid())));
                if (user != null) {
                    c.addAll(List.of("--run-as", user.toString()));
                }
                if (cgroup != null) {
                    c.addAll(List.of("--cgroup-exclude", Long.toString(cgroup.id())));
                }
                // as root, from root's own class path; it becomes the user itself once attached
                collector = Children.java("io.sockflow.collector.cli.Main", "1g", List.of("-XX:+UseSerialGC", "-Xss1m"),
                        classPath, null, c);
            }
            // --duration counts from the live view, as a user sees it (start-up takes its own time)
            long end = Long.MAX_VALUE;
            while (stopped.getCount() > 0 && System.nanoTime() < end && pipeline.isAlive()
                    && (collector == null || collector.isAlive())) {
                if (end == Long.MAX_VALUE && !o.duration().isZero() && Files.exists(run.resolve("view.started"))) {
                    end = System.nanoTime() + o.duration().toNanos();
                }
                stopped.await(200, TimeUnit.MILLISECONDS);
            }
            if (!pipeline.isAlive()) {
                rc = pipeline.exitValue();
            } else if (collector != null && !collector.isAlive()) {
                rc = collector.exitValue();
                System.err.println("sockflow up: the collector stopped with exit code " + rc);
            }
            return rc;
        } catch (IOException e) {
            System.err.println("sockflow up: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        } finally {
            out.println("sockflow up: stopping...");
            out.flush();
            // the collector first: it detaches and hands Kafka what it holds; then the jobs and Kafka
            Children.stop(collector, Duration.ofSeconds(45), "the collector");
            Children.stop(pipeline, Duration.ofSeconds(120), "the jobs and Kafka");
            if (cgroup != null) {
                cgroup.leave();
            }
            out.println("sockflow up: stopped; data kept in " + data + " (--fresh starts over)");
            out.flush();
            done.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // stopped by a signal
            }
        }
    }

    static int freePort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
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
}
