package io.sockflow.runner;

import static org.junit.jupiter.api.Assertions.*;

import java.io.FileInputStream;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local MiniCluster with sockflow's settings ({@link LocalFlink}): every port it opens is on loopback, and a
 * local user without the data folder's key can hand none of them a jar or a job graph; sockflow itself, holding the
 * key, still reaches its REST endpoint.
 */
@Tag("slow")
class LocalFlinkTest {
    @TempDir
    Path dir;

    @Test
    void theMiniClusterListensOnLoopbackOnlyAndTakesNoJobFromAnotherUser() throws Exception {
        long self = ProcessHandle.current().pid();
        Set<Integer> before = new HashSet<>();
        Listeners.of(self).forEach(l -> before.add(l.port()));
        LocalFlink.Tls tls = LocalFlink.tls(dir.resolve("tls"));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tls.store())));
        Configuration conf = new Configuration();
        LocalFlink.secure(conf, tls);
        conf.setString("restart-strategy.type", "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
        env.fromSequence(0, Long.MAX_VALUE)
                .map(i -> {
                    Thread.sleep(100); // a job that runs until cancelled, without using a core
                    return i;
                })
                .returns(Long.class)
                .sinkTo(new DiscardingSink<>());
        JobClient job = env.executeAsync("sockflow-local-flink-test");
        try {
            List<Listeners.Listener> opened = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline) {
                opened = Listeners.of(self).stream()
                        .filter(l -> !before.contains(l.port()))
                        .toList();
                if (job.getJobStatus().get() == org.apache.flink.api.common.JobStatus.RUNNING && opened.size() >= 2) {
                    break;
                }
                Thread.sleep(200);
            }
            System.out.println("the MiniCluster listens on " + opened);
            assertTrue(opened.size() >= 2, "the REST endpoint and the blob server at least: " + opened);
            for (Listeners.Listener l : opened) {
                assertTrue(l.loopback(), "on loopback only: " + l);
            }

            // sockflow, with the key, reaches the REST endpoint: so the refusals below are the TLS check's doing
            int rest = -1;
            for (Listeners.Listener l : opened) {
                if (answersWithKey(tls, l.port())) {
                    rest = l.port();
                }
            }
            assertTrue(rest > 0, "one of " + opened + " is the REST endpoint, reachable with the key");

            Path shared = Files.createTempDirectory(Path.of("/tmp"), "sockflow-submit");
            try {
                Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxr-xr-x"));
                Path jar = shared.resolve("job.jar");
                Manifest mf = new Manifest();
                mf.getMainAttributes().putValue("Manifest-Version", "1.0");
                mf.getMainAttributes().putValue("Main-Class", "Evil");
                try (OutputStream o = Files.newOutputStream(jar);
                        JarOutputStream j = new JarOutputStream(o, mf)) {
                    j.flush();
                }
                // a real job graph, serialized as Flink's own REST client sends it
                Path graph = shared.resolve("job.bin");
                StreamExecutionEnvironment other = StreamExecutionEnvironment.getExecutionEnvironment();
                other.fromData(1L, 2L).sinkTo(new DiscardingSink<>());
                try (ObjectOutputStream o = new ObjectOutputStream(Files.newOutputStream(graph))) {
                    o.writeObject(other.getStreamGraph().getJobGraph());
                }
                for (String f : List.of("job.jar", "job.bin")) {
                    Files.setPosixFilePermissions(shared.resolve(f), PosixFilePermissions.fromString("rw-r--r--"));
                }
                for (Listeners.Listener l : opened) {
                    List<String> codes = Listeners.trySubmit(l.port(), jar, graph);
                    System.out.println("port " + l.port() + (l.port() == rest ? " (REST)" : "") + ": " + codes);
                    assertTrue(
                            codes.stream().allMatch(Listeners::refused),
                            "port " + l.port() + " took a submission: " + codes);
                }
            } finally {
                DataFolder.deleteTree(shared);
            }
            assertEquals(
                    1,
                    job.getJobStatus().get() == org.apache.flink.api.common.JobStatus.RUNNING ? 1 : 0,
                    "the job still runs");
        } finally {
            job.cancel().get(30, TimeUnit.SECONDS);
        }
    }

    private static boolean answersWithKey(LocalFlink.Tls tls, int port) {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            try (FileInputStream in = new FileInputStream(tls.store().toFile())) {
                ks.load(in, tls.password().toCharArray());
            }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, tls.password().toCharArray());
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            HttpClient c = HttpClient.newBuilder()
                    .sslContext(ssl)
                    .connectTimeout(Duration.ofSeconds(5))
                    .build();
            HttpResponse<String> r = c.send(
                    HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/overview"))
                            .timeout(Duration.ofSeconds(5))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            System.out.println("with the key, port " + port + ": " + r.statusCode() + " " + r.body());
            return r.statusCode() == 200 && r.body().contains("taskmanagers");
        } catch (Exception e) {
            System.out.println("with the key, port " + port + ": " + e);
            return false;
        }
    }
}
