package io.sockflow.collector.bpf;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * The Java mirror of {@code struct sf_event}, {@code struct sf_counters} and {@code struct sf_config} in
 * bpf/sockflow.h. Field names are the C names; EventLayoutTest holds every offset against the compiled
 * object's BTF. Records are read in place: the accessors take the ring-buffer segment and an offset constant.
 */
public final class EventLayout {
    public static final int COMM_LEN = 16;
    public static final int DATA_LEN = 128;
    public static final int FILTER_PIDS = 8;
    public static final int FILTER_CGROUPS = 4;

    public static final StructLayout EVENT = MemoryLayout.structLayout(
            JAVA_LONG_UNALIGNED.withName("ts_ns"),
            JAVA_LONG_UNALIGNED.withName("duration_ns"),
            JAVA_LONG_UNALIGNED.withName("proc_start_ns"),
            JAVA_LONG_UNALIGNED.withName("cgroup_id"),
            JAVA_LONG_UNALIGNED.withName("sock_ino"),
            JAVA_LONG_UNALIGNED.withName("sock_addr"),
            JAVA_LONG_UNALIGNED.withName("peer_ino"),
            JAVA_LONG_UNALIGNED.withName("peer_sock_addr"),
            JAVA_LONG_UNALIGNED.withName("ret"),
            JAVA_LONG_UNALIGNED.withName("bytes"),
            JAVA_LONG_UNALIGNED.withName("arg_flags"),
            JAVA_INT_UNALIGNED.withName("pid"),
            JAVA_INT_UNALIGNED.withName("tid"),
            JAVA_INT_UNALIGNED.withName("uid"),
            JAVA_INT_UNALIGNED.withName("gid"),
            JAVA_INT_UNALIGNED.withName("fd"),
            JAVA_INT_UNALIGNED.withName("peer_fd"),
            JAVA_INT_UNALIGNED.withName("peer_fd2"),
            JAVA_INT_UNALIGNED.withName("arg_a"),
            JAVA_INT_UNALIGNED.withName("arg_b"),
            JAVA_INT_UNALIGNED.withName("arg_c"),
            JAVA_INT_UNALIGNED.withName("opt_value"),
            JAVA_SHORT_UNALIGNED.withName("kind"),
            JAVA_SHORT_UNALIGNED.withName("family"),
            JAVA_SHORT_UNALIGNED.withName("sk_type"),
            JAVA_SHORT_UNALIGNED.withName("sk_protocol"),
            JAVA_SHORT_UNALIGNED.withName("lport"),
            JAVA_SHORT_UNALIGNED.withName("rport"),
            JAVA_SHORT_UNALIGNED.withName("data_kind"),
            JAVA_SHORT_UNALIGNED.withName("data_len"),
            MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("laddr"),
            MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("raddr"),
            MemoryLayout.sequenceLayout(COMM_LEN, JAVA_BYTE).withName("comm"),
            MemoryLayout.sequenceLayout(DATA_LEN, JAVA_BYTE).withName("data"),
            JAVA_INT_UNALIGNED.withName("_reserved")).withName("sf_event");

    public static final long TS_NS = off("ts_ns");
    public static final long DURATION_NS = off("duration_ns");
    public static final long PROC_START_NS = off("proc_start_ns");
    public static final long CGROUP_ID = off("cgroup_id");
    public static final long SOCK_INO = off("sock_ino");
    public static final long SOCK_ADDR = off("sock_addr");
    public static final long PEER_INO = off("peer_ino");
    public static final long PEER_SOCK_ADDR = off("peer_sock_addr");
    public static final long RET = off("ret");
    public static final long BYTES = off("bytes");
    public static final long ARG_FLAGS = off("arg_flags");
    public static final long PID = off("pid");
    public static final long TID = off("tid");
    public static final long UID = off("uid");
    public static final long GID = off("gid");
    public static final long FD = off("fd");
    public static final long PEER_FD = off("peer_fd");
    public static final long PEER_FD2 = off("peer_fd2");
    public static final long ARG_A = off("arg_a");
    public static final long ARG_B = off("arg_b");
    public static final long ARG_C = off("arg_c");
    public static final long OPT_VALUE = off("opt_value");
    public static final long KIND = off("kind");
    public static final long FAMILY = off("family");
    public static final long SK_TYPE = off("sk_type");
    public static final long SK_PROTOCOL = off("sk_protocol");
    public static final long LPORT = off("lport");
    public static final long RPORT = off("rport");
    public static final long DATA_KIND = off("data_kind");
    public static final long DATA_LEN_OFF = off("data_len");
    public static final long LADDR = off("laddr");
    public static final long RADDR = off("raddr");
    public static final long COMM = off("comm");
    public static final long DATA = off("data");
    public static final long SIZE = EVENT.byteSize();

