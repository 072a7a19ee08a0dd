package io.sockflow.collector.decode;

import java.util.Map;

/** Linux's numbers for the names sockflow prints: address families and socket options (errno names: {@code sys.Errno}). */
final class LinuxNames {
    static final String[] FAMILY = new String[46];

    static {
        FAMILY[0] = "AF_UNSPEC";
        FAMILY[1] = "AF_UNIX";
        FAMILY[2] = "AF_INET";
        FAMILY[3] = "AF_AX25";
        FAMILY[4] = "AF_IPX";
        FAMILY[5] = "AF_APPLETALK";
        FAMILY[6] = "AF_NETROM";
        FAMILY[7] = "AF_BRIDGE";
        FAMILY[8] = "AF_ATMPVC";
        FAMILY[9] = "AF_X25";
        FAMILY[10] = "AF_INET6";
        FAMILY[11] = "AF_ROSE";
        FAMILY[13] = "AF_NETBEUI";
        FAMILY[14] = "AF_SECURITY";
        FAMILY[15] = "AF_KEY";
        FAMILY[16] = "AF_NETLINK";
        FAMILY[17] = "AF_PACKET";
        FAMILY[18] = "AF_ASH";
        FAMILY[19] = "AF_ECONET";
        FAMILY[20] = "AF_ATMSVC";
        FAMILY[21] = "AF_RDS";
        FAMILY[22] = "AF_SNA";
        FAMILY[23] = "AF_IRDA";
        FAMILY[24] = "AF_PPPOX";
        FAMILY[25] = "AF_WANPIPE";
        FAMILY[26] = "AF_LLC";
        FAMILY[27] = "AF_IB";
        FAMILY[28] = "AF_MPLS";
        FAMILY[29] = "AF_CAN";
        FAMILY[30] = "AF_TIPC";
        FAMILY[31] = "AF_BLUETOOTH";
        FAMILY[32] = "AF_IUCV";
        FAMILY[33] = "AF_RXRPC";
        FAMILY[34] = "AF_ISDN";
        FAMILY[35] = "AF_PHONET";
        FAMILY[36] = "AF_IEEE802154";
        FAMILY[37] = "AF_CAIF";
        FAMILY[38] = "AF_ALG";
        FAMILY[39] = "AF_NFC";
        FAMILY[40] = "AF_VSOCK";
        FAMILY[41] = "AF_KCM";
        FAMILY[42] = "AF_QIPCRTR";
        FAMILY[43] = "AF_SMC";
        FAMILY[44] = "AF_XDP";
        FAMILY[45] = "AF_MCTP";
    }

