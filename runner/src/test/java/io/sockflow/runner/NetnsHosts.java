package io.sockflow.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Hosts made of network namespaces, as a test's fleet: {@code n} namespaces with addresses 10.77.0.1 .. 10.77.0.n,
 * each with a veth to a bridge in a namespace of its own (nothing touches the machine's own interfaces). Removed on
 * close, with whatever runs in them.
 */
final class NetnsHosts implements AutoCloseable {
    private final String prefix;
    private final int n;
    private final List<Process> started = new ArrayList<>();

    private NetnsHosts(String prefix, int n) {
        this.prefix = prefix;
        this.n = n;
    }

    static boolean root() {
        return "root".equals(System.getProperty("user.name"));
    }

    static NetnsHosts create(int n) throws Exception {
        NetnsHosts h = new NetnsHosts("sf" + (ProcessHandle.current().pid() % 100000), n);
        try {
            String bridge = h.bridge();
            sh("ip", "netns", "add", bridge);
            sh("ip", "-n", bridge, "link", "add", "br0", "type", "bridge");
            sh("ip", "-n", bridge, "link", "set", "br0", "up");
            for (int i = 1; i <= n; i++) {
                String ns = h.ns(i);
                sh("ip", "netns", "add", ns);
                sh("ip", "link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", "p" + i, "netns", bridge);
                sh("ip", "-n", bridge, "link", "set", "p" + i, "master", "br0");
                sh("ip", "-n", bridge, "link", "set", "p" + i, "up");
                sh("ip", "-n", ns, "addr", "add", h.address(i) + "/24", "dev", "eth0");
                sh("ip", "-n", ns, "link", "set", "eth0", "up");
                sh("ip", "-n", ns, "link", "set", "lo", "up");
            }
        } catch (Exception | AssertionError e) {
            h.close();
            throw e;
        }
        return h;
    }

    String bridge() {
        return prefix + "-br";
    }

    /** The namespace of host {@code i} (from 1), as {@code ip netns} names it. */
    String ns(int i) {
        return prefix + "-h" + i;
    }

    /** Its path, for {@code collect --netns}. */
    String path(int i) {
        return "/run/netns/" + ns(i);
    }

    String address(int i) {
        return "10.77.0." + i;
    }

    /** A Python program in host {@code i}; it prints "ready" once it is set up, which this waits for. */
    Process python(int i, String... lines) throws Exception {
        Process p = new ProcessBuilder("ip", "netns", "exec", ns(i), "/usr/bin/python3", "-c", String.join("\n", lines))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        started.add(p);
        assertEquals("ready", line(p), "the program in " + ns(i) + " started");
        return p;
    }

    /** The next line the program prints, read byte by byte (nothing after it is taken from the stream). */
    static String line(Process p) throws java.io.IOException {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        for (int c; (c = p.getInputStream().read()) != -1 && c != '\n'; ) {
            b.write(c);
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    static void sh(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), String.join(" ", cmd) + " did not end");
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
    }

    @Override
    public void close() throws Exception {
        for (Process p : started) {
            p.destroyForcibly();
        }
        for (int i = 1; i <= n; i++) {
            new ProcessBuilder("ip", "netns", "del", ns(i)).start().waitFor(30, TimeUnit.SECONDS);
        }
        new ProcessBuilder("ip", "netns", "del", bridge()).start().waitFor(30, TimeUnit.SECONDS);
    }
}
