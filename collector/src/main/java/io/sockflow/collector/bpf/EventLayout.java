package io.sockflow.collector.bpf;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The offsets the collector reads records at, taken by name from the kernel contract (bpf/sockflow.h through the
 * object's BTF, see {@link KernelContract}). Records are read in place: the accessors take the ring-buffer segment
 * and an offset constant.
 */
public final class EventLayout {
    private static final KernelContract C = KernelContract.get();

    public static final int COMM_LEN = C.intValue("sf_limits", "SF_COMM_LEN");
    public static final int DATA_LEN = C.intValue("sf_limits", "SF_DATA_LEN");
    public static final int FILTER_PIDS = C.intValue("sf_limits", "SF_FILTER_PIDS");
    public static final int FILTER_CGROUPS = C.intValue("sf_limits", "SF_FILTER_CGROUPS");

    public static final KernelContract.Struct EVENT = C.struct("sf_event");
    public static final long TS_NS = EVENT.offset("ts_ns");
    public static final long DURATION_NS = EVENT.offset("duration_ns");
    public static final long PROC_START_NS = EVENT.offset("proc_start_ns");
    public static final long CGROUP_ID = EVENT.offset("cgroup_id");
    public static final long SOCK_INO = EVENT.offset("sock_ino");
    public static final long SOCK_ADDR = EVENT.offset("sock_addr");
    public static final long COOKIE = EVENT.offset("cookie");
    public static final long PEER_INO = EVENT.offset("peer_ino");
    public static final long PEER_SOCK_ADDR = EVENT.offset("peer_sock_addr");
    public static final long PEER_COOKIE = EVENT.offset("peer_cookie");
    public static final long RET = EVENT.offset("ret");
    public static final long BYTES = EVENT.offset("bytes");
    public static final long ARG_FLAGS = EVENT.offset("arg_flags");
    public static final long TCP_BYTES_OUT = EVENT.offset("tcp_bytes_out");
    public static final long TCP_BYTES_IN = EVENT.offset("tcp_bytes_in");
    public static final long PID = EVENT.offset("pid");
    public static final long TID = EVENT.offset("tid");
    public static final long UID = EVENT.offset("uid");
    public static final long GID = EVENT.offset("gid");
    public static final long NETNS = EVENT.offset("netns");
    public static final long MARK = EVENT.offset("mark");
    public static final long IO_URING_OP = EVENT.offset("io_uring_op");
    public static final long FD = EVENT.offset("fd");
    public static final long PEER_FD = EVENT.offset("peer_fd");
    public static final long PEER_FD2 = EVENT.offset("peer_fd2");
    public static final long ARG_A = EVENT.offset("arg_a");
    public static final long ARG_B = EVENT.offset("arg_b");
    public static final long ARG_C = EVENT.offset("arg_c");
    public static final long OPT_VALUE = EVENT.offset("opt_value");
    public static final long KIND = EVENT.offset("kind");
    public static final long FAMILY = EVENT.offset("family");
    public static final long SK_TYPE = EVENT.offset("sk_type");
    public static final long SK_PROTOCOL = EVENT.offset("sk_protocol");
    public static final long SK_STATE = EVENT.offset("sk_state");
    public static final long LPORT = EVENT.offset("lport");
    public static final long RPORT = EVENT.offset("rport");
    public static final long CAUSE = EVENT.offset("cause");
    public static final long FLAGS = EVENT.offset("flags");
    public static final long DATA_KIND = EVENT.offset("data_kind");
    public static final long DATA_LEN_OFF = EVENT.offset("data_len");
    public static final long LADDR = EVENT.offset("laddr");
    public static final long RADDR = EVENT.offset("raddr");
    public static final long COMM = EVENT.offset("comm");
    public static final long DATA = EVENT.offset("data");
    public static final long SIZE = EVENT.size();

    public static final KernelContract.Struct COUNTERS = C.struct("sf_counters");
    public static final KernelContract.Struct CONFIG = C.struct("sf_config");
    public static final KernelContract.Struct RTT = C.struct("sf_rtt");
    public static final KernelContract.Struct RTT_KEY = C.struct("sf_rtt_key");
    public static final KernelContract.Struct DROP_KEY = C.struct("sf_drop_key");
    public static final KernelContract.Struct NETDEV_KEY = C.struct("sf_netdev_key");
    public static final KernelContract.Struct NETDEV = C.struct("sf_netdev");
    public static final KernelContract.Struct XDP_KEY = C.struct("sf_xdp_key");
    public static final KernelContract.Struct TOTALS = C.struct("sf_totals");
    public static final int DATA_PATH_AGGREGATE = C.intValue("sf_data_path", "SF_DATA_PATH_AGGREGATE");
    public static final int DATA_PATH_LENGTH_HOOKS = C.intValue("sf_data_path", "SF_DATA_PATH_LENGTH_HOOKS");
    public static final int DATA_PATH_LENGTH_TCP_ONLY = C.intValue("sf_data_path", "SF_DATA_PATH_LENGTH_TCP_ONLY");

    public static final int DATA_SOCKADDR = C.intValue("sf_data_kind", "SF_DATA_SOCKADDR");
    public static final int DATA_NAME = C.intValue("sf_data_kind", "SF_DATA_NAME");
    public static final int KIND_SOCK_RELEASE = C.intValue("sf_kind", "SF_KIND_SOCK_RELEASE");
    public static final int FLAG_LAST_REFERENCE = C.intValue("sf_flag", "SF_FLAG_LAST_REFERENCE");
    public static final int FLAG_PENDING_EXEC = C.intValue("sf_flag", "SF_FLAG_PENDING_EXEC");
    public static final int FLAG_CLOEXEC = C.intValue("sf_flag", "SF_FLAG_CLOEXEC");
    public static final int FLAG_KTHREAD = C.intValue("sf_flag", "SF_FLAG_KTHREAD");
    public static final int FLAG_EXEC_FAILED = C.intValue("sf_flag", "SF_FLAG_EXEC_FAILED");
    public static final int FLAG_FIXED_FILE = C.intValue("sf_flag", "SF_FLAG_FIXED_FILE");

    /** Tracepoint groups (sf_config.groups bits, enum sf_group), in bit order, by their lower-case names. */
    public static final List<String> GROUPS = groups();

    private EventLayout() {}

    private static List<String> groups() {
        List<String> g = new ArrayList<>();
        for (Map.Entry<String, Long> e : C.enumValues("sf_group").entrySet()) {
            int bit = Long.numberOfTrailingZeros(e.getValue());
            while (g.size() <= bit) {
                g.add(null);
            }
            g.set(bit, e.getKey().substring("SF_GROUP_".length()).toLowerCase(Locale.ROOT));
        }
        if (g.contains(null)) {
            throw new IllegalStateException("enum sf_group has a gap in its bits: " + g);
        }
        return List.copyOf(g);
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
