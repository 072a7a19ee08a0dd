package io.sockflow.collector.decode;

import static io.sockflow.collector.bpf.EventLayout.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import io.sockflow.collector.sys.Errno;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Turns one {@code struct sf_event} into a {@link SocketEvent}. Single-threaded (it keeps caches); one per reader.
 */
public final class SocketEventDecoder {
    static final int AF_UNIX = 1;
    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    private static final EventKind[] KINDS = EventKind.values();
    private static final int CACHE_COMM = 1;
    private static final int CACHE_V4 = 2;
    private static final int CACHE_V6 = 3;

    private final HostInfo hostInfo;
    private final StringCache comms = new StringCache(SocketEventDecoder::commString);
    private final StringCache v4 = new StringCache(b -> InetText.ipv4(b, 0));
    private final StringCache v6 = new StringCache(b -> InetText.ipv6(b, 0));
    private final ContainerResolver containers;

    public SocketEventDecoder(HostInfo hostInfo) {
        this(hostInfo, ContainerResolver.NONE);
    }

    public SocketEventDecoder(HostInfo hostInfo, ContainerResolver containers) {
        this.hostInfo = hostInfo;
        this.containers = containers;
    }

    private static String commString(byte[] b) {
        int n = 0;
        while (n < b.length && b[n] != 0) {
            n++;
        }
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }

    private static final String[] TCP_STATES = {
        null,
        "ESTABLISHED",
        "SYN_SENT",
        "SYN_RECV",
        "FIN_WAIT1",
        "FIN_WAIT2",
        "TIME_WAIT",
        "CLOSE",
        "CLOSE_WAIT",
        "LAST_ACK",
        "LISTEN",
        "CLOSING",
        "NEW_SYN_RECV",
        "BOUND_INACTIVE"
    };

    /** Kernel-side kind numbers (enum sf_kind) to the schema's symbols. */
    public static EventKind kind(int k) {
        return Kinds.of(k);
    }

    /** Whether a kind is a kernel record made in kernel context (pid and comm are of whatever task the kernel ran in). */
    public static boolean isKernelEvent(EventKind k) {
        return Kinds.kernelContext(k);
    }

    public static String tcpState(int s) {
        return s > 0 && s < TCP_STATES.length ? TCP_STATES[s] : Integer.toString(s);
    }

    /** The host the records are of. */
    public HostInfo host() {
        return hostInfo;
    }

    public SocketEvent decode(MemorySegment rec) {
        return decode(rec, new SocketEvent());
    }

