package io.sockflow.runner;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.sockflow.embedded.KafkaAcls;
import io.sockflow.embedded.KafkaCredentials;
import io.sockflow.jobs.config.JobConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** docker-compose.yml, checked by parsing it (no Docker engine here): what a real deployment needs is there. */
class ComposeTest {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    /**
     * The file as compose reads it: SnakeYAML resolves its anchors, aliases and {@code <<} merge keys (Jackson's YAML
     * reader leaves the merge keys as fields). Variables ({@code ${VAR:?...}}) stay as written.
     */
    static JsonNode compose() throws Exception {
        Object doc = new org.yaml.snakeyaml.Yaml().load(Files.readString(ROOT.resolve("docker-compose.yml")));
        return new ObjectMapper().valueToTree(doc);
    }

    static List<String> strings(JsonNode n) {
        List<String> out = new ArrayList<>();
        n.forEach(x -> out.add(x.asText()));
        return out;
    }

    @Test
    void theServicesOfADeploymentArePinnedAndHealthChecked() throws Exception {
        JsonNode services = compose().get("services");
        Set<String> names = new TreeSet<>();
        services.fieldNames().forEachRemaining(names::add);
        assertEquals(
                Set.of(
                        "kafka-1",
                        "kafka-2",
                        "kafka-3",
                        "kafka-topics",
                        "schema-registry",
                        "flink-tls",
                        "jobmanager",
                        "taskmanager-1",
                        "taskmanager-2",
                        "job-submitter",
                        "collector"),
                names,
                "the processes of ./sockflow cluster up, the one-shot steps and the collector");
        services.properties().forEach(e -> {
            String image = e.getValue().path("image").asText();
            assertTrue(
                    image.matches("[\\w./-]+:\\d[\\w.-]*"), e.getKey() + ": image pinned to a version, not " + image);
            assertFalse(image.endsWith(":latest"), e.getKey());
        });
        for (String s : List.of(
                "kafka-1", "kafka-2", "kafka-3", "schema-registry", "jobmanager", "taskmanager-1", "taskmanager-2")) {
            assertTrue(services.get(s).has("healthcheck"), s + " has a health check");
            assertFalse(strings(services.get(s).get("healthcheck").get("test")).isEmpty());
        }
        assertTrue(strings(services.get("kafka-1").get("ports")).contains("127.0.0.1:9092:9092"));
        assertTrue(strings(services.get("schema-registry").get("ports")).contains("127.0.0.1:8081:8081"));
        assertTrue(
                strings(services.get("jobmanager").get("ports")).stream().anyMatch(p -> p.endsWith(":8081")),
                "Flink's REST port");
        assertEquals(
                "KRaft",
                services.get("kafka-1")
                                .get("environment")
                                .get("KAFKA_PROCESS_ROLES")
                                .asText()
                                .contains("controller")
                        ? "KRaft"
                        : "");
        // the topics are made before anything uses them
        for (String s : List.of("schema-registry", "jobmanager", "collector")) {
            assertEquals(
                    "service_completed_successfully",
                    services.get(s)
                            .get("depends_on")
                            .get("kafka-topics")
                            .get("condition")
                            .asText(),
                    s);
        }
        // the submitter waits for a healthy cluster and registry, and runs the job jar the build makes
        JsonNode submitter = services.get("job-submitter");
        assertEquals(
                "service_healthy",
                submitter.get("depends_on").get("jobmanager").get("condition").asText());
        assertEquals(
                "service_healthy",
                submitter
                        .get("depends_on")
                        .get("schema-registry")
                        .get("condition")
                        .asText());
        String command = String.join(" ", strings(submitter.get("command")));
        assertTrue(command.contains("flink run") && command.contains("io.sockflow.jobs.SockflowJob"), command);
        String jar = strings(submitter.get("volumes")).stream()
                .filter(v -> v.contains("-job.jar"))
                .findFirst()
                .orElseThrow();
        // the jar the normal build makes (theJobJarIsAFlinkJobJar opens it once it is built)
        assertTrue(jar.matches("\\./flink-jobs/target/sockflow-flink-jobs-[^/:]+-job\\.jar:.*"), jar);
        // named volumes for everything that must survive a restart
        Set<String> volumes = new TreeSet<>();
        compose().get("volumes").fieldNames().forEachRemaining(volumes::add);
        assertTrue(
                volumes.containsAll(Set.of(
                        "kafka-1-data",
                        "kafka-2-data",
                        "kafka-3-data",
                        "collector-spool",
                        "flink-checkpoints",
                        "warehouse")),
                volumes.toString());
    }

