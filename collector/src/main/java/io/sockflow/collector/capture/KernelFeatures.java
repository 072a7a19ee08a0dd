package io.sockflow.collector.capture;

import io.sockflow.collector.bpf.Btf;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What this kernel gives sockflow, asked of its own BTF before anything is loaded: which object to load (with or
 * without the bpf_rdonly_cast kfunc), which tp_btf tracepoints exist and with how many arguments, which iterators the
 * inventory can use, and where cgroup v2 is mounted for the socket birth and release hooks. Each thing it lacks is one
 * line for the user, and a feature name in the capability set the records carry.
 */
public final class KernelFeatures {
    /** A feature and whether this kernel has it, with what sockflow does without it. */
    public record Feature(String name, boolean present, String without) {}

    private final Btf btf;
    private final Path cgroup2;
    private final Map<String, Feature> features = new LinkedHashMap<>();

    private KernelFeatures(Btf btf, Path cgroup2) {
        this.btf = btf;
        this.cgroup2 = cgroup2;
        add(
                "kfunc-rdonly-cast",
                btf.find("bpf_rdonly_cast", Btf.FUNC) != null,
                "kernel memory is read with bpf_probe_read_kernel (the compat object; a little more per record)");
        add(
                "sock-send-recv-length",
                tracepointArgs("sock_send_length") >= 3 && tracepointArgs("sock_recv_length") >= 3,
                NO_LENGTH_FALLBACK);
        add("tcp-reset-reason", tracepointArgs("tcp_send_reset") >= 3, "resets sent carry no reason");
        add(
                "sock-error-report",
                tracepointArgs("inet_sk_error_report") >= 1,
                "a non-blocking connect's error is taken from its TCP state alone (refused vs timed out not told apart)");
        add(
                "cgroup-v2",
                cgroup2 != null,
                "inet sockets' releases and io_uring-made sockets are not seen: ends come "
                        + "from descriptors (close, exit, exec) and the periodic sweep");
        Btf.Type funcIds = btf.find("bpf_func_id", Btf.ENUM);
        add(
                "bpf-loop",
                funcIds != null && funcIds.enumValues().containsKey("BPF_FUNC_loop"),
                "descriptors dropped by exit, exec (close-on-exec) and close_range are not reported one by one: inet "
                        + "sockets still end by the release hook, other families by the periodic sweep");
        // no BTF sign of it: assumed, and taken back when the verifier refuses the hooks for it (Capture)
        add(
                "cgroup-task-storage",
                true,
                "a socket's release takes its cause (close, exit, exec, dup2, "
                        + "close_range) from the descriptor drop before it, and sockets made outside socket() (io_uring) are not "
                        + "recorded as made");
        add(
                "iter-task-file",
                btf.find("bpf_iter__task_file", Btf.STRUCT) != null,
                "no start-up inventory: sockets that existed before the start are learnt from their first records");
        add(
                "iter-netlink",
                btf.find("bpf_iter__netlink", Btf.STRUCT) != null,
                "existing netlink sockets have no cookie (they are named by inode anyway)");
        add("file-ref", btf.hasMember("file", "f_ref"), "the file reference count is read from f_count (older layout)");
    }

    static final String NO_LENGTH_FALLBACK =
            "bytes of read()/write() on inet sockets are not seen per call; TCP byte totals come from the kernel's TCP "
                    + "counters at release, other sockets count their send and receive calls";
    static final String LENGTH_FALLBACK =
            "TCP's bytes are seen as tcp_sendmsg/tcp_recvmsg return (fexit: read()/write() included, per call and in the "
                    + "totals); UDP's read()/write() are not seen per call";

    /** The fallback programs on TCP's sendmsg/recvmsg for the missing length tracepoints, each with its partner. */
    public static final Map<String, String> LENGTH_FALLBACK_PROGRAMS =
            Map.of("tcp_sendmsg_length", "sock_send_length", "tcp_recvmsg_length", "sock_recv_length");