    /** Fills {@code e} (every field is written, so a reused object carries nothing over). */
    public SocketEvent decode(MemorySegment rec, SocketEvent e) {
        int k = u16(rec, KIND);
        EventKind kind = kind(k);
        long tsNs = u64(rec, TS_NS);
        long ret = u64(rec, RET);
        long cgroup = u64(rec, CGROUP_ID);

        e.setHost(hostInfo.host());
        e.setBootId(hostInfo.bootId());
        e.setTimestamp(hostInfo.toInstant(tsNs));
        e.setMonotonicNs(tsNs);
        e.setDurationNs(u64(rec, DURATION_NS));
        e.setKind(kind);
        e.setPid(s32(rec, PID));
        e.setTid(s32(rec, TID));
        e.setProcessStartNs(u64(rec, PROC_START_NS));
        e.setComm(comms.get(rec, COMM, CACHE_COMM));
        e.setUid(s32(rec, UID));
        e.setGid(s32(rec, GID));
        e.setCgroupId(cgroup);
        e.setContainerId(containers.containerId(cgroup));
        e.setReturnValue(ret);
        e.setErrno(ret < 0 && ret >= -4095 ? Errno.name((int) -ret) : null);

        boolean creates = kind == EventKind.SOCKET || kind == EventKind.SOCKETPAIR;
        boolean uring = kind == EventKind.IO_URING_SUBMIT;
        e.setIoUringOp(uring ? Kinds.ioUringOp(s32(rec, IO_URING_OP)) : null);
        boolean named = kind == EventKind.SETHOSTNAME || kind == EventKind.SETDOMAINNAME;
        int fd = s32(rec, FD);
        // a request on a registered file names an index into the ring's table, not a descriptor
        boolean fixed = uring && (u16(rec, FLAGS) & FLAG_FIXED_FILE) != 0;
        e.setFd(creates || named || fixed || (uring && fd < 0) ? null : fd);
        int peerFd = s32(rec, PEER_FD);
        int peerFd2 = s32(rec, PEER_FD2);
        e.setResultFd(peerFd >= 0 ? peerFd : null);
        e.setResultFd2(peerFd2 >= 0 ? peerFd2 : null);

        long ino = u64(rec, SOCK_INO);
        long sk = u64(rec, SOCK_ADDR);
        long pino = u64(rec, PEER_INO);
        long psk = u64(rec, PEER_SOCK_ADDR);
        e.setSocketInode(ino != 0 ? ino : null);
        e.setSocketKernelAddress(sk != 0 ? sk : null);
        e.setRelatedSocketInode(pino != 0 ? pino : null);
        e.setRelatedSocketKernelAddress(psk != 0 ? psk : null);
        long cookie = u64(rec, COOKIE);
        long pcookie = u64(rec, PEER_COOKIE);
        e.setSocketCookie(cookie != 0 ? cookie : null);
        e.setRelatedSocketCookie(pcookie != 0 ? pcookie : null);
        int netns = s32(rec, NETNS);
        e.setNetns(netns != 0 ? Integer.toUnsignedLong(netns) : null);
        int mark = s32(rec, MARK);
        e.setMark(mark != 0 ? Integer.toUnsignedLong(mark) : null);

        int family = u16(rec, FAMILY);
        if (family != 0) {
            e.setFamily(SocketNames.family(family));
            int type = u16(rec, SK_TYPE);
            int proto = u16(rec, SK_PROTOCOL);
            // a close and a dup2 know the family only (their socket may be gone by the time they return)
            e.setSocketType(type != 0 ? SocketNames.type(type) : null);
            // protocol numbers name IP protocols only in the inet families
            e.setProtocol(
                    type == 0
                            ? null
                            : family == AF_INET || family == AF_INET6
                                    ? SocketNames.protocol(proto)
                                    : Integer.toString(proto));
        } else {
            e.setFamily(null);
            e.setSocketType(null);
            e.setProtocol(null);
        }
        // a close and a dup2 carry the family only; a reset for no socket carries the endpoints without a type
        boolean endpoints = u16(rec, SK_TYPE) != 0 || u16(rec, LPORT) != 0 || u16(rec, RPORT) != 0;
        decodeEndpoints(rec, endpoints ? family : 0, e);
        decodeData(rec, e);
        decodeArguments(rec, kind, e);
        decodeLifeOfSocket(rec, kind, family, e);
        decodeKernelEvent(rec, kind, e);
        // the data-path totals are the collector's own records (SocketTotals), never a ring-buffer record's
        e.setBytesSent(null);
        e.setBytesReceived(null);
        e.setCallsSent(null);
        e.setCallsReceived(null);
        e.setErrorsSent(null);
        e.setErrorsReceived(null);
        e.setRetransmits(null);
        e.setTotalsFinal(null);
        return e;
    }

    /** What the records of a socket's birth, descriptors and release carry: state, cause, last reference, counters. */
    private static void decodeLifeOfSocket(MemorySegment rec, EventKind kind, int family, SocketEvent e) {
        int flags = u16(rec, FLAGS);
        // the state as read from struct sock; a close and a dup2 do not read it (their socket may be gone)
        e.setSocketState(
                u16(rec, SK_TYPE) != 0 && (family == AF_INET || family == AF_INET6 || family == AF_UNIX)
                        ? tcpState(u16(rec, SK_STATE))
                        : null);
        e.setCause(Kinds.cause(u16(rec, CAUSE)));
        boolean drop = kind == EventKind.CLOSE || kind == EventKind.FD_DROP;
        e.setLastReference(drop && e.getReturnValue() >= 0 ? (flags & FLAG_LAST_REFERENCE) != 0 : null);
        boolean counted = kind == EventKind.SOCK_RELEASE || kind == EventKind.INVENTORY;
        boolean tcp = "TCP".equals(e.getProtocol()) && (family == AF_INET || family == AF_INET6);
        e.setKernelBytesSent(counted && tcp ? u64(rec, TCP_BYTES_OUT) : null);
        e.setKernelBytesReceived(counted && tcp ? u64(rec, TCP_BYTES_IN) : null);
        e.setCloseOnExec(kind == EventKind.INVENTORY ? (flags & FLAG_CLOEXEC) != 0 : null);
        e.setPath(null);
        e.setPpid(null); // filled from /proc for a successful exec, after decoding
        e.setCmdline(null);
        e.setAncestry(null);
        e.setStdio(null);
        switch (kind) {
            case EXEC -> {
                e.setPath(e.getName());
                e.setName(null);
                e.setFd(null);
            }
            case INVENTORY -> e.setAttribution("HOLDER");
            case SOCK_RELEASE, SOCK_CREATE -> e.setFd(null);
            default -> {}
        }
    }

    /** Whether an FD_DROP record waits for its exec's outcome (close-on-exec descriptors seen as exec started). */
    public static boolean pendingExec(MemorySegment rec) {
        return (u16(rec, FLAGS) & FLAG_PENDING_EXEC) != 0;
    }

