package io.sockflow.collector.decode;

import java.util.Map;

/** Names of the constants that socket calls take, as the Linux headers spell them. */
public final class SocketNames {
    private static final String[] TYPES = {
        null,
        "SOCK_STREAM",
        "SOCK_DGRAM",
        "SOCK_RAW",
        "SOCK_RDM",
        "SOCK_SEQPACKET",
        "SOCK_DCCP",
        null,
        null,
        null,
        "SOCK_PACKET"
    };
    private static final int SOCK_NONBLOCK = 0x800;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final String[] SHUTDOWN = {"SHUT_RD", "SHUT_WR", "SHUT_RDWR"};
    private static final Map<Integer, String> PROTOCOLS = Map.ofEntries(
            Map.entry(0, "IP"),
            Map.entry(1, "ICMP"),
            Map.entry(2, "IGMP"),
            Map.entry(4, "IPIP"),
            Map.entry(6, "TCP"),
            Map.entry(17, "UDP"),
            Map.entry(41, "IPV6"),
            Map.entry(47, "GRE"),
            Map.entry(50, "ESP"),
            Map.entry(51, "AH"),
            Map.entry(58, "ICMPV6"),
            Map.entry(132, "SCTP"),
            Map.entry(136, "UDPLITE"),
            Map.entry(255, "RAW"),
            Map.entry(262, "MPTCP"));
    private static final String[] MSG_FLAGS = new String[32];
    private static final String[] STRING_CACHE_FAMILY = LinuxNames.FAMILY;

    static {
        String[][] flags = {
            {"MSG_OOB", "0"},
            {"MSG_PEEK", "1"},
            {"MSG_DONTROUTE", "2"},
            {"MSG_CTRUNC", "3"},
            {"MSG_PROXY", "4"},
            {"MSG_TRUNC", "5"},
            {"MSG_DONTWAIT", "6"},
            {"MSG_EOR", "7"},
            {"MSG_WAITALL", "8"},
            {"MSG_FIN", "9"},
            {"MSG_SYN", "10"},
            {"MSG_CONFIRM", "11"},
            {"MSG_RST", "12"},
            {"MSG_ERRQUEUE", "13"},
            {"MSG_NOSIGNAL", "14"},
            {"MSG_MORE", "15"},
            {"MSG_WAITFORONE", "16"},
            {"MSG_SENDPAGE_NOPOLICY", "17"},
            {"MSG_BATCH", "18"},
            {"MSG_ZEROCOPY", "26"},
            {"MSG_FASTOPEN", "29"},
            {"MSG_CMSG_CLOEXEC", "30"}
        };
        for (String[] f : flags) {
            MSG_FLAGS[Integer.parseInt(f[1])] = f[0];
        }
    }

    private SocketNames() {}

    public static String family(int family) {
        if (family >= 0 && family < STRING_CACHE_FAMILY.length && STRING_CACHE_FAMILY[family] != null) {
            return STRING_CACHE_FAMILY[family];
        }
        return "AF_" + family;
    }

    /** The base type without flags, e.g. SOCK_STREAM. */
    public static String type(int type) {
        int base = type & 0xf;
        return base < TYPES.length && TYPES[base] != null ? TYPES[base] : "SOCK_" + base;
    }

    /**
     * Every base type with each combination of the two flags, made once: socket() is called with them all the time,
     * and one String per call was a string for the serializer's cache to miss.
     */
    private static final String[] TYPES_WITH_FLAGS = new String[16 * 4];

    static {
        for (int base = 0; base < 16; base++) {
            for (int f = 0; f < 4; f++) {
                TYPES_WITH_FLAGS[base * 4 + f] =
                        spelled(base | ((f & 1) != 0 ? SOCK_NONBLOCK : 0) | ((f & 2) != 0 ? SOCK_CLOEXEC : 0));
            }
        }
    }

    /** The type with its flags, e.g. SOCK_STREAM|SOCK_CLOEXEC, as socket() takes it. */
    public static String typeWithFlags(int type) {
        int flags = type & ~0xf;
        if ((flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) == 0) {
            return TYPES_WITH_FLAGS[
                    (type & 0xf) * 4 + ((flags & SOCK_NONBLOCK) != 0 ? 1 : 0) + ((flags & SOCK_CLOEXEC) != 0 ? 2 : 0)];
        }
        return spelled(type);
    }

    private static String spelled(int type) {
        String s = type(type);
        if ((type & SOCK_NONBLOCK) != 0) {
            s += "|SOCK_NONBLOCK";
        }
        if ((type & SOCK_CLOEXEC) != 0) {
            s += "|SOCK_CLOEXEC";
        }
        return s;
    }

    /** accept4's flags by name, or null when there are none. */
    public static String acceptFlags(long flags) {
        if (flags == 0) {
            return null;
        }
        StringBuilder b = new StringBuilder();
        if ((flags & SOCK_NONBLOCK) != 0) {
            b.append("SOCK_NONBLOCK");
        }
        if ((flags & SOCK_CLOEXEC) != 0) {
            b.append(b.isEmpty() ? "" : "|").append("SOCK_CLOEXEC");
        }
        long rest = flags & ~(long) (SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (rest != 0) {
            b.append(b.isEmpty() ? "" : "|").append("0x").append(Long.toHexString(rest));
        }
        return b.toString();
    }

    /** MSG_* flags by name, or null when there are none. */
    public static String msgFlags(long flags) {
        if (flags == 0) {
            return null;
        }
        StringBuilder b = new StringBuilder();
        for (int bit = 0; bit < 32; bit++) {
            if ((flags & (1L << bit)) != 0) {
                if (!b.isEmpty()) {
                    b.append('|');
                }
                b.append(MSG_FLAGS[bit] != null ? MSG_FLAGS[bit] : "0x" + Long.toHexString(1L << bit));
            }
        }
        return b.toString();
    }

    public static String protocol(int protocol) {
        String n = PROTOCOLS.get(protocol);
        return n != null ? n : Integer.toString(protocol);
    }

    public static String shutdownHow(int how) {
        return how >= 0 && how < SHUTDOWN.length ? SHUTDOWN[how] : Integer.toString(how);
    }

    public static String optionLevel(int level) {
        return switch (level) {
            case 1 -> "SOL_SOCKET";
            case 0 -> "IPPROTO_IP";
            case 6 -> "IPPROTO_TCP";
            case 17 -> "IPPROTO_UDP";
            case 41 -> "IPPROTO_IPV6";
            case 255 -> "IPPROTO_RAW";
            case 263 -> "SOL_PACKET";
            case 270 -> "SOL_NETLINK";
            case 282 -> "SOL_TLS";
            default -> Integer.toString(level);
        };
    }

    public static String optionName(int level, int name) {
        Map<Integer, String> table = switch (level) {
            case 1 -> LinuxNames.SOL_SOCKET_OPTIONS;
            case 6 -> LinuxNames.TCP_OPTIONS;
            case 0 -> LinuxNames.IP_OPTIONS;
            case 41 -> LinuxNames.IPV6_OPTIONS;
            default -> null;
        };
        String n = table == null ? null : table.get(name);
        return n != null ? n : Integer.toString(name);
    }
}