    /** Whether the fallback on tcp_sendmsg/tcp_recvmsg loads and attaches here; null until asked, and then why not. */
    private Boolean lengthFallback;

    private String lengthFallbackRefused;

    private void add(String name, boolean present, String without) {
        features.put(name, new Feature(name, present, without));
    }

    /** The kernel's BTF at {@code btfPath}; cgroup v2 from /proc/self/mounts. */
    public static KernelFeatures probe(Path btfPath) {
        try {
            return new KernelFeatures(Btf.read(btfPath), cgroup2Mount(Path.of("/proc/self/mounts")));
        } catch (IOException e) {
            throw new io.sockflow.collector.bpf.BpfException(
                    "cannot read the kernel's BTF at " + btfPath + " (" + e.getMessage()
                            + "): check that the file is readable (root or CAP_DAC_READ_SEARCH)",
                    Preflight.EXIT_KERNEL);
        }
    }

    static KernelFeatures of(Btf btf, Path cgroup2) {
        return new KernelFeatures(btf, cgroup2);
    }

    /** The cgroup hooks' variants for kernels whose cgroup programs may not use task storage (6.12 and before). */
    public static final Map<String, String> PLAIN_CGROUP =
            Map.of("sock_create", "sock_create_plain", "sock_release", "sock_release_plain");

    /** Records that this kernel lacks a feature found out only by loading (the verifier's refusal). */
    public void lacks(String feature) {
        Feature f = features.get(feature);
        if (f == null) {
            throw new IllegalArgumentException("no feature " + feature);
        }
        features.put(feature, new Feature(feature, false, f.without()));
    }

    /**
     * Whether the fallback for the missing length tracepoints is worth a try here: they are missing, and TCP's
     * sendmsg/recvmsg have the prototypes its programs read their return value after (tcp_recvmsg lost its nonblock
     * argument in 5.19; kernels that later dropped its addr_len have the tracepoints).
     */
    public boolean wantsLengthFallback() {
        return !has("sock-send-recv-length")
                && btf.functionArgs("tcp_sendmsg") == 3
                && btf.functionArgs("tcp_recvmsg") == 5;
    }

    /** Records whether the fallback's programs loaded and attached ({@code why}: the kernel's refusal, or null). */
    public void lengthFallback(boolean works, String why) {
        lengthFallback = works;
        lengthFallbackRefused = why;
        Feature f = features.get("sock-send-recv-length");
        features.put(f.name(), new Feature(f.name(), f.present(), works ? LENGTH_FALLBACK : NO_LENGTH_FALLBACK));
    }

    /** Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts). */
    static Path cgroup2Mount(Path mounts) {
        try {
            Path found = null;
            for (String line : Files.readAllLines(mounts)) {
                String[] f = line.split(" ");
                if (f.length > 2 && f[2].equals("cgroup2")) {
                    Path p = Path.of(f[1].replace("\\040", " "));
                    if (found == null || p.getNameCount() < found.getNameCount()) {
                        found = p; // the outermost mount is the root a container or host sees
                    }
                }
            }
            return found;
        } catch (IOException e) {
            return null;
        }
    }

    public int tracepointArgs(String name) {
        return btf.tracepointArgs(name);
    }

    public boolean has(String feature) {
        Feature f = features.get(feature);
        if (f == null) {
            throw new IllegalArgumentException("no feature " + feature);
        }
        return f.present();
    }

    public Path cgroup2() {
        return cgroup2;
    }

    public List<Feature> all() {
        return List.copyOf(features.values());
    }

    /** Names of what this kernel lacks. */
    public List<String> missing() {
        List<String> m = new ArrayList<>();
        for (Feature f : features.values()) {
            if (!f.present()) {
                m.add(f.name());
            }
        }
        return m;
    }

