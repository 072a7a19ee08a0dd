package io.sockflow.runner;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sockflow up} as the launcher runs it (root, its own JVM, which starts the others): every port of its
 * processes is on loopback and takes no job from a local unprivileged user; the collector says after attaching that
 * it holds no capability, and it and the processes running Kafka, the registry and the jobs are not root and hold
 * none; after the run, everything under the data folder is 0600 (files) or 0700 (folders) and the user's.
 */
@Tag("root")
class UpSafetyTest {
    @TempDir
    Path dir;

    @Test
    void upListensOnLoopbackOnlyTakesNoJobRunsUnprivilegedAndKeepsItsFilesPrivate() throws Exception {
        assertEquals(
                0,
                (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid"),
                "runs as root, as sudo ./sockflow up does");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x")); // nobody enters it
        Path data = dir.resolve("data");
        int metricsPort = UpTest.freePort();
        UpTest.dir = dir;
        try (UpTest.Running up = new UpTest.Running(
                List.of(),
                "--headless",
                "--data",
                data.toString(),
                "--kafka-port",
                "0",
                "--registry-port",
                "0",
                "--metrics-port",
                Integer.toString(metricsPort))) {
            // every listening socket of up's processes, seen at any time from start to the live view
            Map<Integer, Listeners.Listener> seen = new LinkedHashMap<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
            boolean viewSeen = false;
            long afterView = Long.MAX_VALUE;
            while (System.nanoTime() < deadline && System.nanoTime() < afterView && up.process.isAlive()) {
                for (ProcessHandle p : processes(up.process)) {
                    try {
                        Listeners.of(p.pid()).forEach(l -> seen.putIfAbsent(l.port(), l));
                    } catch (java.io.IOException gone) {
                        // ended meanwhile
                    }
                }
                if (!viewSeen && up.output().lines().anyMatch(l -> l.startsWith("[5/5] live view"))) {
                    viewSeen = true;
                    afterView = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                }
                Thread.sleep(300);
            }
            assertTrue(viewSeen, "up reached its live view:\n" + UpTest.tail(up.output()));
            System.out.println("up's processes listened on " + seen.values());
            assertTrue(seen.containsKey(metricsPort), "the collector's metrics endpoint among them: " + seen.values());
            // the broker and its controller, the registry, the metrics endpoint, Flink's REST endpoint and blob server
            assertTrue(seen.size() >= 6, "all of up's endpoints were seen: " + seen.values());
            for (Listeners.Listener l : seen.values()) {
                assertTrue(l.loopback(), "on loopback only: " + l);
            }

            // a local user without privileges tries to hand each of them a jar and a job graph
            Path shared = Files.createTempDirectory(Path.of("/tmp"), "sockflow-submit");
            try {
                Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxr-xr-x"));
                Path jar = shared.resolve("job.jar");
                Manifest mf = new Manifest();
                mf.getMainAttributes().putValue("Manifest-Version", "1.0");
                try (OutputStream o = Files.newOutputStream(jar);
                        JarOutputStream j = new JarOutputStream(o, mf)) {
                    j.flush();
                }
                Path graph = shared.resolve("job.bin");
                var other =
                        org.apache.flink.streaming.api.environment.StreamExecutionEnvironment.getExecutionEnvironment();
                other.fromData(1L, 2L).sinkTo(new org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink<>());
                try (ObjectOutputStream o = new ObjectOutputStream(Files.newOutputStream(graph))) {
                    o.writeObject(other.getStreamGraph().getJobGraph());
                }
                for (String f : List.of("job.jar", "job.bin")) {
                    Files.setPosixFilePermissions(shared.resolve(f), PosixFilePermissions.fromString("rw-r--r--"));
                }
                for (Listeners.Listener l : seen.values()) {
                    List<String> codes = Listeners.trySubmit(l.port(), jar, graph);
                    System.out.println("port " + l.port() + " (pid " + l.pid() + "): " + codes);
                    assertTrue(
                            codes.stream().allMatch(Listeners::refused),
                            "port " + l.port() + " took a submission: " + codes);
                }
            } finally {
                DataFolder.deleteTree(shared);
            }

            // who runs what: the supervisor is root; the pipeline and the collector are nobody, with no capability
            String out = up.output();
            assertTrue(
                    out.lines()
                            .anyMatch(l -> l.equals(
                                    "sockflow: attached; running as uid 65534, gid 65534, capabilities: none")),
                    "the collector's line after attaching:\n" + UpTest.tail(out));
            int unprivileged = 0;
            for (ProcessHandle p : processes(up.process)) {
                if (p.pid() == up.process.pid()) {
                    continue;
                }
                String main;
                try {
                    main = List.of(Files.readString(Path.of("/proc/" + p.pid() + "/cmdline"))
                                    .split("\0"))
                            .stream()
                            .filter(a -> a.startsWith("io.sockflow."))
                            .findFirst()
                            .orElse("");
                } catch (java.io.IOException gone) {
                    continue;
                }
                if (main.isEmpty()) {
                    continue; // setsid or setpriv between exec calls, or a short-lived helper
                }
                Map<String, String> status = status(p.pid());
                assertEquals("65534\t65534\t65534\t65534", status.get("Uid"), main + " is not root");
                for (Path task : tasks(p.pid())) {
                    Map<String, String> t = statusOf(task.resolve("status"));
                    if (!t.isEmpty()) {
                        assertEquals(
                                "0000000000000000",
                                t.get("CapEff"),
                                main + " thread " + task.getFileName() + " CapEff");
                        assertEquals(
                                "0000000000000000",
                                t.get("CapPrm"),
                                main + " thread " + task.getFileName() + " CapPrm");
                    }
                }
                if (main.equals("io.sockflow.runner.Pipeline")) {
                    assertEquals(
                            "0000000000000000", status.get("CapBnd"), "the pipeline cannot gain a capability either");
                    assertEquals("1", status.get("NoNewPrivs"));
                }
                unprivileged++;
            }
            assertEquals(2, unprivileged, "the pipeline and the collector");

            // all of them in the cgroup sockflow, whose id the collector leaves out: none of their sockets is in the
            // view
            Path cgroup = Cgroup.mount().resolve("sockflow");
            long id = (Long) Files.getAttribute(cgroup, "unix:ino");
            String view = up.output();
            for (ProcessHandle p : processes(up.process)) {
                List<String> lines;
                try {
                    lines = Files.readAllLines(Path.of("/proc/" + p.pid() + "/cgroup"));
                } catch (java.io.IOException gone) {
                    continue;
                }
                assertTrue(lines.contains("0::/sockflow"), p.pid() + " in the cgroup sockflow: " + lines);
                String cmd = Files.readString(Path.of("/proc/" + p.pid() + "/cmdline"))
                        .replace('\0', ' ');
                if (cmd.contains("io.sockflow.collector.cli.Main")) {
                    assertTrue(
                            cmd.contains("--cgroup-exclude " + id + " "),
                            "the collector leaves cgroup " + id + " out: " + cmd);
                }
                assertFalse(
                        view.contains("(" + p.pid() + ")"),
                        "a process of up (" + p.pid() + ") in the view:\n" + UpTest.tail(view));
            }

            up.process.destroy();
            assertTrue(up.process.waitFor(180, TimeUnit.SECONDS), "up stopped after SIGTERM");
            assertTrue(up.output().contains("sockflow up: stopped; data kept in"), UpTest.tail(up.output()));
        }

        // the data folder: nobody's, 0700 folders and 0600 files, Kafka, the lake, checkpoints and spool included
        List<String> wrong = new ArrayList<>();
        int files = 0;
        try (Stream<Path> all = Files.walk(data)) {
            for (Path p : all.toList()) {
                int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 0777;
                int uid = (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
                boolean folder = Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
                files += folder ? 0 : 1;
                if (mode != (folder ? 0700 : 0600) || uid != 65534) {
                    wrong.add(Integer.toOctalString(mode) + " uid " + uid + " " + data.relativize(p));
                }
            }
        }
        assertTrue(files > 20, files + " files");
        assertEquals(List.of(), wrong, "everything under --data private to the runtime user");
        for (String d : List.of("kafka", "warehouse", "checkpoints", "spool", "tls")) {
            assertTrue(Files.isDirectory(data.resolve(d)), d);
        }
    }

    static List<ProcessHandle> processes(Process up) {
        List<ProcessHandle> all = new ArrayList<>(List.of(up.toHandle()));
        all.addAll(up.descendants().toList());
        return all;
    }

    static Map<String, String> status(long pid) throws Exception {
        return statusOf(Path.of("/proc/" + pid + "/status"));
    }

    static List<Path> tasks(long pid) throws Exception {
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid + "/task"))) {
            return s.toList();
        }
    }

    static Map<String, String> statusOf(Path file) {
        Map<String, String> m = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(file)) {
                int colon = line.indexOf(':');
                if (colon > 0) {
                    m.put(line.substring(0, colon), line.substring(colon + 1).strip());
                }
            }
        } catch (java.io.IOException gone) {
            // a thread that ended
        }
        return m;
    }
}
