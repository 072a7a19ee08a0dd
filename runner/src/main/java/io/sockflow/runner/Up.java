package io.sockflow.runner;

import io.sockflow.collector.bpf.BpfException;
import io.sockflow.collector.capture.CaptureOptions;
import io.sockflow.collector.capture.Preflight;
import io.sockflow.collector.sys.Privileges;
import io.sockflow.jobs.SockflowJob;
import io.sockflow.jobs.config.JobConfig;
import io.sockflow.runner.alerts.AlertOutputs;
import io.sockflow.schemas.config.Check;
import io.sockflow.schemas.config.Durations;
import io.sockflow.schemas.config.Flags;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.common.config.ConfigException;

/**
 * {@code sockflow up}: the whole pipeline on this host, as separate processes. This one only supervises: it checks
 * the options and the data folder, puts itself (and so every process it starts) in the cgroup {@code sockflow}, and
 * starts the {@link Pipeline} (Kafka, the registry, the Flink jobs and the live view), which becomes the runtime user
 * at once, and then the collector, which attaches its programs as root and then becomes that user too, with no
 * capability left. Ctrl-C or SIGTERM stops them in order: the collector first (it detaches and flushes), then the
 * jobs, then Kafka; nothing is left behind.
 */
public final class Up {
    /** The flags' part comes from {@link UpSettings}, where each is declared once. */
    static final String USAGE = """
            usage: sockflow up [--data DIR] [--fresh] [--replay FILE|sample] [--headless] [--verbose] [--duration D]
                               [--kafka-port N] [--registry-port N] [--metrics-port N] [--user USER]
                               [--set KEY=VALUE]...

            Runs the whole pipeline on this host: embedded Kafka and schema registry, the Flink jobs (lifecycles,
            flows, alerts) on a local MiniCluster, and the collector; shows a live view until Ctrl-C.
            """ + io.sockflow.schemas.config.Explain.help(UpSettings.DEFINITION, null) + """
            Every port listens on 127.0.0.1 unless opened with one of the --*-address flags, and then only with
            authentication. Kafka stays on 127.0.0.1 and asks every client for a password (SASL/PLAIN): DIR/kafka-admin.properties
            and DIR/kafka-reader.properties (reads lifecycles, flows, alerts only) are client settings files for the
            Kafka tools. --kafka-address is refused.
            ./sockflow config --explain lists every setting of up, the collector and the jobs (--set takes the jobs').
            """;

    /** The environment variables that carry credentials to up's processes (never their command lines). */
    static final String REGISTRY_AUTH_ENV = "SOCKFLOW_REGISTRY_BASIC_AUTH_USER_INFO";

    static final String METRICS_AUTH_ENV = "SOCKFLOW_METRICS_BASIC_AUTH_USER_INFO";

