package io.sockflow.collector.capture;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import io.sockflow.collector.bpf.EventLayout;
import io.sockflow.collector.bpf.KernelContract;
import io.sockflow.collector.bpf.Libbpf;
import io.sockflow.collector.decode.HostInfo;
import io.sockflow.collector.decode.InetText;
import io.sockflow.collector.decode.SocketNames;
import io.sockflow.collector.sys.Libc;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The data path summed in the kernel (map sock_totals, struct sf_totals): one SOCK_TOTALS record per socket that
 * moved data since the last read, and its last totals on its SOCK_RELEASE record (totalsFinal true) when the
 * release is seen; without the release hook, where a socket's end is its last descriptor's close, a SOCK_TOTALS
 * record of its own at that end. The kernel's totals only grow (nothing is reset while the socket lives), so every
 * record carries the socket's totals since its birth: a consumer keeps the largest, and a record lost or seen twice
 * changes nothing. An entry is deleted only at the socket's end, after which no call can add to it.
 */
public final class SocketTotals implements AutoCloseable {
    /** Sockets read at most per interval; the map holds 65,536. */
    private static final int MAX_KEYS = 65_536;

    private static final int AF_INET6 = 10;

    private final HostInfo host;
    private final int fd;
    private final int cpus;
    private final long stride;
    private final Arena arena = Arena.ofShared(); // read on the capture thread, made on another
    private final MemorySegment key;
    private final MemorySegment next;
    private final MemorySegment values;
    private final MemorySegment keys;
    /** The totals last sent per cookie (bytes and calls both ways, errors both ways): unchanged sockets send nothing. */
    private final Map<Long, long[]> sent = new HashMap<>();

    private long lastReadNs;
    private long records;

    private static final KernelContract.Struct T = EventLayout.TOTALS;
    private static final long BYTES_OUT = T.offset("bytes_out"),
            BYTES_IN = T.offset("bytes_in"),
            CALLS_OUT = T.offset("calls_out"),
            CALLS_IN = T.offset("calls_in"),
            ERRORS_OUT = T.offset("errors_out"),
            ERRORS_IN = T.offset("errors_in"),
            LAST_NS = T.offset("last_ns"),
            SOCK_INO = T.offset("sock_ino"),
            NETNS = T.offset("netns"),
            RETRANSMITS = T.offset("retransmits"),
            SRTT = T.offset("srtt_us"),
            CWND = T.offset("cwnd"),
            SRTT_MIN = T.offset("srtt_us_min"),
            SRTT_MAX = T.offset("srtt_us_max"),
            FAMILY = T.offset("family"),
            SK_TYPE = T.offset("sk_type"),
            SK_PROTOCOL = T.offset("sk_protocol"),
            LPORT = T.offset("lport"),
            RPORT = T.offset("rport"),
            LADDR = T.offset("laddr"),
            RADDR = T.offset("raddr");
    private static final long[] SUMMED = {BYTES_OUT, BYTES_IN, CALLS_OUT, CALLS_IN, ERRORS_OUT, ERRORS_IN};

    public SocketTotals(Capture capture, HostInfo host) {
        this.host = host;
        this.fd = capture.mapFd("sock_totals");
        this.cpus = capture.possibleCpus();
        this.stride = (T.size() + 7) & ~7L; // per-CPU values are 8-byte aligned
        this.key = arena.allocate(8, 8);
        this.next = arena.allocate(8, 8);
        this.values = arena.allocate(stride * cpus, 8);
        this.keys = arena.allocate(8L * MAX_KEYS, 8);
        this.lastReadNs = Libc.clockNanos(Libc.CLOCK_BOOTTIME);
    }

    /** A record for every socket whose totals grew since the last read. */
    public void read(Consumer<SocketEvent> out) {
        long now = Libc.clockNanos(Libc.CLOCK_BOOTTIME);
        long intervalMs = (now - lastReadNs) / 1_000_000L;
        lastReadNs = now;
        // the keys first: an entry deleted meanwhile (a release on this thread cannot be) just ends the walk early
        int n = 0;
        int rc = Libbpf.mapGetNextKey(fd, MemorySegment.NULL, next);
        while (rc == 0 && n < MAX_KEYS) {
            long cookie = next.get(JAVA_LONG_UNALIGNED, 0);
            keys.set(JAVA_LONG_UNALIGNED, 8L * n++, cookie);
            key.set(JAVA_LONG_UNALIGNED, 0, cookie);
            rc = Libbpf.mapGetNextKey(fd, key, next);
        }
        for (int i = 0; i < n; i++) {
            long cookie = keys.get(JAVA_LONG_UNALIGNED, 8L * i);
            key.set(JAVA_LONG_UNALIGNED, 0, cookie);
            if (Libbpf.mapLookupElem(fd, key, values) != 0) {
                continue;
            }
            SocketEvent e = record(cookie, now, intervalMs, false, null);
            if (e != null) {
                out.accept(e);
            }
        }
    }

    /**
     * The socket's last totals, once its end is seen (without the release hook: its last descriptor's close), as a
     * SOCK_TOTALS record of their own, and its entry deleted; nothing if it moved no data.
     */
    public void ended(long cookie, Consumer<SocketEvent> out) {
        if (take(cookie)) {
            long now = Libc.clockNanos(Libc.CLOCK_BOOTTIME);
            SocketEvent e = record(cookie, now, (now - lastReadNs) / 1_000_000L, true, null);
            if (e != null) {
                out.accept(e);
            }
        }
    }

    /**
     * The socket's last totals put on its SOCK_RELEASE record (one record at the end instead of two), and its entry
     * deleted; the record is left as it is if the socket moved no data.
     */
    public void released(SocketEvent release) {
        long cookie = release.getSocketCookie();
        if (take(cookie)) {
            long now = Libc.clockNanos(Libc.CLOCK_BOOTTIME);
            record(cookie, now, (now - lastReadNs) / 1_000_000L, true, release);
        }
    }

