package io.sockflow.jobs.lifecycle;

import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.LifecycleStatus;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.SocketLifecycle;
import io.sockflow.schemas.SocketRole;

import java.io.Serializable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * What is known of one socket (one host, one boot, one sockfs inode), folded from its events. Every update is
 * commutative and idempotent, so the result does not depend on the order events arrive in, and an event seen twice
 * counts once: phase times keep the earliest occurrence, counters add only events not seen before. What the
 * stream never showed (a socket created before capture started) is reported as not seen, not guessed.
 * The Flink lifecycle function keeps one of these per key in state.
 */
public final class SocketLifecycleState implements Serializable {
    private static final long serialVersionUID = 2L;
    static final int MAX_REMEMBERED = 1024;

    private String host;
    private String bootId;
    private long inode;
    private Long kernelAddress;
    private String family;
    private String socketType;
    private String protocol;
    private Integer pid;
    private Long processStartNs;
    private String comm;
    private Integer uid;
    private String containerId;
    private Long createdNs;
    private Long boundNs;
    private Long listeningNs;
    private Long connectedNs;
    private Long shutdownNs;
    private Long closedNs;
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
    private long bytesSent;
    private long bytesReceived;
    private long messagesSent;
    private long messagesReceived;
    private long events;
    private long errors;
    private long lastErrorNs = Long.MIN_VALUE;
    private String lastError;
    private String connectError;
    private long kernelBytesSent;
    private long kernelBytesReceived;
    private long kernelMessagesSent;
    private long kernelMessagesReceived;
    private boolean kernelCounted;
    private long retransmits;
    private long resetsSent;
    private long resetsReceived;
    private Long rttUs;
    private long rttAtNs = Long.MIN_VALUE;
    private Long rttMinUs;
    /**
     * (tid, monotonicNs, kind) of the latest events folded in: an event delivered twice is recognised. Bounded:
     * duplicates come from a producer resending what it sent just before, so a window of recent ids is enough.
     */
    private final LinkedHashSet<String> seen = new LinkedHashSet<>();
    /** boot-clock to wall-clock offset taken from the events themselves */
    private long wallOffsetNs;

