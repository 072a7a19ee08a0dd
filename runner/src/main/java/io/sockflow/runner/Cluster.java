package io.sockflow.runner;

import io.sockflow.embedded.KafkaCredentials;
import io.sockflow.jobs.config.JobConfig;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.Reader;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * {@code sockflow cluster up|status|down}: on this machine, as separate processes bound to 127.0.0.1, a 3-broker
 * KRaft Kafka cluster (replication 3, min ISR 2), the schema registry, a Flink standalone session cluster (a
 * JobManager and 2 TaskManagers, Flink's jars from Maven Central) with mutual TLS on its REST endpoint and internal
 * connections, and the jobs jar submitted to it with Flink's own client, as a user would {@code flink run} it. The
 * processes outlive {@code up}; their pids and ports are in {@code cluster.properties} in a private folder (0700),
 * which {@code status} and {@code down} read.
 */
public final class Cluster {
    static final String STATE = "cluster.properties";
    static final String LOOPBACK = "127.0.0.1";
    static final int BROKERS = 3;
    static final int TASKMANAGERS = 2;
    /** Task slots of each TaskManager. */
    static final int SLOTS = 2;
    /** The jobs' parallelism unless {@code --parallelism} says. */
    static final int PARALLELISM = 2;
    /** Partitions of the jobs' topics unless {@code --partitions} says. */
    static final int PARTITIONS = 4;
    /** Acknowledged writes survive the loss of one broker: every topic has BROKERS replicas, 2 of them in sync. */
    static final int MIN_INSYNC_REPLICAS = 2;

    static final String JOB_CLASS = "io.sockflow.jobs.SockflowJob";
    static final String GROUP = "sockflow-cluster";
    static final String USAGE = """
            usage: sockflow cluster up|status|down [--dir DIR] [--parallelism N] [--partitions N] [--fresh] [--no-job] [-- job settings]
              up      3 Kafka brokers, the registry, a Flink JobManager and 2 TaskManagers on 127.0.0.1, then the jobs
              status  each process (pid, state, memory, address) and the job's state; exit 0 when all runs
              down    cancels the job and stops every process
              --dir   the cluster's private folder (default data/cluster)""";
    private static final Pattern JOB_ID = Pattern.compile("JobID ([0-9a-f]{32})");

    record Options(
            Path dir,
            Path home,
            int parallelism,
            int partitions,
            boolean submit,
            boolean fresh,
            List<String> jobArgs) {}

    private final Options o;
    private final PrintStream out;
    private final Properties state = new Properties();

    Cluster(Options o, PrintStream out) {
        this.o = o;
        this.out = out;
    }

    public static void main(String[] args) {
        System.setProperty("log4j.shutdownHookEnabled", "false");
        // the clients' notes while brokers start or stop (connection refused, retrying) are expected here
        System.setProperty("sockflow.log.level", "error");
        if (args.length == 0 || !List.of("up", "down", "status").contains(args[0])) {
            boolean help = args.length > 0 && List.of("--help", "-h", "help").contains(args[0]);
            (help ? System.out : System.err).println(USAGE);
            System.exit(help ? 0 : 2);
        }
        Path dir = Path.of("data", "cluster");
        Path home = Path.of(System.getProperty("sockflow.home", "."));
        int parallelism = PARALLELISM;
        int partitions = PARTITIONS;
        boolean submit = true;
        boolean fresh = false;
        List<String> jobArgs = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--dir" -> dir = Path.of(args[++i]);
                case "--home" -> home = Path.of(args[++i]);
                case "--parallelism" -> parallelism = Integer.parseInt(args[++i]);
                case "--partitions" -> partitions = Integer.parseInt(args[++i]);
                case "--no-job" -> submit = false;
                case "--fresh" -> fresh = true;
                case "--" -> {
                    jobArgs.addAll(List.of(args).subList(i + 1, args.length));
                    i = args.length;
                }
                default -> {
                    System.err.println("sockflow cluster: unknown argument " + args[i] + "\n" + USAGE);
                    System.exit(2);
                }
            }
        }
        Cluster c = new Cluster(
                new Options(
                        dir.toAbsolutePath(), home.toAbsolutePath(), parallelism, partitions, submit, fresh, jobArgs),
                System.out);
        int rc;
        try {
            rc = switch (args[0]) {
                case "up" -> c.up();
                case "down" -> c.down();
                default -> c.status();
            };
        } catch (Exception e) {
            System.err.println("sockflow cluster " + args[0] + ": " + e.getMessage());
            rc = 1;
        }
        System.exit(rc);
    }

    // ---------------------------------------------------------------- up

    int up() throws Exception {
        Path dir = o.dir();
        if (Files.exists(dir.resolve(STATE))) {
            load();
            if (!alive().isEmpty()) {
                throw new IllegalStateException(
                        "a cluster already runs from " + dir + ": ./sockflow cluster status, or down first");
            }
        }
        if (Files.isDirectory(dir.resolve("kafka"))) {
            if (!o.fresh()) {
                throw new IllegalStateException(
                        dir + " holds a previous cluster's data: --fresh deletes it, or give another --dir");
            }
            for (String sub : List.of("kafka", "checkpoints", "warehouse", "logs", "conf", "tmp", STATE)) {
                DataFolder.deleteTree(dir.resolve(sub));
            }
        }
        Path flinkLib = flinkLib();
        Path jobJar = jobJar();
        privateDir(dir);
        Path conf = privateDir(dir.resolve("conf"));
        Path logs = privateDir(dir.resolve("logs"));
        state.clear();
        long t0 = System.nanoTime();

        // ports chosen now, all on loopback, kept in the state file
        int[] ports = io.sockflow.embedded.LoopbackPorts.free(2 * BROKERS + 3); // all different
        int[] kafkaPorts = java.util.Arrays.copyOfRange(ports, 0, BROKERS);
        int[] controllerPorts = java.util.Arrays.copyOfRange(ports, BROKERS, 2 * BROKERS);
        int registryPort = ports[2 * BROKERS];
        int rpcPort = ports[2 * BROKERS + 1];
        int restPort = ports[2 * BROKERS + 2];
        List<String> bootstrap = new ArrayList<>();
        for (int p : kafkaPorts) {
            bootstrap.add(LOOPBACK + ":" + p);
        }
        state.setProperty("bootstrap", String.join(",", bootstrap));
        // every Kafka client logs in (SASL/PLAIN) and the brokers authorize by ACL, as under up: the registry and
        // sockflow's own clients as the admin, the jobs, collectors and readers with their own accounts' files, all
        // owner-only in conf/
        KafkaCredentials creds = KafkaCredentials.loadOrCreate(conf);
        state.setProperty(
                "kafka.config", conf.resolve(KafkaCredentials.ADMIN_FILE).toString());
        state.setProperty("registry.url", "http://" + LOOPBACK + ":" + registryPort);
        state.setProperty("rest.url", "https://" + LOOPBACK + ":" + restPort);
        save();
        Files.writeString(conf.resolve("log4j2.properties"), LOG4J);

        out.printf(
                "[1/4] Kafka: %d brokers (KRaft, each also a controller), replication %d, min ISR 2%n",
                BROKERS, BROKERS);
        out.flush();
        String voters = voters(controllerPorts);
        String clusterId = Uuid.randomUuid().toString();
        String cp = System.getProperty("java.class.path");
        // kept for a broker started again after its loss (restartBroker)
        Files.writeString(conf.resolve(BROKER_CLASSPATH), cp);
        for (int i = 0; i < BROKERS; i++) {
            int id = i + 1;
            Path logDir = privateDir(dir.resolve("kafka").resolve("broker-" + id));
            Path props = conf.resolve("kafka-" + id + ".properties");
            store(brokerConfig(id, kafkaPorts[i], controllerPorts[i], voters, logDir, creds), props);
            format(id, clusterId, logDir);
            startBroker(id, kafkaPorts[i], cp, conf, logs);
        }
        createTopics(String.join(",", bootstrap), creds);
        out.printf("      ready after %d s: %s%n", seconds(t0), String.join(",", bootstrap));

        out.println("[2/4] schema registry");
        out.flush();
        start(
                "registry",
                registryPort,
                List.of("-Xmx128m", "-XX:+UseSerialGC"),
                cp,
                ClusterRegistry.class.getName(),
                List.of(
                        "--bootstrap",
                        String.join(",", bootstrap),
                        "--port",
                        Integer.toString(registryPort),
                        "--kafka-config",
                        state.getProperty("kafka.config")),
                conf,
                logs);
        waitFor(
                () -> httpOk(HttpClient.newHttpClient(), URI.create(state.getProperty("registry.url") + "/subjects")),
                Duration.ofSeconds(60),
                "the registry did not answer on " + state.getProperty("registry.url"));
        out.printf("      ready after %d s: %s%n", seconds(t0), state.getProperty("registry.url"));

        out.printf(
                "[3/4] Flink session cluster: a JobManager and %d TaskManagers (2 slots each), mutual TLS%n",
                TASKMANAGERS);
        out.flush();
        LocalFlink.Tls tls = LocalFlink.tls(dir.resolve("tls"));
        Files.writeString(conf.resolve("config.yaml"), flinkConfig(tls, rpcPort, restPort));
        String flinkCp = String.join(":", Files.readString(flinkLib).strip());
        List<String> jm = resourceParams(flinkCp, conf, "GET_JM_RESOURCE_PARAMS");
        List<String> jmArgs = new ArrayList<>(List.of("--configDir", conf.toString()));
        jmArgs.addAll(dynamicOptions(jm.get(1)));
        start(
                "jobmanager",
                restPort,
                jvmFlags(jm.get(0)),
                flinkCp,
                "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
                jmArgs,
                conf,
                logs);
        List<String> tm = resourceParams(flinkCp, conf, "GET_TM_RESOURCE_PARAMS");
        for (int i = 1; i <= TASKMANAGERS; i++) {
            startTaskManager(i, tm, flinkCp, conf, logs);
        }
        HttpClient rest = rest(tls);
        waitFor(
                () -> taskManagers(rest) >= TASKMANAGERS,
                Duration.ofSeconds(180),
                "the TaskManagers did not register with the JobManager (see " + logs + ")");
        out.printf(
                "      ready after %d s: REST %s, %d TaskManagers registered%n",
                seconds(t0), state.getProperty("rest.url"), TASKMANAGERS);

        if (o.submit()) {
            out.printf(
                    "[4/4] the jobs jar, submitted with Flink's client over REST at parallelism %d%n", o.parallelism());
            out.flush();
            String id = submit(flinkCp, conf, jobJar, logs);
            state.setProperty("job.id", id);
            save();
            waitFor(
                    () -> "RUNNING".equals(jobState(rest, id)),
                    Duration.ofSeconds(180),
                    "the job " + id + " did not reach RUNNING (see " + logs.resolve("jobmanager.log") + ")");
            out.printf("      job %s RUNNING after %d s%n", id, seconds(t0));
        }
        out.printf("cluster up in %d s; state in %s%n", seconds(t0), dir.resolve(STATE));
        out.flush();
        return 0;
    }

    /** Starts TaskManager {@code i} (again, after a loss: same name, new pid). */
    void startTaskManager(int i, List<String> params, String flinkCp, Path conf, Path logs) throws IOException {
        List<String> args = new ArrayList<>(List.of("--configDir", conf.toString()));
        args.addAll(dynamicOptions(params.get(1)));
        start(
                "taskmanager-" + i,
                0,
                jvmFlags(params.get(0)),
                flinkCp,
                "org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
                args,
                conf,
                logs);
    }

    private static final String BROKER_CLASSPATH = "kafka.classpath";

    private void startBroker(int id, int port, String cp, Path conf, Path logs) throws IOException {
        start(
                "kafka-" + id,
                port,
                List.of("-Xms256m", "-Xmx512m", "-XX:+UseSerialGC"),
                cp,
                "kafka.Kafka",
                List.of(conf.resolve("kafka-" + id + ".properties").toString()),
                conf,
                logs);
    }

    /**
     * A broker started again after its loss (same id, settings and log folder; a new pid), as an operator would bring
     * one back: it catches up from the others and rejoins the in-sync replicas of its partitions.
     */
    void restartBroker(int id) throws IOException {
        Path conf = o.dir().resolve("conf");
        startBroker(
                id,
                Integer.parseInt(state.getProperty("process.kafka-" + id + ".port")),
                Files.readString(conf.resolve(BROKER_CLASSPATH)),
                conf,
                o.dir().resolve("logs"));
    }

    /** A TaskManager started again after its loss (same name, a new pid), as an operator would replace one. */
    void restartTaskManager(int i) throws Exception {
        Path conf = o.dir().resolve("conf");
        String flinkCp = Files.readString(flinkLib()).strip();
        startTaskManager(
                i,
                resourceParams(flinkCp, conf, "GET_TM_RESOURCE_PARAMS"),
                flinkCp,
                conf,
                o.dir().resolve("logs"));
    }

    String state(String key) {
        return state.getProperty(key);
    }

    static String voters(int[] controllerPorts) {
        List<String> v = new ArrayList<>();
        for (int i = 0; i < controllerPorts.length; i++) {
            v.add((i + 1) + "@" + LOOPBACK + ":" + controllerPorts[i]);
        }
        return String.join(",", v);
    }

    static Properties brokerConfig(
            int id, int port, int controllerPort, String voters, Path logDir, KafkaCredentials creds) {
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", Integer.toString(id));
        p.put("controller.quorum.voters", voters);
        p.put("listeners", "PLAINTEXT://" + LOOPBACK + ":" + port + ",CONTROLLER://" + LOOPBACK + ":" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://" + LOOPBACK + ":" + port);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        if (creds != null) {
            p.putAll(creds.brokerSettings(LOOPBACK, port, controllerPort));
        }
        p.put("log.dirs", logDir.toString());
        p.putAll(replicationSettings());
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("num.network.threads", "2");
        p.put("num.io.threads", "2");
        p.put("background.threads", "2");
        p.put("num.replica.fetchers", "1");
        p.put("log.segment.bytes", Integer.toString(64 << 20));
        return p;
    }

    /**
     * The brokers' settings that any deployment of sockflow's Kafka shares (docker-compose.yml, the Kubernetes page):
     * every topic, the internal ones too, survives the loss of one broker without losing an acknowledged write.
     */
    static Map<String, String> replicationSettings() {
        String replicas = Integer.toString(BROKERS);
        String minIsr = Integer.toString(MIN_INSYNC_REPLICAS);
        Map<String, String> m = new LinkedHashMap<>();
        m.put("auto.create.topics.enable", "false");
        m.put("default.replication.factor", replicas);
        m.put("min.insync.replicas", minIsr);
        m.put("unclean.leader.election.enable", "false");
        m.put("offsets.topic.replication.factor", replicas);
        m.put("offsets.topic.num.partitions", "6");
        m.put("transaction.state.log.replication.factor", replicas);
        m.put("transaction.state.log.min.isr", minIsr);
        m.put("transaction.state.log.num.partitions", "6");
        m.put("share.coordinator.state.topic.replication.factor", replicas);
        m.put("share.coordinator.state.topic.min.isr", minIsr);
        return m;
    }

    /**
     * Formats a broker's folder. transaction.version 1: with 2 (Kafka 4.2's default) the Flink Kafka sink's committer
     * logs "Unable to commit transaction ... most likely signals data loss" at every recovery.
     */
    static void format(int id, String clusterId, Path logDir) throws Exception {
        new Formatter()
                .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
                .setNodeId(id)
                .setClusterId(clusterId)
                .addDirectory(logDir.toString())
                .setMetadataLogDirectory(logDir.toString())
                .setReleaseVersion(MetadataVersion.latestProduction())
                .setFeatureLevel("transaction.version", (short) 1)
                .setControllerListenerName("CONTROLLER")
                .run();
    }

    /** The jobs' topics with the partitions asked for, and the registry's, all replicated 3 (a broker can go). */
    void createTopics(String bootstrap, KafkaCredentials creds) throws Exception {
        Map<String, Object> c = new HashMap<>(creds.adminClient());
        c.putAll(Map.of("bootstrap.servers", bootstrap, "default.api.timeout.ms", 20000, "request.timeout.ms", 10000));
        try (Admin admin = Admin.create(c)) {
            waitFor(
                    () -> {
                        try {
                            return admin.describeCluster()
                                            .nodes()
                                            .get(10, TimeUnit.SECONDS)
                                            .size()
                                    == BROKERS;
                        } catch (Exception e) {
                            return false;
                        }
                    },
                    Duration.ofSeconds(150),
                    "the Kafka brokers did not form a cluster (see " + o.dir().resolve("logs") + ")");
            // the collectors, the jobs and readers each get their own account's rights (the registry is the admin)
            admin.createAcls(Pipeline.accountRights(JobConfig.fromArgs(jobArgs().toArray(String[]::new), Map.of())))
                    .all()
                    .get(60, TimeUnit.SECONDS);
            List<NewTopic> topics = topics(o.partitions());
            for (NewTopic t : topics) {
                try {
                    admin.createTopics(List.of(t)).all().get(60, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException(
                                "cannot create topic " + t.name() + ": "
                                        + e.getCause().getMessage(),
                                e);
                    }
                }
            }
        }
    }

    /**
     * The topics every deployment creates before the jobs start: the jobs' input, outputs and dead letters with
     * {@code partitions} and the jobs' default retention (7 days, 512 MiB a partition), the registry's compacted
     * {@code _schemas} with one; all with BROKERS replicas.
     */
    static List<NewTopic> topics(int partitions) {
        JobConfig defaults = JobConfig.defaults();
        List<NewTopic> topics = new ArrayList<>();
        for (JobConfig.Option t : List.of(
                JobConfig.EVENTS_TOPIC,
                JobConfig.LIFECYCLES_TOPIC,
                JobConfig.FLOWS_TOPIC,
                JobConfig.ALERTS_TOPIC,
                JobConfig.DEAD_LETTER_TOPIC)) {
            // retention as the jobs would set it at their start: a topic made here never goes without
            topics.add(new NewTopic(defaults.get(t), partitions, (short) BROKERS)
                    .configs(io.sockflow.jobs.sink.TopicRetention.configs(defaults)));
        }
        topics.add(new NewTopic("_schemas", 1, (short) BROKERS).configs(Map.of("cleanup.policy", "compact")));
        return topics;
    }

    String flinkConfig(LocalFlink.Tls tls, int rpcPort, int restPort) throws IOException {
        Configuration c = new Configuration();
        LocalFlink.secure(c, tls);
        Map<String, String> m = new LinkedHashMap<>(c.toMap());
        m.remove("rest.bind-port");
        m.put("rest.port", Integer.toString(restPort));
        m.put("jobmanager.rpc.port", Integer.toString(rpcPort));
        m.putAll(flinkSettings(o.parallelism()));
        m.put("io.tmp.dirs", privateDir(o.dir().resolve("tmp")).toString());
        m.put("blob.server.port", "0");
        m.put("taskmanager.data.port", "0");
        m.put("taskmanager.rpc.port", "0");
        StringBuilder y = new StringBuilder("# written by sockflow cluster up\n");
        for (Map.Entry<String, String> e : m.entrySet()) {
            y.append(e.getKey())
                    .append(": '")
                    .append(e.getValue().replace("'", "''"))
                    .append("'\n");
        }
        return y.toString();
    }

    /**
     * The Flink settings that any deployment of the jobs shares (docker-compose.yml, the Kubernetes FlinkDeployment):
     * sizes, slots, the restart strategy ({@code up}'s MiniCluster's: no attempt limit, backing off), no submission
     * or cancellation from the web UI. Addresses, ports, folders and the TLS key store are each deployment's own.
     */
    static Map<String, String> flinkSettings(int parallelism) {
        Map<String, String> m = new LinkedHashMap<>();
        // sizes that fit a small machine: RSS per Flink JVM stays near half a GiB
        m.put("jobmanager.memory.process.size", "1024m");
        m.put("taskmanager.memory.process.size", "1536m");
        m.put("taskmanager.memory.managed.fraction", "0.05"); // heap state: managed memory would sit unused
        m.put("taskmanager.numberOfTaskSlots", Integer.toString(SLOTS));
        m.put("parallelism.default", Integer.toString(parallelism));
        m.put(
                "taskmanager.load-balance.mode",
                "SLOTS"); // slots spread over both: a lost TaskManager takes half the job
        m.put("heartbeat.timeout", "20000");
        m.put("web.submit.enable", "false");
        m.put("web.cancel.enable", "false");
        m.put("web.rescale.enable", "false");
        m.putAll(
                io.sockflow.jobs.SockflowJob.restartForever(new Configuration()).toMap());
        return m;
    }

    /** The JVM flags (line 1) and dynamic options (line 2) that Flink's scripts would compute from the memory settings. */
    List<String> resourceParams(String flinkCp, Path conf, String what) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(
                java(),
                "-Xmx128m",
                "-XX:+UseSerialGC",
                "-cp",
                flinkCp,
                "-Dlog4j.configurationFile=" + conf.resolve("log4j2.properties"),
                "-Dsockflow.log.file=" + o.dir().resolve("logs/resources.log"),
                "org.apache.flink.runtime.util.bash.BashJavaUtils",
                what,
                "--configDir",
                conf.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(60, TimeUnit.SECONDS);
        List<String> lines = new ArrayList<>();
        for (String l : text.split("\n")) {
            if (l.startsWith("BASH_JAVA_UTILS_EXEC_RESULT:")) {
                lines.add(l.substring("BASH_JAVA_UTILS_EXEC_RESULT:".length()).strip());
            }
        }
        if (lines.size() < 2) {
            throw new IllegalStateException(
                    "Flink could not size its processes from " + conf.resolve("config.yaml") + ": " + text.strip());
        }
        return lines;
    }

    static List<String> jvmFlags(String line) {
        List<String> f = new ArrayList<>(List.of(line.split("\\s+")));
        f.add("-XX:+UseSerialGC");
        return f;
    }

    static List<String> dynamicOptions(String line) {
        List<String> d = new ArrayList<>();
        for (String t : line.split("\\s+")) {
            if (!t.isBlank()) {
                d.add(t);
            }
        }
        return d;
    }

    /** Submits the jobs jar with Flink's client (POST /jobs over mutual TLS); the id of the job. */
    String submit(String flinkCp, Path conf, Path jobJar, Path logs) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(java()));
        cmd.addAll(opens());
        cmd.addAll(List.of(
                "-Xmx384m",
                "-XX:+UseSerialGC",
                "-cp",
                flinkCp,
                "-Dlog4j.configurationFile=" + conf.resolve("log4j2.properties"),
                "-Dsockflow.log.file=" + logs.resolve("client.log"),
                "org.apache.flink.client.cli.CliFrontend",
                "run",
                "-d",
                "-p",
                Integer.toString(o.parallelism()),
                "-c",
                JOB_CLASS,
                jobJar.toString()));
        cmd.addAll(jobArgs());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("FLINK_CONF_DIR", conf.toString());
        pb.environment()
                .put(
                        "FLINK_PLUGINS_DIR",
                        privateDir(o.dir().resolve("tmp/plugins")).toString());
        Process p = pb.start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("Flink's client could not submit the jobs: " + lastLines(text, 8));
        }
        Matcher m = JOB_ID.matcher(text);
        if (!m.find()) {
            throw new IllegalStateException("Flink's client gave no job id: " + lastLines(text, 8));
        }
        return m.group(1);
    }

    List<String> jobArgs() {
        List<String> a = jobArgs(
                state.getProperty("bootstrap"),
                state.getProperty("registry.url"),
                o.dir().resolve("warehouse").toString(),
                o.dir().resolve("checkpoints").toString(),
                GROUP,
                o.partitions(),
                o.parallelism());
        if (state.getProperty("kafka.config") != null) {
            // the jobs log in with their own account: they read the events and write the results, nothing else
            a.addAll(List.of(
                    "--" + JobConfig.KAFKA_CONFIG.name(),
                    Path.of(state.getProperty("kafka.config"))
                            .resolveSibling(KafkaCredentials.JOBS_FILE)
                            .toString()));
        }
        a.addAll(o.jobArgs());
        return a;
    }

    /**
     * The settings the jobs are given on a cluster, as flags: where Kafka, the registry, the lake and the checkpoints
     * are, the consumer group and transactional id prefix of this deployment, partitions and parallelism.
     */
    static List<String> jobArgs(
            String bootstrap,
            String registry,
            String warehouse,
            String checkpoints,
            String deployment,
            int partitions,
            int parallelism) {
        return new ArrayList<>(List.of(
                "--" + JobConfig.BOOTSTRAP.name(), bootstrap,
                "--" + JobConfig.REGISTRY.name(), registry,
                "--" + JobConfig.WAREHOUSE.name(), warehouse,
                "--" + JobConfig.CHECKPOINT_DIR.name(), checkpoints,
                "--" + JobConfig.GROUP_ID.name(), deployment,
                "--" + JobConfig.TRANSACTION_PREFIX.name(), deployment,
                "--" + JobConfig.TOPIC_PARTITIONS.name(), Integer.toString(partitions),
                "--" + JobConfig.PARALLELISM.name(), Integer.toString(parallelism)));
    }

    // ---------------------------------------------------------------- status

    int status() throws Exception {
        if (!Files.exists(o.dir().resolve(STATE))) {
            out.println("no cluster in " + o.dir() + ": ./sockflow cluster up");
            return 3;
        }
        load();
        boolean ok = true;
        out.printf("%-14s %-8s %-8s %-9s %s%n", "process", "pid", "state", "rss", "address");
        for (String name : names()) {
            long pid = Long.parseLong(state.getProperty("process." + name + ".pid"));
            boolean up = handle(name).isPresent();
            ok &= up;
            int port = Integer.parseInt(state.getProperty("process." + name + ".port", "0"));
            out.printf(
                    "%-14s %-8d %-8s %-9s %s%n",
                    name,
                    pid,
                    up ? "running" : "gone",
                    up ? rssMiB(pid) + " MiB" : "-",
                    port == 0 ? "" : LOOPBACK + ":" + port);
        }
        String id = state.getProperty("job.id");
        if (id != null) {
            String js = null;
            // a loaded machine can keep the JobManager from answering for a while: a few tries
            for (int attempt = 1; js == null; attempt++) {
                try {
                    js = jobState(rest(LocalFlink.tls(o.dir().resolve("tls"))), id);
                } catch (Exception e) {
                    if (attempt == 3) {
                        js = "unknown (Flink's REST API: " + e.getMessage() + ")";
                    }
                }
            }
            ok &= "RUNNING".equals(js);
            out.printf("job %s: %s%n", id, js);
        } else {
            out.println("job: none submitted");
        }
        out.printf(
                "kafka %s  registry %s  flink REST %s (mutual TLS)%n",
                state.getProperty("bootstrap"), state.getProperty("registry.url"), state.getProperty("rest.url"));
        return ok ? 0 : 1;
    }

    // ---------------------------------------------------------------- down

    int down() throws Exception {
        if (!Files.exists(o.dir().resolve(STATE))) {
            out.println("no cluster in " + o.dir());
            return 0;
        }
        load();
        long t0 = System.nanoTime();
        String id = state.getProperty("job.id");
        if (id != null && alive().contains("jobmanager")) {
            try {
                HttpClient rest = rest(LocalFlink.tls(o.dir().resolve("tls")));
                rest.send(
                        HttpRequest.newBuilder(
                                        URI.create(state.getProperty("rest.url") + "/jobs/" + id + "?mode=cancel"))
                                .method("PATCH", HttpRequest.BodyPublishers.noBody())
                                .timeout(Duration.ofSeconds(10))
                                .build(),
                        HttpResponse.BodyHandlers.discarding());
                waitFor(
                        () -> !"RUNNING".equals(jobState(rest, id)) && !"CANCELLING".equals(jobState(rest, id)),
                        Duration.ofSeconds(30),
                        "");
                out.println("job " + id + " cancelled");
            } catch (Exception e) {
                out.println("job " + id + ": could not cancel (" + e.getMessage() + "): stopping the processes");
            }
        }
        // Flink first (its sinks stop writing), then the registry, then the brokers one by one: a KRaft quorum
        // stopped all at once can leave the last broker waiting for minutes
        List<String> order = new ArrayList<>(names());
        java.util.Collections.reverse(order);
        for (String name : order) {
            // the last broker of the quorum cannot finish a clean shutdown alone (no majority): it gets a short grace
            boolean last = name.equals("kafka-1");
            stop(
                    name,
                    last
                            ? Duration.ofSeconds(5)
                            : name.startsWith("kafka") ? Duration.ofSeconds(30) : Duration.ofSeconds(20));
        }
        List<String> left = alive();
        if (!left.isEmpty()) {
            throw new IllegalStateException("still running after down: " + left);
        }
        Files.delete(o.dir().resolve(STATE));
        out.printf("cluster down in %d s: no process left; data kept in %s%n", seconds(t0), o.dir());
        return 0;
    }

    void stop(String name, Duration grace) {
        Optional<ProcessHandle> h = handle(name);
        if (h.isEmpty()) {
            return;
        }
        ProcessHandle p = h.get();
        p.destroy();
        try {
            p.onExit().get(grace.toSeconds(), TimeUnit.SECONDS);
            out.println("stopped " + name);
        } catch (Exception e) {
            p.destroyForcibly();
            try {
                p.onExit().get(10, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // checked by the caller
            }
            out.println("killed " + name + " (it did not stop within " + grace.toSeconds() + " s"
                    + (name.equals("kafka-1")
                            ? ": the last broker of a KRaft quorum waits for a majority that is gone)"
                            : ")"));
        }
    }

    // ---------------------------------------------------------------- processes and state

    /** A process of the cluster: a JVM in a session of its own, its output in logs/NAME.out, its log in logs/NAME.log. */
    Process start(
            String name, int port, List<String> jvm, String cp, String main, List<String> args, Path conf, Path logs)
            throws IOException {
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
            cmd.add("/usr/bin/setsid");
        }
        cmd.add(java());
        cmd.addAll(opens());
        cmd.addAll(jvm);
        cmd.add("-Dlog4j.configurationFile=" + conf.resolve("log4j2.properties"));
        cmd.add("-Dsockflow.log.file=" + logs.resolve(name + ".log"));
        cmd.add("-Dlog.file=" + logs.resolve(name + ".log"));
        cmd.addAll(List.of("-cp", cp, main));
        cmd.addAll(args);
        File output = logs.resolve(name + ".out").toFile();
        Process p = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(output))
                .redirectErrorStream(true)
                .start();
        state.setProperty("process." + name + ".pid", Long.toString(p.pid()));
        state.setProperty(
                "process." + name + ".started",
                Long.toString(p.info().startInstant().map(Instant::toEpochMilli).orElse(0L)));
        state.setProperty("process." + name + ".port", Integer.toString(port));
        save();
        return p;
    }

    /** The process of that name, if it still runs (the same one: its start time is checked, as pids are reused). */
    Optional<ProcessHandle> handle(String name) {
        String pid = state.getProperty("process." + name + ".pid");
        if (pid == null) {
            return Optional.empty();
        }
        long started = Long.parseLong(state.getProperty("process." + name + ".started", "0"));
        return ProcessHandle.of(Long.parseLong(pid))
                .filter(ProcessHandle::isAlive)
                .filter(h -> started == 0
                        || h.info().startInstant().map(Instant::toEpochMilli).orElse(0L) == started);
    }

    long pid(String name) {
        return Long.parseLong(state.getProperty("process." + name + ".pid"));
    }

    List<String> names() {
        List<String> n = new ArrayList<>();
        for (int i = 1; i <= BROKERS; i++) {
            n.add("kafka-" + i);
        }
        n.add("registry");
        n.add("jobmanager");
        for (int i = 1; i <= TASKMANAGERS; i++) {
            n.add("taskmanager-" + i);
        }
        n.removeIf(x -> state.getProperty("process." + x + ".pid") == null);
        return n;
    }

    List<String> alive() {
        List<String> a = new ArrayList<>();
        for (String n : names()) {
            if (handle(n).isPresent()) {
                a.add(n);
            }
        }
        return a;
    }

    void load() throws IOException {
        state.clear();
        try (Reader r = Files.newBufferedReader(o.dir().resolve(STATE))) {
            state.load(r);
        }
    }

    synchronized void save() throws IOException {
        store(state, o.dir().resolve(STATE));
    }

    static void store(Properties p, Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try (Writer w = Files.newBufferedWriter(tmp)) {
            p.store(w, "sockflow cluster");
        }
        Files.move(
                tmp,
                file,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    static Path privateDir(Path d) throws IOException {
        Files.createDirectories(d);
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwx------"));
        return d;
    }

    Path flinkLib() {
        Path f = o.home().resolve("runner/flink-lib/target/classpath.txt");
        if (!Files.isRegularFile(f)) {
            throw new IllegalStateException(
                    "the Flink cluster's class path " + f + " is missing: run ./sockflow build");
        }
        return f;
    }

    Path jobJar() throws IOException {
        Path target = o.home().resolve("flink-jobs/target");
        if (Files.isDirectory(target)) {
            try (var s = Files.list(target)) {
                Optional<Path> jar = s.filter(
                                p -> p.getFileName().toString().matches("sockflow-flink-jobs-.*-job\\.jar"))
                        .findFirst();
                if (jar.isPresent()) {
                    return jar.get();
                }
            }
        }
        throw new IllegalStateException(
                "the jobs jar (flink-jobs/target/sockflow-flink-jobs-*-job.jar) is missing: run ./sockflow build");
    }

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** The module openings Flink, Kafka and Iceberg need on Java 25: this JVM's own (the launcher's). */
    static List<String> opens() {
        List<String> f = new ArrayList<>();
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-opens")
                    || a.startsWith("--add-exports")
                    || a.startsWith("--enable-native-access")
                    || a.startsWith("--sun-misc-unsafe-memory-access")) {
                f.add(a);
            }
        }
        if (f.stream().noneMatch(a -> a.startsWith("--enable-native-access"))) {
            f.add("--enable-native-access=ALL-UNNAMED"); // netty and Kafka's compression libraries load native code
        }
        if (f.stream().noneMatch(a -> a.startsWith("--add-opens=java.base/java.nio="))) {
            for (String m : List.of(
                    "java.nio",
                    "java.lang",
                    "java.util",
                    "sun.nio.ch",
                    "java.lang.invoke",
                    "java.time",
                    "java.net",
                    "java.io",
                    "java.util.concurrent",
                    "java.util.concurrent.atomic",
                    "java.math",
                    "java.text",
                    "java.lang.reflect")) {
                f.add("--add-opens=java.base/" + m + "=ALL-UNNAMED");
            }
        }
        return f;
    }

    static long rssMiB(long pid) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (l.startsWith("VmRSS:")) {
                    return Long.parseLong(l.replaceAll("\\D", "")) / 1024;
                }
            }
        } catch (IOException | NumberFormatException ignored) {
            // gone meanwhile
        }
        return 0;
    }

    static long seconds(long t0) {
        return (System.nanoTime() - t0) / 1_000_000_000L;
    }

    static String lastLines(String text, int n) {
        String[] l = text.strip().split("\n");
        return String.join(" | ", List.of(l).subList(Math.max(0, l.length - n), l.length));
    }

    interface Check {
        boolean ok() throws Exception;
    }

    static void waitFor(Check c, Duration max, String failure) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (c.ok()) {
                    return;
                }
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception ignored) {
                // not yet
            }
            Thread.sleep(500);
        }
        if (!failure.isEmpty()) {
            throw new IllegalStateException(failure);
        }
    }

    // ---------------------------------------------------------------- Flink's REST API (mutual TLS)

    /** A client that presents the cluster's key: Flink's REST endpoint accepts nobody else. */
    static HttpClient rest(LocalFlink.Tls tls) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(tls.store())) {
            ks.load(in, tls.password().toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, tls.password().toCharArray());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ssl = SSLContext.getInstance("TLSv1.3");
        ssl.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        SSLParameters params = new SSLParameters();
        params.setProtocols(new String[] {"TLSv1.3"});
        return HttpClient.newBuilder()
                .sslContext(ssl)
                .sslParameters(params)
                .connectTimeout(Duration.ofSeconds(20))
                .build();
    }

    String get(HttpClient rest, String path) throws Exception {
        HttpResponse<String> r = rest.send(
                HttpRequest.newBuilder(URI.create(state.getProperty("rest.url") + path))
                        .timeout(Duration.ofSeconds(30))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("GET " + path + ": HTTP " + r.statusCode());
        }
        return r.body();
    }

    int taskManagers(HttpClient rest) throws Exception {
        Matcher m = Pattern.compile("\"taskmanagers\"\\s*:\\s*(\\d+)").matcher(get(rest, "/overview"));
        return m.find() ? Integer.parseInt(m.group(1)) : 0;
    }

    String jobState(HttpClient rest, String id) throws Exception {
        Matcher m = Pattern.compile("\"status\"\\s*:\\s*\"([A-Z_]+)\"").matcher(get(rest, "/jobs/" + id + "/status"));
        return m.find() ? m.group(1) : "UNKNOWN";
    }

    static boolean httpOk(HttpClient c, URI u) throws Exception {
        return c.send(
                                HttpRequest.newBuilder(u)
                                        .timeout(Duration.ofSeconds(5))
                                        .build(),
                                HttpResponse.BodyHandlers.discarding())
                        .statusCode()
                == 200;
    }

    /** Every process logs to its own file under logs/ (INFO: recoveries and commits are in it), not to the terminal. */
    static final String LOG4J = """
            status = warn
            appender.file.type = File
            appender.file.name = file
            appender.file.fileName = ${sys:sockflow.log.file}
            appender.file.layout.type = PatternLayout
            appender.file.layout.pattern = %d{HH:mm:ss.SSS} %-5level %c{1}: %m%n
            rootLogger.level = info
            rootLogger.appenderRef.file.ref = file
            logger.netty.name = org.apache.flink.shaded.netty4
            logger.netty.level = warn
            """;
}
