package io.sockflow.collector.sockets;

import io.sockflow.collector.decode.Kinds;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.SocketIdentity;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The collector's view of the sockets that exist on this host, kept from the records as they pass, single-threaded on
 * the capture thread. It is what lets the records tell the truth before they leave the host:
 * <ul>
 * <li>identity: an inet record that came without its cookie (a socket older than the capture, seen before the
 * inventory gave it one) gets it from an earlier record of the same inode, or waits for one;</li>
 * <li>owners: a record made in kernel context (a TCP state change in softirq) is attributed to the process that owns
 * its socket, not to whatever task the kernel ran in; when the owner exits while another process still holds the socket,
 * a descriptor walk finds who holds it now and an OWNER_CHANGE record says so;</li>
 * <li>ends: every lifecycle ends with one SOCK_RELEASE. For inet sockets the kernel's release hook makes it; for other
 * families (whose release has no hook) the descriptor drop that held the file's last reference does, and a periodic
 * descriptor walk (the sweep) ends what went without either being seen (cause UNSEEN);</li>
 * <li>exec: descriptors dropped by an exec's close-on-exec wait for the exec's outcome and are forgotten if it
 * failed;</li>
 * <li>self-exclusion: records of sockets owned by excluded processes (sockflow's own) are dropped and counted.</li>
 * </ul>
 */
public final class SocketTracker {
    /** Who owns (or holds) a socket. */
    public record Proc(
            int pid, int tid, long startNs, String comm, int uid, int gid, long cgroupId, String containerId) {
        static Proc of(SocketEvent e) {
            return new Proc(
                    e.getPid(),
                    e.getTid(),
                    e.getProcessStartNs(),
                    e.getComm(),
                    e.getUid(),
                    e.getGid(),
                    e.getCgroupId(),
                    e.getContainerId());
        }
    }

    /** What it takes to decide what is excluded. */
    public record Options(
            Set<Integer> excludedPids,
            Set<Long> excludedCgroups,
            Set<Integer> onlyPids,
            boolean releaseHook,
            long holdNs,
            long execHoldNs,
            int maxSockets) {
        public static Options defaults() {
            return new Options(Set.of(), Set.of(), Set.of(), true, 1_000_000_000L, 5_000_000_000L, 1 << 20);
        }

        public Options withExcluded(Set<Integer> pids, Set<Long> cgroups) {
            return new Options(
                    Set.copyOf(pids), Set.copyOf(cgroups), onlyPids, releaseHook, holdNs, execHoldNs, maxSockets);
        }

        public Options withOnly(Set<Integer> pids) {
            return new Options(
                    excludedPids, excludedCgroups, Set.copyOf(pids), releaseHook, holdNs, execHoldNs, maxSockets);
        }

        public Options withReleaseHook(boolean hook) {
            return new Options(excludedPids, excludedCgroups, onlyPids, hook, holdNs, execHoldNs, maxSockets);
        }
    }

    /** Counters of what the tracker did, for the collector's report and metrics. */
    public record Stats(
            int live,
            long unresolvedIdentities,
            long unknownOwners,
            long excluded,
            long afterRelease,
            long ownerChanges,
            long sweptEnds,
            long sweptFound,
            long execDropsDiscarded,
            long walks) {}

    private static final class Entry {
        final String family;
        final long inode;
        Proc owner;
        boolean excluded;
        final long sinceNs;
        SocketEvent template; // a record of the socket with its addresses, for what the tracker makes itself
        int handoverTries;
        String lastDropCause; // how its last descriptor went, for a release that came without its cause

        Entry(String family, long inode, Proc owner, boolean excluded, long sinceNs) {
            this.family = family;
            this.inode = inode;
            this.owner = owner;
            this.excluded = excluded;
            this.sinceNs = sinceNs;
        }
    }

    private record Held(long sinceNs, SocketEvent event) {}

    private static final int RECENTLY_RELEASED = 65_536;

    private final Options o;
    private final Map<String, Entry> table = new HashMap<>();
    /** inet sockets' inode to cookie, for records that came without the cookie */
    private final Map<Long, Long> cookieByInode = new HashMap<>();
    /**
     * Sockets released lately, with their last owner: the kernel goes on with a TCP socket after its release (FIN_WAIT,
     * the last state changes), and those records are still attributed to it.
     */
    private final LinkedHashMap<String, Proc> released = new LinkedHashMap<>(1024, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Proc> eldest) {
            return size() > RECENTLY_RELEASED;
        }
    };
    /** kernel-context records waiting for their socket's owner, by identity key */
    private final Map<String, ArrayDeque<Held>> awaitingOwner = new LinkedHashMap<>();
    /** inet records waiting for their cookie, by inode */
    private final Map<Long, ArrayDeque<Held>> awaitingCookie = new LinkedHashMap<>();
    /** releases without their cause (kernels whose release hook cannot tell it) waiting for their drop, by identity key */
    private final Map<String, Held> releaseAwaitingCause = new LinkedHashMap<>();
    /** close-on-exec drops waiting for their exec's outcome, by pid */
    private final Map<Integer, ArrayDeque<Held>> awaitingExec = new LinkedHashMap<>();
    /** sockets whose owner exited while others held them */
    private final Set<String> handover = new HashSet<>();

    private long unresolved;
    private long unknownOwners;
    private long excludedCount;
    private long afterRelease;
    private long ownerChanges;
    private long sweptEnds;
    private long sweptFound;
    private long execDiscarded;
    private long walks;

    // the walk in progress: every holder of every socket seen, by identity key
    private Map<String, List<SocketEvent>> walk;
    private long walkStartNs;

    public SocketTracker(Options o) {
        this.o = o;
    }

    public Stats stats() {
        return new Stats(
                table.size(),
                unresolved,
                unknownOwners,
                excludedCount,
                afterRelease,
                ownerChanges,
                sweptEnds,
                sweptFound,
                execDiscarded,
                walks);
    }

    /** Whether a walk would settle something now: an owner gone while others hold its socket. */
    public boolean wantsWalk() {
        return !handover.isEmpty();
    }

    private boolean excludedProc(int pid, long cgroup) {
        return o.excludedPids().contains(pid)
                || o.excludedCgroups().contains(cgroup)
                || !o.onlyPids().isEmpty() && !o.onlyPids().contains(pid);
    }

    private static boolean creates(EventKind k) {
        return k == EventKind.SOCKET
                || k == EventKind.SOCKETPAIR
                || k == EventKind.ACCEPT
                || k == EventKind.ACCEPT4
                || k == EventKind.SOCK_CREATE;
    }

    /**
     * Takes one decoded record; what is ready goes to {@code out}, in order. A record the tracker may hold is copied,
     * so {@code e} may be an object the caller reuses.
     *
     * @param pendingExec an FD_DROP seen as an exec began, valid only if the exec succeeds
     * @param kthread     a SOCK_RELEASE made by a kernel thread (its task is no actor)
     */
    public void accept(SocketEvent e, boolean pendingExec, boolean kthread, long nowNs, Consumer<SocketEvent> out) {
        EventKind k = e.getKind();
        if (k == EventKind.EXEC) {
            execOutcome(e, out);
            return;
        }
        if (k == EventKind.FD_DROP && pendingExec) {
            awaitingExec.computeIfAbsent(e.getPid(), p -> new ArrayDeque<>()).add(new Held(nowNs, copy(e)));
            return;
        }
        if (!resolveCookie(e, nowNs)) {
            return; // held until its cookie is known
        }
        route(e, kthread, nowNs, out);
    }

    /** Fills a missing inet cookie from the inode; false when the record was held to wait for it. */
    private boolean resolveCookie(SocketEvent e, long nowNs) {
        Long inode = e.getSocketInode();
        Long cookie = e.getSocketCookie();
        if (inode == null || inode == 0 || !SocketIdentity.inet(e.getFamily())) {
            return true;
        }
        if (cookie != null && cookie != 0) {
            cookieByInode.put(inode, cookie);
            return true;
        }
        Long known = cookieByInode.get(inode);
        if (known != null) {
            e.setSocketCookie(known);
            return true;
        }
        if (e.getKind() == EventKind.INVENTORY) {
            return true; // an inet socket of a family the inventory's iterators do not cover (raw, ping): by inode
        }
        awaitingCookie.computeIfAbsent(inode, i -> new ArrayDeque<>()).add(new Held(nowNs, copy(e)));
        return false;
    }

    private void route(SocketEvent e, boolean kthread, long nowNs, Consumer<SocketEvent> out) {
        // a record with both names releases the records of that inode that waited for the cookie
        if (e.getSocketCookie() != null && e.getSocketInode() != null && !awaitingCookie.isEmpty()) {
            ArrayDeque<Held> waiting = awaitingCookie.remove(e.getSocketInode());
            if (waiting != null) {
                for (Held h : waiting) {
                    h.event().setSocketCookie(e.getSocketCookie());
                    route(h.event(), false, nowNs, out);
                }
            }
        }
        EventKind k = e.getKind();
        String key = SocketIdentity.local(e.getFamily(), e.getSocketCookie(), e.getSocketInode());
        if (key == null) {
            out.accept(e); // no socket: sethostname, an exec, the host's counters, a reset for no socket
            return;
        }
        if (Kinds.kernelContext(k)) {
            kernelRecord(key, e, nowNs, out);
            return;
        }
        Entry entry = table.get(key);
        if (creates(k) && e.getReturnValue() >= 0) {
            entry = learn(key, e, Proc.of(e), out);
            if (k == EventKind.SOCKETPAIR && e.getRelatedSocketInode() != null) {
                SocketEvent end = otherEnd(e);
                String other = SocketIdentity.local(end.getFamily(), end.getSocketCookie(), end.getSocketInode());
                if (other != null) {
                    learn(other, end, Proc.of(e), out);
                    released.remove(other);
                }
            }
            released.remove(key);
        } else if (k == EventKind.INVENTORY) {
            entry = inventoried(key, e, out);
        } else if (entry == null && k != EventKind.CLOSE && k != EventKind.FD_DROP && k != EventKind.SOCK_RELEASE) {
            // a call on a socket the tracker has not met (its creation dropped, or filtered): its caller holds it
            entry = learn(key, e, Proc.of(e), out);
        }
        if (entry != null && entry.excluded || entry == null && excludedProc(e.getPid(), e.getCgroupId())) {
            excludedCount++;
            if (k == EventKind.SOCK_RELEASE || lastDrop(e)) {
                forget(key);
            }
            return;
        }
        switch (k) {
            case SOCK_RELEASE -> {
                if (kthread && entry != null) {
                    attribute(e, entry.owner, "SOCKET_OWNER");
                }
                forget(key);
                if (e.getCause() == null) {
                    // a kernel whose release hook cannot tell the cause: the drop of the last descriptor says it
                    if (entry == null || entry.lastDropCause == null) {
                        // close() and dup2() release before they return, so their drop comes right after
                        releaseAwaitingCause.put(key, new Held(nowNs, copy(e)));
                        return;
                    }
                    e.setCause(entry.lastDropCause);
                }
                out.accept(e);
            }
            case CLOSE, FD_DROP -> {
                out.accept(e);
                if (entry != null && lastDrop(e)) {
                    entry.lastDropCause = e.getCause();
                }
                Held waiting = lastDrop(e) ? releaseAwaitingCause.remove(key) : null;
                if (waiting != null) {
                    waiting.event().setCause(e.getCause());
                    out.accept(waiting.event());
                }
                if (k == EventKind.FD_DROP
                        && "EXIT".equals(e.getCause())
                        && !Boolean.TRUE.equals(e.getLastReference())
                        && entry != null
                        && entry.owner != null
                        && entry.owner.pid() == e.getPid()) {
                    handover.add(key); // the owner is gone and someone else holds the socket: find who
                }
                if (lastDrop(e) && (!o.releaseHook() || !SocketIdentity.inet(e.getFamily()))) {
                    // no release hook for this socket: the drop of its last reference is its end
                    out.accept(releaseFrom(e, e.getCause()));
                    forget(key);
                }
            }
            default -> out.accept(e);
        }
    }

    private static boolean lastDrop(SocketEvent e) {
        return (e.getKind() == EventKind.CLOSE || e.getKind() == EventKind.FD_DROP)
                && Boolean.TRUE.equals(e.getLastReference())
                && e.getReturnValue() >= 0;
    }

    /** A socketpair record as its second end sees it. */
    static SocketEvent otherEnd(SocketEvent e) {
        SocketEvent other = copy(e);
        other.setSocketInode(e.getRelatedSocketInode());
        other.setRelatedSocketInode(e.getSocketInode());
        other.setSocketCookie(e.getRelatedSocketCookie());
        other.setRelatedSocketCookie(e.getSocketCookie());
        other.setSocketKernelAddress(e.getRelatedSocketKernelAddress());
        other.setRelatedSocketKernelAddress(e.getSocketKernelAddress());
        other.setFd(e.getResultFd2());
        return other;
    }

    private Entry learn(String key, SocketEvent e, Proc owner, Consumer<SocketEvent> out) {
        Entry entry = table.get(key);
        if (entry == null) {
            if (table.size() >= o.maxSockets()) {
                return null; // bounded: a host with more sockets than this is attributed less, never grows the heap
            }
            entry = new Entry(
                    e.getFamily(),
                    e.getSocketInode() == null ? 0 : e.getSocketInode(),
                    owner,
                    excludedProc(owner.pid(), owner.cgroupId()),
                    e.getMonotonicNs());
            table.put(key, entry);
        }
        if (e.getLocalPort() != null || entry.template == null) {
            entry.template = copy(e);
        }
        releaseAwaitingOwner(key, entry, out);
        return entry;
    }

    /** The inventory's holder with the earliest start owns the socket: usually the process that made it. */
    private Entry inventoried(String key, SocketEvent e, Consumer<SocketEvent> out) {
        Entry entry = table.get(key);
        Proc holder = Proc.of(e);
        if (entry == null) {
            return learn(key, e, holder, out);
        }
        boolean holderExcluded = excludedProc(holder.pid(), holder.cgroupId());
        if (entry.owner == null || holder.startNs() < entry.owner.startNs()) {
            entry.owner = holder;
            entry.excluded = holderExcluded;
        }
        return entry;
    }

    private void forget(String key) {
        Entry entry = table.remove(key);
        if (entry != null && entry.inode != 0) {
            cookieByInode.remove(entry.inode);
        }
        handover.remove(key);
        released.put(key, entry == null || entry.excluded ? EXCLUDED : entry.owner);
    }

    /** The owner recorded for a released socket of an excluded process: its stragglers are dropped too. */
    private static final Proc EXCLUDED = new Proc(-1, -1, -1, "", -1, -1, -1, null);

    /** Kernel-context records: attributed to the socket's owner, or held briefly for an owner about to be known. */
    private void kernelRecord(String key, SocketEvent e, long nowNs, Consumer<SocketEvent> out) {
        Entry entry = table.get(key);
        if (entry != null) {
            if (entry.excluded) {
                excludedCount++;
                return;
            }
            attribute(e, entry.owner, "SOCKET_OWNER");
            out.accept(e);
            return;
        }
        Proc last = released.get(key);
        if (last != null) {
            if (last == EXCLUDED) {
                excludedCount++;
                return;
            }
            afterRelease++; // the kernel goes on with a TCP socket after its release (FIN_WAIT, the last states)
            attribute(e, last, "SOCKET_OWNER");
            out.accept(e);
            return;
        }
        // the server side of a handshake fires before accept() returns the socket: wait for it
        awaitingOwner.computeIfAbsent(key, x -> new ArrayDeque<>()).add(new Held(nowNs, copy(e)));
    }

    private void releaseAwaitingOwner(String key, Entry entry, Consumer<SocketEvent> out) {
        ArrayDeque<Held> waiting = awaitingOwner.remove(key);
        if (waiting == null) {
            return;
        }
        for (Held h : waiting) {
            if (entry.excluded) {
                excludedCount++;
            } else {
                attribute(h.event(), entry.owner, "SOCKET_OWNER");
                out.accept(h.event());
            }
        }
    }

    private static void attribute(SocketEvent e, Proc p, String how) {
        if (p == null) {
            return;
        }
        e.setAttribution(how);
        e.setPid(p.pid());
        e.setTid(p.tid());
        e.setProcessStartNs(p.startNs());
        e.setComm(p.comm());
        e.setUid(p.uid());
        e.setGid(p.gid());
        e.setCgroupId(p.cgroupId());
        e.setContainerId(p.containerId());
    }

    private void execOutcome(SocketEvent exec, Consumer<SocketEvent> out) {
        ArrayDeque<Held> drops = awaitingExec.remove(exec.getPid());
        boolean ok = exec.getReturnValue() == 0;
        if (!excludedProc(exec.getPid(), exec.getCgroupId())) {
            out.accept(exec);
        }
        if (drops == null) {
            return;
        }
        for (Held h : drops) {
            if (!ok) {
                execDiscarded++; // the exec failed: the descriptors stayed
                continue;
            }
            SocketEvent d = h.event();
            if (resolveCookie(d, h.sinceNs())) {
                route(d, false, h.sinceNs(), out);
            }
        }
    }

    /** A SOCK_RELEASE the tracker makes itself: from the drop of the last reference, or from the sweep. */
    private static SocketEvent releaseFrom(SocketEvent from, String cause) {
        SocketEvent r = copy(from);
        r.setKind(EventKind.SOCK_RELEASE);
        r.setCause(cause);
        r.setLastReference(null);
        r.setFd(null);
        r.setDurationNs(0L);
        r.setReturnValue(0L);
        r.setErrno(null);
        return r;
    }

    private static final int FIELDS = SocketEvent.getClassSchema().getFields().size();

    /**
     * A copy of a record, field by field. Strings, enums and boxed numbers are immutable and shared; the one bytes
     * field is copied. Avro's builder (validation and a deep copy of every value) had been a quarter of the capture
     * thread's time under an HTTP load, since a socket's record is kept as its template nearly every time.
     */
    static SocketEvent copy(SocketEvent e) {
        SocketEvent r = new SocketEvent();
        for (int i = 0; i < FIELDS; i++) {
            Object v = e.get(i);
            if (v instanceof java.nio.ByteBuffer b) {
                byte[] bytes = new byte[b.remaining()];
                b.duplicate().get(bytes);
                v = java.nio.ByteBuffer.wrap(bytes);
            } else if (v instanceof java.util.Collection<?> || v instanceof Map<?, ?>) {
                v = org.apache.avro.specific.SpecificData.get()
                        .deepCopy(
                                SocketEvent.getClassSchema().getFields().get(i).schema(), v);
            }
            r.put(i, v);
        }
        return r;
    }

    /** Emits what waited too long: records without an owner or a cookie, drops of an exec never answered. */
    public void expire(long nowNs, Consumer<SocketEvent> out) {
        for (Iterator<Map.Entry<String, ArrayDeque<Held>>> it =
                        awaitingOwner.entrySet().iterator();
                it.hasNext(); ) {
            ArrayDeque<Held> q = it.next().getValue();
            if (nowNs - q.peekFirst().sinceNs() < o.holdNs()) {
                continue;
            }
            it.remove();
            for (Held h : q) {
                unknownOwner(h.event(), out);
            }
        }
        for (Iterator<Map.Entry<Long, ArrayDeque<Held>>> it =
                        awaitingCookie.entrySet().iterator();
                it.hasNext(); ) {
            ArrayDeque<Held> q = it.next().getValue();
            if (nowNs - q.peekFirst().sinceNs() < o.holdNs()) {
                continue;
            }
            it.remove();
            for (Held h : q) {
                unresolved++; // keyed by inode: the identity rule's fallback
                route(h.event(), false, nowNs, out);
            }
        }
        for (Iterator<Map.Entry<String, Held>> it =
                        releaseAwaitingCause.entrySet().iterator();
                it.hasNext(); ) {
            Held h = it.next().getValue();
            if (nowNs - h.sinceNs() < o.holdNs()) {
                continue;
            }
            it.remove();
            h.event().setCause("OTHER"); // no drop of its last descriptor came: another path released it
            out.accept(h.event());
        }
        for (Iterator<Map.Entry<Integer, ArrayDeque<Held>>> it =
                        awaitingExec.entrySet().iterator();
                it.hasNext(); ) {
            ArrayDeque<Held> q = it.next().getValue();
            if (nowNs - q.peekFirst().sinceNs() < o.execHoldNs()) {
                continue;
            }
            it.remove();
            execDiscarded +=
                    q.size(); // no outcome: the exec never returned (the process died in it, and its exit says)
        }
    }

    /**
     * The kernel time (monotonicNs) of the oldest record the tracker holds, or Long.MAX_VALUE when it holds none: no
     * record it lets go later is older than this.
     */
    public long oldestHeldNs() {
        long min = Long.MAX_VALUE;
        for (ArrayDeque<Held> q : awaitingOwner.values()) {
            min = Math.min(min, oldest(q));
        }
        for (ArrayDeque<Held> q : awaitingCookie.values()) {
            min = Math.min(min, oldest(q));
        }
        for (Held h : releaseAwaitingCause.values()) {
            min = Math.min(min, h.event().getMonotonicNs());
        }
        for (ArrayDeque<Held> q : awaitingExec.values()) {
            min = Math.min(min, oldest(q));
        }
        return min;
    }

    private static long oldest(ArrayDeque<Held> q) {
        long min = Long.MAX_VALUE;
        for (Held h : q) {
            min = Math.min(min, h.event().getMonotonicNs());
        }
        return min;
    }

    /** Everything held, now (at stop). */
    public void flush(Consumer<SocketEvent> out) {
        expire(Long.MAX_VALUE, out);
    }

    private void unknownOwner(SocketEvent e, Consumer<SocketEvent> out) {
        if (!o.onlyPids().isEmpty()) {
            excludedCount++; // a capture of some processes only: a socket never seen is someone else's
            return;
        }
        unknownOwners++;
        e.setAttribution("UNKNOWN");
        e.setPid(0);
        e.setTid(0);
        e.setComm("");
        out.accept(e);
    }

    // ---- the sockets that lived when the collector stopped ----

    /** A record of every socket the tracker knows to be alive (not sockflow's own): what the next start checks. */
    public List<SocketEvent> live() {
        List<SocketEvent> out = new ArrayList<>();
        for (Entry e : table.values()) {
            if (!e.excluded && e.template != null) {
                out.add(e.template);
            }
        }
        return out;
    }

    /**
     * Ends the sockets a previous run knew alive that the inventory did not find: they went while no collector ran
     * (SOCK_RELEASE, cause UNSEEN, at {@code nowBootNs}). A socket of another boot went with that boot.
     */
    public int endedWhileStopped(
            List<SocketEvent> previous,
            String bootId,
            long nowBootNs,
            java.time.Instant now,
            Consumer<SocketEvent> out) {
        int n = 0;
        for (SocketEvent p : previous) {
            String key = SocketIdentity.local(p.getFamily(), p.getSocketCookie(), p.getSocketInode());
            if (key == null || bootId.equals(p.getBootId()) && table.containsKey(key)) {
                continue;
            }
            SocketEvent r = releaseFrom(p, "UNSEEN");
            r.setMonotonicNs(bootId.equals(p.getBootId()) ? nowBootNs : p.getMonotonicNs() + 1);
            r.setTimestamp(now);
            r.setAttribution("UNKNOWN");
            sweptEnds++;
            n++;
            out.accept(r);
        }
        return n;
    }

    // ---- the descriptor walk: the sweep, and who holds a socket whose owner went ----

    /** Starts a walk; its records follow through {@link #walkRecord}, then {@link #endWalk}. */
    public void beginWalk(long bootNs) {
        walk = new HashMap<>();
        walkStartNs = bootNs;
        walks++;
    }

    /** One INVENTORY record of the walk (decoded). */
    public void walkRecord(SocketEvent e) {
        if (!resolveCookieQuietly(e)) {
            return;
        }
        String key = SocketIdentity.local(e.getFamily(), e.getSocketCookie(), e.getSocketInode());
        if (key != null) {
            walk.computeIfAbsent(key, x -> new ArrayList<>(1)).add(e);
        }
    }

    private boolean resolveCookieQuietly(SocketEvent e) {
        Long inode = e.getSocketInode();
        if ((e.getSocketCookie() == null || e.getSocketCookie() == 0)
                && inode != null
                && SocketIdentity.inet(e.getFamily())) {
            Long known = cookieByInode.get(inode);
            if (known != null) {
                e.setSocketCookie(known);
            }
        }
        return true;
    }

    /**
     * Ends a walk (after the ring buffer was drained, so the releases that happened before it are in): sockets the
     * tracker knew and the walk did not find went unseen (SOCK_RELEASE, cause UNSEEN); sockets the walk found and the
     * tracker did not know are announced (their INVENTORY records); a socket whose owner went gets the holder with the
     * earliest start as its new owner (OWNER_CHANGE).
     */
    public void endWalk(long nowNs, Consumer<SocketEvent> out) {
        Map<String, List<SocketEvent>> seen = walk;
        walk = null;
        if (seen == null) {
            return;
        }
        for (Iterator<Map.Entry<String, Entry>> it = table.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Entry> t = it.next();
            Entry entry = t.getValue();
            if (seen.containsKey(t.getKey()) || entry.sinceNs >= walkStartNs) {
                continue;
            }
            it.remove();
            if (entry.inode != 0) {
                cookieByInode.remove(entry.inode);
            }
            handover.remove(t.getKey());
            released.put(t.getKey(), entry.excluded ? EXCLUDED : entry.owner);
            if (entry.excluded || entry.template == null) {
                continue;
            }
            SocketEvent r = releaseFrom(entry.template, "UNSEEN");
            r.setMonotonicNs(walkStartNs);
            r.setTimestamp(entry.template.getTimestamp().plusNanos(walkStartNs - entry.template.getMonotonicNs()));
            attribute(r, entry.owner, "SOCKET_OWNER");
            r.setAttribution("UNKNOWN");
            sweptEnds++;
            out.accept(r);
        }
        for (Map.Entry<String, List<SocketEvent>> s : seen.entrySet()) {
            String key = s.getKey();
            Entry entry = table.get(key);
            if (entry == null) {
                if (released.containsKey(key)) {
                    continue; // released while the walk ran
                }
                List<SocketEvent> holders = new ArrayList<>();
                for (SocketEvent h : s.getValue()) {
                    if (!excludedProc(h.getPid(), h.getCgroupId())) {
                        holders.add(h);
                    }
                }
                if (holders.isEmpty()) {
                    continue; // someone else's socket in a filtered capture, or sockflow's own
                }
                sweptFound++; // its birth was not seen (a dropped record): announced as found
                for (SocketEvent h : holders) {
                    route(h, false, nowNs, out);
                }
            } else if (handover.contains(key)) {
                Proc old = entry.owner;
                SocketEvent best = null;
                for (SocketEvent h : s.getValue()) {
                    if ((old == null || h.getPid() != old.pid())
                            && (best == null || h.getProcessStartNs() < best.getProcessStartNs())) {
                        best = h;
                    }
                }
                if (best == null) {
                    if (++entry.handoverTries >= 5) {
                        handover.remove(key); // only the exiting owner seen, five times: its release will say the rest
                    }
                    continue;
                }
                handover.remove(key);
                entry.owner = Proc.of(best);
                entry.excluded = excludedProc(best.getPid(), best.getCgroupId());
                SocketEvent change = copy(best);
                change.setKind(EventKind.OWNER_CHANGE);
                change.setAttribution("HOLDER");
                ownerChanges++;
                if (!entry.excluded) {
                    out.accept(change);
                }
            }
        }
        handover.removeIf(k -> !table.containsKey(k));
    }
}
