package io.sockflow.runner;

import io.sockflow.collector.cli.StatusFile;
import io.sockflow.collector.sys.Privileges;
import io.sockflow.embedded.LocalStack;
import io.sockflow.jobs.SockflowJob;
import io.sockflow.jobs.config.JobConfig;
import io.sockflow.runner.alerts.AlertForwarder;
import io.sockflow.runner.alerts.AlertOutputs;
import io.sockflow.schemas.config.Flags;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.kafka.common.config.ConfigDef;

/**
 * The unprivileged half of {@code sockflow up}, in a process of its own that {@link Up} starts: the embedded Kafka
 * broker and schema registry, the Flink jobs on a local MiniCluster, a replay when asked, and the live view. It runs as
 * the runtime user from its start (setpriv), with no capability and no way to gain one. It runs until SIGTERM
 * (from {@link Up}, after the collector has stopped), then stops the jobs and then Kafka.
 */
public final class Pipeline {
    /** In the run folder: the alert outputs' settings, written by {@link Up} when any is given. */
    static final String ALERTS_FILE = "alerts.properties";

    /** In the run folder: the copy of the webhook's auth file. */
    static final String ALERTS_AUTH_FILE = "alerts-webhook.auth";

    /**
     * What {@link Up} hands the pipeline process: rendered to its argument list by {@link #args()} and read back by
     * {@link #parse}, the two in one place. {@code jobSettings} are the {@code --set} pairs, already checked by up.
     */
    record Options(
            Path data,
            int kafkaPort,
            int controllerPort,
            int registryPort,
            String replay,
            boolean headless,
            boolean live,
            int metricsPort,
            String registryAddress,
            String metricsAddress,
            Map<String, String> jobSettings) {
        /** What the pipeline process is told, declared like every other part's settings; not for users. */
        static final ConfigDef DEFINITION = new ConfigDef()
                .define(
                        "data",
                        ConfigDef.Type.STRING,
                        ConfigDef.NO_DEFAULT_VALUE,
                        ConfigDef.Importance.HIGH,
                        "The data folder.")
                .define(
                        "kafka.port",
                        ConfigDef.Type.INT,
                        ConfigDef.NO_DEFAULT_VALUE,
                        ConfigDef.Importance.HIGH,
                        "Broker port.")
                .define(
                        "controller.port",
                        ConfigDef.Type.INT,
                        ConfigDef.NO_DEFAULT_VALUE,
                        ConfigDef.Importance.HIGH,
                        "KRaft controller port.")
                .define(
                        "registry.port",
                        ConfigDef.Type.INT,
                        ConfigDef.NO_DEFAULT_VALUE,
                        ConfigDef.Importance.HIGH,
                        "Registry port.")
                .define(
                        "metrics.port",
                        ConfigDef.Type.INT,
                        0,
                        ConfigDef.Importance.LOW,
                        "The collector's metrics port.")
                .define("replay", ConfigDef.Type.STRING, null, ConfigDef.Importance.LOW, "The capture to replay.")
                .define("headless", ConfigDef.Type.BOOLEAN, false, ConfigDef.Importance.LOW, "Plain text view.")
                .define(
                        "live",
                        ConfigDef.Type.BOOLEAN,
                        false,
                        ConfigDef.Importance.LOW,
                        "A collector feeds the events.")
                .define(
                        "registry.address",
                        ConfigDef.Type.STRING,
                        "127.0.0.1",
                        ConfigDef.Importance.LOW,
                        "Registry bind.")
                .define(
                        "metrics.address",
                        ConfigDef.Type.STRING,
                        "127.0.0.1",
                        ConfigDef.Importance.LOW,
                        "Metrics bind.");

        List<String> args() {
            Map<String, String> v = new LinkedHashMap<>();
            v.put("data", data.toString());
            v.put("kafka.port", Integer.toString(kafkaPort));
            v.put("controller.port", Integer.toString(controllerPort));
            v.put("registry.port", Integer.toString(registryPort));
            v.put("metrics.port", Integer.toString(metricsPort));
            if (replay != null) {
                v.put("replay", replay);
            }
            v.put("headless", Boolean.toString(headless));
            v.put("live", Boolean.toString(live));
            v.put("registry.address", registryAddress);
            v.put("metrics.address", metricsAddress);
            List<String> a = new ArrayList<>(Flags.render(v));
            jobSettings.forEach((k, value) -> a.addAll(List.of("--set", k + "=" + value)));
            return a;
        }

        /** Through the one flag parser; a wrong argument here is up's bug, not the user's. */
        static Options parse(String[] args) {
            List<String> rest = new ArrayList<>();
            Map<String, String> sets = Flags.takePairs(List.of(args), "--set", rest);
            Map<String, Object> v = DEFINITION.parse(Flags.collect(DEFINITION, rest, Map.of(), null));
            return new Options(
                    Path.of((String) v.get("data")),
                    (Integer) v.get("kafka.port"),
                    (Integer) v.get("controller.port"),
                    (Integer) v.get("registry.port"),
                    (String) v.get("replay"),
                    (Boolean) v.get("headless"),
                    (Boolean) v.get("live"),
                    (Integer) v.get("metrics.port"),
                    (String) v.get("registry.address"),
                    (String) v.get("metrics.address"),
                    Map.copyOf(sets));
        }
    }

