package io.sockflow.jobs.lifecycle;

import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.LifecycleStatus;
import io.sockflow.schemas.ProcessRef;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.SocketIdentity;
import io.sockflow.schemas.SocketLifecycle;
import io.sockflow.schemas.SocketRole;
import java.io.Serializable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * What is known of one socket (one host, one boot, one identity: see {@link SocketIdentity}), folded from its
 * records. Every update is commutative and idempotent, so the result does not depend on the order records arrive in,
 * and a record seen twice counts once: phase times keep the earliest occurrence, owners and outcomes are decided by
 * the time of the record that says so, counters add only records not seen before. What the stream never showed (a
 * socket that existed before capture started) is reported as not seen, not guessed.
 *
 * <p>The rules, as the data model documents them:
 * <ul>
 * <li>it ends when the kernel released it: a SOCK_RELEASE record (the kernel's hook for inet sockets; for other
 * families the collector's, from the drop of the file's last reference or the sweep). A close() of one descriptor
 * among several is a call, not an end;</li>
 * <li>its owner is the process that created or accepted it, or at the start-up inventory the holder with the
 * earliest start; an OWNER_CHANGE (the owner went while another process held it) hands it over;</li>
 * <li>holders are other processes seen using it or holding it at the inventory, until they drop it;</li>
 * <li>the role comes from what it did (listen, accept, connect, socketpair) and its kernel state, never from who
 * closed it;</li>
 * <li>a connect's outcome comes from the TCP state and the socket's error, not from connect()'s EINPROGRESS.</li>
 * </ul>
 */
public final class SocketLifecycleState implements Serializable {
    private static final long serialVersionUID = 3L;
    static final int MAX_REMEMBERED = 1024;
    /** Holders kept at most (a socket shared by a prefork server's many workers is reported with the first ones). */
    static final int MAX_HOLDERS = 64;

    /** A process as the lifecycle knows it: who, since when it acted on the socket, and when it let go of it. */
    static final class Proc implements Serializable {
        private static final long serialVersionUID = 1L;
        int pid;
        long startNs;
        String comm;
        Integer uid;
        String containerId;
        long atNs;
        long droppedNs = Long.MIN_VALUE;

        static Proc of(SocketEvent e) {
            Proc p = new Proc();
            p.pid = e.getPid();
            p.startNs = e.getProcessStartNs();
            p.comm = e.getComm();
            p.uid = e.getUid();
            p.containerId = e.getContainerId();
            p.atNs = e.getMonotonicNs();
            return p;
        }

        boolean same(SocketEvent e) {
            return pid == e.getPid() && startNs == e.getProcessStartNs();
        }
    }

    private String host;
    private String bootId;
    private long inode;
    private Long cookie;
    private Long kernelAddress;
    private Long netns;
    private String family;
    private String socketType;
    private String protocol;
    // owners: by creation (earliest), by inventory (earliest start among holders), by hand-over (latest)
    private Proc creator;
    private Proc inventoryOwner;
    private Proc takenOver;
    private Proc firstCaller;
    private final Map<Integer, Proc> holders = new LinkedHashMap<>();
    private Long createdNs;
    private Long inventoriedNs;
    private Long boundNs;
    private Long listeningNs;
    private Long connectedNs;
    private Long shutdownNs;
    private Long releasedNs;
    private String releaseCause;
    private Proc releasedBy;
    private Long lastSeenNs;
    private long lastAddressNs = Long.MIN_VALUE;
    private long lastPeerNs = Long.MIN_VALUE;
    private boolean syscallAddress;
    private long publishedEvents = -1; // the first update is always published (a quiet listener shows up)
    private String localAddress;
    private Integer localPort;
    private String remoteAddress;
    private Integer remotePort;
    private Long listenerInode;
    private Long pairInode;
    private boolean listened;
    private boolean accepted;
    private boolean connected;
    private boolean pair;
    private boolean datagram;
    private String inventoryState;
    // a connect's outcome: pending since, the error connect() returned, and the earliest error the kernel reported for
    // the socket (its error report, a reset answering the SYN), each with its time
    private Long connectPendingNs;
    private String connectError;
    private long connectErrorNs = Long.MAX_VALUE;
    private String kernelError;
    private long kernelErrorNs = Long.MAX_VALUE;
    private long bytesSent;
    private long bytesReceived;
    private long messagesSent;
    private long messagesReceived;
    private long events;
    private long errors;
    private long lastErrorNs = Long.MIN_VALUE;
    private String lastError;
    private long kernelBytesSent;
    private long kernelBytesReceived;
    private long kernelMessagesSent;
    private long kernelMessagesReceived;
    private boolean kernelCounted;
    // the kernel's per-socket totals (SOCK_TOTALS): each record has them since the socket's birth, so the largest wins
    private long totalBytesSent;
    private long totalBytesReceived;
    private long totalCallsSent;
    private long totalCallsReceived;
    private long totalRetransmits;
    // the kernel's TCP counters: at the inventory (a baseline) and at the release (the whole life)
    private Long inventoryTcpSent;
    private Long inventoryTcpReceived;
    private Long releaseTcpSent;
    private Long releaseTcpReceived;
    private long retransmits;
    private long resetsSent;
    private long resetsReceived;
    private Long rttUs;
    private long rttAtNs = Long.MIN_VALUE;
    private Long rttMinUs;
    /**
     * (tid, monotonicNs, kind) of the latest records folded in: a record delivered twice is recognised. Bounded:
     * duplicates come from a producer resending what it sent just before, so a window of recent ids is enough.
     */
    private final LinkedHashSet<String> seen = new LinkedHashSet<>();
    /** boot-clock to wall-clock offset taken from the records themselves (the earliest one's) */
    private long wallOffsetNs;