    /** Reads and deletes the socket's entry into {@link #values}; false if it has none (no data path summed). */
    private boolean take(long cookie) {
        key.set(JAVA_LONG_UNALIGNED, 0, cookie);
        boolean found = Libbpf.mapLookupAndDelete(fd, key, values) == 0;
        sent.remove(cookie);
        return found;
    }

    /** SOCK_TOTALS records made so far. */
    public long records() {
        return records;
    }

    /**
     * Builds the record from {@link #values} (every CPU's), or puts the totals on {@code onto} (the socket's release,
     * which names the socket itself); null when nothing changed since the last one sent.
     */
    private SocketEvent record(long cookie, long now, long intervalMs, boolean last, SocketEvent onto) {
        long[] sum = new long[SUMMED.length];
        long latest = -1;
        MemorySegment named = null;
        MemorySegment tcp = null;
        long retransmits = 0;
        long rttMin = Long.MAX_VALUE, rttMax = 0;
        for (int c = 0; c < cpus; c++) {
            MemorySegment v = values.asSlice(c * stride, T.size());
            if (named == null && v.get(JAVA_SHORT_UNALIGNED, FAMILY) != 0) {
                named = v; // a CPU that added to it holds its identity; the others' slots are zero
            }
            for (int i = 0; i < SUMMED.length; i++) {
                sum[i] += v.get(JAVA_LONG_UNALIGNED, SUMMED[i]);
            }
            long at = v.get(JAVA_LONG_UNALIGNED, LAST_NS);
            if (at > latest) {
                latest = at;
                tcp = v;
            }
            retransmits = Math.max(retransmits, Integer.toUnsignedLong(v.get(JAVA_INT_UNALIGNED, RETRANSMITS)));
            long low = Integer.toUnsignedLong(v.get(JAVA_INT_UNALIGNED, SRTT_MIN));
            if (low != 0) { // 0: no RTT seen on this CPU
                rttMin = Math.min(rttMin, low);
                rttMax = Math.max(rttMax, Integer.toUnsignedLong(v.get(JAVA_INT_UNALIGNED, SRTT_MAX)));
            }
        }
        if (named == null) {
            return null;
        }
        long[] before = sent.get(cookie);
        if (!last && before != null && java.util.Arrays.equals(before, sum)) {
            return null; // nothing moved since the last record
        }
        if (!last) {
            sent.put(cookie, sum);
        }
        SocketEvent e = onto != null ? onto : named(cookie, now, intervalMs, named);
        e.setBytesSent(sum[0]);
        e.setBytesReceived(sum[1]);
        e.setCallsSent(sum[2]);
        e.setCallsReceived(sum[3]);
        e.setErrorsSent(sum[4]);
        e.setErrorsReceived(sum[5]);
        if (latest > 0 && tcp != null) {
            e.setRetransmits(retransmits);
            e.setRttUs(Integer.toUnsignedLong(tcp.get(JAVA_INT_UNALIGNED, SRTT)));
            e.setCwnd(Integer.toUnsignedLong(tcp.get(JAVA_INT_UNALIGNED, CWND)));
            if (rttMax > 0) {
                e.setRttMinUs(rttMin);
                e.setRttMaxUs(rttMax);
            }
        }
        e.setTotalsFinal(last);
        return e;
    }

    /** A SOCK_TOTALS record naming the socket from the kernel's entry (the CPU slot that holds its identity). */
    private SocketEvent named(long cookie, long now, long intervalMs, MemorySegment named) {
        records++;
        SocketEvent e = host.ownRecord(EventKind.SOCK_TOTALS, now);
        e.setAttribution("UNKNOWN");
        e.setIntervalMs(intervalMs);
        e.setSocketCookie(cookie);
        long ino = named.get(JAVA_LONG_UNALIGNED, SOCK_INO);
        e.setSocketInode(ino != 0 ? ino : null);
        int netns = named.get(JAVA_INT_UNALIGNED, NETNS);
        e.setNetns(netns != 0 ? Integer.toUnsignedLong(netns) : null);
        int family = Short.toUnsignedInt(named.get(JAVA_SHORT_UNALIGNED, FAMILY));
        int type = Short.toUnsignedInt(named.get(JAVA_SHORT_UNALIGNED, SK_TYPE));
        int protocol = Short.toUnsignedInt(named.get(JAVA_SHORT_UNALIGNED, SK_PROTOCOL));
        e.setFamily(SocketNames.family(family));
        e.setSocketType(SocketNames.type(type));
        e.setProtocol(SocketNames.protocol(protocol));
        byte[] l = named.asSlice(LADDR, 16).toArray(JAVA_BYTE);
        byte[] r = named.asSlice(RADDR, 16).toArray(JAVA_BYTE);
        int lport = Short.toUnsignedInt(named.get(JAVA_SHORT_UNALIGNED, LPORT));
        int rport = Short.toUnsignedInt(named.get(JAVA_SHORT_UNALIGNED, RPORT));
        e.setLocalAddress(family == AF_INET6 ? InetText.ipv6(l, 0) : InetText.ipv4(l, 0));
        e.setLocalPort(lport);
        e.setRemoteAddress(rport != 0 ? (family == AF_INET6 ? InetText.ipv6(r, 0) : InetText.ipv4(r, 0)) : null);
        e.setRemotePort(rport != 0 ? rport : null);
        return e;
    }

    /** Cookies whose totals this reader has sent and not yet ended (for tests and the report). */
    public List<Long> tracked() {
        return new ArrayList<>(sent.keySet());
    }

    @Override
    public void close() {
        arena.close();
    }
}