    static final Map<Integer, String> SOL_SOCKET_OPTIONS = Map.ofEntries(
            Map.entry(1, "SO_DEBUG"),
            Map.entry(2, "SO_REUSEADDR"),
            Map.entry(3, "SO_TYPE"),
            Map.entry(4, "SO_ERROR"),
            Map.entry(5, "SO_DONTROUTE"),
            Map.entry(6, "SO_BROADCAST"),
            Map.entry(7, "SO_SNDBUF"),
            Map.entry(8, "SO_RCVBUF"),
            Map.entry(9, "SO_KEEPALIVE"),
            Map.entry(10, "SO_OOBINLINE"),
            Map.entry(11, "SO_NO_CHECK"),
            Map.entry(12, "SO_PRIORITY"),
            Map.entry(13, "SO_LINGER"),
            Map.entry(14, "SO_BSDCOMPAT"),
            Map.entry(15, "SO_REUSEPORT"),
            Map.entry(16, "SO_PASSCRED"),
            Map.entry(17, "SO_PEERCRED"),
            Map.entry(18, "SO_RCVLOWAT"),
            Map.entry(19, "SO_SNDLOWAT"),
            Map.entry(20, "SO_RCVTIMEO_OLD"),
            Map.entry(21, "SO_SNDTIMEO_OLD"),
            Map.entry(22, "SO_SECURITY_AUTHENTICATION"),
            Map.entry(23, "SO_SECURITY_ENCRYPTION_TRANSPORT"),
            Map.entry(24, "SO_SECURITY_ENCRYPTION_NETWORK"),
            Map.entry(25, "SO_BINDTODEVICE"),
            Map.entry(26, "SO_ATTACH_FILTER"),
            Map.entry(27, "SO_DETACH_FILTER"),
            Map.entry(28, "SO_PEERNAME"),
            Map.entry(29, "SO_TIMESTAMP_OLD"),
            Map.entry(30, "SO_ACCEPTCONN"),
            Map.entry(31, "SO_PEERSEC"),
            Map.entry(32, "SO_SNDBUFFORCE"),
            Map.entry(33, "SO_RCVBUFFORCE"),
            Map.entry(34, "SO_PASSSEC"),
            Map.entry(35, "SO_TIMESTAMPNS_OLD"),
            Map.entry(36, "SO_MARK"),
            Map.entry(37, "SO_TIMESTAMPING_OLD"),
            Map.entry(38, "SO_PROTOCOL"),
            Map.entry(39, "SO_DOMAIN"),
            Map.entry(40, "SO_RXQ_OVFL"),
            Map.entry(41, "SO_WIFI_STATUS"),
            Map.entry(42, "SO_PEEK_OFF"),
            Map.entry(43, "SO_NOFCS"),
            Map.entry(44, "SO_LOCK_FILTER"),
            Map.entry(45, "SO_SELECT_ERR_QUEUE"),
            Map.entry(46, "SO_BUSY_POLL"),
            Map.entry(47, "SO_MAX_PACING_RATE"),
            Map.entry(48, "SO_BPF_EXTENSIONS"),
            Map.entry(49, "SO_INCOMING_CPU"),
            Map.entry(50, "SO_ATTACH_BPF"),
            Map.entry(51, "SO_ATTACH_REUSEPORT_CBPF"),
            Map.entry(52, "SO_ATTACH_REUSEPORT_EBPF"),
            Map.entry(53, "SO_CNX_ADVICE"),
            Map.entry(55, "SO_MEMINFO"),
            Map.entry(56, "SO_INCOMING_NAPI_ID"),
            Map.entry(57, "SO_COOKIE"),
            Map.entry(59, "SO_PEERGROUPS"),
            Map.entry(60, "SO_ZEROCOPY"),
            Map.entry(61, "SO_TXTIME"),
            Map.entry(62, "SO_BINDTOIFINDEX"),
            Map.entry(63, "SO_TIMESTAMP_NEW"),
            Map.entry(64, "SO_TIMESTAMPNS_NEW"),
            Map.entry(65, "SO_TIMESTAMPING_NEW"),
            Map.entry(66, "SO_RCVTIMEO_NEW"),
            Map.entry(67, "SO_SNDTIMEO_NEW"),
            Map.entry(68, "SO_DETACH_REUSEPORT_BPF"),
            Map.entry(69, "SO_PREFER_BUSY_POLL"),
            Map.entry(70, "SO_BUSY_POLL_BUDGET"),
            Map.entry(71, "SO_NETNS_COOKIE"),
            Map.entry(72, "SO_BUF_LOCK"),
            Map.entry(73, "SO_RESERVE_MEM"),
            Map.entry(74, "SO_TXREHASH"),
            Map.entry(75, "SO_RCVMARK"));