    private long wallOffsetAtNs = Long.MAX_VALUE;

    /** Folds one record in; returns false when it was already folded in (a duplicate). */
    public boolean apply(SocketEvent e) {
        if (!seen.add(e.getTid() + "/" + e.getMonotonicNs() + "/" + e.getKind() + "/" + e.getPid())) {
            return false;
        }
        if (seen.size() > MAX_REMEMBERED) {
            seen.removeFirst();
        }
        long t = e.getMonotonicNs();
        if (t < wallOffsetAtNs) {
            // the wall clock comes in microseconds and the boot clock in nanoseconds, so each record gives an offset a
            // little different: the earliest record's is used, whatever the order the records came in
            Instant ts = e.getTimestamp();
            wallOffsetNs = ts.getEpochSecond() * 1_000_000_000L + ts.getNano() - t;
            wallOffsetAtNs = t;
        }
        identity(e);
        events++;
        lastSeenNs = lastSeenNs == null ? t : Math.max(lastSeenNs, t);
        EventKind k = e.getKind();
        boolean call = isCall(k);
        boolean ok = e.getReturnValue() >= 0;
        if (call && !ok) {
            errors++;
            if (t >= lastErrorNs) {
                lastErrorNs = t;
                lastError = e.getErrno();
            }
        }
        if (call && "CALLER".equals(e.getAttribution())) {
            if (firstCaller == null || earlier(t, e.getPid(), firstCaller)) {
                firstCaller = Proc.of(e);
            }
            holderUsed(e);
        }
        addresses(e, t, call);
        switch (k) {
            case SOCKET, SOCK_CREATE -> {
                if (ok) {
                    created(e, t);
                }
            }
            case SOCKETPAIR -> {
                if (ok) {
                    created(e, t);
                    pair = true;
                    pairInode = e.getSocketInode() != null && e.getSocketInode() == inode
                            ? e.getRelatedSocketInode()
                            : e.getSocketInode();
                }
            }
            case ACCEPT, ACCEPT4 -> {
                if (ok && sameSocket(e)) {
                    created(e, t);
                    connectedNs = min(connectedNs, t);
                    accepted = true;
                    listenerInode = e.getRelatedSocketInode();
                }
            }
            case INVENTORY -> inventory(e, t);
            case OWNER_CHANGE -> {
                if (takenOver == null || !earlier(t, e.getPid(), takenOver)) {
                    takenOver = Proc.of(e); // the latest hand-over
                }
                holders.remove(e.getPid());
            }
            case BIND -> {
                if (ok) {
                    boundNs = min(boundNs, t);
                }
            }
            case LISTEN -> {
                if (ok) {
                    listeningNs = min(listeningNs, t);
                    listened = true;
                }
            }
            case CONNECT -> connect(e, t, ok);
            case SHUTDOWN -> {
                if (ok) {
                    shutdownNs = min(shutdownNs, t);
                }
            }
            case CLOSE, FD_DROP -> dropped(e, t);
            case SOCK_RELEASE -> released(e, t);
            case SENDTO, SENDMSG, SENDMMSG -> {
                if (ok && e.getBytes() != null) {
                    bytesSent += e.getBytes();
                    messagesSent += k == EventKind.SENDMMSG ? e.getReturnValue() : 1;
                }
                if (e.getSockaddrBytes() != null && "SOCK_DGRAM".equals(e.getSocketType())) {
                    datagram = true;
                }
                datagramPeer(e, t);
            }
            case RECVFROM, RECVMSG, RECVMMSG -> {
                if (ok && e.getBytes() != null && e.getBytes() > 0) {
                    bytesReceived += e.getBytes();
                    messagesReceived += k == EventKind.RECVMMSG ? e.getReturnValue() : 1;
                }
                datagramPeer(e, t);
            }
            case TCP_STATE -> {
                if ("ESTABLISHED".equals(e.getTcpState())) {
                    connectedNs = min(connectedNs, t);
                    if ("SYN_SENT".equals(e.getTcpOldState())) {
                        connected = true;
                    }
                }
            }
            case SOCK_ERROR -> {
                if (e.getErrno() != null) {
                    kernelFailed(e.getErrno(), t);
                }
            }
            case SOCK_SEND -> {
                kernelCounted = true;
                if (e.getBytes() != null && e.getBytes() > 0) {
                    kernelBytesSent += e.getBytes();
                    kernelMessagesSent++;
                }
            }
            case SOCK_RECV -> {
                kernelCounted = true;
                if (e.getBytes() != null && e.getBytes() > 0) {
                    kernelBytesReceived += e.getBytes();
                    kernelMessagesReceived++;
                }
            }
            case SOCK_TOTALS -> totals(e, t);
            case TCP_RETRANSMIT -> retransmits += e.getCount() != null && e.getCount() > 0 ? e.getCount() : 1;
            case TCP_SEND_RESET -> resetsSent++;
            case TCP_RECEIVE_RESET -> {
                resetsReceived++;
                if ("SYN_SENT".equals(e.getTcpState())) {
                    kernelFailed("ECONNREFUSED", t); // a reset in answer to our SYN
                }
            }
            case TCP_RTT -> {
                if (e.getRttUs() != null && t >= rttAtNs) {
                    rttAtNs = t;
                    rttUs = e.getRttUs();
                }
                Long low = e.getRttMinUs() != null ? e.getRttMinUs() : e.getRttUs();
                if (low != null) {
                    rttMinUs = rttMinUs == null ? low : Math.min(rttMinUs, low);
                }
            }
            default -> {}
        }
        return true;
    }