    /** Whether a SOCK_RELEASE record was made by a kernel thread (a delayed release): its task is no actor. */
    public static boolean releasedByKernelThread(MemorySegment rec) {
        return (u16(rec, FLAGS) & FLAG_KTHREAD) != 0;
    }

    private static void decodeKernelEvent(MemorySegment rec, EventKind kind, SocketEvent e) {
        e.setTcpOldState(null);
        e.setTcpState(null);
        e.setReason(null);
        e.setCount(null);
        e.setRttUs(null);
        e.setRttMinUs(null);
        e.setRttMaxUs(null);
        e.setCwnd(null);
        e.setInterfaceName(null);
        e.setDirection(null);
        e.setIntervalMs(null);
        e.setEventProtocol(null);
        if (kind == EventKind.SOCK_SEND || kind == EventKind.SOCK_RECV) {
            e.setBytes(u64(rec, BYTES));
            e.setFd(null);
            e.setFlags(u64(rec, ARG_FLAGS));
            e.setFlagNames(SocketNames.msgFlags(u64(rec, ARG_FLAGS)));
        }
        if (!isKernelEvent(kind)) {
            e.setAttribution(kind == EventKind.INVENTORY ? "HOLDER" : "CALLER");
            return;
        }
        // until the collector finds the socket's owner, the task the kernel ran in is only a hint
        e.setAttribution("UNKNOWN");
        e.setFd(null);
        e.setProcessStartNs(0L);
        e.setUid(0);
        e.setGid(0);
        e.setCgroupId(0L);
        e.setContainerId(null);
        e.setErrno(null);
        switch (kind) {
            case TCP_STATE -> {
                e.setTcpOldState(tcpState(s32(rec, ARG_A)));
                e.setTcpState(tcpState(s32(rec, ARG_B)));
            }
            case TCP_RETRANSMIT, TCP_RECEIVE_RESET -> e.setTcpState(tcpState(u16(rec, SK_STATE)));
            case TCP_SEND_RESET -> {
                e.setTcpState(u64(rec, COOKIE) != 0 ? tcpState(u16(rec, SK_STATE)) : null);
                int reason = s32(rec, ARG_B); // -1: this kernel passes no reason (before 6.10), so none is said
                e.setReason(reason >= 0 ? KernelSymbols.local().resetReason(reason) : null);
            }
            case SOCK_ERROR -> {
                int err = s32(rec, ARG_A);
                e.setErrno(err > 0 ? Errno.name(err) : null);
            }
            default -> {}
        }
    }

    private void decodeEndpoints(MemorySegment rec, int family, SocketEvent e) {
        if (family == AF_INET || family == AF_INET6) {
            StringCache c = family == AF_INET ? v4 : v6;
            int kindTag = family == AF_INET ? CACHE_V4 : CACHE_V6;
            int lport = u16(rec, LPORT);
            int rport = u16(rec, RPORT);
            e.setLocalAddress(c.get(rec, LADDR, kindTag));
            e.setLocalPort(lport);
            boolean connected = rport != 0;
            e.setRemoteAddress(connected ? c.get(rec, RADDR, kindTag) : null);
            e.setRemotePort(connected ? rport : null);
        } else {
            e.setLocalAddress(null);
            e.setLocalPort(null);
            e.setRemoteAddress(null);
            e.setRemotePort(null);
        }
    }

    private void decodeData(MemorySegment rec, SocketEvent e) {
        int dataKind = u16(rec, DATA_KIND);
        int len = Math.min(u16(rec, DATA_LEN_OFF), DATA_LEN);
        e.setName(null);
        e.setSockaddrFamily(null);
        e.setSockaddrAddress(null);
        e.setSockaddrPort(null);
        e.setSockaddrBytes(null);
        if (len == 0) {
            return;
        }
        byte[] data = new byte[len];
        MemorySegment.copy(rec, JAVA_BYTE, DATA, data, 0, len);
        if (dataKind == DATA_NAME) {
            int n = 0;
            while (n < len && data[n] != 0) {
                n++;
            }
            e.setName(new String(data, 0, n, StandardCharsets.UTF_8));
        } else if (dataKind == DATA_SOCKADDR) {
            e.setSockaddrBytes(ByteBuffer.wrap(data));
            Sockaddr sa = Sockaddr.parse(data);
            if (sa != null) {
                e.setSockaddrFamily(SocketNames.family(sa.family()));
                e.setSockaddrAddress(sa.address());
                e.setSockaddrPort(sa.port());
            }
        }
    }