    public static final StructLayout COUNTERS = MemoryLayout.structLayout(
            JAVA_LONG_UNALIGNED.withName("submitted"),
            JAVA_LONG_UNALIGNED.withName("dropped"),
            JAVA_LONG_UNALIGNED.withName("orphan_exits")).withName("sf_counters");

    public static final StructLayout CONFIG = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(FILTER_PIDS, JAVA_INT_UNALIGNED).withName("pid_include"),
            MemoryLayout.sequenceLayout(FILTER_PIDS, JAVA_INT_UNALIGNED).withName("pid_exclude"),
            MemoryLayout.sequenceLayout(FILTER_CGROUPS, JAVA_LONG_UNALIGNED).withName("cgroup_include"),
            MemoryLayout.sequenceLayout(FILTER_CGROUPS, JAVA_LONG_UNALIGNED).withName("cgroup_exclude"),
            JAVA_INT_UNALIGNED.withName("pid_include_count"),
            JAVA_INT_UNALIGNED.withName("pid_exclude_count"),
            JAVA_INT_UNALIGNED.withName("cgroup_include_count"),
            JAVA_INT_UNALIGNED.withName("cgroup_exclude_count"),
            JAVA_LONG_UNALIGNED.withName("wakeup_bytes"),
            JAVA_INT_UNALIGNED.withName("groups"),
            JAVA_INT_UNALIGNED.withName("_pad")).withName("sf_config");

    public static final StructLayout RTT = MemoryLayout.structLayout(
            JAVA_INT_UNALIGNED.withName("srtt_us_last"),
            JAVA_INT_UNALIGNED.withName("srtt_us_min"),
            JAVA_INT_UNALIGNED.withName("srtt_us_max"),
            JAVA_INT_UNALIGNED.withName("cwnd_last"),
            JAVA_INT_UNALIGNED.withName("cwnd_min"),
            JAVA_INT_UNALIGNED.withName("cwnd_max"),
            JAVA_LONG_UNALIGNED.withName("samples"),
            JAVA_SHORT_UNALIGNED.withName("family"),
            JAVA_SHORT_UNALIGNED.withName("sport"),
            JAVA_SHORT_UNALIGNED.withName("dport"),
            JAVA_SHORT_UNALIGNED.withName("_pad"),
            MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("saddr"),
            MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("daddr")).withName("sf_rtt");

    public static final StructLayout DROP_KEY = MemoryLayout.structLayout(
            JAVA_INT_UNALIGNED.withName("reason"),
            JAVA_SHORT_UNALIGNED.withName("protocol"),
            JAVA_SHORT_UNALIGNED.withName("_pad")).withName("sf_drop_key");

    public static final StructLayout NETDEV_KEY = MemoryLayout.structLayout(
            JAVA_INT_UNALIGNED.withName("ifindex"),
            JAVA_INT_UNALIGNED.withName("direction")).withName("sf_netdev_key");

    public static final StructLayout NETDEV = MemoryLayout.structLayout(
            JAVA_LONG_UNALIGNED.withName("packets"),
            JAVA_LONG_UNALIGNED.withName("bytes")).withName("sf_netdev");

    public static final StructLayout XDP_KEY = MemoryLayout.structLayout(
            JAVA_INT_UNALIGNED.withName("ifindex"),
            JAVA_INT_UNALIGNED.withName("action"),
            JAVA_INT_UNALIGNED.withName("kind"),
            JAVA_INT_UNALIGNED.withName("_pad")).withName("sf_xdp_key");

    /** Tracepoint groups (sf_config.groups bits), in bit order. */
    public static final java.util.List<String> GROUPS = java.util.List.of("sock", "tcp", "skb", "net", "xdp", "udp");

    private EventLayout() {
    }

    private static long off(String field) {
        return EVENT.byteOffset(groupElement(field));
    }

    public static long u64(MemorySegment rec, long off) {
        return rec.get(JAVA_LONG_UNALIGNED, off);
    }

    public static int s32(MemorySegment rec, long off) {
        return rec.get(JAVA_INT_UNALIGNED, off);
    }

    public static int u16(MemorySegment rec, long off) {
        return Short.toUnsignedInt(rec.get(JAVA_SHORT_UNALIGNED, off));
    }
}