    @Test
    void everyPublishedPortIsOnLoopbackAndFlinkTakesNoWebSubmission() throws Exception {
        JsonNode services = compose().get("services");
        services.properties().forEach(e -> {
            for (String port : strings(e.getValue().path("ports"))) {
                assertTrue(port.startsWith("127.0.0.1:"), e.getKey() + " publishes " + port + " beyond this host");
            }
        });
        String flink = services.get("jobmanager")
                .get("environment")
                .get("FLINK_PROPERTIES")
                .asText();
        assertTrue(flink.contains("web.submit.enable: false"), flink);
    }

    @Test
    void theCollectorHasTheHostAndTheLeastPrivilegeItNeeds() throws Exception {
        JsonNode c = compose().get("services").get("collector");
        assertEquals("host", c.get("pid").asText());
        assertEquals("host", c.get("network_mode").asText());
        assertFalse(c.path("privileged").asBoolean(false), "not privileged");
        assertEquals(List.of("ALL"), strings(c.path("cap_drop")), "every capability dropped first");
        List<String> caps = strings(c.path("cap_add"));
        assertEquals(
                KubernetesTest.neededCapabilities(),
                Set.copyOf(caps),
                "the capabilities the collector's code asks for, and no more (no SYS_ADMIN)");
        assertEquals(
                Set.of("BPF", "PERFMON", "DAC_READ_SEARCH", "NET_ADMIN", "SETUID", "SETGID", "CHOWN"),
                Set.copyOf(caps));
        List<String> security = strings(c.path("security_opt"));
        assertTrue(
                security.stream().noneMatch(o -> o.contains("unconfined")),
                "the runtime's seccomp and AppArmor stay on: " + security);
        assertTrue(security.contains("no-new-privileges:true"), security.toString());
        // the reason for each, beside it (a comment, so read from the text)
        List<String> lines = Files.readAllLines(ROOT.resolve("docker-compose.yml"));
        for (String cap : caps) {
            String line = lines.stream()
                    .filter(l ->
                            l.strip().startsWith("- " + cap + " ") || l.strip().equals("- " + cap))
                    .findFirst()
                    .orElseThrow();
            assertTrue(
                    line.contains("#")
                            && line.substring(line.indexOf('#') + 1).strip().length() > 15,
                    "a reason beside " + cap + ": " + line);
        }
        assertEquals(
                "65534:65534",
                c.get("environment").get("SOCKFLOW_RUN_AS").asText(),
                "it gives its capabilities up once attached");
        List<String> mounts = strings(c.get("volumes"));
        for (String m : List.of("/sys/kernel/btf", "/sys/kernel/tracing", "/sys/fs/cgroup")) {
            assertTrue(mounts.stream().anyMatch(v -> v.startsWith(m + ":" + m)), m + " mounted: " + mounts);
        }
        assertEquals("kafka", c.get("environment").get("SOCKFLOW_OUTPUT").asText());
        assertEquals("9464", c.get("environment").get("SOCKFLOW_METRICS_PORT").asText());
        assertTrue(
                String.join(" ", strings(c.get("healthcheck").get("test"))).contains("sockflow_attached"),
                "healthy once attached");
    }

    // ---------------------------------------------------------------- authentication, as `./sockflow cluster up`

    /** The one password variable reference this file may hold: required, with a message when it is missing. */
    static final Pattern PASSWORD_REF = Pattern.compile("\\$\\{(SOCKFLOW_\\w+_PASSWORD):\\?[^}]+}");
    /** The registry's election group (Confluent's schema.registry.group.id): its ACLs are on this prefix. */
    static final String REGISTRY_GROUP = "schema-registry";

