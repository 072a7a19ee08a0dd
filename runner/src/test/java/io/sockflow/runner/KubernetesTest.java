package io.sockflow.runner;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.sockflow.collector.capture.Preflight;
import io.sockflow.collector.cli.Settings;
import io.sockflow.collector.sys.Privileges;
import io.sockflow.jobs.config.JobConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.junit.jupiter.api.Test;

/**
 * The Kubernetes manifests (docs/kubernetes/) and docker-compose.yml, parsed (no Kubernetes and no Docker engine
 * here): the shape the Kubernetes API takes, checked by hand, and the same topics, partitions, replication, settings
 * and capabilities as {@code ./sockflow cluster up}, read from its own code (Cluster, JobConfig, the collector's
 * Settings and Preflight) rather than repeated here.
 */
class KubernetesTest {
    static final Path ROOT = ComposeTest.ROOT;
    static final Path DIR = ROOT.resolve("docs/kubernetes");
    static final Pattern DNS_SUBDOMAIN =
            Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
    static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    static final Pattern QUANTITY = Pattern.compile("\\d+(\\.\\d+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?");
    /** What each kind may be, and whether it lives in a namespace. */
    static final Map<String, Boolean> KINDS = Map.of(
            "v1/Namespace", false,
            "v1/ConfigMap", true,
            "v1/PersistentVolumeClaim", true,
            "apps/v1/DaemonSet", true,
            "kafka.strimzi.io/v1beta2/KafkaTopic", true,
            "kafka.strimzi.io/v1beta2/KafkaUser", true,
            "flink.apache.org/v1beta1/FlinkDeployment", true);

