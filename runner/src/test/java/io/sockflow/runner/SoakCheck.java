package io.sockflow.runner;

import io.sockflow.jobs.Results;
import io.sockflow.schemas.LifecycleStatus;
import io.sockflow.schemas.SocketIdentity;
import io.sockflow.schemas.SocketLifecycle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The soak's judge (bench/soak): every lifecycle a run of {@code up} wrote to the lake, held against the snapshots of
 * the kernel's own view ({@code ss -tuxanpe}) taken during the run. It counts and prints
 * <ul>
 * <li>false ends: a lifecycle ended while a later snapshot shows the kernel still holding the socket;</li>
 * <li>missed sockets: a socket held by a process across two snapshots that has no lifecycle open over them, and the
 * reverse (a lifecycle open over two snapshots of a socket no process held);</li>
 * <li>lifecycles with no owner;</li>
 * <li>any of sockflow's own processes or their sockets in the lifecycles.</li>
 * </ul>
 * Arguments: the warehouse folder, the folder of snapshots (ss-EPOCHMILLIS.txt, and sockflow-pids-EPOCHMILLIS.txt with
 * the pids of sockflow's processes then). Exits 1 when any count is not 0.
 */
public final class SoakCheck {
    private SoakCheck() {}

    /**
     * One look at the kernel: when it began and ended (ss and /proc take a while on a busy host), the sockets ss showed,
     * the socket inodes each process held (/proc), and sockflow's pids then.
     */
    record Snapshot(
            Instant at,
            Instant done,
            Map<String, KernelSockets.Sock> sockets,
            Map<Long, Set<Integer>> held,
            Set<Integer> sockflow,
            Set<Integer> cgroup) {
        Snapshot(Instant at, Map<String, KernelSockets.Sock> sockets, Set<Integer> sockflow) {
            this(at, at, sockets, Map.of(), sockflow, Set.of());
        }
    }

    /** sockflow's own cgroup (up runs every process of its own in it): its sockets are not the workload's. */
    static boolean ownCgroup(KernelSockets.Sock s) {
        return s.line().matches(".*\\scgroup:/sockflow(/\\S*)?\\s.*");
    }

    public static void main(String[] args) throws Exception {
        Path warehouse = Path.of(args[0]);
        Path snaps = Path.of(args[1]);
        List<Snapshot> snapshots = snapshots(snaps);
        Set<Integer> sockflow = new HashSet<>();
        snapshots.forEach(s -> sockflow.addAll(s.sockflow()));
        List<SocketLifecycle> all = new ArrayList<>();
        for (Map<String, Object> row :
                Results.lake(warehouse.toString(), "sockflow", io.sockflow.jobs.SockflowJob.LIFECYCLES_TABLE)) {
            all.add(fromRow(row));
        }
        int errors = check(all, snapshots, sockflow, System.out);
        System.exit(errors == 0 ? 0 : 1);
    }

    static List<Snapshot> snapshots(Path dir) throws Exception {
        List<Snapshot> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.filter(f -> f.getFileName().toString().startsWith("ss-"))
                    .sorted()
                    .toList()) {
                String stamp = p.getFileName().toString().replaceAll("\\D", "");
                Map<String, KernelSockets.Sock> socks = new LinkedHashMap<>();
                for (String line : Files.readAllLines(p)) {
                    KernelSockets.Sock s = KernelSockets.parse(line);
                    if (s != null) {
                        socks.put(s.key(), s);
                    }
                }
                Set<Integer> pids = pids(dir.resolve("sockflow-pids-" + stamp + ".txt"));
                Set<Integer> cgroup = pids(dir.resolve("cgroup-pids-" + stamp + ".txt"));
                Map<Long, Set<Integer>> held = new HashMap<>();
                Path hf = dir.resolve("held-" + stamp + ".txt");
                if (Files.exists(hf)) {
                    for (String l : Files.readAllLines(hf)) {
                        String[] f = l.trim().split(" ");
                        if (f.length == 2) {
                            held.computeIfAbsent(Long.parseLong(f[1]), k -> new HashSet<>())
                                    .add(Integer.parseInt(f[0]));
                        }
                    }
                }
                Instant at = Instant.ofEpochMilli(Long.parseLong(stamp));
                Path df = dir.resolve("done-" + stamp + ".txt");
                Instant done = Files.exists(df)
                        ? Instant.ofEpochMilli(
                                Long.parseLong(Files.readString(df).trim()))
                        : at;
                out.add(new Snapshot(at, done, socks, held, pids, cgroup));
            }
        }
        out.sort((a, b) -> a.at().compareTo(b.at()));
        return out;
    }

    private static Set<Integer> pids(Path file) throws java.io.IOException {
        Set<Integer> pids = new HashSet<>();
        if (Files.exists(file)) {
            for (String l : Files.readAllLines(file)) {
                if (!l.isBlank()) {
                    pids.add(Integer.parseInt(l.trim()));
                }
            }
        }
        return pids;
    }

    /** The checks; returns how many errors, after printing them. */
    static int check(
            List<SocketLifecycle> all, List<Snapshot> snapshots, Set<Integer> sockflow, java.io.PrintStream out) {
        Map<String, List<SocketLifecycle>> byKey = new HashMap<>();
        for (SocketLifecycle l : all) {
            byKey.computeIfAbsent(
                            SocketIdentity.local(l.getFamily(), l.getSocketCookie(), l.getSocketInode()),
                            k -> new ArrayList<>())
                    .add(l);
        }
        Map<String, String> falseEnds = new TreeMap<>();
        Map<String, String> missed = new TreeMap<>();
        Map<String, String> phantom = new TreeMap<>();
        for (int i = 0; i + 1 < snapshots.size(); i++) {
            Snapshot a = snapshots.get(i);
            Snapshot b = snapshots.get(i + 1);
            Set<Integer> own = new HashSet<>(a.sockflow());
            own.addAll(b.sockflow());
            own.addAll(a.cgroup()); // left out by the collector: not compared
            own.addAll(b.cgroup());
            Map<String, KernelSockets.Sock> kernel = new LinkedHashMap<>();
            KernelSockets.stable(a.sockets(), b.sockets()).forEach((k, s) -> {
                if (s.pids().stream().noneMatch(own::contains)
                        && s.pids().stream().noneMatch(sockflow::contains)
                        && !ownCgroup(s)) {
                    kernel.put(k, s);
                }
            });
            Map<String, SocketLifecycle> open = new LinkedHashMap<>();
            // a socket born while the first look ran, or ended while the second ran, may or may not be in it
            Set<String> uncertain =
                    KernelSockets.uncertain(all, new Instant[] {a.at(), a.done()}, new Instant[] {b.at(), b.done()});
            kernel.keySet().removeAll(uncertain);
            KernelSockets.openLifecycles(all, a.done(), b.at()).forEach((k, l) -> {
                if (uncertain.contains(k)) {
                    return;
                }
                if ("AF_UNIX".equals(l.getFamily())
                        || ("TCP".equals(l.getProtocol()) || "UDP".equals(l.getProtocol()))
                                && SocketIdentity.inet(l.getFamily())) {
                    open.put(k, l);
                }
            });
            for (Map.Entry<String, KernelSockets.Sock> k : kernel.entrySet()) {
                List<SocketLifecycle> ls = byKey.getOrDefault(k.getKey(), List.of());
                for (SocketLifecycle l : ls) {
                    if (l.getStatus() != LifecycleStatus.OPEN
                            && l.getClosedAt() != null
                            && l.getClosedAt().isBefore(a.at().minusSeconds(1))) {
                        falseEnds.putIfAbsent(
                                k.getKey(),
                                "ended " + l.getClosedAt() + " (" + l.getEndReason() + ") but held at " + a.at() + ": "
                                        + k.getValue().line().trim().replaceAll("\\s+", " "));
                    }
                }
                if (!open.containsKey(k.getKey()) && falseEnds.get(k.getKey()) == null) {
                    StringBuilder seen = new StringBuilder();
                    long inode = KernelSockets.inode(k.getValue());
                    KernelSockets.records(seen, all, l -> l.getSocketInode() == inode);
                    missed.putIfAbsent(
                            k.getKey(),
                            "held from " + a.at() + " to " + b.at() + ", no open lifecycle: "
                                    + k.getValue().line().trim().replaceAll("\\s+", " ")
                                    + (seen.isEmpty()
                                            ? " (no record of it)"
                                            : "\n" + seen.toString().stripTrailing()));
                }
            }
            for (Map.Entry<String, SocketLifecycle> o : open.entrySet()) {
                if (!kernel.containsKey(o.getKey())
                        && !held(a, o.getKey())
                        && !held(b, o.getKey())
                        && !heldInProc(a, o.getValue())
                        && !heldInProc(b, o.getValue())) {
                    SocketLifecycle l = o.getValue();
                    phantom.putIfAbsent(
                            o.getKey(),
                            "open from " + a.at() + " to " + b.at() + " in sockflow, held by no "
                                    + "process: " + l.getFamily() + " " + l.getRole() + " " + l.getComm() + " ("
                                    + l.getPid() + ") "
                                    + l.getLocalAddress() + ":" + l.getLocalPort());
                }
            }
        }
        List<String> noOwner = new ArrayList<>();
        List<String> own = new ArrayList<>();
        for (SocketLifecycle l : all) {
            String key = SocketIdentity.local(l.getFamily(), l.getSocketCookie(), l.getSocketInode());
            if (l.getPid() == null) {
                noOwner.add(key + " " + l.getFamily() + " " + l.getRole() + " " + l.getStatus());
            } else if (sockflow.contains(l.getPid())) {
                own.add(key + " " + l.getComm() + " (" + l.getPid() + ")");
            }
        }
        long ended =
                all.stream().filter(l -> l.getStatus() != LifecycleStatus.OPEN).count();
        long timedOut = all.stream()
                .filter(l -> l.getStatus() == LifecycleStatus.TIMED_OUT)
                .count();
        out.printf(
                "soak: %,d lifecycle records, %,d of them ends (%,d timed out), %d snapshots of the kernel's view%n",
                all.size(), ended, timedOut, snapshots.size());
        out.printf(
                "soak: false ends %d, sockets held with no open lifecycle %d, open lifecycles of sockets no process "
                        + "held %d, lifecycles with no owner %d, sockflow's own %d%n",
                falseEnds.size(), missed.size(), phantom.size(), noOwner.size(), own.size());
        Map<String, Integer> missedBy = new TreeMap<>();
        for (String m : missed.values()) {
            java.util.regex.Matcher u = java.util.regex.Pattern.compile("users:\\(\\(\"([^\"]*)\",pid=(\\d+)")
                    .matcher(m);
            java.util.regex.Matcher c =
                    java.util.regex.Pattern.compile("\\scgroup:(\\S+)").matcher(m);
            missedBy.merge(
                    (u.find() ? u.group(1) + " (" + u.group(2) + ")" : "?") + (c.find() ? " cgroup " + c.group(1) : ""),
                    1,
                    Integer::sum);
        }
        missedBy.forEach((who, n) -> out.println("  missed, by process: " + who + ": " + n));
        print(out, "false end", falseEnds.values());
        print(out, "missed", missed.values());
        print(out, "phantom", phantom.values());
        print(out, "no owner", noOwner);
        print(out, "sockflow's own", own);
        return falseEnds.size() + missed.size() + phantom.size() + noOwner.size() + own.size() + (int) timedOut;
    }

    private static boolean held(Snapshot s, String key) {
        return s.sockets().containsKey(key);
    }

    /** Whether /proc showed the lifecycle's owner holding its inode (how a socket in no socket table is seen). */
    private static boolean heldInProc(Snapshot s, SocketLifecycle l) {
        Set<Integer> pids = s.held().get(l.getSocketInode());
        return pids != null && l.getPid() != null && pids.contains(l.getPid());
    }

    private static void print(java.io.PrintStream out, String what, java.util.Collection<String> lines) {
        int n = 0;
        for (String l : lines) {
            if (n++ == 20) {
                out.println("  ... " + (lines.size() - 20) + " more " + what);
                break;
            }
            out.println("  " + what + ": " + l);
        }
    }

    /** A lake row as the lifecycle record (the fields the checks read). */
    static SocketLifecycle fromRow(Map<String, Object> r) {
        SocketLifecycle l = new SocketLifecycle();
        l.setFamily((String) r.get("family"));
        l.setProtocol((String) r.get("protocol"));
        l.setSocketCookie((Long) r.get("socketCookie"));
        l.setSocketInode((Long) r.get("socketInode"));
        l.setStatus(LifecycleStatus.valueOf(String.valueOf(r.get("status"))));
        l.setRole(io.sockflow.schemas.SocketRole.valueOf(String.valueOf(r.get("role"))));
        l.setPid((Integer) r.get("pid"));
        l.setComm((String) r.get("comm"));
        l.setLocalAddress((String) r.get("localAddress"));
        l.setLocalPort((Integer) r.get("localPort"));
        l.setCreatedAt(instant(r.get("createdAt")));
        l.setInventoriedAt(instant(r.get("inventoriedAt")));
        l.setClosedAt(instant(r.get("closedAt")));
        l.setEndReason((String) r.get("endReason"));
        return l;
    }

    private static Instant instant(Object v) {
        if (v == null) {
            return null;
        }
        if (v instanceof Instant i) {
            return i;
        }
        if (v instanceof java.time.OffsetDateTime o) {
            return o.toInstant();
        }
        if (v instanceof java.time.LocalDateTime d) {
            return d.toInstant(java.time.ZoneOffset.UTC);
        }
        return Instant.parse(v.toString());
    }
}