    static String text() throws Exception {
        return Files.readString(ROOT.resolve("docker-compose.yml"));
    }

    static String script(String service) throws Exception {
        return String.join("\n", strings(compose().at("/services/" + service + "/command")));
    }

    /** The name=value (or name="value") options of a JAAS login line. */
    static Map<String, String> jaas(String line) {
        Map<String, String> m = new TreeMap<>();
        Matcher o = Pattern.compile("(\\w+)=\"([^\"]*)\"").matcher(line);
        while (o.find()) {
            m.put(o.group(1), o.group(2));
        }
        return m;
    }

    static Set<String> accepted(Map<String, String> jaas) {
        Set<String> users = new TreeSet<>();
        jaas.keySet().stream()
                .filter(k -> k.startsWith("user_"))
                .forEach(k -> users.add(k.substring("user_".length())));
        return users;
    }

    /** A Kafka setting as the apache/kafka image takes it from the environment. */
    static String env(String kafkaSetting) {
        return "KAFKA_" + kafkaSetting.toUpperCase(Locale.ROOT).replace('.', '_');
    }

    @Test
    void theBrokersTakeLoginsAndAclsAsTheClusterModes() throws Exception {
        Map<String, String> cluster = new KafkaCredentials(Map.of(
                        KafkaCredentials.ADMIN, "a",
                        KafkaCredentials.COLLECTOR, "c",
                        KafkaCredentials.JOBS, "j",
                        KafkaCredentials.READER, "r"))
                .brokerSettings("127.0.0.1", 1, 2);
        Set<String> clusterProtocols = new TreeSet<>();
        for (String kv : cluster.get("listener.security.protocol.map").split(",")) {
            clusterProtocols.add(kv.split(":")[1]);
        }
        assertEquals(Set.of("SASL_PLAINTEXT"), clusterProtocols);
        Set<String> clusterAccounts =
                accepted(jaas(cluster.get("listener.name.sasl_plaintext.plain.sasl.jaas.config")));
        Set<String> accounts = new TreeSet<>(clusterAccounts);
        accounts.add(KafkaCredentials.REGISTRY); // compose's registry has an account of its own
        for (int i = 1; i <= Cluster.BROKERS; i++) {
            JsonNode env = compose().at("/services/kafka-" + i + "/environment");
            String broker = "kafka-" + i + " ";
            // every listener is in the map, and each one takes the cluster mode's protocol
            Map<String, String> protocols = new TreeMap<>();
            for (String kv :
                    env.path("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP").asText().split(",")) {
                protocols.put(kv.split(":")[0], kv.split(":")[1]);
            }
            Set<String> listeners = new TreeSet<>();
            for (String l : env.path("KAFKA_LISTENERS").asText().split(",")) {
                listeners.add(l.substring(0, l.indexOf(':')));
            }
            assertEquals(protocols.keySet(), listeners, broker + "every listener has its protocol");
            assertEquals(clusterProtocols, Set.copyOf(protocols.values()), broker + "SASL on every listener");
            for (String key : List.of(
                    "sasl.enabled.mechanisms",
                    "sasl.mechanism.inter.broker.protocol",
                    "sasl.mechanism.controller.protocol",
                    "authorizer.class.name",
                    "super.users",
                    "allow.everyone.if.no.acl.found")) {
                assertEquals(cluster.get(key), env.path(env(key)).asText(), broker + key);
            }
            String controller = env.path("KAFKA_CONTROLLER_LISTENER_NAMES").asText();
            assertTrue(listeners.contains(controller), broker + controller);
            // each listener's logins: the brokers log in as the admin; the controllers accept the admin alone, the
            // other listeners every account
            for (String l : listeners) {
                Map<String, String> login =
                        jaas(env.path(env("listener.name." + l.toLowerCase(Locale.ROOT) + ".plain.sasl.jaas.config"))
                                .asText());
                assertEquals(KafkaCredentials.ADMIN, login.get("username"), broker + l + " logs in as the admin");
                assertEquals(
                        l.equals(controller) ? Set.of(KafkaCredentials.ADMIN) : accounts,
                        accepted(login),
                        broker + l + " accepts");
            }
        }
    }