    /** Every document of every manifest, in the order {@code kubectl apply -f docs/kubernetes/} takes them. */
    static List<JsonNode> manifests() throws Exception {
        List<JsonNode> all = new ArrayList<>();
        List<Path> files;
        try (var s = Files.list(DIR)) {
            files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertFalse(files.isEmpty());
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        for (Path f : files) {
            try (MappingIterator<JsonNode> docs = yaml.readerFor(JsonNode.class).readValues(f.toFile())) {
                while (docs.hasNext()) {
                    JsonNode d = docs.next();
                    if (d != null && !d.isNull() && !d.isEmpty()) {
                        all.add(d);
                    }
                }
            }
        }
        return all;
    }

    static List<JsonNode> ofKind(String kind) throws Exception {
        return manifests().stream()
                .filter(d -> d.path("kind").asText().equals(kind))
                .toList();
    }

    static JsonNode one(String kind) throws Exception {
        List<JsonNode> found = ofKind(kind);
        assertEquals(1, found.size(), kind);
        return found.getFirst();
    }

    static JsonNode collector() throws Exception {
        return one("DaemonSet").at("/spec/template/spec/containers/0");
    }

    static List<String> strings(JsonNode n) {
        return ComposeTest.strings(n);
    }

    // ---------------------------------------------------------------- the Kubernetes API's shape

    @Test
    void everyDocumentHasTheShapeItsKindTakes() throws Exception {
        List<JsonNode> docs = manifests();
        Set<String> namespaces = new TreeSet<>();
        Set<String> seen = new TreeSet<>();
        for (JsonNode d : docs) {
            String type = d.path("apiVersion").asText() + "/" + d.path("kind").asText();
            assertTrue(KINDS.containsKey(type), "a kind these manifests know: " + type);
            String name = d.at("/metadata/name").asText();
            assertTrue(name.length() <= 253 && DNS_SUBDOMAIN.matcher(name).matches(), type + ": metadata.name " + name);
            assertTrue(
                    Set.of("apiVersion", "kind", "metadata", "spec", "data").containsAll(iterable(d.fieldNames())),
                    type + " " + name + ": no other top-level field");
            String ns = d.at("/metadata/namespace").asText();
            if (KINDS.get(type)) {
                assertTrue(DNS_LABEL.matcher(ns).matches(), type + " " + name + " names its namespace");
            } else {
                assertTrue(ns.isEmpty(), type + " is not namespaced");
                assertTrue(name.length() <= 63 && DNS_LABEL.matcher(name).matches(), name);
                namespaces.add(name);
            }
            assertTrue(seen.add(type + " " + ns + "/" + name), "once only: " + type + " " + ns + "/" + name);
            d.path("metadata").path("labels").properties().forEach(l -> {
                assertTrue(l.getValue().isTextual(), "label values are strings: " + l.getKey());
                assertTrue(l.getValue().asText().matches("([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?"));
            });
        }
        // everything but the Strimzi topics and users (in the Kafka cluster's namespace) goes in the namespaces made
        // here
        for (JsonNode d : docs) {
            String ns = d.at("/metadata/namespace").asText();
            if (!ns.isEmpty() && !d.path("apiVersion").asText().startsWith("kafka.strimzi.io/")) {
                assertTrue(namespaces.contains(ns), d.at("/metadata/name") + " in " + ns);
            }
        }
        for (JsonNode cm : ofKind("ConfigMap")) {
            cm.path("data")
                    .properties()
                    .forEach(e -> assertTrue(
                            e.getValue().isTextual(),
                            "a ConfigMap's values are strings (quote numbers): " + e.getKey()));
        }
        for (JsonNode pvc : ofKind("PersistentVolumeClaim")) {
            assertFalse(strings(pvc.at("/spec/accessModes")).isEmpty());
            assertTrue(
                    QUANTITY.matcher(pvc.at("/spec/resources/requests/storage").asText())
                            .matches());
        }
    }

    @Test
    void theDaemonSetIsAValidPodTemplate() throws Exception {
        JsonNode ds = one("DaemonSet");
        JsonNode labels = ds.at("/spec/template/metadata/labels");
        JsonNode selector = ds.at("/spec/selector/matchLabels");
        assertFalse(selector.isEmpty(), "a selector");
        selector.properties()
                .forEach(e -> assertEquals(
                        e.getValue().asText(), labels.path(e.getKey()).asText(), "the selector picks the template"));
        JsonNode pod = ds.at("/spec/template/spec");
        checkPod(pod, ds.at("/metadata/namespace").asText(), true);
        assertEquals(1, pod.path("containers").size());
    }

    /** What the API server would refuse in a pod spec, as far as it can be told without one. */
    void checkPod(JsonNode pod, String namespace, boolean images) throws Exception {
        Set<String> volumes = new TreeSet<>();
        for (JsonNode v : pod.path("volumes")) {
            assertTrue(DNS_LABEL.matcher(v.path("name").asText()).matches(), v.toString());
            assertTrue(volumes.add(v.path("name").asText()), "volume names are unique");
            List<String> sources = iterable(v.fieldNames()).stream()
                    .filter(f -> !f.equals("name"))
                    .toList();
            assertEquals(1, sources.size(), "one source per volume: " + v);
            if (v.has("hostPath")) {
                assertTrue(v.at("/hostPath/path").asText().startsWith("/"));
            }
        }
        Set<String> used = new TreeSet<>();
        Set<String> containers = new TreeSet<>();
        Set<String> configMaps = new TreeSet<>();
        for (JsonNode cm : ofKind("ConfigMap")) {
            if (cm.at("/metadata/namespace").asText().equals(namespace)) {
                configMaps.add(cm.at("/metadata/name").asText());
            }
        }
        for (JsonNode c : pod.path("containers")) {
            String name = c.path("name").asText();
            assertTrue(DNS_LABEL.matcher(name).matches(), "container name " + name);
            assertTrue(containers.add(name), "container names are unique");
            assertEquals(images, c.path("image").asText().matches("[\\w./-]+:\\d[\\w.-]*"), name + ": a pinned image");
            for (JsonNode m : c.path("volumeMounts")) {
                assertTrue(volumes.contains(m.path("name").asText()), "mounts a volume of the pod: " + m);
                assertTrue(m.path("mountPath").asText().startsWith("/"), m.toString());
                used.add(m.path("name").asText());
            }
            for (JsonNode e : c.path("env")) {
                assertTrue(ENV_NAME.matcher(e.path("name").asText()).matches(), e.toString());
                assertTrue(e.has("value") ^ e.has("valueFrom"), "a value or where from: " + e);
                JsonNode secret = e.at("/valueFrom/secretKeyRef");
                if (!secret.isMissingNode()) {
                    assertFalse(secret.path("name").asText().isEmpty()
                            || secret.path("key").asText().isEmpty());
                }
            }
            for (JsonNode from : c.path("envFrom")) {
                String cm = from.at("/configMapRef/name").asText();
                assertTrue(configMaps.contains(cm), "a ConfigMap of these manifests in " + namespace + ": " + cm);
            }
            for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
                if (c.has(probe)) {
                    long handlers = iterable(c.path(probe).fieldNames()).stream()
                            .filter(Set.of("exec", "httpGet", "tcpSocket", "grpc")::contains)
                            .count();
                    assertEquals(1, handlers, probe + " has one handler");
                }
            }
            c.at("/resources")
                    .properties()
                    .forEach(r -> r.getValue()
                            .properties()
                            .forEach(q -> assertTrue(
                                    QUANTITY.matcher(q.getValue().asText()).matches(), r.getKey() + " " + q)));
            for (String cap : strings(c.at("/securityContext/capabilities/add"))) {
                assertTrue(
                        cap.matches("[A-Z_]+") && !cap.startsWith("CAP_"), "Kubernetes names it without CAP_: " + cap);
            }
        }
        assertEquals(volumes, used, "every volume is mounted");
    }

