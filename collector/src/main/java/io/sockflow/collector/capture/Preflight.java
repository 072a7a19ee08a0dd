package io.sockflow.collector.capture;

import io.sockflow.collector.bpf.BpfException;
import io.sockflow.collector.sys.Errno;
import io.sockflow.collector.sys.Libc;
import io.sockflow.collector.sys.Privileges;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Checks, before anything is loaded, what live capture needs, so that a missing piece is named in one line
 * instead of surfacing as a libbpf error.
 */
public final class Preflight {
    static final int CAP_DAC_READ_SEARCH = 2;
    static final int CAP_NET_ADMIN = 12;
    static final int CAP_SYS_ADMIN = 21;
    static final int CAP_PERFMON = 38;
    static final int CAP_BPF = 39;
    /**
     * The capabilities live capture needs of a process that is not root, as a container grants them: load the programs
     * and their maps, attach them to tracepoints, read the tracepoint ids in tracefs (root's alone), and attach the
     * cgroup programs of every socket's birth and release. Not CAP_SYS_ADMIN: it would add only the mounting of a
     * missing tracefs and the cookies of sockets of other network namespaces that exist when the collector starts.
     */
    public static final List<String> CAPTURE_CAPABILITIES = List.of(
            Privileges.names(1L << CAP_BPF),
            Privileges.names(1L << CAP_PERFMON),
            Privileges.names(1L << CAP_DAC_READ_SEARCH),
            Privileges.names(1L << CAP_NET_ADMIN));
    /** Exit code for missing privileges. */
    public static final int EXIT_PRIVILEGES = 4;
    /** Exit code for a kernel that lacks what sockflow needs (BTF, tracefs). */
    public static final int EXIT_KERNEL = 5;

    private Preflight() {}

    public static void checkAll(CaptureOptions o) {
        checkLinux();
        checkBtf(o.btfPath());
        checkPrivileges(effectiveCapabilities(), o.tracefsPath());
        ensureTracefs(o.tracefsPath());
    }

    static void checkLinux() {
        if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
            throw new BpfException(
                    "live capture needs Linux (this is " + System.getProperty("os.name")
                            + "): use --replay FILE to run the pipeline on a recorded capture",
                    EXIT_KERNEL);
        }
    }

    public static void checkBtf(Path btf) {
        if (!Files.isReadable(btf)) {
            throw new BpfException(
                    "no kernel BTF at " + btf + ": this kernel was built without "
                            + "CONFIG_DEBUG_INFO_BTF; use a kernel with BTF (5.8+) or pass --btf-path FILE",
                    EXIT_KERNEL);
        }
    }

    /** CapEff of this process, from /proc/self/status. */
    public static long effectiveCapabilities() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("CapEff:")) {
                    return Long.parseUnsignedLong(line.substring(7).trim(), 16);
                }
            }
        } catch (IOException | NumberFormatException e) {
            // fall through: let the kernel say no
        }
        return -1L;
    }

    /** Whether this process may attach cgroup programs (the socket birth and release hooks): CAP_NET_ADMIN. */
    public static boolean mayAttachCgroupPrograms() {
        long caps = effectiveCapabilities();
        return has(caps, CAP_NET_ADMIN) || has(caps, CAP_SYS_ADMIN);
    }

    static boolean has(long caps, int cap) {
        return (caps & (1L << cap)) != 0;
    }

    public static void checkPrivileges(long caps) {
        checkPrivileges(caps, CaptureOptions.DEFAULT_TRACEFS);
    }

    public static void checkPrivileges(long caps, Path tracefs) {
        if (caps == -1L) {
            return;
        }
        boolean load = has(caps, CAP_SYS_ADMIN) || has(caps, CAP_BPF) && has(caps, CAP_PERFMON);
        boolean tracefsReadable = has(caps, CAP_SYS_ADMIN)
                || has(caps, CAP_DAC_READ_SEARCH)
                || Files.isReadable(tracefs.resolve("events"));
        if (!load || !tracefsReadable) {
            StringBuilder missing = new StringBuilder();
            if (!has(caps, CAP_SYS_ADMIN)) {
                if (!has(caps, CAP_BPF)) {
                    missing.append("CAP_BPF ");
                }
                if (!has(caps, CAP_PERFMON)) {
                    missing.append("CAP_PERFMON ");
                }
                if (!tracefsReadable) {
                    missing.append("CAP_DAC_READ_SEARCH ");
                }
            }
            throw new BpfException(
                    "missing privileges for live capture (" + missing.toString().trim()
                            + "): run as root, or grant CAP_BPF, CAP_PERFMON and CAP_DAC_READ_SEARCH (and CAP_NET_ADMIN for the cgroup hooks) "
                            + "(README, Security); --replay FILE runs without them",
                    EXIT_PRIVILEGES);
        }
    }

    /** Mounts tracefs where it is absent; attaching tracepoints needs it. */
    public static void ensureTracefs(Path tracefs) {
        if (Files.isDirectory(tracefs.resolve("events"))) {
            return;
        }
        int err = Libc.mount("nodev", tracefs.toString(), "tracefs");
        if (err != 0 && !Files.isDirectory(tracefs.resolve("events"))) {
            throw new BpfException(
                    "tracefs is not mounted at " + tracefs + " and mounting it failed (" + Errno.describe(err)
                            + "): run `mount -t tracefs nodev " + tracefs + "` as root",
                    EXIT_KERNEL);
        }
    }
}