    /** System calls and descriptor records: what a process did to the socket (not what the kernel did with it). */
    private static boolean isCall(EventKind k) {
        return switch (k) {
            case SOCKET,
                    SOCKETPAIR,
                    SETSOCKOPT,
                    GETSOCKOPT,
                    GETSOCKNAME,
                    GETPEERNAME,
                    BIND,
                    LISTEN,
                    ACCEPT,
                    ACCEPT4,
                    CONNECT,
                    SHUTDOWN,
                    RECVFROM,
                    RECVMSG,
                    RECVMMSG,
                    SENDTO,
                    SENDMSG,
                    SENDMMSG,
                    CLOSE -> true;
            default -> false;
        };
    }

    private boolean sameSocket(SocketEvent e) {
        return SocketIdentity.local(e.getFamily(), e.getSocketCookie(), e.getSocketInode())
                .equals(SocketIdentity.local(family, cookie, inode == 0 ? null : inode));
    }

    private void identity(SocketEvent e) {
        host = e.getHost();
        bootId = e.getBootId();
        if (e.getSocketInode() != null && e.getSocketInode() != 0) {
            inode = e.getSocketInode();
        }
        if (e.getSocketCookie() != null && e.getSocketCookie() != 0) {
            cookie = e.getSocketCookie();
        }
        if (e.getSocketKernelAddress() != null) {
            kernelAddress = e.getSocketKernelAddress();
        }
        if (e.getNetns() != null) {
            netns = e.getNetns();
        }
        if (e.getFamily() != null) {
            family = e.getFamily();
        }
        if (e.getSocketType() != null) {
            socketType = e.getSocketType();
            protocol = e.getProtocol();
        }
    }