    @Test
    void theFlinkDeploymentHasTheOperatorsShape() throws Exception {
        JsonNode fd = one("FlinkDeployment");
        JsonNode spec = fd.path("spec");
        assertFalse(spec.path("image").asText().isEmpty());
        assertTrue(Set.of("native", "standalone").contains(spec.path("mode").asText()));
        spec.path("flinkConfiguration")
                .properties()
                .forEach(e -> assertTrue(
                        e.getValue().isTextual(), "the operator takes strings only (quote numbers): " + e.getKey()));
        JsonNode job = spec.path("job");
        assertTrue(job.path("jarURI").asText().startsWith("local:///"), "the jar is in the image");
        assertTrue(Set.of("stateless", "savepoint", "last-state")
                .contains(job.path("upgradeMode").asText()));
        assertEquals("running", job.path("state").asText());
        job.path("args").forEach(a -> assertTrue(a.isTextual(), "arguments are strings: " + a));
        assertEquals(
                "flink-main-container",
                spec.at("/podTemplate/spec/containers/0/name").asText(),
                "the operator merges the template into the container of this name");
        // the operator gives its container the deployment's image
        checkPod(spec.at("/podTemplate/spec"), fd.at("/metadata/namespace").asText(), false);
        for (String part : List.of("jobManager", "taskManager")) {
            assertTrue(spec.at("/" + part + "/resource/memory").asText().matches("\\d+m"), part);
            assertTrue(spec.at("/" + part + "/replicas").isInt(), part);
        }
        // upgrades and restarts keep the state: HA and checkpoints on shared storage, the one the pods mount
        if (job.path("upgradeMode").asText().equals("last-state")) {
            assertEquals(
                    "kubernetes",
                    spec.at("/flinkConfiguration/high-availability.type").asText());
            String ha =
                    spec.at("/flinkConfiguration/high-availability.storageDir").asText();
            String checkpoints =
                    spec.at("/flinkConfiguration/execution.checkpointing.dir").asText();
            for (String dir : List.of(ha, checkpoints)) {
                assertTrue(dir.startsWith("file:///var/lib/sockflow/"), dir);
            }
            assertTrue(spec.at("/podTemplate/spec/containers/0/volumeMounts")
                    .findValuesAsText("mountPath")
                    .contains("/var/lib/sockflow"));
        }
    }

    // ---------------------------------------------------------------- the same as `./sockflow cluster up`

    /** The cluster mode's topics: name → (partitions, replicas, configs with min.insync.replicas). */
    static Map<String, String> clusterTopics() {
        Map<String, String> m = new TreeMap<>();
        for (NewTopic t : Cluster.topics(Cluster.PARTITIONS)) {
            Map<String, String> configs = new TreeMap<>(t.configs() == null ? Map.of() : t.configs());
            configs.put("min.insync.replicas", Integer.toString(Cluster.MIN_INSYNC_REPLICAS));
            m.put(t.name(), t.numPartitions() + " " + t.replicationFactor() + " " + configs);
        }
        return m;
    }

    @Test
    void theTopicsAreTheClusterModesOnKubernetesAndInCompose() throws Exception {
        Map<String, String> k8s = new TreeMap<>();
        for (JsonNode t : ofKind("KafkaTopic")) {
            assertFalse(t.at("/metadata/labels/strimzi.io~1cluster").asText().isEmpty(), "names its Kafka cluster");
            Map<String, String> configs = new TreeMap<>();
            t.at("/spec/config")
                    .properties()
                    .forEach(e -> configs.put(e.getKey(), e.getValue().asText()));
            k8s.put(
                    t.at("/spec/topicName").asText(),
                    t.at("/spec/partitions").asInt() + " "
                            + t.at("/spec/replicas").asInt() + " " + configs);
        }
        assertEquals(clusterTopics(), k8s);

        // compose: one line per topic in the one-shot step
        Map<String, String> compose = new TreeMap<>();
        String script = String.join("\n", strings(ComposeTest.compose().at("/services/kafka-topics/command")));
        Matcher line = Pattern.compile("(?m)^\\s*topic (.*)$").matcher(script);
        while (line.find()) {
            String[] w = line.group(1).strip().split("\\s+");
            Map<String, String> flags = new TreeMap<>();
            Map<String, String> configs = new TreeMap<>();
            for (int i = 0; i + 1 < w.length; i += 2) {
                if (w[i].equals("--config")) {
                    String[] kv = w[i + 1].split("=", 2);
                    configs.put(kv[0], kv[1]);
                } else {
                    flags.put(w[i], w[i + 1]);
                }
            }
            compose.put(
                    flags.get("--topic"),
                    flags.get("--partitions") + " " + flags.get("--replication-factor") + " " + configs);
        }
        assertEquals(clusterTopics(), compose);
    }