    /**
     * The jobs' settings under up: where its Kafka, registry and data folder are, its own ids and pace, then the
     * {@code --set} pairs on top (which cannot name the first ones: {@link UpSettings#OWN_JOB_SETTINGS}).
     */
    static JobConfig jobConfig(String bootstrap, String registryUrl, String auth, Path data, Map<String, String> sets) {
        Map<String, String> m = new HashMap<>();
        m.put("bootstrap.servers", bootstrap);
        m.put("registry.url", registryUrl);
        if (auth != null) {
            m.put("registry.basic.auth.user.info", auth);
        }
        m.put("warehouse", data.resolve("warehouse").toString());
        m.put("checkpoint.dir", data.resolve("checkpoints").toString());
        m.put("checkpoint.interval", "2s");
        m.put("lifecycle.update-interval", "10s");
        m.put("starting.offsets", "committed");
        m.put("restore", "latest");
        m.put("group.id", "sockflow-up");
        m.put("transactional.id.prefix", "sockflow-up");
        m.putAll(sets);
        return JobConfig.of(m);
    }

    /** The ACLs of the collector, jobs and reader accounts for the topics, group and transactions {@code cfg} names. */
    static List<org.apache.kafka.common.acl.AclBinding> accountRights(JobConfig cfg) {
        List<String> results = List.of(
                cfg.get(JobConfig.LIFECYCLES_TOPIC), cfg.get(JobConfig.FLOWS_TOPIC), cfg.get(JobConfig.ALERTS_TOPIC));
        List<String> written = new java.util.ArrayList<>(results);
        written.add(cfg.get(JobConfig.DEAD_LETTER_TOPIC));
        String events = cfg.get(JobConfig.EVENTS_TOPIC);
        List<org.apache.kafka.common.acl.AclBinding> acls =
                new java.util.ArrayList<>(io.sockflow.embedded.KafkaAcls.collector(events));
        acls.addAll(io.sockflow.embedded.KafkaAcls.jobs(
                events, written, cfg.get(JobConfig.GROUP_ID), cfg.get(JobConfig.TRANSACTION_PREFIX)));
        acls.addAll(io.sockflow.embedded.KafkaAcls.reader(results));
        return acls;
    }

    /** Where a client of this host reaches a server bound to {@code bind}: loopback for a wildcard address. */
    static String clientHost(String bind) {
        return bind.equals("0.0.0.0") || bind.equals("::") || bind.equals("[::]")
                ? "127.0.0.1"
                : bind.contains(":") && !bind.startsWith("[") ? "[" + bind + "]" : bind;
    }

    private final Options o;
    private final PrintStream out;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final CountDownLatch done = new CountDownLatch(1);