    // addresses from the socket's own calls win over those of kernel records
    private void addresses(SocketEvent e, long t, boolean call) {
        if (e.getLocalPort() != null && (call || !syscallAddress) && (t >= lastAddressNs || call && !syscallAddress)) {
            syscallAddress |= call;
            lastAddressNs = t;
            localAddress = e.getLocalAddress();
            localPort = e.getLocalPort();
            if (e.getRemotePort() != null && e.getRemotePort() != 0) {
                remoteAddress = e.getRemoteAddress();
                remotePort = e.getRemotePort();
            }
        }
    }

    private void created(SocketEvent e, long t) {
        createdNs = min(createdNs, t);
        if (creator == null || earlier(t, e.getPid(), creator)) {
            creator = Proc.of(e);
        }
    }

    /** Whether a record at t by pid comes before what p says, ties broken by pid: the same answer in any order. */
    private static boolean earlier(long t, int pid, Proc p) {
        return t < p.atNs || t == p.atNs && pid < p.pid;
    }

    /** One holder at the inventory: the one with the earliest start owns the socket, the others hold it. */
    private void inventory(SocketEvent e, long t) {
        inventoriedNs = min(inventoriedNs, t);
        Proc p = Proc.of(e);
        if (inventoryOwner == null
                || p.startNs < inventoryOwner.startNs
                || p.startNs == inventoryOwner.startNs && p.pid < inventoryOwner.pid) {
            if (inventoryOwner != null) {
                holder(inventoryOwner);
            }
            inventoryOwner = p;
        } else {
            holder(p);
        }
        if (e.getSocketState() != null) {
            inventoryState = e.getSocketState();
            if ("LISTEN".equals(inventoryState)) {
                listened = true;
            } else if (e.getRelatedSocketInode() != null && e.getRelatedSocketInode() != 0) {
                accepted = true; // on the port of a listener: the collector names the listener it came from
                listenerInode = e.getRelatedSocketInode();
            }
        }
        if (e.getKernelBytesSent() != null) {
            inventoryTcpSent = e.getKernelBytesSent();
            inventoryTcpReceived = e.getKernelBytesReceived();
        }
    }

    private void holder(Proc p) {
        Proc h = holders.get(p.pid);
        if (h == null) {
            if (holders.size() < MAX_HOLDERS) {
                holders.put(p.pid, p);
            }
        } else {
            h.atNs = Math.max(h.atNs, p.atNs);
        }
    }

    private void holderUsed(SocketEvent e) {
        holder(Proc.of(e));
    }

    /** A descriptor dropped: that process no longer holds it (the common case of one descriptor per process). */
    private void dropped(SocketEvent e, long t) {
        if (e.getReturnValue() < 0) {
            return;
        }
        Proc h = holders.get(e.getPid());
        if (h != null) {
            h.droppedNs = Math.max(h.droppedNs, t);
        }
    }

    private void released(SocketEvent e, long t) {
        if (releasedNs == null || t < releasedNs) {
            releasedNs = t;
            releaseCause = e.getCause() != null ? e.getCause() : "OTHER";
            releasedBy = "CALLER".equals(e.getAttribution()) ? Proc.of(e) : null;
        }
        if (e.getKernelBytesSent() != null) {
            releaseTcpSent = e.getKernelBytesSent();
            releaseTcpReceived = e.getKernelBytesReceived();
        }
        if (e.getTotalsFinal() != null) {
            totals(e, t); // the socket's last totals ride on its release (aggregate data path)
        }
    }