    @Test
    void theKafkaUsersAreTheClusterModesAccountsWithItsAcls() throws Exception {
        Map<String, String> jobs = jobSettings(strings(one("FlinkDeployment").at("/spec/job/args")));
        Set<String> expected = new TreeSet<>();
        for (var b : Pipeline.accountRights(JobConfig.fromArgs(
                strings(one("FlinkDeployment").at("/spec/job/args")).toArray(String[]::new), Map.of()))) {
            expected.add(ComposeTest.acl(b));
        }
        assertTrue(expected.toString()
                .contains("TRANSACTIONAL_ID PREFIXED " + jobs.get(JobConfig.TRANSACTION_PREFIX.name())));
        Set<String> users = new TreeSet<>();
        Set<String> acls = new TreeSet<>();
        for (JsonNode u : ofKind("KafkaUser")) {
            String name = u.at("/metadata/name").asText();
            users.add(name);
            assertFalse(u.at("/metadata/labels/strimzi.io~1cluster").asText().isEmpty(), "names its Kafka cluster");
            assertEquals(
                    "scram-sha-512", u.at("/spec/authentication/type").asText(), name + ": a password, never sent");
            assertEquals("simple", u.at("/spec/authorization/type").asText(), name + ": Kafka's own ACLs");
            for (JsonNode a : u.at("/spec/authorization/acls")) {
                assertEquals("*", a.path("host").asText("*"));
                assertEquals("allow", a.path("type").asText("allow"));
                String type = switch (a.at("/resource/type").asText()) {
                    case "topic" -> "TOPIC";
                    case "group" -> "GROUP";
                    case "transactionalId" -> "TRANSACTIONAL_ID";
                    default -> throw new AssertionError(name + ": a resource the cluster mode does not grant: " + a);
                };
                String pattern = switch (a.at("/resource/patternType").asText("literal")) {
                    case "literal" -> "LITERAL";
                    case "prefix" -> "PREFIXED";
                    default -> throw new AssertionError(a.toString());
                };
                assertFalse(a.path("operations").isEmpty(), a.toString());
                for (String op : strings(a.path("operations"))) {
                    acls.add("User:" + name + " " + type + " " + pattern + " "
                            + a.at("/resource/name").asText() + " "
                            + org.apache.kafka.common.acl.AclOperation.valueOf(
                                    op.replaceAll("([a-z])([A-Z])", "$1_$2").toUpperCase(java.util.Locale.ROOT)));
                }
            }
        }
        assertEquals(
                Set.of(
                        io.sockflow.embedded.KafkaCredentials.COLLECTOR,
                        io.sockflow.embedded.KafkaCredentials.JOBS,
                        io.sockflow.embedded.KafkaCredentials.READER),
                users,
                "the cluster mode's accounts (its admin is the Kafka cluster's super user)");
        assertEquals(expected, acls, "the same ACLs, none missing and none more");
    }

    @Test
    void theBrokersAreSetAsTheClusterModesInComposeAndOnThisPage() throws Exception {
        JsonNode services = ComposeTest.compose().path("services");
        Set<String> ids = new TreeSet<>();
        for (int i = 1; i <= Cluster.BROKERS; i++) {
            JsonNode env = services.path("kafka-" + i).path("environment");
            assertFalse(env.isMissingNode(), "kafka-" + i);
            for (Map.Entry<String, String> e : Cluster.replicationSettings().entrySet()) {
                String name =
                        "KAFKA_" + e.getKey().toUpperCase(java.util.Locale.ROOT).replace('.', '_');
                assertEquals(e.getValue(), env.path(name).asText(), "kafka-" + i + " " + name);
            }
            assertEquals(
                    Cluster.BROKERS,
                    env.path("KAFKA_CONTROLLER_QUORUM_VOTERS").asText().split(",").length);
            Uuid.fromString(env.path("CLUSTER_ID").asText()); // a valid cluster id
            ids.add(env.path("CLUSTER_ID").asText());
        }
        assertEquals(1, ids.size(), "one cluster");
        assertFalse(services.has("kafka-" + (Cluster.BROKERS + 1)));
        // an external Kafka on Kubernetes: the page lists the same settings for its brokers
        String page = Files.readString(ROOT.resolve("docs/cluster.md"));
        for (Map.Entry<String, String> e : Cluster.replicationSettings().entrySet()) {
            assertTrue(page.contains(e.getKey() + "=" + e.getValue()), "docs/cluster.md lists " + e);
        }
    }