    private Pipeline(Options o, PrintStream out) {
        this.o = o;
        this.out = out;
    }

    public static void main(String[] args) {
        System.setProperty("log4j.shutdownHookEnabled", "false");
        Privileges.privateFiles();
        System.exit(new Pipeline(Options.parse(args), System.out).run());
    }

    static Path runDir(Path data) {
        return data.resolve("run");
    }

    private void step(int n, String what) {
        out.printf("[%d/5] %s%n", n, what);
        out.flush();
    }

    int run() {
        Thread hook = new Thread(
                () -> {
                    stopped.countDown();
                    try {
                        done.await(90, TimeUnit.SECONDS);
                    } catch (InterruptedException ignored) {
                        Thread.currentThread().interrupt();
                    }
                },
                "sockflow-pipeline-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        watchParent();
        LocalStack stack = null;
        AtomicReference<JobClient> job = new AtomicReference<>();
        Replay replay = null;
        Thread replayThread = null;
        AlertForwarder forwarder = null;
        Path data = o.data();
        Path run = runDir(data);
        Path status = run.resolve("collector.status");
        try {
            boolean previous = Files.isDirectory(data.resolve("kafka"));
            step(
                    1,
                    "Kafka broker (KRaft) and schema registry in " + data
                            + (previous ? " (previous run's data found)" : ""));
            // credentials come through the environment (Up checked them); every client below sends them
            String auth = System.getenv(Up.REGISTRY_AUTH_ENV);
            io.sockflow.embedded.EmbeddedSchemaRegistry.Options registryOptions =
                    io.sockflow.embedded.EmbeddedSchemaRegistry.Options.defaults()
                            .withPort(o.registryPort())
                            .withBindAddress(o.registryAddress());
            if (auth != null && auth.indexOf(':') > 0) {
                registryOptions = registryOptions.withUser(
                        auth.substring(0, auth.indexOf(':')), auth.substring(auth.indexOf(':') + 1));
            } else {
                auth = null;
            }
            // every Kafka client logs in: sockflow's own as the admin, a user's with the files these make under --data
            io.sockflow.embedded.KafkaCredentials kafkaAuth = io.sockflow.embedded.KafkaCredentials.loadOrCreate(data);
            stack = LocalStack.start(data, o.kafkaPort(), o.controllerPort(), registryOptions, kafkaAuth);
            Map<String, String> kafkaClient = stack.kafka().clientProperties();
            String registryUrl = "http://" + clientHost(o.registryAddress()) + ":" + o.registryPort();

            // the jobs go on from the previous run's last checkpoint (its open sockets, flows and learned listeners),
            // whether it stopped cleanly or was killed; without one they start at the committed Kafka offsets
            Optional<Path> resume = io.sockflow.jobs.Checkpoints.latest(data.resolve("checkpoints"));
            step(
                    2,
                    "Flink jobs on a local MiniCluster (lifecycles, flows, alerts → Kafka and Iceberg)"
                            + resume.map(c -> ", resuming from " + data.relativize(c))
                                    .orElse(""));
            JobConfig admin = jobConfig(stack.bootstrapServers(), registryUrl, auth, data, o.jobSettings())
                    .with(Map.of(
                            "kafka.config",
                            data.resolve(io.sockflow.embedded.KafkaCredentials.ADMIN_FILE)
                                    .toString()));
            // each part with its own account and only its rights: the collector writes the events, the jobs read them
            // and write the results, a reader reads the results; topics and tables are made here, as the admin
            stack.kafka().grant(accountRights(admin));
            SockflowJob.prepare(admin);
            JobConfig cfg = admin.with(Map.of(
                    "kafka.config",
                    data.resolve(io.sockflow.embedded.KafkaCredentials.JOBS_FILE)
                            .toString()));
            // no attempt limit: a spell without the registry or broker must not stop the pipeline for good
            Configuration conf = SockflowJob.restartForever(new Configuration());
            conf.setString(
                    "io.tmp.dirs", Files.createDirectories(run.resolve("tmp")).toString());
            LocalFlink.secure(conf, LocalFlink.tls(data.resolve("tls")));
            if (resume.isEmpty()) {
                job.set(Up.startJobs(cfg, conf));
            } else {
                JobConfig fresh = cfg.with(Map.of("restore", ""));
                try {
                    job.set(Up.startJobs(cfg, conf));
                    Up.watchResume(job, resume.get(), fresh, conf, out);
                } catch (Exception e) {
                    // refused at submission (a checkpoint Flink cannot read)
                    Up.cannotResume(resume.get(), e, out);
                    job.set(Up.startJobs(fresh, conf));
                }
            }
            Files.writeString(run.resolve("jobs.started"), ""); // Up starts the collector now
            forwarder = forwarder(
                    run.resolve(ALERTS_FILE),
                    kafkaClient,
                    stack.bootstrapServers(),
                    registry(registryUrl, auth),
                    cfg.get(JobConfig.ALERTS_TOPIC));
            String outputs = "";
            if (forwarder != null) {
                Thread.ofPlatform().name("sockflow-alerts-forward").start(forwarder);
                outputs = "alerts out       " + forwarder.destinations() + "\n";
            }

            String source;
            if (o.replay() != null) {
                step(
                        3,
                        "replaying " + (Replay.SAMPLE.equals(o.replay()) ? "the sample capture" : o.replay())
                                + " (no live capture)");
                replay = new Replay(
                        Replay.load(o.replay()),
                        stack.bootstrapServers(),
                        kafkaClient,
                        registry(registryUrl, auth),
                        cfg.get(JobConfig.EVENTS_TOPIC));
                replayThread = Thread.ofPlatform().name("sockflow-replay").start(replay);
                source = "replay of " + o.replay();
            } else {
                step(3, "collector: attaching the eBPF programs to this kernel");
                long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
                while (!"true".equals(StatusFile.read(status).get("attached"))
                        && stopped.getCount() > 0
                        && System.nanoTime() < deadline) {
                    stopped.await(100, TimeUnit.MILLISECONDS);
                }
                if (stopped.getCount() == 0) {
                    return 0;
                }
                source = "live capture (sockflow's own processes excluded)";
            }
            step(4, "ready");
            out.printf(
                    """
                    Kafka            %s   topics sockflow.events, .lifecycles, .flows, .alerts, .events.dlq
                    schema registry  %s%s
                    lake (Iceberg)   %s
                    checkpoints      %s
                    %squery            ./sockflow sql --warehouse %s
                    metrics          %s
                    stop             Ctrl-C (data kept in %s; --fresh starts over)
                    %n""",
                    stack.bootstrapServers(),
                    registryUrl,
                    auth != null ? " (basic auth)" : "",
                    data.resolve("warehouse"),
                    data.resolve("checkpoints"),
                    outputs,
                    data.resolve("warehouse"),
                    o.live() && o.metricsPort() > 0
                            ? "http://" + clientHost(o.metricsAddress()) + ":" + o.metricsPort()
                                    + "/metrics (the collector, Prometheus)"
                            : "the collector's health is in the view below",
                    data);
            step(5, "live view" + (o.headless() ? " (headless: a block every second)" : ""));
            Files.writeString(run.resolve("view.started"), ""); // --duration counts from here
            try (LiveView view = new LiveView(
                    stack.bootstrapServers(),
                    kafkaClient,
                    registry(registryUrl, auth),
                    cfg.get(JobConfig.LIFECYCLES_TOPIC),
                    cfg.get(JobConfig.FLOWS_TOPIC),
                    cfg.get(JobConfig.ALERTS_TOPIC))) {
                if (forwarder != null) {
                    view.outputs(forwarder::status);
                }
                final String src = source;
                final Replay rep = replay;
                while (stopped.getCount() > 0) {
                    long t0 = System.nanoTime();
                    view.poll();
                    String text = view.render(
                            o.live() ? LiveView.Collector.of(StatusFile.read(status)) : null,
                            () -> rep == null
                                    ? src
                                    : src + " (" + rep.sent() + " events sent"
                                            + (rep.lost() > 0 ? ", " + rep.lost() + " not taken by Kafka" : "")
                                            + ")",
                            Instant.now());
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
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        } catch (Exception e) {
            System.err.println("sockflow up: " + e.getMessage());
            return 1;
        } finally {
            if (forwarder != null) {
                forwarder.stop(); // an alert it is trying goes again at the next start
                try {
                    forwarder.await(Duration.ofSeconds(15));
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            }
            if (replay != null) {
                replay.stop();
                try {
                    replayThread.join(10_000); // its producer closes before Kafka goes
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            }
            JobClient jobs = job.getAndSet(null); // null: the resume watcher starts nothing more
            if (jobs != null) {
                try {
                    // what the cancel interrupts is reported as failures with stack traces: a checkpoint in flight
                    // (aborted), a lake commit under way (Iceberg's lock manager shut down under it), tasks torn
                    // down mid-call. At a stop that is expected and says nothing; what the next start needs is in
                    // the last completed checkpoint. Errors still show.
                    for (String noisyAtStop : List.of(
                            "org.apache.flink.runtime.checkpoint",
                            "org.apache.flink.runtime.taskmanager",
                            "org.apache.flink.streaming.runtime.tasks",
                            "org.apache.flink.streaming.api.operators",
                            "org.apache.iceberg")) {
                        org.apache.logging.log4j.core.config.Configurator.setLevel(
                                noisyAtStop, org.apache.logging.log4j.Level.ERROR);
                    }
                    jobs.cancel().get(30, TimeUnit.SECONDS);
                    // the cancel is acknowledged before the tasks and the Kafka source's enumerator have closed:
                    // Kafka waits for them, or their clients log that the broker went away
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    while (System.nanoTime() < deadline
                            && !jobs.getJobStatus().get(5, TimeUnit.SECONDS).isGloballyTerminalState()) {
                        Thread.sleep(100);
                    }
                } catch (Exception e) {
                    System.err.println("sockflow up: stopping the jobs: " + e.getMessage());
                }
            }
            if (stack != null) {
                stack.close();
            }
            out.flush();
            done.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // stopped by a signal
            }
        }
    }

    /** The alert forwarder of the settings {@link Up} wrote, or null when it wrote none (no output given). */
    static AlertForwarder forwarder(
            Path settings,
            Map<String, String> kafkaClient,
            String bootstrap,
            io.sockflow.schemas.registry.RegistryClient.Config registry,
            String topic)
            throws java.io.IOException {
        if (!Files.exists(settings)) {
            return null;
        }
        java.util.Properties p = new java.util.Properties();
        try (java.io.Reader r = Files.newBufferedReader(settings)) {
            p.load(r);
        }
        Map<String, String> given = new HashMap<>();
        p.stringPropertyNames().forEach(k -> given.put(k, p.getProperty(k)));
        ConfigDef def = AlertOutputs.defineOn(new ConfigDef());
        AlertOutputs.Config c = AlertOutputs.Config.of(def.parse(given));
        if (!c.any()) {
            return null;
        }
        Map<String, Object> client = new HashMap<>(kafkaClient);
        client.put("bootstrap.servers", bootstrap);
        return new AlertForwarder(client, registry, topic, c, c.destinations(), System.err);
    }

    static io.sockflow.schemas.registry.RegistryClient.Config registry(String url, String auth) {
        io.sockflow.schemas.registry.RegistryClient.Config c =
                io.sockflow.schemas.registry.RegistryClient.Config.of(url);
        return auth == null ? c : c.withBasicAuth(auth);
    }

    /** Ends this process when the {@code up} that started it is gone (killed with SIGKILL): nothing stays behind. */
    private void watchParent() {
        Optional<ProcessHandle> parent = ProcessHandle.current().parent();
        if (parent.isEmpty()) {
            return;
        }
        parent.get().onExit().thenRun(() -> {
            if (stopped.getCount() > 0) {
                System.exit(1); // runs the hook: the jobs and Kafka stop as at a SIGTERM
            }
        });
    }
}