    /**
     * The kernel's per-socket totals since its birth: a SOCK_TOTALS record, or the SOCK_RELEASE that carries the last
     * ones (totalsFinal); the largest of each wins.
     */
    private void totals(SocketEvent e, long t) {
        kernelCounted = true;
        totalBytesSent = Math.max(totalBytesSent, orZero(e.getBytesSent()));
        totalBytesReceived = Math.max(totalBytesReceived, orZero(e.getBytesReceived()));
        totalCallsSent = Math.max(totalCallsSent, orZero(e.getCallsSent()));
        totalCallsReceived = Math.max(totalCallsReceived, orZero(e.getCallsReceived()));
        totalRetransmits = Math.max(totalRetransmits, orZero(e.getRetransmits()));
        if (e.getRttUs() != null && e.getRttUs() > 0 && t >= rttAtNs) {
            rttAtNs = t;
            rttUs = e.getRttUs();
        }
        // aggregate mode: the RTT's range over the socket's calls, in place of TCP_RTT records
        if (e.getRttMinUs() != null && e.getRttMinUs() > 0) {
            rttMinUs = rttMinUs == null ? e.getRttMinUs() : Math.min(rttMinUs, e.getRttMinUs());
        }
    }

    private void connect(SocketEvent e, long t, boolean ok) {
        if (ok) {
            connectedNs = min(connectedNs, t);
            connected = true;
        } else if ("EINPROGRESS".equals(e.getErrno()) || "EALREADY".equals(e.getErrno())) {
            connectPendingNs = min(connectPendingNs, t);
            connected = "SOCK_DGRAM".equals(socketType) || connected;
        } else if ("EISCONN".equals(e.getErrno())) {
            connected = true; // a repeated connect after a non-blocking one succeeded
        } else {
            connectPendingNs = min(connectPendingNs, t);
            connectFailed(e.getErrno(), t);
        }
    }

    private void connectFailed(String errno, long t) {
        if (errno != null && (t < connectErrorNs || t == connectErrorNs && errno.compareTo(connectError) < 0)) {
            connectErrorNs = t;
            connectError = errno;
        }
    }

    private void kernelFailed(String errno, long t) {
        if (t < kernelErrorNs || t == kernelErrorNs && errno.compareTo(kernelError) < 0) {
            kernelErrorNs = t;
            kernelError = errno;
        }
    }

    /** The error that ended a connect attempt, whichever came first (connect() said it, or the kernel did). */
    private String attemptError() {
        if (!attempted()) {
            return null;
        }
        if (connectError != null && (kernelError == null || connectErrorNs <= kernelErrorNs)) {
            return connectError;
        }
        return kernelError;
    }

    private long attemptErrorNs() {
        return Math.min(connectErrorNs, attempted() ? kernelErrorNs : Long.MAX_VALUE);
    }

    private boolean attempted() {
        return connectPendingNs != null
                || connected && !accepted && !"SOCK_DGRAM".equals(socketType)
                || connectError != null;
    }

    /**
     * An unconnected datagram socket has no peer of its own: the address of its latest sendto/recvfrom stands for
     * it (exact for a socket that talks to one peer; the last peer otherwise).
     */
    private void datagramPeer(SocketEvent e, long t) {
        boolean dgram = "SOCK_DGRAM".equals(e.getSocketType());
        boolean unconnected = e.getRemotePort() == null || e.getRemotePort() == 0;
        if (dgram
                && unconnected
                && e.getReturnValue() >= 0
                && e.getSockaddrPort() != null
                && e.getSockaddrPort() != 0
                && t >= lastPeerNs) {
            lastPeerNs = t;
            remoteAddress = e.getSockaddrAddress();
            remotePort = e.getSockaddrPort();
        }
    }

    private static Long min(Long a, long b) {
        return a == null ? b : Math.min(a, b);
    }

    public long eventCount() {
        return events;
    }

    /** Events folded in when the last update was published. */
    public long publishedEvents() {
        return publishedEvents;
    }

    public void published() {
        publishedEvents = events;
    }

    /** Whether the kernel released the socket: its lifecycle is over. */
    public boolean closed() {
        return releasedNs != null;
    }

    public Long lastSeenNs() {
        return lastSeenNs;
    }

    /** Wall-clock milliseconds of the newest event (the event time timers are set against). */
    public long lastSeenMillis() {
        return Math.floorDiv(lastSeenNs + wallOffsetNs, 1_000_000L);
    }

    /** Wall-clock milliseconds of the release, or Long.MIN_VALUE when not released. */
    public long closedMillis() {
        return releasedNs == null ? Long.MIN_VALUE : Math.floorDiv(releasedNs + wallOffsetNs, 1_000_000L);
    }

