package io.sockflow.runner;

import io.sockflow.schemas.LifecycleStatus;
import io.sockflow.schemas.SocketLifecycle;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The kernel's own view of the sockets that exist, as {@code ss -tuxanpe} prints it, keyed like sockflow keys its
 * lifecycles (the cookie of an inet socket, the inode of a unix socket), with the processes holding each. Only sockets
 * held by a process (with a file) count: TIME-WAIT and other fileless sockets are left out.
 */
final class KernelSockets {
    /** One socket as ss shows it. */
    record Sock(String key, String netid, String state, String local, String peer, List<Integer> pids, String line) {}

    private static final Pattern USERS = Pattern.compile("users:\\((.*?)\\)\\s");
    private static final Pattern PID = Pattern.compile("pid=(\\d+)");
    private static final Pattern COOKIE = Pattern.compile("\\bsk:([0-9a-f]+)");

    private KernelSockets() {}

    /** Every socket with a file now, by key. */
    static Map<String, Sock> now() throws IOException, InterruptedException {
        Process p =
                new ProcessBuilder("ss", "-tuxanpeH").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        Map<String, Sock> m = new LinkedHashMap<>();
        for (String line : out.split("\n")) {
            Sock s = parse(line);
            if (s != null) {
                m.put(s.key(), s);
            }
        }
        return m;
    }

    static Sock parse(String line) {
        String[] f = line.trim().split("\\s+");
        if (f.length < 6) {
            return null;
        }
        Matcher users = USERS.matcher(line + " ");
        if (!users.find()) {
            return null; // no process holds it: TIME-WAIT, an orphan, a kernel socket
        }
        List<Integer> pids = new ArrayList<>();
        Matcher pid = PID.matcher(users.group(1));
        while (pid.find()) {
            pids.add(Integer.parseInt(pid.group(1)));
        }
        String netid = f[0];
        if (netid.startsWith("u_")) {
            // u_str ESTAB 0 0 PATH|* INODE PEER|* PEER_INODE users:...
            return new Sock("i" + f[5], netid, f[1], f[4] + " " + f[5], f[6] + " " + f[7], pids, line);
        }
        Matcher cookie = COOKIE.matcher(line);
        if (!cookie.find()) {
            return null;
        }
        return new Sock(
                "c" + Long.toHexString(Long.parseUnsignedLong(cookie.group(1), 16)),
                netid,
                f[1],
                f[4],
                f[5],
                pids,
                line);
    }

    /**
     * The socket inodes each process holds now, from /proc/PID/fd: the kernel's view of sockets that are in no socket
     * table and so not in {@code ss} (an unbound UDP socket, for one).
     */
    static Map<Long, Set<Integer>> heldInodes() {
        Map<Long, Set<Integer>> m = new HashMap<>();
        java.io.File[] procs =
                new java.io.File("/proc").listFiles((d, n) -> n.chars().allMatch(Character::isDigit));
        for (java.io.File proc : procs == null ? new java.io.File[0] : procs) {
            java.io.File[] fds = new java.io.File(proc, "fd").listFiles();
            for (java.io.File fd : fds == null ? new java.io.File[0] : fds) {
                try {
                    String target =
                            java.nio.file.Files.readSymbolicLink(fd.toPath()).toString();
                    if (target.startsWith("socket:[")) {
                        long inode = Long.parseLong(target.substring(8, target.length() - 1));
                        m.computeIfAbsent(inode, k -> new TreeSet<>()).add(Integer.parseInt(proc.getName()));
                    }
                } catch (IOException | RuntimeException gone) {
                    // the descriptor or the process went away while read
                }
            }
        }
        return m;
    }

    /** The inode ss prints for a socket (ino:N for inet, the inode column for unix), or -1. */
    static long inode(Sock s) {
        if (s.netid().startsWith("u_")) {
            return Long.parseLong(s.key().substring(1));
        }
        Matcher ino = Pattern.compile("\\bino:(\\d+)").matcher(s.line());
        return ino.find() ? Long.parseLong(ino.group(1)) : -1;
    }

    /** Sockets present in both snapshots (stable across the moment compared). */
    static Map<String, Sock> stable(Map<String, Sock> a, Map<String, Sock> b) {
        Map<String, Sock> m = new LinkedHashMap<>();
        a.forEach((k, v) -> {
            if (b.containsKey(k)) {
                m.put(k, v);
            }
        });
        return m;
    }