    static final Map<Integer, String> TCP_OPTIONS = Map.ofEntries(
            Map.entry(1, "TCP_NODELAY"),
            Map.entry(2, "TCP_MAXSEG"),
            Map.entry(3, "TCP_CORK"),
            Map.entry(4, "TCP_KEEPIDLE"),
            Map.entry(5, "TCP_KEEPINTVL"),
            Map.entry(6, "TCP_KEEPCNT"),
            Map.entry(7, "TCP_SYNCNT"),
            Map.entry(8, "TCP_LINGER2"),
            Map.entry(9, "TCP_DEFER_ACCEPT"),
            Map.entry(10, "TCP_WINDOW_CLAMP"),
            Map.entry(11, "TCP_INFO"),
            Map.entry(12, "TCP_QUICKACK"),
            Map.entry(13, "TCP_CONGESTION"),
            Map.entry(14, "TCP_MD5SIG"),
            Map.entry(16, "TCP_THIN_LINEAR_TIMEOUTS"),
            Map.entry(17, "TCP_THIN_DUPACK"),
            Map.entry(18, "TCP_USER_TIMEOUT"),
            Map.entry(19, "TCP_REPAIR"),
            Map.entry(23, "TCP_FASTOPEN"),
            Map.entry(25, "TCP_NOTSENT_LOWAT"),
            Map.entry(26, "TCP_CC_INFO"),
            Map.entry(27, "TCP_SAVE_SYN"),
            Map.entry(28, "TCP_SAVED_SYN"),
            Map.entry(29, "TCP_REPAIR_WINDOW"),
            Map.entry(30, "TCP_FASTOPEN_CONNECT"),
            Map.entry(31, "TCP_ULP"),
            Map.entry(32, "TCP_MD5SIG_EXT"),
            Map.entry(33, "TCP_FASTOPEN_KEY"),
            Map.entry(34, "TCP_FASTOPEN_NO_COOKIE"),
            Map.entry(36, "TCP_INQ"),
            Map.entry(37, "TCP_TX_DELAY"));

    static final Map<Integer, String> IP_OPTIONS = Map.ofEntries(
            Map.entry(0, "IP_PMTUDISC_DONT"),
            Map.entry(1, "IP_TOS"),
            Map.entry(2, "IP_TTL"),
            Map.entry(3, "IP_HDRINCL"),
            Map.entry(4, "IP_OPTIONS"),
            Map.entry(5, "IP_ROUTER_ALERT"),
            Map.entry(6, "IP_RECVOPTS"),
            Map.entry(7, "IP_RETOPTS"),
            Map.entry(8, "IP_PKTINFO"),
            Map.entry(9, "IP_PKTOPTIONS"),
            Map.entry(10, "IP_MTU_DISCOVER"),
            Map.entry(11, "IP_RECVERR"),
            Map.entry(12, "IP_RECVTTL"),
            Map.entry(13, "IP_RECVTOS"),
            Map.entry(14, "IP_MTU"),
            Map.entry(15, "IP_FREEBIND"),
            Map.entry(16, "IP_IPSEC_POLICY"),
            Map.entry(17, "IP_XFRM_POLICY"),
            Map.entry(18, "IP_PASSSEC"),
            Map.entry(19, "IP_TRANSPARENT"),
            Map.entry(20, "IP_ORIGDSTADDR"),
            Map.entry(21, "IP_MINTTL"),
            Map.entry(22, "IP_NODEFRAG"),
            Map.entry(23, "IP_CHECKSUM"),
            Map.entry(24, "IP_BIND_ADDRESS_NO_PORT"),
            Map.entry(25, "IP_RECVFRAGSIZE"),
            Map.entry(26, "IP_RECVERR_RFC4884"),
            Map.entry(32, "IP_MULTICAST_IF"),
            Map.entry(33, "IP_MULTICAST_TTL"),
            Map.entry(34, "IP_MULTICAST_LOOP"),
            Map.entry(35, "IP_ADD_MEMBERSHIP"),
            Map.entry(36, "IP_DROP_MEMBERSHIP"),
            Map.entry(37, "IP_UNBLOCK_SOURCE"),
            Map.entry(38, "IP_BLOCK_SOURCE"),
            Map.entry(39, "IP_ADD_SOURCE_MEMBERSHIP"),
            Map.entry(40, "IP_DROP_SOURCE_MEMBERSHIP"),
            Map.entry(41, "IP_MSFILTER"),
            Map.entry(49, "IP_MULTICAST_ALL"),
            Map.entry(50, "IP_UNICAST_IF"),
            Map.entry(51, "IP_LOCAL_PORT_RANGE"),
            Map.entry(52, "IP_PROTOCOL"));