    /** Whether the connection came up: a successful connect, an accept, or the TCP handshake. */
    private boolean isConnected() {
        return connected && connectedNs != null
                || accepted
                || connectedNs != null && (attemptError() == null || connectedNs < attemptErrorNs())
                || "SOCK_DGRAM".equals(socketType) && connected;
    }

    /** Connected (or accepted) with both ends known: a flow can be opened for it. */
    public boolean connectedWithEndpoints() {
        return (connectedNs != null || connected || "ESTABLISHED".equals(inventoryState))
                && localPort != null
                && remotePort != null
                && (attemptError() == null || connectedNs != null && connectedNs < attemptErrorNs());
    }

    /** The owner: the latest hand-over, else the creator, else the inventory's, else the first process seen acting. */
    Proc owner() {
        if (takenOver != null) {
            return takenOver;
        }
        if (creator != null) {
            return creator;
        }
        return inventoryOwner != null ? inventoryOwner : firstCaller;
    }

    String ownerSource() {
        return takenOver != null
                ? "TAKEN_OVER"
                : creator != null
                        ? "CREATED"
                        : inventoryOwner != null ? "INVENTORY" : firstCaller != null ? "FIRST_SEEN" : null;
    }

    SocketRole role() {
        if (pair) {
            return SocketRole.PAIR;
        }
        if (listened) {
            return SocketRole.LISTENER;
        }
        if (accepted) {
            return SocketRole.ACCEPTED;
        }
        if (attempted()) {
            return "SOCK_DGRAM".equals(socketType) ? SocketRole.DATAGRAM : SocketRole.CLIENT;
        }
        if (datagram || "SOCK_DGRAM".equals(socketType)) {
            return SocketRole.DATAGRAM;
        }
        if (inventoryState != null && "TCP".equals(protocol) && remotePort != null && remotePort != 0) {
            return SocketRole
                    .CLIENT; // connected before capture started, and not on a listener's port: it connected out
        }
        if ("ESTABLISHED".equals(inventoryState)) {
            return SocketRole
                    .UNKNOWN; // a unix socket connected before capture started: by connect, accept or socketpair
        }
        return events > 0 && family != null ? SocketRole.UNCONNECTED : SocketRole.UNKNOWN;
    }

    /** CONNECTED, the error that ended the attempt, ABANDONED (released while connecting), IN_PROGRESS, or null. */
    String connectOutcome() {
        if (!attempted()) {
            return null;
        }
        String error = attemptError();
        if (connectedNs != null && (error == null || connectedNs < attemptErrorNs())
                || connected && connectPendingNs == null && error == null) {
            return "CONNECTED";
        }
        if (error != null) {
            return error;
        }
        return releasedNs != null ? "ABANDONED" : "IN_PROGRESS";
    }

    private Instant wall(Long bootNs) {
        if (bootNs == null) {
            return null;
        }
        long n = bootNs + wallOffsetNs;
        return Instant.ofEpochSecond(Math.floorDiv(n, 1_000_000_000L), Math.floorMod(n, 1_000_000_000L));
    }

