package io.sockflow.runner;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** The listening TCP sockets of processes, from /proc (their descriptors and their network namespace's tables). */
final class Listeners {
    /** One listening socket: the address as the kernel has it, its port, and whose it is. */
    record Listener(long pid, String address, int port) {
        boolean loopback() {
            return address.startsWith("127.") || address.equals("::1") || address.startsWith("::ffff:127.");
        }
    }

    private Listeners() {}

    static List<Listener> of(long pid) throws IOException {
        Set<String> inodes = new HashSet<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(target.substring(8, target.length() - 1));
                    }
                } catch (IOException gone) {
                    // closed meanwhile
                }
            }
        }
        List<Listener> out = new ArrayList<>();
        for (String table : List.of("tcp", "tcp6")) {
            List<String> lines =
                    Files.readAllLines(Path.of("/proc/" + pid + "/net/" + table), StandardCharsets.US_ASCII);
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.trim().split("\\s+");
                if (!f[3].equals("0A") || !inodes.contains(f[9])) {
                    continue; // not listening, or not this process's
                }
                String[] local = f[1].split(":");
                out.add(new Listener(pid, address(local[0]), Integer.parseInt(local[1], 16)));
            }
        }
        return out;
    }

    /** /proc/net/tcp's hex address (32-bit words in host order) as text. */
    static String address(String hex) {
        byte[] b = new byte[hex.length() / 2];
        for (int w = 0; w < b.length / 4; w++) {
            for (int i = 0; i < 4; i++) {
                b[w * 4 + i] = (byte) Integer.parseInt(hex.substring(w * 8 + (3 - i) * 2, w * 8 + (3 - i) * 2 + 2), 16);
            }
        }
        try {
            String s = java.net.InetAddress.getByAddress(b).getHostAddress();
            if (b.length == 16 && s.startsWith("0:0:0:0:0:ffff:")) {
                return "::ffff:"
                        + java.net.InetAddress.getByAddress(java.util.Arrays.copyOfRange(b, 12, 16))
                                .getHostAddress();
            }
            return s.equals("0:0:0:0:0:0:0:1") ? "::1" : s;
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * What an unprivileged local user (nobody, no capability) gets when it tries to hand the port a job: a jar to
     * POST /jars/upload and a job graph to POST /jobs, over plain HTTP and over TLS without a client key. Returns
     * the HTTP status of each try ("000": no HTTP answer at all, the connection or handshake failed).
     */
    static List<String> trySubmit(int port, Path jar, Path jobGraph) throws Exception {
        List<String> codes = new ArrayList<>();
        for (String scheme : List.of("http", "https")) {
            codes.add(curl(List.of(
                    "-F",
                    "jarfile=@" + jar + ";type=application/x-java-archive",
                    scheme + "://127.0.0.1:" + port + "/jars/upload")));
            codes.add(curl(List.of(
                    "-F",
                    "request={\"jobGraphFileName\":\"job.bin\",\"jobJarFileNames\":[],"
                            + "\"jobArtifactFileNames\":[]};type=application/json",
                    "-F",
                    "file_0=@" + jobGraph + ";filename=job.bin;type=application/octet-stream",
                    scheme + "://127.0.0.1:" + port + "/jobs")));
        }
        return codes;
    }

    private static String curl(List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--inh-caps=-all",
                "--",
                "curl",
                "-k",
                "-s",
                "-o",
                "/dev/null",
                "-m",
                "10",
                "-w",
                "%{http_code}",
                "-X",
                "POST"));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        p.waitFor(20, TimeUnit.SECONDS);
        return out.isEmpty() ? "000" : out;
    }

    /** Refused: no HTTP answer, or an error status; a 2xx would mean the request was taken. */
    static boolean refused(String code) {
        return !code.startsWith("2");
    }
}
