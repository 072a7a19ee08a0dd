package io.sockflow.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free loopback ports for the services sockflow starts itself (brokers, registry, Flink, metrics), picked below the
 * kernel's ephemeral range: a port the kernel handed out for a listen on port 0 is in that range, and any outgoing
 * connection made before the service binds it (a broker's, Flink's, a client's) can take it as its own local port.
 */
public final class LoopbackPorts {
    private LoopbackPorts() {}

    /** The lowest port of the kernel's ephemeral range (32768 when it cannot be read). */
    static int ephemeralLow() {
        try {
            // a line at a time: /proc files have no size, and a read by size can come back short
            return Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))
                    .get(0)
                    .trim()
                    .split("\\s+")[0]);
        } catch (IOException | RuntimeException unreadable) {
            return 32768;
        }
    }

    /** A loopback port nothing is bound to now, below the ephemeral range. */
    public static int free() {
        int low = ephemeralLow();
        int from = Math.max(1024, Math.min(20000, low - 12000));
        int to = Math.max(from + 1000, low - 1);
        for (int i = 0; i < 500; i++) {
            int p = ThreadLocalRandom.current().nextInt(from, to);
            if (isFree(p)) {
                return p;
            }
        }
        throw new UncheckedIOException(new IOException("no free loopback port in " + from + "-" + (to - 1)));
    }

    /** {@code n} different free ports (each alone could be picked twice while nothing has bound it yet). */
    public static int[] free(int n) {
        java.util.Set<Integer> picked = new java.util.LinkedHashSet<>();
        while (picked.size() < n) {
            picked.add(free());
        }
        return picked.stream().mapToInt(Integer::intValue).toArray();
    }

    /** A free port whose next one is free too (a broker's listener and its controller). */
    public static int freePair() {
        for (int i = 0; i < 500; i++) {
            int p = free();
            if (isFree(p + 1)) {
                return p;
            }
        }
        throw new UncheckedIOException(new IOException("no two free loopback ports in a row"));
    }

    static boolean isFree(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException taken) {
            return false;
        }
    }
}