    /** --name value pairs of a job's arguments, each one a setting of JobConfig. */
    static Map<String, String> jobSettings(List<String> args) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < args.size(); i += 2) {
            assertTrue(args.get(i).startsWith("--") && i + 1 < args.size(), "a --name value pair: " + args.get(i));
            m.put(args.get(i).substring(2), args.get(i + 1));
        }
        assertTrue(JobConfig.options().keySet().containsAll(m.keySet()), "settings of JobConfig: " + m.keySet());
        JobConfig.fromArgs(args.toArray(String[]::new), Map.of()); // and each value one it takes
        return m;
    }

    static List<String> composeJobArgs() throws Exception {
        String command = String.join(" ", strings(ComposeTest.compose().at("/services/job-submitter/command")));
        String run = command.substring(command.indexOf("flink run"));
        List<String> words = List.of(run.strip().split("\\s+"));
        int jar = 0;
        while (!words.get(jar).endsWith(".jar")) {
            jar++;
        }
        assertTrue(words.subList(0, jar).contains(Cluster.JOB_CLASS), run);
        int p = words.indexOf("-p");
        assertEquals(Integer.toString(Cluster.PARALLELISM), words.get(p + 1), "flink run -p");
        return words.subList(jar + 1, words.size());
    }

    @Test
    void theJobsGetTheClusterModesSettings() throws Exception {
        Set<String> clusterNames = jobSettings(Cluster.jobArgs(
                        "b:9092", "http://r:8081", "/w", "/c", Cluster.GROUP, Cluster.PARTITIONS, Cluster.PARALLELISM))
                .keySet();
        JsonNode fd = one("FlinkDeployment");
        Map<String, String> k8s = jobSettings(strings(fd.at("/spec/job/args")));
        Map<String, String> compose = jobSettings(composeJobArgs());
        Set<String> groups = new TreeSet<>(Set.of(Cluster.GROUP));
        for (Map<String, String> s : List.of(k8s, compose)) {
            assertTrue(s.keySet().containsAll(clusterNames), "the cluster mode's settings: " + s.keySet());
            assertEquals(Integer.toString(Cluster.PARTITIONS), s.get(JobConfig.TOPIC_PARTITIONS.name()));
            assertEquals(Integer.toString(Cluster.PARALLELISM), s.get(JobConfig.PARALLELISM.name()));
            assertEquals(s.get(JobConfig.GROUP_ID.name()), s.get(JobConfig.TRANSACTION_PREFIX.name()));
            assertTrue(groups.add(s.get(JobConfig.TRANSACTION_PREFIX.name())), "each deployment its own prefix");
        }
        assertEquals(Cluster.JOB_CLASS, fd.at("/spec/job/entryClass").asText());
        assertEquals(Cluster.TASKMANAGERS, fd.at("/spec/taskManager/replicas").asInt());
        // the jobs' settings from the environment are settings of JobConfig too
        for (JsonNode e : fd.at("/spec/podTemplate/spec/containers/0/env")) {
            String name = e.path("name").asText();
            assertTrue(
                    JobConfig.options().values().stream()
                            .anyMatch(o -> JobConfig.envName(o).equals(name)),
                    name);
        }
        // the Kafka account's settings file is where the pods mount its secret
        String kafkaConfig = k8s.get(JobConfig.KAFKA_CONFIG.name());
        assertTrue(
                fd.at("/spec/podTemplate/spec/containers/0/volumeMounts").findValuesAsText("mountPath").stream()
                        .anyMatch(m -> kafkaConfig.startsWith(m + "/")),
                kafkaConfig);
    }

    @Test
    void flinkIsSetAsTheClusterModeWithItsTlsOnKubernetes() throws Exception {
        Map<String, String> shared = Cluster.flinkSettings(Cluster.PARALLELISM);
        JsonNode fd = one("FlinkDeployment");
        JsonNode conf = fd.at("/spec/flinkConfiguration");
        for (Map.Entry<String, String> e : shared.entrySet()) {
            if (e.getKey().equals("parallelism.default")
                    && fd.at("/spec/taskManager/replicas").isInt()) {
                // the operator sets it to replicas x slots then, and ignores job.parallelism: the jobs' own
                // --parallelism holds (theJobsGetTheClusterModesSettings)
                assertFalse(conf.has(e.getKey()), "not set where the operator overrides it");
                assertFalse(fd.at("/spec/job").has("parallelism"), "job.parallelism is ignored with replicas");
                continue;
            }
            assertEquals(e.getValue(), conf.path(e.getKey()).asText(), "FlinkDeployment " + e.getKey());
        }
        assertEquals(
                shared.get("jobmanager.memory.process.size"),
                fd.at("/spec/jobManager/resource/memory").asText());
        assertEquals(
                shared.get("taskmanager.memory.process.size"),
                fd.at("/spec/taskManager/resource/memory").asText());
        // mutual TLS as the cluster mode sets it; the key store is this deployment's own
        org.apache.flink.configuration.Configuration tls = new org.apache.flink.configuration.Configuration();
        LocalFlink.secure(tls, new LocalFlink.Tls(Path.of("/x"), "x"));
        for (Map.Entry<String, String> e : tls.toMap().entrySet()) {
            String k = e.getKey();
            if (k.startsWith("security.ssl.")) {
                if (k.contains("store") || k.contains("password")) {
                    assertFalse(conf.path(k).asText().isEmpty(), "FlinkDeployment " + k);
                } else {
                    assertEquals(e.getValue(), conf.path(k).asText(), "FlinkDeployment " + k);
                }
            }
        }
        String secrets = conf.path("kubernetes.secrets").asText();
        String store = conf.path("security.ssl.rest.keystore").asText();
        assertTrue(store.startsWith(secrets.substring(secrets.indexOf(':') + 1) + "/"), "the store is the secret's");
        // compose: the same settings in each Flink process (its TLS: ComposeTest.flinkTakesMutualTlsAsTheClusterModes)
        JsonNode services = ComposeTest.compose().path("services");
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        for (String s : List.of("jobmanager", "taskmanager-1", "taskmanager-2")) {
            JsonNode props = yaml.readTree(
                    services.at("/" + s + "/environment/FLINK_PROPERTIES").asText());
            for (Map.Entry<String, String> e : shared.entrySet()) {
                assertEquals(e.getValue(), props.path(e.getKey()).asText(), s + " " + e.getKey());
            }
        }
        assertEquals(
                Cluster.TASKMANAGERS,
                services.properties().stream()
                        .filter(e -> e.getValue().path("command").asText().equals("taskmanager"))
                        .count());
    }

    // ---------------------------------------------------------------- the collector

    /** The capabilities the collector's code asks for, as Kubernetes and Docker name them (without CAP_). */
    static Set<String> neededCapabilities() {
        Set<String> caps = new TreeSet<>();
        for (String c : Preflight.CAPTURE_CAPABILITIES) {
            caps.add(c.substring("CAP_".length()));
        }
        for (String c : Privileges.SWITCH_CAPABILITIES) {
            caps.add(c.substring("CAP_".length()));
        }
        return caps;
    }

    @Test
    void theCollectorHasTheLeastPrivilegeTheCodeNeeds() throws Exception {
        JsonNode c = collector();
        JsonNode pod = one("DaemonSet").at("/spec/template/spec");
        JsonNode sc = c.path("securityContext");
        assertFalse(sc.path("privileged").asBoolean(false), "not privileged");
        assertFalse(sc.path("allowPrivilegeEscalation").asBoolean(true), "allowPrivilegeEscalation: false");
        assertEquals(List.of("ALL"), strings(sc.at("/capabilities/drop")));
        Set<String> added = new TreeSet<>(strings(sc.at("/capabilities/add")));
        assertEquals(neededCapabilities(), added, "what the code needs, no more");
        assertEquals(
                added,
                new TreeSet<>(strings(ComposeTest.compose().at("/services/collector/cap_add"))),
                "the same as docker-compose.yml");
        assertTrue(sc.path("readOnlyRootFilesystem").asBoolean(false));
        assertEquals(
                "RuntimeDefault", pod.at("/securityContext/seccompProfile/type").asText(), "seccomp stays on");
        // started as root (Kubernetes grants added capabilities to uid 0 only), it becomes SOCKFLOW_RUN_AS
        assertEquals(0, sc.path("runAsUser").asInt(-1));
        Map<String, String> env = collectorEnv();
        Privileges.Identity runAs = Privileges.parse(env.get(Settings.envName(Settings.RUN_AS)));
        assertNotEquals(0, runAs.uid());
        assertEquals(
                runAs.gid(), pod.at("/securityContext/fsGroup").asInt(), "it reads the secret files as that group");
        // each capability with its reason beside it (a comment, so read from the text)
        List<String> lines = Files.readAllLines(DIR.resolve("20-collector.yaml"));
        for (String cap : added) {
            String line = lines.stream()
                    .filter(l -> l.strip().startsWith("- " + cap + " "))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError(cap));
            assertTrue(line.substring(line.indexOf('#') + 1).strip().length() > 15, "a reason beside " + cap);
        }
        // the host's processes and sockets; names of Kafka and the registry resolved all the same
        assertTrue(pod.path("hostPID").asBoolean(false));
        assertTrue(pod.path("hostNetwork").asBoolean(false));
        assertEquals("ClusterFirstWithHostNet", pod.path("dnsPolicy").asText());
        assertFalse(pod.path("hostIPC").asBoolean(false));
        assertFalse(pod.path("automountServiceAccountToken").asBoolean(true), "no Kubernetes API token");
    }

    @Test
    void theCollectorMountsWhatItsSettingsPointAt() throws Exception {
        JsonNode pod = one("DaemonSet").at("/spec/template/spec");
        Map<String, String> hostPaths = new TreeMap<>();
        for (JsonNode v : pod.path("volumes")) {
            if (v.has("hostPath")) {
                hostPaths.put(v.path("name").asText(), v.at("/hostPath/path").asText());
            }
        }
        Map<String, JsonNode> mounts = new TreeMap<>();
        for (JsonNode m : collector().path("volumeMounts")) {
            mounts.put(m.path("mountPath").asText(), m);
        }
        Settings defaults = Settings.parse(List.of(), Map.of());
        Map<String, String> env = collectorEnv();
        // the kernel's BTF and tracefs where the settings look, the cgroup v2 root, the spool: read-only but the spool
        for (String path : List.of(
                Path.of(defaults.getString(Settings.BTF_PATH)).getParent().toString(),
                defaults.getString(Settings.TRACEFS_PATH),
                "/sys/fs/cgroup",
                env.get(Settings.envName(Settings.SPOOL_DIR)))) {
            JsonNode m = mounts.get(path);
            assertNotNull(m, path + " mounted");
            assertEquals(path, hostPaths.get(m.path("name").asText()), path + " is the host's");
            assertEquals(
                    !path.equals(env.get(Settings.envName(Settings.SPOOL_DIR))),
                    m.path("readOnly").asBoolean(false),
                    path);
        }
        assertEquals(4, hostPaths.size(), "no other host path (nothing is pinned in /sys/fs/bpf): " + hostPaths);
        String kafkaConfig = env.get(Settings.envName(Settings.KAFKA_CONFIG));
        assertTrue(mounts.keySet().stream().anyMatch(m -> kafkaConfig.startsWith(m + "/")), kafkaConfig);
        // compose mounts the same host paths
        List<String> composeMounts = strings(ComposeTest.compose().at("/services/collector/volumes"));
        for (String path : hostPaths.values()) {
            if (!path.equals(env.get(Settings.envName(Settings.SPOOL_DIR)))) {
                assertTrue(composeMounts.contains(path + ":" + path + ":ro"), "compose: " + path);
            }
        }
        assertTrue(composeMounts.stream().noneMatch(m -> m.startsWith("/sys/fs/bpf")), composeMounts.toString());
    }

    /** The collector's environment on Kubernetes: the ConfigMap's, then the container's own (a secret as a value). */
    static Map<String, String> collectorEnv() throws Exception {
        Map<String, String> env = new TreeMap<>();
        one("ConfigMap")
                .path("data")
                .properties()
                .forEach(e -> env.put(e.getKey(), e.getValue().asText()));
        for (JsonNode e : collector().path("env")) {
            String name = e.path("name").asText();
            assertFalse(env.containsKey(name), "set once: " + name);
            env.put(
                    name,
                    e.has("value") ? e.path("value").asText() : name.contains("USER_INFO") ? "user:password" : "x");
        }
        return env;
    }

    /** Every environment variable that names a collector setting, and the settings they make, checked. */
    static Map<String, String> collectorSettings(Map<String, String> env) {
        Set<String> known = new TreeSet<>();
        for (String key : Settings.DEFINITION.names()) {
            known.add(Settings.envName(key));
        }
        for (String name : env.keySet()) {
            assertTrue(known.contains(name), name + " is a collector setting (Settings)");
        }
        Settings.parse(List.of(), env); // every value one the collector takes
        return env;
    }

    @Test
    void theCollectorsSettingsAreItsOwnAndTheClusterModes() throws Exception {
        Map<String, String> k8s = collectorSettings(collectorEnv());
        Map<String, String> compose = new TreeMap<>();
        ComposeTest.compose()
                .at("/services/collector/environment")
                .properties()
                .forEach(e -> compose.put(e.getKey(), e.getValue().asText()));
        collectorSettings(compose);
        for (Map<String, String> env : List.of(k8s, compose)) {
            assertEquals("kafka", env.get(Settings.envName(Settings.OUTPUT)));
            assertEquals(Integer.toString(Cluster.PARTITIONS), env.get(Settings.envName(Settings.TOPIC_PARTITIONS)));
            assertEquals(Integer.toString(Cluster.BROKERS), env.get(Settings.envName(Settings.TOPIC_REPLICATION)));
            assertEquals("9464", env.get(Settings.envName(Settings.METRICS_PORT)));
        }
        // both ends meet at the same Kafka and registry
        Map<String, String> jobs = jobSettings(strings(one("FlinkDeployment").at("/spec/job/args")));
        assertEquals(jobs.get(JobConfig.BOOTSTRAP.name()), k8s.get(Settings.envName(Settings.BOOTSTRAP_SERVERS)));
        assertEquals(jobs.get(JobConfig.REGISTRY.name()), k8s.get(Settings.envName(Settings.REGISTRY_URL)));
        // the probes read the metrics port the settings open
        String port = k8s.get(Settings.envName(Settings.METRICS_PORT));
        for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
            assertTrue(
                    String.join(" ", strings(collector().at("/" + probe + "/exec/command")))
                            .contains("/dev/tcp/127.0.0.1/" + port),
                    probe);
        }
    }

    // ---------------------------------------------------------------- images and the jar

    @Test
    void theImagesAndTheJarAreCompose() throws Exception {
        JsonNode services = ComposeTest.compose().path("services");
        assertEquals(
                services.at("/collector/image").asText(),
                collector().path("image").asText());
        String flinkImage = services.at("/jobmanager/image").asText();
        List<String> dockerfile = Files.readAllLines(ROOT.resolve("flink-jobs/Dockerfile"));
        assertTrue(dockerfile.contains("FROM " + flinkImage), "the jobs' image is built on compose's Flink");
        String copy = dockerfile.stream()
                .filter(l -> l.startsWith("COPY "))
                .findFirst()
                .orElseThrow();
        String[] w = copy.split("\\s+");
        String jarInImage = w[w.length - 1];
        String built = w[w.length - 2];
        assertEquals(
                "local://" + jarInImage,
                one("FlinkDeployment").at("/spec/job/jarURI").asText());
        assertTrue(
                strings(services.at("/job-submitter/volumes")).stream().anyMatch(v -> v.startsWith("./" + built + ":")),
                "the jar the build makes, as compose mounts it: " + built);
        // the versions the build compiles against
        String pom = Files.readString(ROOT.resolve("pom.xml"));
        String flink = property(pom, "flink.version");
        String kafka = property(pom, "kafka.version");
        assertTrue(flinkImage.startsWith("flink:" + flink + "-"), flinkImage);
        String[] v = flink.split("\\.");
        assertEquals(
                "v" + v[0] + "_" + v[1],
                one("FlinkDeployment").at("/spec/flinkVersion").asText());
        for (int i = 1; i <= Cluster.BROKERS; i++) {
            assertEquals(
                    "apache/kafka:" + kafka,
                    services.at("/kafka-" + i + "/image").asText());
        }
        assertEquals("apache/kafka:" + kafka, services.at("/kafka-topics/image").asText());
    }

    @Test
    void thePageSaysWhatHasNotBeenRun() throws Exception {
        String page = Files.readString(ROOT.resolve("docs/cluster.md"));
        String k8s = page.substring(page.indexOf("\n## Kubernetes") + 1);
        if (k8s.indexOf("\n## ") > 0) {
            k8s = k8s.substring(0, k8s.indexOf("\n## "));
        }
        assertTrue(k8s.contains("has not been run"), "says plainly what has not been run");
        try (var s = Files.list(DIR)) {
            for (Path f : s.toList()) {
                assertTrue(k8s.contains(f.getFileName().toString()), "describes " + f.getFileName());
            }
        }
    }

    static String property(String pom, String name) {
        Matcher m = Pattern.compile("<" + Pattern.quote(name) + ">([^<]+)</").matcher(pom);
        assertTrue(m.find(), name);
        return m.group(1);
    }

    static <T> List<T> iterable(java.util.Iterator<T> it) {
        List<T> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }
}
