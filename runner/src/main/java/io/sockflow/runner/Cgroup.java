package io.sockflow.runner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The cgroup (v2) {@code sockflow} that {@code up} runs in: it joins it before it starts anything, so every process
 * it starts, and everything they start (keytool, a JVM's spawn helper), is in it too. The collector is given its
 * id (the folder's inode) to leave out: the calls of sockflow's processes and the kernel's records of their sockets.
 */
final class Cgroup {
    private final Path dir;
    private final Path home;
    private final long id;

    private Cgroup(Path dir, Path home, long id) {
        this.dir = dir;
        this.home = home;
        this.id = id;
    }

    long id() {
        return id;
    }

    /** Where cgroup v2 is mounted, from /proc/self/mounts (/sys/fs/cgroup, or /sys/fs/cgroup/unified beside v1). */
    static Path mount() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
            String[] f = line.split(" ");
            if (f.length > 2 && f[2].equals("cgroup2")) {
                return Path.of(f[1].replace("\\040", " "));
            }
        }
        return null;
    }

    /** Makes {@code <mount>/sockflow} and moves this process into it; null (and a line saying so) where it cannot. */
    static Cgroup join() {
        try {
            Path mount = mount();
            if (mount == null) {
                System.err.println(
                        "sockflow up: no cgroup v2 mounted: sockflow's own processes are left out by pid only");
                return null;
            }
            String self = null;
            for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
                if (line.startsWith("0::")) {
                    self = line.substring(3);
                }
            }
            Path home = mount.resolve(self == null || self.equals("/") ? "" : self.substring(1));
            Path dir = Files.createDirectories(mount.resolve("sockflow"));
            Files.writeString(
                    dir.resolve("cgroup.procs"),
                    Long.toString(ProcessHandle.current().pid()));
            return new Cgroup(dir, home, (Long) Files.getAttribute(dir, "unix:ino"));
        } catch (IOException | RuntimeException e) {
            System.err.println("sockflow up: cannot use the cgroup sockflow (" + e.getMessage()
                    + "): sockflow's own processes are left out by pid only");
            return null;
        }
    }

    /** Moves this process back where it came from and removes the cgroup when no other sockflow uses it. */
    void leave() {
        try {
            Files.writeString(
                    home.resolve("cgroup.procs"),
                    Long.toString(ProcessHandle.current().pid()));
            Files.delete(dir);
        } catch (IOException | RuntimeException e) {
            // another up still runs in it, or it has processes left: the next one reuses it
        }
    }
}
