package io.sockflow.collector.sys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * What a sockflow process may do, and how it gives up what it no longer needs. Capabilities are per thread in Linux,
 * and a JVM runs many threads before {@code main}: the one way to shed them in every thread at once is to leave
 * uid 0 through glibc's set*id calls, which glibc applies to every thread; with all three uids non-zero the kernel
 * clears the permitted and effective sets.
 */
public final class Privileges {
    private static final String[] CAPS = {
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_DAC_READ_SEARCH",
        "CAP_FOWNER",
        "CAP_FSETID",
        "CAP_KILL",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETPCAP",
        "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN",
        "CAP_NET_RAW",
        "CAP_IPC_LOCK",
        "CAP_IPC_OWNER",
        "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO",
        "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN",
        "CAP_SYS_BOOT",
        "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG",
        "CAP_MKNOD",
        "CAP_LEASE",
        "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN",
        "CAP_SYSLOG",
        "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND",
        "CAP_AUDIT_READ",
        "CAP_PERFMON",
        "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE"
    };

    /**
     * What a collector started as root needs to become another user once attached ({@code --run-as}): leave uid 0
     * and the groups ({@link #switchTo}), and first give that user the spool folder.
     */
    public static final List<String> SWITCH_CAPABILITIES = List.of("CAP_SETUID", "CAP_SETGID", "CAP_CHOWN");

    /** A user and group to run as. */
    public record Identity(int uid, int gid) {
        @Override
        public String toString() {
            return uid + ":" + gid;
        }
    }

    private Privileges() {}

    /** Files and folders this process creates from now on are its owner's alone (0600 and 0700). */
    public static void privateFiles() {
        Libc.umask(0077);
    }

    public static boolean isRoot() {
        return Libc.geteuid() == 0;
    }

    /**
     * Parses {@code uid[:gid]} or a user name of /etc/passwd (its primary group). A uid alone takes the group of
     * the same number. Throws {@link IllegalArgumentException} naming the value.
     */
    public static Identity parse(String spec) {
        String s = spec.strip();
        if (s.matches("\\d+(:\\d+)?")) {
            String[] p = s.split(":");
            int uid = Integer.parseInt(p[0]);
            return new Identity(uid, p.length > 1 ? Integer.parseInt(p[1]) : uid);
        }
        try {
            for (String line : Files.readAllLines(Path.of("/etc/passwd"))) {
                String[] f = line.split(":");
                if (f.length > 3 && f[0].equals(s)) {
                    return new Identity(Integer.parseInt(f[2]), Integer.parseInt(f[3]));
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not found below
        }
        throw new IllegalArgumentException("no user '" + spec + "': give a user name of /etc/passwd or uid[:gid]");
    }

    /** The user who ran sudo, when this process runs under sudo from another account. */
    public static Identity sudoUser(Map<String, String> env) {
        try {
            int uid = Integer.parseInt(env.getOrDefault("SUDO_UID", ""));
            int gid = Integer.parseInt(env.getOrDefault("SUDO_GID", Integer.toString(uid)));
            return uid > 0 ? new Identity(uid, gid) : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /**
     * Becomes {@code who} for good, in every thread: no supplementary groups, then the group, then the user. Throws
     * {@link IllegalStateException} with the reason when the kernel refuses (a process without CAP_SETUID/CAP_SETGID).
     */
    public static void switchTo(Identity who) {
        openClassPath();
        int err = Libc.clearGroups();
        if (err == 0) {
            err = Libc.setGid(who.gid());
        }
        if (err == 0) {
            err = Libc.setUid(who.uid());
        }
        if (err != 0) {
            throw new IllegalStateException(
                    "cannot switch to uid " + who.uid() + " gid " + who.gid() + " (" + Errno.describe(err) + ")");
        }
        long left = capabilities();
        if (who.uid() != 0 && left != 0) {
            throw new IllegalStateException("still holding " + names(left) + " after switching to uid " + who.uid());
        }
    }

    /**
     * Opens every jar of the class path while this process may still read them all (a build in root's home): the
     * class loader keeps them open and loads classes through them after the switch.
     */
    private static void openClassPath() {
        try {
            java.util.Collections.list(ClassLoader.getSystemClassLoader().getResources("io/sockflow/no-such-resource"));
        } catch (IOException e) {
            // a jar that cannot be opened now could not be later either: its classes fail where they are used
        }
    }

    /** The capabilities any thread of this process still has, permitted or effective (union over the threads). */
    public static long capabilities() {
        long all = 0;
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : tasks.toList()) {
                all |= field(t.resolve("status"), "CapPrm:") | field(t.resolve("status"), "CapEff:");
            }
        } catch (IOException e) {
            all = field(Path.of("/proc/self/status"), "CapPrm:") | field(Path.of("/proc/self/status"), "CapEff:");
        }
        return all;
    }

    private static long field(Path status, String name) {
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith(name)) {
                    return Long.parseUnsignedLong(line.substring(name.length()).strip(), 16);
                }
            }
        } catch (IOException | NumberFormatException e) {
            // a thread that ended meanwhile
        }
        return 0;
    }

    /** Capability names of a mask, comma-separated, or "none". */
    public static String names(long caps) {
        if (caps == 0) {
            return "none";
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            if ((caps & (1L << i)) != 0) {
                out.add(i < CAPS.length ? CAPS[i] : "CAP_" + i);
            }
        }
        return String.join(",", out);
    }

    /** This process as one line: its uid, gid and capabilities. */
    public static String describe() {
        String uid = "?";
        String gid = "?";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    uid = line.substring(4).strip().split("\\s+")[1];
                } else if (line.startsWith("Gid:")) {
                    gid = line.substring(4).strip().split("\\s+")[1];
                }
            }
        } catch (IOException e) {
            // left as ?
        }
        return "uid " + uid + ", gid " + gid + ", capabilities: " + names(capabilities());
    }
}