    /** Folds one event in; returns false when it was already folded in (a duplicate). */
    public boolean apply(SocketEvent e) {
        if (!seen.add(e.getTid() + "/" + e.getMonotonicNs() + "/" + e.getKind())) {
            return false;
        }
        if (seen.size() > MAX_REMEMBERED) {
            seen.removeFirst();
        }
        long t = e.getMonotonicNs();
        Instant ts = e.getTimestamp();
        wallOffsetNs = ts.getEpochSecond() * 1_000_000_000L + ts.getNano() - t;
        host = e.getHost();
        bootId = e.getBootId();
        if (e.getSocketInode() != null) {
            inode = e.getSocketInode();
        }
        if (e.getSocketKernelAddress() != null) {
            kernelAddress = e.getSocketKernelAddress();
        }
        if (e.getFamily() != null) {
            family = e.getFamily();
            socketType = e.getSocketType();
            protocol = e.getProtocol();
        }
        events++;
        lastSeenNs = lastSeenNs == null ? t : Math.max(lastSeenNs, t);
        boolean syscall = e.getKind().ordinal() < EventKind.TCP_STATE.ordinal();
        boolean ok = e.getReturnValue() >= 0;
        if (syscall && !ok) {
            errors++;
            if (t >= lastErrorNs) {
                lastErrorNs = t;
                lastError = e.getErrno();
            }
        }
        if (syscall && (pid == null || isCreation(e.getKind()))) {
            pid = e.getPid();
            processStartNs = e.getProcessStartNs();
            comm = e.getComm();
            uid = e.getUid();
            containerId = e.getContainerId();
        }
        // addresses from the socket's own calls win over those of kernel records, which the collector ties to the
        // socket through its struct sock address (an address the kernel reuses once a socket is freed)
        if (e.getLocalPort() != null && (syscall || !syscallAddress) && (t >= lastAddressNs || syscall && !syscallAddress)) {
            syscallAddress |= syscall;
            lastAddressNs = t;
            localAddress = e.getLocalAddress();
            localPort = e.getLocalPort();
            if (e.getRemotePort() != null && e.getRemotePort() != 0) {
                remoteAddress = e.getRemoteAddress();
                remotePort = e.getRemotePort();
            }
        }
        switch (e.getKind()) {
            case SOCKET -> {
                if (ok) {
                    createdNs = min(createdNs, t);
                }
            }
            case SOCKETPAIR -> {
                if (ok) {
                    createdNs = min(createdNs, t);
                    pair = true;
                    pairInode = e.getSocketInode() != null && e.getSocketInode() == inode
                            ? e.getRelatedSocketInode() : e.getSocketInode();
                }
            }
            case ACCEPT, ACCEPT4 -> {
                if (ok && e.getSocketInode() != null && e.getSocketInode() == inode) {
                    createdNs = min(createdNs, t);
                    connectedNs = min(connectedNs, t);
                    accepted = true;
                    listenerInode = e.getRelatedSocketInode();
                }
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
            case CONNECT -> {
                if (ok) {
                    connectedNs = min(connectedNs, t);
                    connected = true;
                } else if (!"EINPROGRESS".equals(e.getErrno())) {
                    connectError = e.getErrno();
                } else {
                    connected = true;
                }
            }
            case SHUTDOWN -> {
                if (ok) {
                    shutdownNs = min(shutdownNs, t);
                }
            }
            case CLOSE -> {
                if (ok) {
                    closedNs = min(closedNs, t);
                }
            }
            case SENDTO, SENDMSG, SENDMMSG -> {
                if (ok && e.getBytes() != null) {
                    bytesSent += e.getBytes();
                    messagesSent += e.getKind() == EventKind.SENDMMSG ? e.getReturnValue() : 1;
                }
                if (e.getSockaddrBytes() != null && "SOCK_DGRAM".equals(e.getSocketType())) {
                    datagram = true;
                }
                datagramPeer(e, t);
            }
            case RECVFROM, RECVMSG, RECVMMSG -> {
                if (ok && e.getBytes() != null && e.getBytes() > 0) {
                    bytesReceived += e.getBytes();
                    messagesReceived += e.getKind() == EventKind.RECVMMSG ? e.getReturnValue() : 1;
                }
                datagramPeer(e, t);
            }
            case TCP_STATE -> {
                if ("ESTABLISHED".equals(e.getTcpState())) {
                    connectedNs = min(connectedNs, t);
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
            case TCP_RETRANSMIT -> retransmits += e.getCount() != null && e.getCount() > 0 ? e.getCount() : 1;
            case TCP_SEND_RESET -> resetsSent++;
            case TCP_RECEIVE_RESET -> resetsReceived++;
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
            default -> {
            }
        }
        return true;
    }

    /**
     * An unconnected datagram socket has no peer of its own: the address of its latest sendto/recvfrom stands for
     * it (exact for a socket that talks to one peer; the last peer otherwise).
     */
    private void datagramPeer(SocketEvent e, long t) {
        boolean dgram = "SOCK_DGRAM".equals(e.getSocketType());
        boolean unconnected = e.getRemotePort() == null || e.getRemotePort() == 0;
        if (dgram && unconnected && e.getReturnValue() >= 0 && e.getSockaddrPort() != null && e.getSockaddrPort() != 0
                && t >= lastPeerNs) {
            lastPeerNs = t;
            remoteAddress = e.getSockaddrAddress();
            remotePort = e.getSockaddrPort();
        }
    }

    private static boolean isCreation(EventKind k) {
        return k == EventKind.SOCKET || k == EventKind.SOCKETPAIR || k == EventKind.ACCEPT || k == EventKind.ACCEPT4;
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

    public boolean closed() {
        return closedNs != null;
    }

    public Long lastSeenNs() {
        return lastSeenNs;
    }

    /** Wall-clock milliseconds of the newest event (the event time timers are set against). */
    public long lastSeenMillis() {
        return Math.floorDiv(lastSeenNs + wallOffsetNs, 1_000_000L);
    }

    /** Wall-clock milliseconds of the close, or Long.MIN_VALUE when not closed. */
    public long closedMillis() {
        return closedNs == null ? Long.MIN_VALUE : Math.floorDiv(closedNs + wallOffsetNs, 1_000_000L);
    }

    /** Connected (or accepted) with both ends known: a flow can be opened for it. */
    public boolean connectedWithEndpoints() {
        return (connectedNs != null || connected) && localPort != null && remotePort != null;
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
        if (connected || connectError != null) {
            return "SOCK_DGRAM".equals(socketType) ? SocketRole.DATAGRAM : SocketRole.CLIENT;
        }
        if (datagram || "SOCK_DGRAM".equals(socketType)) {
            return SocketRole.DATAGRAM;
        }
        return events > 0 && family != null ? SocketRole.UNCONNECTED : SocketRole.UNKNOWN;
    }

    private Instant wall(Long bootNs) {
        if (bootNs == null) {
            return null;
        }
        long n = bootNs + wallOffsetNs;
        return Instant.ofEpochSecond(Math.floorDiv(n, 1_000_000_000L), Math.floorMod(n, 1_000_000_000L));
    }

    /** The record as it stands: OPEN (an update), CLOSED, or TIMED_OUT when ended without a close. */
    public SocketLifecycle toRecord(LifecycleStatus status, Long endedNs) {
        SocketLifecycle r = new SocketLifecycle();
        r.setHost(host);
        r.setBootId(bootId);
        r.setSocketInode(inode);
        r.setSocketKernelAddress(kernelAddress);
        r.setStatus(status);
        r.setRole(role());
        r.setFamily(family);
        r.setSocketType(socketType);
        r.setProtocol(protocol);
        r.setPid(pid);
        r.setProcessStartNs(processStartNs);
        r.setComm(comm);
        r.setUid(uid);
        r.setContainerId(containerId);
        r.setCreatedAt(wall(createdNs));
        r.setBoundAt(wall(boundNs));
        r.setListeningAt(wall(listeningNs));
        r.setConnectedAt(wall(connectedNs));
        r.setShutdownAt(wall(shutdownNs));
        r.setClosedAt(wall(status == LifecycleStatus.TIMED_OUT ? endedNs : closedNs));
        r.setLocalAddress(localAddress);
        r.setLocalPort(localPort);
        r.setRemoteAddress(remoteAddress);
        r.setRemotePort(remotePort);
        r.setListenerInode(listenerInode);
        r.setPairInode(pairInode);
        // sock_send_length/sock_recv_length see every send and receive of an IP socket (write() and read() too);
        // when they were on, they are the count, else the send and receive calls are
        r.setBytesSent(kernelCounted ? kernelBytesSent : bytesSent);
        r.setBytesReceived(kernelCounted ? kernelBytesReceived : bytesReceived);
        r.setMessagesSent(kernelCounted ? kernelMessagesSent : messagesSent);
        r.setMessagesReceived(kernelCounted ? kernelMessagesReceived : messagesReceived);
        r.setRetransmits(retransmits);
        r.setResetsSent(resetsSent);
        r.setResetsReceived(resetsReceived);
        r.setRttUs(rttUs);
        r.setRttMinUs(rttMinUs);
        r.setUpdatedAt(wall(lastSeenNs));
        r.setEventCount(events);
        r.setErrorCount(errors);
        r.setLastError(lastError);
        r.setEndReason(status == LifecycleStatus.TIMED_OUT ? "TIMEOUT"
                : status == LifecycleStatus.CLOSED ? (connectError != null && connectedNs == null ? connectError : "CLOSE")
                        : null);
        List<String> notSeen = new ArrayList<>();
        if (createdNs == null) {
            notSeen.add("CREATE"); // born before capture started, or its creation was lost
        }
        if (status == LifecycleStatus.TIMED_OUT) {
            notSeen.add("CLOSE");
        }
        r.setNotSeen(notSeen);
        return r;
    }
}