    static final Map<Integer, String> IPV6_OPTIONS = Map.ofEntries(
            Map.entry(0, "IPV6_FL_A_GET"),
            Map.entry(1, "IPV6_FL_A_PUT"),
            Map.entry(2, "IPV6_FL_A_RENEW"),
            Map.entry(3, "IPV6_FL_S_USER"),
            Map.entry(4, "IPV6_FL_F_REFLECT"),
            Map.entry(5, "IPV6_TLV_ROUTERALERT"),
            Map.entry(6, "IPV6_2292PKTOPTIONS"),
            Map.entry(7, "IPV6_TLV_CALIPSO"),
            Map.entry(8, "IPV6_FL_F_REMOTE"),
            Map.entry(9, "IPV6_NEXTHOP"),
            Map.entry(10, "IPV6_AUTHHDR"),
            Map.entry(11, "IPV6_FLOWINFO"),
            Map.entry(16, "IPV6_UNICAST_HOPS"),
            Map.entry(17, "IPV6_MULTICAST_IF"),
            Map.entry(18, "IPV6_MULTICAST_HOPS"),
            Map.entry(19, "IPV6_MULTICAST_LOOP"),
            Map.entry(20, "IPV6_ADD_MEMBERSHIP"),
            Map.entry(21, "IPV6_DROP_MEMBERSHIP"),
            Map.entry(22, "IPV6_ROUTER_ALERT"),
            Map.entry(23, "IPV6_MTU_DISCOVER"),
            Map.entry(24, "IPV6_MTU"),
            Map.entry(25, "IPV6_RECVERR"),
            Map.entry(26, "IPV6_V6ONLY"),
            Map.entry(27, "IPV6_JOIN_ANYCAST"),
            Map.entry(28, "IPV6_LEAVE_ANYCAST"),
            Map.entry(29, "IPV6_MULTICAST_ALL"),
            Map.entry(30, "IPV6_ROUTER_ALERT_ISOLATE"),
            Map.entry(31, "IPV6_RECVERR_RFC4884"),
            Map.entry(32, "IPV6_FLOWLABEL_MGR"),
            Map.entry(33, "IPV6_FLOWINFO_SEND"),
            Map.entry(34, "IPV6_IPSEC_POLICY"),
            Map.entry(35, "IPV6_XFRM_POLICY"),
            Map.entry(36, "IPV6_HDRINCL"),
            Map.entry(49, "IPV6_TLV_IOAM"),
            Map.entry(50, "IPV6_PKTINFO"),
            Map.entry(51, "IPV6_RECVHOPLIMIT"),
            Map.entry(52, "IPV6_HOPLIMIT"),
            Map.entry(53, "IPV6_RECVHOPOPTS"),
            Map.entry(54, "IPV6_HOPOPTS"),
            Map.entry(55, "IPV6_RTHDRDSTOPTS"),
            Map.entry(56, "IPV6_RECVRTHDR"),
            Map.entry(57, "IPV6_RTHDR"),
            Map.entry(58, "IPV6_RECVDSTOPTS"),
            Map.entry(59, "IPV6_DSTOPTS"),
            Map.entry(60, "IPV6_RECVPATHMTU"),
            Map.entry(61, "IPV6_PATHMTU"),
            Map.entry(62, "IPV6_DONTFRAG"),
            Map.entry(63, "IPV6_USE_MIN_MTU"),
            Map.entry(66, "IPV6_RECVTCLASS"),
            Map.entry(67, "IPV6_TCLASS"),
            Map.entry(70, "IPV6_AUTOFLOWLABEL"),
            Map.entry(72, "IPV6_ADDR_PREFERENCES"),
            Map.entry(73, "IPV6_MINHOPCOUNT"),
            Map.entry(74, "IPV6_ORIGDSTADDR"),
            Map.entry(75, "IPV6_TRANSPARENT"),
            Map.entry(76, "IPV6_UNICAST_IF"),
            Map.entry(77, "IPV6_RECVFRAGSIZE"),
            Map.entry(78, "IPV6_FREEBIND"),
            Map.entry(194, "IPV6_TLV_JUMBO"),
            Map.entry(201, "IPV6_TLV_HAO"),
            Map.entry(255, "IPV6_FL_S_ANY"));

    private LinuxNames() {}
}
