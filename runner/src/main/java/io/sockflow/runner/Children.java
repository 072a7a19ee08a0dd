package io.sockflow.runner;

import io.sockflow.collector.sys.Privileges;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The processes {@code up} starts: JVMs in sessions of their own, and how they are stopped. */
final class Children {
    private static final Path SETSID = Path.of("/usr/bin/setsid");
    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");

    private Children() {}

    /**
     * Starts {@code main} in a JVM of its own with this JVM's flags (the module openings Flink needs, native access),
     * a heap of {@code heap}, and the same standard streams. It gets a session of its own, so that a Ctrl-C reaches
     * only {@code up}, which then stops the children in order. With {@code as}, it runs as that user from its first
     * instruction: no supplementary groups, no capability (bounding set emptied), no way to gain one (no_new_privs).
     */
    static Process java(
            String main, String heap, List<String> jvm, String classPath, Privileges.Identity as, List<String> args)
            throws IOException {
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(SETSID)) {
            cmd.add(SETSID.toString());
        }
        if (as != null) {
            if (!Files.isExecutable(SETPRIV)) {
                throw new IOException(
                        "setpriv (util-linux) is missing: install util-linux, or run up as the user itself with --replay");
            }
            cmd.addAll(List.of(
                    SETPRIV.toString(),
                    "--reuid=" + as.uid(),
                    "--regid=" + as.gid(),
                    "--clear-groups",
                    "--inh-caps=-all",
                    "--bounding-set=-all",
                    "--no-new-privs",
                    "--"));
        }
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-opens")
                    || a.startsWith("--add-exports")
                    || a.startsWith("--enable-native-access")
                    || a.startsWith("--sun-misc-unsafe-memory-access")
                    || a.startsWith("-Dlog4j")) {
                cmd.add(a);
            }
        }
        cmd.add("-Xmx" + heap);
        cmd.addAll(jvm);
        cmd.addAll(List.of("-cp", classPath, main));
        cmd.addAll(args);
        return new ProcessBuilder(cmd).inheritIO().start();
    }

    /** SIGTERM, up to {@code grace} for a clean stop, then SIGKILL; with whatever the process itself started. */
    static void stop(Process p, Duration grace, String what) {
        if (p == null) {
            return;
        }
        List<ProcessHandle> descendants = p.descendants().toList();
        if (p.isAlive()) {
            p.destroy();
            try {
                if (!p.waitFor(grace.toSeconds(), TimeUnit.SECONDS)) {
                    System.err.println(
                            "sockflow up: " + what + " did not stop within " + grace.toSeconds() + " s: killing it");
                    p.destroyForcibly();
                    p.waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
        }
        for (ProcessHandle d : descendants) {
            d.destroyForcibly();
        }
    }
}