    /** The programs that walk a descriptor table with bpf_loop (5.17 and later), with their exits. */
    static final java.util.Set<String> WALKERS = java.util.Set.of(
            "process_exit",
            "sys_enter_execve",
            "sys_exit_execve",
            "sys_enter_execveat",
            "sys_exit_execveat",
            "sys_enter_close_range");

    /** Whether a program of this section can run on this kernel, and if not, why (null when it can). */
    public String refusal(String program, String section) {
        if (LENGTH_FALLBACK_PROGRAMS.containsKey(program)) {
            if (has("sock-send-recv-length")) {
                return LENGTH_FALLBACK_PROGRAMS.get(program) + " is loaded instead";
            }
            if (!wantsLengthFallback()) {
                return "this kernel's tcp_sendmsg/tcp_recvmsg take other arguments than the fallback reads "
                        + "(tcp_sendmsg(sk, msg, size), tcp_recvmsg(sk, msg, len, flags, addr_len): 5.19 and later)";
            }
            if (!Boolean.TRUE.equals(lengthFallback)) {
                return lengthFallbackRefused != null ? "the kernel refused it: " + lengthFallbackRefused : "not tried";
            }
            return null;
        }
        if (LENGTH_FALLBACK_PROGRAMS.containsValue(program)
                && !has("sock-send-recv-length")
                && Boolean.TRUE.equals(lengthFallback)) {
            String fallback = program.equals("sock_send_length") ? "tcp_sendmsg_length" : "tcp_recvmsg_length";
            return "this kernel has no tracepoint " + program + " (" + fallback + " is loaded instead)";
        }
        if (WALKERS.contains(program) && !has("bpf-loop")) {
            return "this kernel has no bpf_loop (5.17 and later) to walk a descriptor table with";
        }
        if (section.startsWith("tp_btf/")) {
            String tp = section.substring("tp_btf/".length());
            int args = tracepointArgs(tp);
            // one tracepoint under two names: io_uring_submit_sqe became io_uring_submit_req
            if (program.equals("io_uring_submit") && args < 0 && tracepointArgs("io_uring_submit_sqe") >= 1) {
                return "this kernel names the tracepoint io_uring_submit_sqe (io_uring_submit_sqe is loaded instead)";
            }
            if (program.equals("io_uring_submit_sqe") && tracepointArgs("io_uring_submit_req") >= 1) {
                return "io_uring_submit is loaded instead";
            }
            if (program.equals("io_uring_submit_sqe") && args >= 0 && args != 2) {
                return "this kernel's io_uring_submit_sqe passes no request to read (before 5.18): io_uring's network "
                        + "requests are not seen";
            }
            if (args < 0) {
                return "this kernel has no tracepoint " + tp;
            }
            if (program.equals("tcp_send_reset_reason") && args < 3) {
                return "tcp_send_reset has no reason argument before 6.10 (tcp_send_reset is loaded instead)";
            }
            if (program.equals("tcp_send_reset") && args >= 3) {
                return "tcp_send_reset_reason is loaded instead";
            }
            return null;
        }
        if (section.startsWith("cgroup/") && cgroup2 == null) {
            return "no cgroup v2 hierarchy is mounted";
        }
        if (section.startsWith("cgroup/")) {
            boolean plain = has("cgroup-task-storage");
            if (PLAIN_CGROUP.containsKey(program) && !plain) {
                return "this kernel's cgroup programs may not use task storage (" + PLAIN_CGROUP.get(program)
                        + " is loaded instead)";
            }
            for (Map.Entry<String, String> v : PLAIN_CGROUP.entrySet()) {
                if (v.getValue().equals(program) && plain) {
                    return v.getKey() + " is loaded instead";
                }
            }
        }
        if (section.startsWith("iter/")) {
            String it = section.substring("iter/".length());
            if (btf.find("bpf_iter__" + it, Btf.STRUCT) == null) {
                return "this kernel has no " + it + " iterator";
            }
        }
        return null;
    }
}