    /** The record as it stands: OPEN (an update), CLOSED (released), or TIMED_OUT when ended without a release. */
    public SocketLifecycle toRecord(LifecycleStatus status, Long endedNs) {
        SocketLifecycle r = new SocketLifecycle();
        r.setHost(host);
        r.setBootId(bootId);
        r.setSocketInode(inode);
        r.setSocketCookie(cookie);
        r.setSocketKernelAddress(kernelAddress);
        r.setNetns(netns);
        r.setStatus(status);
        r.setRole(role());
        r.setFamily(family);
        r.setSocketType(socketType);
        r.setProtocol(protocol);
        Proc owner = owner();
        if (owner != null) {
            r.setPid(owner.pid);
            r.setProcessStartNs(owner.startNs);
            r.setComm(owner.comm);
            r.setUid(owner.uid);
            r.setContainerId(owner.containerId);
        }
        r.setOwnerSource(ownerSource());
        List<ProcessRef> hs = new ArrayList<>();
        holders.values().stream()
                .filter(h -> h.atNs > h.droppedNs && (owner == null || h.pid != owner.pid))
                .sorted(Comparator.comparingLong((Proc h) -> h.startNs).thenComparingInt(h -> h.pid))
                .forEach(h -> hs.add(new ProcessRef(h.pid, h.startNs, h.comm)));
        r.setHolders(hs);
        r.setCreatedAt(wall(createdNs));
        r.setInventoriedAt(wall(inventoriedNs));
        r.setBoundAt(wall(boundNs));
        r.setListeningAt(wall(listeningNs));
        r.setConnectedAt(wall(isConnected() ? connectedNs : null));
        r.setShutdownAt(wall(shutdownNs));
        r.setClosedAt(wall(status == LifecycleStatus.TIMED_OUT ? endedNs : releasedNs));
        r.setReleaseCause(status == LifecycleStatus.CLOSED ? releaseCause : null);
        if (status == LifecycleStatus.CLOSED && releasedBy != null) {
            r.setReleasedByPid(releasedBy.pid);
            r.setReleasedByComm(releasedBy.comm);
        }
        r.setLocalAddress(localAddress);
        r.setLocalPort(localPort);
        r.setRemoteAddress(remoteAddress);
        r.setRemotePort(remotePort);
        r.setListenerInode(listenerInode);
        r.setPairInode(pairInode);
        bytes(r);
        r.setRetransmits(
                Math.max(retransmits, totalRetransmits)); // the records and the totals count the same retransmits
        r.setResetsSent(resetsSent);
        r.setResetsReceived(resetsReceived);
        r.setRttUs(rttUs);
        r.setRttMinUs(rttMinUs);
        r.setUpdatedAt(wall(lastSeenNs));
        r.setEventCount(events);
        r.setErrorCount(errors);
        r.setLastError(lastError);
        String outcome = connectOutcome();
        r.setConnectOutcome(outcome);
        boolean failedConnect = outcome != null
                && !"CONNECTED".equals(outcome)
                && !"IN_PROGRESS".equals(outcome)
                && !"ABANDONED".equals(outcome);
        r.setEndReason(
                status == LifecycleStatus.TIMED_OUT
                        ? "TIMEOUT"
                        : status == LifecycleStatus.CLOSED ? (failedConnect ? outcome : releaseCause) : null);
        List<String> notSeen = new ArrayList<>();
        if (createdNs == null) {
            notSeen.add("CREATE"); // existed before capture started (the inventory found it), or its creation was lost
        }
        if (status == LifecycleStatus.TIMED_OUT || "UNSEEN".equals(releaseCause)) {
            notSeen.add("RELEASE");
        }
        r.setNotSeen(notSeen);
        return r;
    }

    /**
     * The byte counts and where they came from. A TCP socket whose release carried the kernel's own counters has
     * exact totals for its whole life; one found at the inventory starts from the counters then; otherwise the
     * kernel's per-call tracepoints (which see read() and write() too) or, without them, the send and receive calls.
     */
    private void bytes(SocketLifecycle r) {
        // the kernel's totals and its per-call records never count the same call (a call goes to one or the other)
        long sent = kernelCounted ? totalBytesSent + kernelBytesSent : bytesSent;
        long received = kernelCounted ? totalBytesReceived + kernelBytesReceived : bytesReceived;
        r.setMessagesSent(kernelCounted ? totalCallsSent + kernelMessagesSent : messagesSent);
        r.setMessagesReceived(kernelCounted ? totalCallsReceived + kernelMessagesReceived : messagesReceived);
        if (releaseTcpSent != null) {
            r.setBytesSent(releaseTcpSent);
            r.setBytesReceived(releaseTcpReceived);
            r.setByteSource("TCP_COUNTERS");
        } else if (inventoryTcpSent != null) {
            r.setBytesSent(inventoryTcpSent + sent);
            r.setBytesReceived(inventoryTcpReceived + received);
            r.setByteSource("TCP_COUNTERS");
        } else {
            r.setBytesSent(sent);
            r.setBytesReceived(received);
            r.setByteSource(
                    createdNs == null && inventoriedNs != null
                            ? "SINCE_INVENTORY"
                            : kernelCounted ? "KERNEL" : "CALLS");
        }
    }

    private static long orZero(Long v) {
        return v == null ? 0 : v;
    }
}