    /** An ACL as one line: principal, resource type, pattern type, name, operation (host '*'). */
    static String acl(org.apache.kafka.common.acl.AclBinding b) {
        assertEquals("*", b.entry().host());
        assertEquals(AclPermissionType.ALLOW, b.entry().permissionType());
        return b.entry().principal() + " " + b.pattern().resourceType() + " "
                + b.pattern().patternType() + " " + b.pattern().name() + " "
                + b.entry().operation();
    }

    /** The ACLs the kafka-topics step grants: its {@code acl} lines (kafka-acls.sh --add). */
    static Set<String> composeAcls() throws Exception {
        Set<String> out = new TreeSet<>();
        Matcher line = Pattern.compile("(?m)^\\s*acl (.*)$").matcher(script("kafka-topics"));
        while (line.find()) {
            List<String> w = List.of(line.group(1).strip().split("\\s+"));
            String principal = null;
            String type = null;
            String name = null;
            String pattern = "LITERAL";
            List<String> ops = new ArrayList<>();
            for (int i = 0; i + 1 < w.size(); i += 2) {
                String v = w.get(i + 1);
                switch (w.get(i)) {
                    case "--allow-principal" -> principal = v;
                    case "--topic" -> {
                        type = "TOPIC";
                        name = v;
                    }
                    case "--group" -> {
                        type = "GROUP";
                        name = v;
                    }
                    case "--transactional-id" -> {
                        type = "TRANSACTIONAL_ID";
                        name = v;
                    }
                    case "--resource-pattern-type" -> pattern = v.toUpperCase(Locale.ROOT);
                    case "--operation" ->
                        ops.add(v.replaceAll("([a-z])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT));
                    default -> fail("an option these ACLs do not use (a host, a deny?): " + w.get(i));
                }
            }
            assertTrue(principal != null && type != null && !ops.isEmpty(), line.group());
            for (String op : ops) {
                out.add(principal + " " + type + " " + pattern + " " + name + " " + AclOperation.valueOf(op));
            }
        }
        return out;
    }

    @Test
    void eachAccountGetsTheAclsTheClusterModeGrantsIt() throws Exception {
        JobConfig jobs = JobConfig.fromArgs(KubernetesTest.composeJobArgs().toArray(String[]::new), Map.of());
        Set<String> expected = new TreeSet<>();
        for (var b : Pipeline.accountRights(jobs)) {
            expected.add(acl(b));
        }
        String schemas = compose()
                .at("/services/schema-registry/environment/SCHEMA_REGISTRY_KAFKASTORE_TOPIC")
                .asText();
        assertEquals("_schemas", schemas);
        for (var b : KafkaAcls.registry(schemas, REGISTRY_GROUP)) {
            expected.add(acl(b));
        }
        assertEquals(expected, composeAcls(), "the same ACLs, none missing and none more");
        assertTrue(
                compose()
                        .at("/services/schema-registry/environment/SCHEMA_REGISTRY_SCHEMA_REGISTRY_GROUP_ID")
                        .asText()
                        .startsWith(REGISTRY_GROUP),
                "the registry elects its leader in a group its ACLs name");
        // granted as the admin, whose client settings the step writes for itself
        String script = script("kafka-topics");
        assertTrue(
                script.contains(
                        "client " + KafkaCredentials.ADMIN + " \"$$SOCKFLOW_ADMIN_PASSWORD\" > /tmp/admin.properties"),
                script);
        assertTrue(
                script.contains("as_admin=(--bootstrap-server kafka-1:29092 --command-config /tmp/admin.properties)"));
        assertTrue(script.contains("acl() { /opt/kafka/bin/kafka-acls.sh \"$${as_admin[@]}\" --add"), script);
        assertTrue(script.contains("topic() { /opt/kafka/bin/kafka-topics.sh \"$${as_admin[@]}\""), script);
    }

    /** The services that mount a named volume, and whether each does so read-only. */
    static Map<String, Boolean> mounts(String volume) throws Exception {
        Map<String, Boolean> m = new TreeMap<>();
        compose().path("services").properties().forEach(e -> {
            for (String v : strings(e.getValue().path("volumes"))) {
                if (v.startsWith(volume + ":")) {
                    m.put(e.getKey(), v.endsWith(":ro"));
                }
            }
        });
        return m;
    }

    /** Where {@code service} mounts {@code volume}. */
    static String mountPoint(String service, String volume) throws Exception {
        return strings(compose().at("/services/" + service + "/volumes")).stream()
                .filter(v -> v.startsWith(volume + ":"))
                .map(v -> v.split(":")[1])
                .findFirst()
                .orElseThrow(() -> new AssertionError(service + " mounts " + volume));
    }

    @Test
    void theRegistryTheJobsAndTheCollectorEachLogInWithTheirOwnAccount() throws Exception {
        JsonNode services = compose().path("services");
        String script = script("kafka-topics");
        // the registry: its own Kafka account over SASL, and a login asked of every request
        JsonNode registry = services.at("/schema-registry/environment");
        for (String server : registry.path("SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS")
                .asText()
                .split(",")) {
            assertTrue(server.startsWith("SASL_PLAINTEXT://"), server);
        }
        assertEquals(
                "SASL_PLAINTEXT",
                registry.path("SCHEMA_REGISTRY_KAFKASTORE_SECURITY_PROTOCOL").asText());
        assertEquals(
                "PLAIN",
                registry.path("SCHEMA_REGISTRY_KAFKASTORE_SASL_MECHANISM").asText());
        assertEquals(
                KafkaCredentials.REGISTRY,
                jaas(registry.path("SCHEMA_REGISTRY_KAFKASTORE_SASL_JAAS_CONFIG")
                                .asText())
                        .get("username"));
        assertEquals(
                "BASIC", registry.path("SCHEMA_REGISTRY_AUTHENTICATION_METHOD").asText());
        String jaasFile = registry.path("SCHEMA_REGISTRY_OPTS").asText().replaceAll(".*login\\.config=(\\S+).*", "$1");
        String authDir = mountPoint("schema-registry", "registry-auth");
        assertTrue(jaasFile.startsWith(authDir + "/"), jaasFile);
        assertTrue(script.contains(
                "> " + mountPoint("kafka-topics", "registry-auth") + jaasFile.substring(authDir.length())));
        assertTrue(
                script.contains("\"/etc/sockflow/registry/users.properties\"")
                        && authDir.equals("/etc/sockflow/registry"),
                "the login module reads the users' file where the registry mounts it");
        assertTrue(strings(services.at("/schema-registry/healthcheck/test"))
                .toString()
                .contains("401"));
        // the collector: Kafka as collector, from the file the step writes into its volume; the registry as collector
        Map<String, String> collector = new TreeMap<>();
        services.at("/collector/environment")
                .properties()
                .forEach(e -> collector.put(e.getKey(), e.getValue().asText()));
        checkClientFile(collector.get("SOCKFLOW_KAFKA_CONFIG"), "collector", "collector-kafka", script);
        assertTrue(
                collector.get("SOCKFLOW_REGISTRY_BASIC_AUTH_USER_INFO").startsWith(KafkaCredentials.COLLECTOR + ":"));
        // the jobs: Kafka as jobs (kafka.config, read by Flink's client in the submitter), the registry as jobs
        Map<String, String> jobs = KubernetesTest.jobSettings(KubernetesTest.composeJobArgs());
        checkClientFile(jobs.get(JobConfig.KAFKA_CONFIG.name()), "job-submitter", "jobs-kafka", script);
        assertTrue(services.at("/job-submitter/environment/" + JobConfig.envName(JobConfig.REGISTRY_AUTH))
                .asText()
                .startsWith(KafkaCredentials.JOBS + ":"));
        // each account's files in a volume of its own: the step writes it, the one service that logs in reads it
        assertEquals(Map.of("kafka-topics", false, "collector", true), mounts("collector-kafka"));
        assertEquals(Map.of("kafka-topics", false, "job-submitter", true), mounts("jobs-kafka"));
        assertEquals(Map.of("kafka-topics", false, "schema-registry", true), mounts("registry-auth"));
    }

    /** {@code file} is in {@code service}'s mount of {@code volume}, where the step writes that account's settings. */
    static void checkClientFile(String file, String service, String volume, String script) throws Exception {
        String dir = mountPoint(service, volume);
        assertTrue(file != null && file.startsWith(dir + "/"), service + " reads " + file + " from " + dir);
        String account = volume.substring(0, volume.indexOf('-'));
        assertTrue(
                script.contains("client " + account + " \"$$SOCKFLOW_" + account.toUpperCase(Locale.ROOT)
                        + "_PASSWORD\" > " + mountPoint("kafka-topics", volume) + file.substring(dir.length())),
                "the step writes " + account + "'s settings there");
    }

    @Test
    void flinkTakesMutualTlsAsTheClusterModes() throws Exception {
        Configuration tls = new Configuration();
        LocalFlink.secure(tls, new LocalFlink.Tls(Path.of("/x"), "x"));
        Map<String, String> ssl = new TreeMap<>();
        tls.toMap().forEach((k, v) -> {
            if (k.startsWith("security.ssl.")) {
                ssl.put(k, v);
            }
        });
        assertEquals("true", ssl.get("security.ssl.rest.enabled"));
        assertEquals("true", ssl.get("security.ssl.rest.authentication-enabled"));
        assertEquals("true", ssl.get("security.ssl.internal.enabled"));
        JsonNode services = compose().path("services");
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        // the key store: made by the one-shot step into a volume that Flink's containers and the submitter alone mount
        assertEquals(
                Map.of(
                        "flink-tls", false,
                        "jobmanager", true,
                        "taskmanager-1", true,
                        "taskmanager-2", true,
                        "job-submitter", true),
                mounts("flink-tls"));
        String made = script("flink-tls");
        for (String s : List.of("jobmanager", "taskmanager-1", "taskmanager-2", "job-submitter")) {
            JsonNode props = yaml.readTree(
                    services.at("/" + s + "/environment/FLINK_PROPERTIES").asText());
            String dir = mountPoint(s, "flink-tls");
            for (Map.Entry<String, String> e : ssl.entrySet()) {
                String k = e.getKey();
                String v = props.path(k).asText();
                if (k.endsWith("password")) {
                    Matcher m = PASSWORD_REF.matcher(v);
                    assertTrue(m.matches(), s + " " + k + " from .env, not written here: " + v);
                    assertEquals("SOCKFLOW_FLINK_TLS_PASSWORD", m.group(1));
                } else if (k.endsWith("store")) {
                    assertTrue(v.startsWith(dir + "/"), s + " " + k + " in the key store's volume: " + v);
                    assertTrue(
                            made.contains("store=" + mountPoint("flink-tls", "flink-tls") + v.substring(dir.length())));
                } else {
                    assertEquals(e.getValue(), v, s + " " + k);
                }
            }
        }
        assertTrue(made.contains("-storepass:env SOCKFLOW_FLINK_TLS_PASSWORD"), "the password never on a command line");
        assertTrue(made.contains("SAN=dns:jobmanager"), "the name the submitter reaches the REST endpoint by");
        assertEquals(
                "service_completed_successfully",
                services.at("/jobmanager/depends_on/flink-tls/condition").asText());
        // the submitter's client gets those settings as its config; the health check presents the key too
        String submit = script("job-submitter");
        assertTrue(submit.contains("printf '%s\\n' \"$$FLINK_PROPERTIES\" > /tmp/flink-conf/config.yaml"), submit);
        assertTrue(submit.contains("export FLINK_CONF_DIR=/tmp/flink-conf"), submit);
        String health = String.join(" ", strings(services.at("/jobmanager/healthcheck/test")));
        assertTrue(health.contains("https://localhost:8081/") && health.contains("flink.p12"), health);
    }

    @Test
    void noPasswordIsWrittenInTheFile() throws Exception {
        String text = text();
        // every variable that holds a password is required, with a message that says how to make .env
        Set<String> variables = new TreeSet<>();
        Matcher ref = Pattern.compile("\\$\\{(\\w*PASSWORD\\w*)([^}]*)}").matcher(text);
        while (ref.find()) {
            assertTrue(PASSWORD_REF.matcher(ref.group()).matches(), "required (${VAR:?message}): " + ref.group());
            variables.add(ref.group(1));
        }
        // a password in a login line, a Flink setting or a registry login: a variable, or a shell's %s
        Matcher login = Pattern.compile("(password|user_\\w+)=\"([^\"]*)\"").matcher(text);
        int logins = 0;
        while (login.find()) {
            logins++;
            String v = login.group(2);
            assertTrue(v.equals("%s") || PASSWORD_REF.matcher(v).matches(), "a literal password: " + login.group());
        }
        assertTrue(logins >= 10, "the JAAS lines are read: " + logins);
        Matcher setting =
                Pattern.compile("(?m)^\\s*[\\w.-]*password:\\s*(\\S.*)$").matcher(text);
        int settings = 0;
        while (setting.find()) {
            settings++;
            assertTrue(PASSWORD_REF.matcher(setting.group(1).strip()).matches(), setting.group());
        }
        assertEquals(6, settings, "Flink's six key store passwords");
        compose()
                .path("services")
                .properties()
                .forEach(s -> s.getValue().path("environment").properties().forEach(e -> {
                    if (e.getKey().contains("PASSWORD") || e.getKey().contains("USER_INFO")) {
                        Matcher m = PASSWORD_REF.matcher(e.getValue().asText());
                        assertTrue(m.find(), s.getKey() + " " + e.getKey() + ": " + e.getValue());
                    }
                }));
        // the variables are those the documented command writes into .env, which git leaves out
        for (String doc : List.of(text, Files.readString(ROOT.resolve("docs/cluster.md")))) {
            Matcher loop = Pattern.compile("for who in ([A-Z_ ]+); do").matcher(doc);
            assertTrue(loop.find(), "the command that makes .env");
            Set<String> made = new TreeSet<>();
            for (String who : loop.group(1).strip().split("\\s+")) {
                made.add("SOCKFLOW_" + who + "_PASSWORD");
            }
            assertEquals(variables, made);
            assertTrue(doc.contains("echo \"SOCKFLOW_${who}_PASSWORD=$(openssl rand -hex 24)\""), "random, hex");
        }
        assertTrue(Files.readAllLines(ROOT.resolve(".gitignore")).contains(".env"), ".env is never committed");
    }

    @Test
    @Tag("packaged") // needs the job jar that the package phase builds
    void theJobJarIsAFlinkJobJar() throws Exception {
        Path jar;
        try (var s = Files.list(ROOT.resolve("flink-jobs/target"))) {
            jar = s.filter(p -> p.getFileName().toString().endsWith("-job.jar"))
                    .findFirst()
                    .orElseThrow();
        }
        try (var zip = new java.util.zip.ZipFile(jar.toFile())) {
            assertNotNull(zip.getEntry("io/sockflow/jobs/SockflowJob.class"));
            assertNotNull(
                    zip.getEntry("org/apache/flink/connector/kafka/sink/KafkaSink.class"),
                    "the Kafka connector travels with the job");
            assertNotNull(zip.getEntry("org/apache/iceberg/flink/sink/FlinkSink.class"), "and Iceberg");
            assertNull(
                    zip.getEntry("org/apache/flink/streaming/api/environment/StreamExecutionEnvironment.class"),
                    "Flink itself is the cluster's");
            String manifest = new String(
                    zip.getInputStream(zip.getEntry("META-INF/MANIFEST.MF")).readAllBytes());
            assertTrue(manifest.contains("Main-Class: io.sockflow.jobs.SockflowJob"), manifest);
            // class files a Java 21 cluster loads (major version 65)
            byte[] head = zip.getInputStream(zip.getEntry("io/sockflow/jobs/SockflowJob.class"))
                    .readNBytes(8);
            assertEquals(65, ((head[6] & 0xff) << 8) | (head[7] & 0xff));
        }
    }
}