    private static void decodeArguments(MemorySegment rec, EventKind kind, SocketEvent e) {
        int a = s32(rec, ARG_A);
        int b = s32(rec, ARG_B);
        int c = s32(rec, ARG_C);
        long flags = u64(rec, ARG_FLAGS);
        e.setArgFamily(null);
        e.setArgType(null);
        e.setArgProtocol(null);
        e.setBacklog(null);
        e.setShutdownHow(null);
        e.setFlags(null);
        e.setFlagNames(null);
        e.setOptionLevel(null);
        e.setOptionName(null);
        e.setOptionLength(null);
        e.setOptionValue(null);
        e.setMessageCount(null);
        e.setBytes(null);
        if (kind == EventKind.IO_URING_SUBMIT) {
            decodeIoUringArguments(rec, e, a, b, c, flags);
            return;
        }
        switch (kind) {
            case SOCKET, SOCKETPAIR -> {
                e.setArgFamily(SocketNames.family(a));
                e.setArgType(SocketNames.typeWithFlags(b));
                e.setArgProtocol(c);
            }
            case SETSOCKOPT, GETSOCKOPT -> {
                e.setOptionLevel(SocketNames.optionLevel(a));
                e.setOptionName(SocketNames.optionName(a, b));
                e.setOptionLength(c);
                if (c >= 4 && (kind == EventKind.SETSOCKOPT || u64(rec, RET) == 0)) {
                    e.setOptionValue(s32(rec, OPT_VALUE));
                }
            }
            case LISTEN -> e.setBacklog(a);
            case SHUTDOWN -> e.setShutdownHow(SocketNames.shutdownHow(a));
            case ACCEPT4 -> {
                e.setFlags(flags);
                e.setFlagNames(SocketNames.acceptFlags(flags));
            }
            case RECVFROM, RECVMSG, SENDTO, SENDMSG -> {
                e.setFlags(flags);
                e.setFlagNames(SocketNames.msgFlags(flags));
                e.setBytes(u64(rec, BYTES));
            }
            case RECVMMSG, SENDMMSG -> {
                e.setFlags(flags);
                e.setFlagNames(SocketNames.msgFlags(flags));
                e.setMessageCount(a);
                e.setBytes(u64(rec, BYTES));
            }
            default -> {}
        }
    }

    /** An io_uring request's arguments, where it carries them: named as the matching call's. */
    private static void decodeIoUringArguments(MemorySegment rec, SocketEvent e, int a, int b, int c, long flags) {
        switch (Kinds.ioUringOp(s32(rec, IO_URING_OP))) {
            case "SOCKET" -> {
                e.setArgFamily(SocketNames.family(a));
                e.setArgType(SocketNames.typeWithFlags(b));
                e.setArgProtocol(c);
            }
            case "SHUTDOWN" -> e.setShutdownHow(SocketNames.shutdownHow(a));
            case "ACCEPT" -> {
                e.setFlags(flags);
                e.setFlagNames(SocketNames.acceptFlags(flags));
            }
            case "SEND", "SENDMSG", "RECV", "RECVMSG", "SEND_ZC", "SENDMSG_ZC" -> {
                e.setFlags(flags);
                e.setFlagNames(SocketNames.msgFlags(flags));
            }
            default -> {}
        }
    }

    /** A decoded struct sockaddr. */
    public record Sockaddr(int family, String address, Integer port) {
        static Sockaddr parse(byte[] d) {
            if (d.length < 2) {
                return null;
            }
            ByteBuffer bb = ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN);
            int family = Short.toUnsignedInt(bb.getShort(0));
            switch (family) {
                case AF_INET:
                    if (d.length < 8) {
                        return new Sockaddr(family, null, null);
                    }
                    return new Sockaddr(family, InetText.ipv4(d, 4), ((d[2] & 0xff) << 8) | (d[3] & 0xff));
                case AF_INET6:
                    if (d.length < 24) {
                        return new Sockaddr(family, null, null);
                    }
                    return new Sockaddr(family, InetText.ipv6(d, 8), ((d[2] & 0xff) << 8) | (d[3] & 0xff));
                case AF_UNIX: {
                    if (d.length <= 2) {
                        return new Sockaddr(family, "", null); // unnamed
                    }
                    if (d[2] == 0) { // abstract namespace: every byte counts, no terminator
                        return new Sockaddr(family, "@" + new String(d, 3, d.length - 3, StandardCharsets.UTF_8), null);
                    }
                    int end = 2;
                    while (end < d.length && d[end] != 0) {
                        end++;
                    }
                    return new Sockaddr(family, new String(d, 2, end - 2, StandardCharsets.UTF_8), null);
                }
                default:
                    return new Sockaddr(family, null, null);
            }
        }
    }
}