    /**
     * The keys of the lifecycles open over [from, to]: born (or found at the inventory) by {@code from}, and not ended
     * by {@code to}. The key is the socket part of the identity (c&lt;cookie hex&gt; or i&lt;inode&gt;).
     */
    static Map<String, SocketLifecycle> openLifecycles(List<SocketLifecycle> records, Instant from, Instant to) {
        Map<String, SocketLifecycle> latest = new HashMap<>();
        Map<String, Instant> born = new HashMap<>();
        Map<String, Instant> ended = new HashMap<>();
        for (SocketLifecycle l : records) {
            String key =
                    io.sockflow.schemas.SocketIdentity.local(l.getFamily(), l.getSocketCookie(), l.getSocketInode());
            Instant b = l.getCreatedAt() != null ? l.getCreatedAt() : l.getInventoriedAt();
            if (b != null) {
                born.merge(key, b, (x, y) -> x.isBefore(y) ? x : y);
            }
            if (l.getStatus() != LifecycleStatus.OPEN && l.getClosedAt() != null) {
                ended.merge(key, l.getClosedAt(), (x, y) -> x.isBefore(y) ? x : y);
            }
            latest.put(key, l);
        }
        Map<String, SocketLifecycle> open = new LinkedHashMap<>();
        latest.forEach((k, l) -> {
            Instant b = born.get(k);
            Instant e = ended.get(k);
            if (b != null && !b.isAfter(from) && (e == null || e.isAfter(to))) {
                open.put(k, l);
            }
        });
        return open;
    }

    /**
     * The keys of sockets born while the first snapshot was taken, or ended while the second was: ss may or may not
     * have seen them, so neither side can be held to them.
     */
    static Set<String> uncertain(List<SocketLifecycle> records, Instant[] first, Instant[] second) {
        java.time.Duration skew = java.time.Duration.ofMillis(100); // kernel clock to wall clock
        Set<String> m = new TreeSet<>();
        for (SocketLifecycle l : records) {
            String key =
                    io.sockflow.schemas.SocketIdentity.local(l.getFamily(), l.getSocketCookie(), l.getSocketInode());
            Instant b = l.getCreatedAt() != null ? l.getCreatedAt() : l.getInventoriedAt();
            if (b != null && b.isAfter(first[0].minus(skew)) && b.isBefore(first[1].plus(skew))) {
                m.add(key);
            }
            Instant e = l.getStatus() != LifecycleStatus.OPEN ? l.getClosedAt() : null;
            if (e != null && e.isAfter(second[0].minus(skew)) && e.isBefore(second[1].plus(skew))) {
                m.add(key);
            }
        }
        return m;
    }

    /** What one side has and the other lacks, printed. */
    static String difference(Map<String, Sock> kernel, Map<String, SocketLifecycle> sockflow) {
        return difference(kernel, sockflow, List.of());
    }

    /** What one side has and the other lacks, printed with every record sockflow has of each (by cookie or inode). */
    static String difference(
            Map<String, Sock> kernel, Map<String, SocketLifecycle> sockflow, List<SocketLifecycle> all) {
        Set<String> onlyKernel = new TreeSet<>(kernel.keySet());
        onlyKernel.removeAll(sockflow.keySet());
        Set<String> onlySockflow = new TreeSet<>(sockflow.keySet());
        onlySockflow.removeAll(kernel.keySet());
        StringBuilder b = new StringBuilder();
        b.append(kernel.size())
                .append(" sockets held by processes (ss), ")
                .append(sockflow.size())
                .append(" open lifecycles; in the kernel's view only: ")
                .append(onlyKernel.size())
                .append(", in sockflow's only: ")
                .append(onlySockflow.size())
                .append('\n');
        for (String k : onlyKernel) {
            b.append("  kernel only  ")
                    .append(kernel.get(k).line().trim().replaceAll("\\s+", " "))
                    .append('\n');
            java.util.regex.Matcher ino =
                    Pattern.compile("\\bino:(\\d+)").matcher(kernel.get(k).line());
            long inode = ino.find() ? Long.parseLong(ino.group(1)) : -1;
            records(
                    b,
                    all,
                    l -> k.equals(io.sockflow.schemas.SocketIdentity.local(
                                    l.getFamily(), l.getSocketCookie(), l.getSocketInode()))
                            || l.getSocketInode() == inode);
        }
        for (String k : onlySockflow) {
            SocketLifecycle l = sockflow.get(k);
            b.append("  sockflow only ")
                    .append(k)
                    .append(' ')
                    .append(l.getFamily())
                    .append(' ')
                    .append(l.getRole())
                    .append(" pid ")
                    .append(l.getPid())
                    .append(' ')
                    .append(l.getComm())
                    .append(' ')
                    .append(l.getLocalAddress())
                    .append(':')
                    .append(l.getLocalPort())
                    .append(" -> ")
                    .append(l.getRemoteAddress())
                    .append(':')
                    .append(l.getRemotePort())
                    .append('\n');
            records(b, all, r -> r.getSocketInode() == l.getSocketInode());
        }
        return b.toString();
    }

    static void records(StringBuilder b, List<SocketLifecycle> all, java.util.function.Predicate<SocketLifecycle> p) {
        java.util.Set<String> lines = new java.util.LinkedHashSet<>(); // the periodic updates repeat the same facts
        for (SocketLifecycle l : all) {
            if (p.test(l)) {
                lines.add("      record " + l.getStatus() + " cookie " + l.getSocketCookie() + " inode "
                        + l.getSocketInode() + " created " + l.getCreatedAt() + " inventoried " + l.getInventoriedAt()
                        + " closed " + l.getClosedAt() + " end " + l.getEndReason() + " cause " + l.getReleaseCause()
                        + " notSeen " + l.getNotSeen() + " owner " + l.getPid() + "/" + l.getOwnerSource() + "\n");
            }
        }
        lines.forEach(b::append);
    }
}