    record Options(
            Path data,
            boolean fresh,
            String replay,
            boolean headless,
            boolean verbose,
            Duration duration,
            int kafkaPort,
            int registryPort,
            int metricsPort,
            String user,
            String registryAddress,
            String metricsAddress,
            Map<String, String> jobSettings,
            Map<String, String> alerts) {
        static Options parse(String[] args) {
            return parse(args, System.getenv());
        }

        /** Through the one flag parser and checks of {@link UpSettings}; {@code --set} pairs are taken out first. */
        static Options parse(String[] args, Map<String, String> env) {
            for (String a : args) {
                if (a.equals("--kafka-address") || a.startsWith("--kafka-address=")) {
                    throw new IllegalArgumentException("--kafka-address: the embedded broker's passwords travel "
                            + "without TLS, so it stays on 127.0.0.1; run a Kafka cluster with SASL over TLS for that");
                }
            }
            List<String> rest = new ArrayList<>();
            Map<String, String> sets = new LinkedHashMap<>();
            Map<String, String> given;
            try {
                Flags.takePairs(List.of(args), "--set", rest).forEach((k, v) -> jobSetting(k, v, sets));
                given = Flags.collect(UpSettings.DEFINITION, rest, Map.of(), null);
                if (given.containsKey(UpSettings.SET)) {
                    // --set is taken from the command line only: anywhere else it would be dropped unseen
                    throw new ConfigException(
                            "set in a --config file: give job settings as --set KEY=VALUE on the command line");
                }
                Check.values(UpSettings.DEFINITION, given);
            } catch (ConfigException e) {
                throw new IllegalArgumentException(e.getMessage());
            }
            Map<String, Object> v = UpSettings.DEFINITION.parse(given);
            Map<String, String> alerts = new LinkedHashMap<>();
            given.forEach((k, value) -> {
                if (k.startsWith("alerts.")) {
                    alerts.put(k, value);
                }
            });
            // the auth file is read now, as whoever runs up: one line naming the setting if it cannot be used
            AlertOutputs.Config.of(v).check();
            Path data;
            try {
                data = Path.of((String) v.get(UpSettings.DATA));
            } catch (java.nio.file.InvalidPathException e) {
                throw new IllegalArgumentException("--data '" + v.get(UpSettings.DATA) + "' is not a path");
            }
            return new Options(
                    data,
                    (Boolean) v.get(UpSettings.FRESH),
                    (String) v.get(UpSettings.REPLAY),
                    (Boolean) v.get(UpSettings.HEADLESS),
                    (Boolean) v.get(UpSettings.VERBOSE),
                    Durations.parse((String) v.get(UpSettings.DURATION)),
                    (Integer) v.get(UpSettings.KAFKA_PORT),
                    (Integer) v.get(UpSettings.REGISTRY_PORT),
                    (Integer) v.get(UpSettings.METRICS_PORT),
                    (String) v.get(UpSettings.USER),
                    opened("--registry-address", (String) v.get(UpSettings.REGISTRY_ADDRESS), REGISTRY_AUTH_ENV, env),
                    opened("--metrics-address", (String) v.get(UpSettings.METRICS_ADDRESS), METRICS_AUTH_ENV, env),
                    Map.copyOf(sets),
                    java.util.Collections.unmodifiableMap(alerts));
        }

        /** One {@code --set key=value}, checked against the jobs' declarations at once. */
        static void jobSetting(String key, String value, Map<String, String> sets) {
            String pair = key + "=" + value;
            if (!JobConfig.options().containsKey(key)) {
                throw new IllegalArgumentException(
                        "--set " + pair + ": no job setting '" + key + "': ./sockflow config --explain lists them");
            }
            if (UpSettings.OWN_JOB_SETTINGS.contains(key)) {
                throw new IllegalArgumentException(
                        "--set " + pair + ": up sets " + key + " itself (its own Kafka, registry "
                                + "and data folder); run the jobs on their own to choose it");
            }
            try {
                JobConfig.check(key, value);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--set " + pair + ": " + e.getMessage());
            }
            sets.put(key, value);
        }

        /** An address beyond loopback is taken only with credentials in the environment. */
        private static String opened(String flag, String address, String authEnv, Map<String, String> env) {
            String a = address.strip();
            boolean loopback = a.equals("localhost") || a.equals("::1") || a.matches("127(\\.\\d{1,3}){3}");
            String auth = env.get(authEnv);
            if (!loopback && (auth == null || auth.indexOf(':') <= 0)) {
                throw new IllegalArgumentException(
                        flag + " " + a + " opens it beyond this host: set " + authEnv
                                + "=user:password in the environment (it is then required of every client), or leave it on 127.0.0.1");
            }
            return a;
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
            String m = e.getMessage();
            System.err.println("sockflow up: " + m
                    + (m.contains("--help") || m.contains("--explain") ? "" : " (see sockflow up --help)"));
            return 2;
        }
        String rulesDir = o.jobSettings().getOrDefault(JobConfig.RULES_DIR.name(), JobConfig.RULES_DIR.defaultValue());
        try {
            int rules = io.sockflow.jobs.detect.SqlRules.check(io.sockflow.jobs.detect.UserRules.load(rulesDir));
            if (rules > 0) {
                out.println("sockflow up: " + rules + " user rule" + (rules == 1 ? "" : "s") + " from " + rulesDir);
            }
        } catch (io.sockflow.jobs.detect.UserRules.RuleException e) {
            System.err.println("sockflow up: " + e.getMessage());
            return 2;
        }
        if (o.replay() != null && !Replay.SAMPLE.equals(o.replay()) && !Files.isReadable(Path.of(o.replay()))) {
            System.err.println(
                    "sockflow up: --replay " + o.replay() + " is not a readable file: give a capture made with "
                            + "sockflow collect --output file, or --replay sample");
            return 2;
        }
        String taken = takenPort(o);
        if (taken != null) {
            System.err.println("sockflow up: " + taken);
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
                throw new IllegalArgumentException(
                        "--user " + given + " is root: name an ordinary user; root runs only the collector's attach");
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
        Thread hook = new Thread(
                () -> {
                    stopped.countDown();
                    try {
                        done.await(180, TimeUnit.SECONDS);
                    } catch (InterruptedException ignored) {
                        Thread.currentThread().interrupt();
                    }
                },
                "sockflow-up-stop");
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
            int[] free = io.sockflow.embedded.LoopbackPorts.free(3); // all different
            int kafkaPort = o.kafkaPort() == 0 ? free[0] : o.kafkaPort();
            int controllerPort = o.kafkaPort() == 0 ? free[1] : o.kafkaPort() + 1;
            int registryPort = o.registryPort() == 0 ? free[2] : o.registryPort();
            String replay = o.replay();
            if (replay != null && !Replay.SAMPLE.equals(replay)) {
                replay = Path.of(replay).toAbsolutePath().toString();
                if (user != null) {
                    // a capture recorded with sudo is root's and 0600: the pipeline reads the copy it is given
                    Path copy = run.resolve("replay.capture");
                    Files.copy(Path.of(replay), copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    Files.setPosixFilePermissions(
                            copy, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
                    DataFolder.chown(copy, user);
                    replay = copy.toString();
                }
            }
            alertSettings(o.alerts(), run, user);
            List<String> p = new Pipeline.Options(
                            data,
                            kafkaPort,
                            controllerPort,
                            registryPort,
                            replay,
                            o.headless(),
                            o.replay() == null,
                            o.metricsPort(),
                            o.registryAddress(),
                            o.metricsAddress(),
                            o.jobSettings())
                    .args();
            String classPath = System.getProperty("java.class.path");
            String pipelinePath = user == null ? classPath : ClassPath.forUser(classPath, data.resolve("lib"), user);
            Path logs = logs(data, user);
            out.println("sockflow up: logs in " + logs
                    + (o.verbose() ? "" : " (--verbose shows the libraries' warnings here too)"));
            out.flush();
            List<String> pipelineJvm =
                    new ArrayList<>(List.of("-XX:+UseParallelGC", "-Djava.io.tmpdir=" + run.resolve("tmp")));
            pipelineJvm.addAll(logFlags(logs.resolve("pipeline.log"), o.verbose()));
            pipeline = Children.java(Pipeline.class.getName(), "3g", pipelineJvm, pipelinePath, user, p);
            // the collector comes once the jobs are submitted, as its events are what they read
            while (!Files.exists(run.resolve("jobs.started")) && pipeline.isAlive() && stopped.getCount() > 0) {
                stopped.await(200, TimeUnit.MILLISECONDS);
            }
            if (o.replay() == null && pipeline.isAlive() && stopped.getCount() > 0) {
                CollectorLaunch launch = collectorLaunch(kafkaPort, registryPort, run, cgroup);
                try {
                    launch.check(System.getenv());
                } catch (ConfigException e) {
                    System.err.println("sockflow up: the collector's settings: " + e.getMessage());
                    return 2;
                }
                List<String> c = launch.args();
                // as root, from root's own class path; it becomes the user itself once attached
                collector = Children.java(
                        "io.sockflow.collector.cli.Main",
                        "1g",
                        // no log file: it starts as root, and DIR/logs is the runtime user's (a link planted there
                        // would have root write where it points); it logs little, to the terminal
                        List.of("-XX:+UseSerialGC", "-Xss1m"),
                        classPath,
                        null,
                        c);
            }
            // --duration counts from the live view, as a user sees it (start-up takes its own time)
            long end = Long.MAX_VALUE;
            while (stopped.getCount() > 0
                    && System.nanoTime() < end
                    && pipeline.isAlive()
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

    /**
     * Where up's processes log in full: DIR/logs, the runtime user's and 0700, each file 0600. The console gets
     * sockflow's own messages and the libraries' errors; their warnings (Kafka's, Flink's, Iceberg's) go to the
     * files only, unless --verbose.
     */
    static Path logs(Path data, Privileges.Identity user) throws IOException {
        Path logs = data.resolve("logs");
        if (!Files.isDirectory(logs, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectory(
                    logs,
                    java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                            java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
            if (user != null) {
                DataFolder.chown(logs, user);
            }
        }
        return logs;
    }

    /** The JVM flags that give a child its log file, and what of the libraries' logs its console shows. */
    static List<String> logFlags(Path file, boolean verbose) {
        return List.of("-Dsockflow.log.file=" + file, "-Dsockflow.console.level=" + (verbose ? "all" : "error"));
    }

    /**
     * The alert outputs' settings, for the pipeline, in a file of the run folder (0600, the runtime user's): a URL may
     * hold a key, and a process's arguments are anyone's to read. The webhook's auth file, which may be root's, is
     * copied beside it. No file when no output is given.
     */
    static void alertSettings(Map<String, String> alerts, Path run, Privileges.Identity user) throws IOException {
        if (alerts.isEmpty()) {
            return;
        }
        java.util.Properties p = new java.util.Properties();
        p.putAll(alerts);
        String auth = alerts.get(AlertOutputs.WEBHOOK_AUTH_FILE);
        if (auth != null && !auth.isBlank()) {
            Path copy = run.resolve(Pipeline.ALERTS_AUTH_FILE);
            privateFile(copy, Files.readAllBytes(Path.of(auth)), user);
            p.setProperty(AlertOutputs.WEBHOOK_AUTH_FILE, copy.toString());
        }
        java.io.StringWriter w = new java.io.StringWriter();
        p.store(w, "the alert outputs of this run (sockflow up)");
        privateFile(
                run.resolve(Pipeline.ALERTS_FILE),
                w.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8),
                user);
    }

    /**
     * Writes a new file 0600 in one step (O_CREAT|O_EXCL with its mode), after taking away whatever is at its name: up
     * runs as root in a folder of the runtime user's, where a link planted at that name must not be followed.
     */
    static void privateFile(Path f, byte[] content, Privileges.Identity user) throws IOException {
        Files.deleteIfExists(f); // a link itself, not what it points to
        try (java.nio.channels.SeekableByteChannel c = Files.newByteChannel(
                f,
                java.util.Set.of(java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE),
                java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")))) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(content);
            while (b.hasRemaining()) {
                c.write(b);
            }
        }
        if (user != null) {
            DataFolder.chown(f, user); // no link followed
        }
    }

    /** The collector up runs: its Kafka, registry and topic, its metrics, spool and status file, its user. */
    CollectorLaunch collectorLaunch(int kafkaPort, int registryPort, Path run, Cgroup cgroup) {
        return new CollectorLaunch(
                "127.0.0.1:" + kafkaPort,
                "http://" + Pipeline.clientHost(o.registryAddress()) + ":" + registryPort,
                o.jobSettings().getOrDefault(JobConfig.EVENTS_TOPIC.name(), JobConfig.EVENTS_TOPIC.defaultValue()),
                o.metricsAddress(),
                o.metricsPort(),
                data.resolve("spool"),
                run.resolve("collector.status"),
                ProcessHandle.current().pid(),
                user == null ? null : user.toString(),
                cgroup == null ? null : cgroup.id(),
                data.resolve(io.sockflow.embedded.KafkaCredentials.COLLECTOR_FILE));
    }

    /**
     * The first fixed port up would listen on that something else holds already, said with its fix; null when all
     * are free. Kafka's controller takes the port after --kafka-port.
     */
    static String takenPort(Options o) {
        if (o.kafkaPort() != 0) {
            if (!free(o.kafkaPort())) {
                return "port " + o.kafkaPort() + " (--kafka-port) is in use on 127.0.0.1: stop what listens there "
                        + "(ss -ltnp 'sport = :" + o.kafkaPort() + "') or choose another --kafka-port";
            }
            int controller = o.kafkaPort() + 1;
            if (controller > 65535 || !free(controller)) {
                return "port " + controller + " (Kafka's controller: --kafka-port + 1) is "
                        + (controller > 65535 ? "beyond 65535" : "in use on 127.0.0.1")
                        + ": choose a --kafka-port whose next port is free too";
            }
        }
        if (o.registryPort() != 0 && !free(o.registryPort())) {
            return "port " + o.registryPort() + " (--registry-port) is in use on 127.0.0.1: stop what listens there "
                    + "(ss -ltnp 'sport = :" + o.registryPort() + "') or choose another --registry-port";
        }
        return null;
    }

    private static boolean free(int port) {
        try (java.net.ServerSocket s = new java.net.ServerSocket()) {
            s.bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port), 1);
            return true;
        } catch (IOException e) {
            return false;
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
    static void watchResume(
            java.util.concurrent.atomic.AtomicReference<JobClient> job,
            Path checkpoint,
            JobConfig fresh,
            Configuration conf,
            PrintStream out) {
        JobClient resumed = job.get();
        Thread.ofPlatform().daemon().name("sockflow-up-resume").start(() -> {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            try {
                while (System.nanoTime() < deadline && job.get() == resumed) {
                    if (resumed.getJobStatus().get(10, TimeUnit.SECONDS)
                            == org.apache.flink.api.common.JobStatus.FAILED) {
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
