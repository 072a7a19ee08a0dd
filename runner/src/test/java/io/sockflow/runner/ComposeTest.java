package io.sockflow.runner;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** docker-compose.yml, checked by parsing it (no Docker engine here): what a real deployment needs is there. */
class ComposeTest {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    static JsonNode compose() throws Exception {
        return new ObjectMapper(new YAMLFactory())
                .readTree(ROOT.resolve("docker-compose.yml").toFile());
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
