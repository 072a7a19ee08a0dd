/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The contract between sockflow's kernel programs and its collector: every record the kernel hands to
 * user space is defined here and nowhere else. The collector mirrors these structs with a Java
 * MemoryLayout (collector/.../bpf/EventLayout.java), and a test holds the two against the BTF of the
 * compiled object, so a field moved here and not there fails the build.
 *
 * Rules for changing this file: fields are naturally aligned with no implicit padding (explicit
 * _pad fields only), records only grow at the end, and enum values are never renumbered.
 */
#ifndef SOCKFLOW_H
#define SOCKFLOW_H

#define SF_COMM_LEN 16
/* Large enough for a sockaddr_un (110 bytes) and a UTS name (64 bytes). */
#define SF_DATA_LEN 128
#define SF_FILTER_PIDS 8
#define SF_FILTER_CGROUPS 4

/* What a record describes. One value per traced call; values are stable on the wire. */
enum sf_kind {
	SF_KIND_SOCKET = 1,
	SF_KIND_SOCKETPAIR = 2,
	SF_KIND_SETSOCKOPT = 3,
	SF_KIND_GETSOCKOPT = 4,
	SF_KIND_GETSOCKNAME = 5,
	SF_KIND_GETPEERNAME = 6,
	SF_KIND_BIND = 7,
	SF_KIND_LISTEN = 8,
	SF_KIND_ACCEPT = 9,
	SF_KIND_ACCEPT4 = 10,
	SF_KIND_CONNECT = 11,
	SF_KIND_SHUTDOWN = 12,
	SF_KIND_RECVFROM = 13,
	SF_KIND_RECVMSG = 14,
	SF_KIND_RECVMMSG = 15,
	SF_KIND_SENDTO = 16,
	SF_KIND_SENDMSG = 17,
	SF_KIND_SENDMMSG = 18,
	SF_KIND_SETHOSTNAME = 19,
	SF_KIND_SETDOMAINNAME = 20,
	SF_KIND_CLOSE = 21,
	/* kernel tracepoints, one record per event (pid/comm are of whatever task the kernel ran them in) */
	SF_KIND_TCP_STATE = 32,          /* sock:inet_sock_set_state: arg_a old state, arg_b new state */
	SF_KIND_SOCK_SEND = 33,          /* sock:sock_send_length: bytes, arg_flags */
	SF_KIND_SOCK_RECV = 34,          /* sock:sock_recv_length: bytes, arg_flags */
	SF_KIND_TCP_RETRANSMIT = 35,     /* tcp:tcp_retransmit_skb: arg_a state */
	SF_KIND_TCP_SEND_RESET = 36,     /* tcp:tcp_send_reset: arg_a state, arg_b reason */
	SF_KIND_TCP_RECEIVE_RESET = 37,  /* tcp:tcp_receive_reset */
	SF_KIND_TCP_DESTROY = 38,        /* tcp:tcp_destroy_sock */
};

/* Tracepoint groups, for sf_config.groups: a bit each. */
#define SF_GROUP_SOCK (1u << 0)
#define SF_GROUP_TCP (1u << 1)
#define SF_GROUP_SKB (1u << 2)
#define SF_GROUP_NET (1u << 3)
#define SF_GROUP_XDP (1u << 4)
#define SF_GROUP_UDP (1u << 5)

/* Aggregated in the kernel and read (and reset) by the collector at an interval. */
struct sf_rtt_key {
	__u64 sock_addr;
};

struct sf_rtt {
	__u32 srtt_us_last;   /* smoothed RTT, microseconds (tcp_probe's srtt is in usec << 3... normalised) */
	__u32 srtt_us_min;
	__u32 srtt_us_max;
	__u32 cwnd_last;
	__u32 cwnd_min;
	__u32 cwnd_max;
	__u64 samples;
	__u16 family;
	__u16 sport;
	__u16 dport;
	__u16 _pad;
	__u8 saddr[16];
	__u8 daddr[16];
};

struct sf_drop_key {
	__u32 reason;    /* enum skb_drop_reason */
	__u16 protocol;  /* skb->protocol (ethertype), host order as the tracepoint gives it */
	__u16 _pad;
};

struct sf_netdev_key {
	__u32 ifindex;
	__u32 direction; /* 0 transmit (net_dev_xmit), 1 receive (netif_receive_skb) */
};

struct sf_netdev {
	__u64 packets;
	__u64 bytes;
};

struct sf_xdp_key {
	__u32 ifindex;
	__u32 action;
	__u32 kind;      /* 0 xdp_exception, 1 xdp_redirect_err */
	__u32 _pad;
};

/* What the data[] bytes of a record hold. */
enum sf_data_kind {
	SF_DATA_NONE = 0,
	SF_DATA_SOCKADDR = 1, /* a struct sockaddr_* exactly as the call passed or received it */
	SF_DATA_NAME = 2,     /* the name given to sethostname/setdomainname (not NUL-terminated) */
};

/*
 * One system call on a socket, emitted when the call returns.
 *
 * Argument slots by kind (arg_a / arg_b / arg_c / opt_value):
 *   socket, socketpair:     family / type with flags / protocol
 *   setsockopt, getsockopt: level / optname / optlen (after the call for getsockopt) / first int of optval
 *   listen:                 backlog
 *   shutdown:               how
 *   accept4:                flags in arg_flags
 *   recv*, send*:           flags in arg_flags; recvmmsg/sendmmsg: vlen in arg_a
 *   sethostname/domainname: len in arg_a
 */
struct sf_event {
	__u64 ts_ns;           /* CLOCK_BOOTTIME when the call returned */
	__u64 duration_ns;     /* time spent in the call */
	__u64 proc_start_ns;   /* thread-group leader's start, CLOCK_BOOTTIME: (pid, this) names a process */
	__u64 cgroup_id;       /* cgroup v2 id of the calling task */
	__u64 sock_ino;        /* sockfs inode of the socket the call used or created; 0 if none */
	__u64 sock_addr;       /* kernel address of its struct sock; 0 if none */
	__u64 peer_ino;        /* socketpair: the second end; accept: the listener */
	__u64 peer_sock_addr;  /* struct sock of the same */
	__s64 ret;             /* return value; negative errno on failure */
	__u64 bytes;           /* bytes moved: ret for send/recv, summed msg_len for the *mmsg calls */
	__u64 arg_flags;       /* MSG_* flags, accept4 flags */
	__u32 pid;             /* thread-group id */
	__u32 tid;             /* thread id */
	__u32 uid;
	__u32 gid;
	__s32 fd;              /* the fd the call was given (accept: the listener; socket: -1) */
	__s32 peer_fd;         /* socket/accept: the new fd; socketpair: sv[0]; -1 otherwise */
	__s32 peer_fd2;        /* socketpair: sv[1]; -1 otherwise */
	__s32 arg_a;
	__s32 arg_b;
	__s32 arg_c;
	__s32 opt_value;
	__u16 kind;            /* enum sf_kind */
	__u16 family;          /* of the socket (from struct sock), 0 if unknown */
	__u16 sk_type;
	__u16 sk_protocol;
	__u16 lport;           /* local port, host order, from struct sock after the call */
	__u16 rport;           /* remote port, host order */
	__u16 data_kind;       /* enum sf_data_kind */
	__u16 data_len;        /* valid bytes in data[] */
	__u8 laddr[16];        /* local address from struct sock: IPv4 in the first 4 bytes, or IPv6 */
	__u8 raddr[16];        /* remote address from struct sock */
	char comm[SF_COMM_LEN];
	__u8 data[SF_DATA_LEN];
	__u32 _reserved;       /* keeps the record a multiple of 8 bytes */
};

/* Per-CPU accounting; submitted = received by the collector + dropped, exactly. */
struct sf_counters {
	__u64 submitted;      /* records the programs tried to hand over (ring-buffer reservations) */
	__u64 dropped;        /* reservations refused because the ring buffer was full */
	__u64 orphan_exits;   /* exits whose enter was not seen (started before attach) */
};

/* Filters, set by the collector before load (the programs' .rodata). An empty list means "any". */
struct sf_config {
	__u32 pid_include[SF_FILTER_PIDS];
	__u32 pid_exclude[SF_FILTER_PIDS];
	__u64 cgroup_include[SF_FILTER_CGROUPS];
	__u64 cgroup_exclude[SF_FILTER_CGROUPS];
	__u32 pid_include_count;
	__u32 pid_exclude_count;
	__u32 cgroup_include_count;
	__u32 cgroup_exclude_count;
	/*
	 * 0: libbpf's adaptive wakeups (the reader is woken whenever it had caught up); otherwise never wake it
	 * and let it poll on a timer. A wakeup per record costs microseconds in the kernel.
	 */
	__u64 wakeup_bytes;
	/* the collector's own sockets' struct sock addresses are not known in advance: tracepoint records are
	 * filtered in user space */
	__u32 groups;    /* SF_GROUP_* bits of the tracepoint groups to record */
	__u32 _pad;
};

#endif /* SOCKFLOW_H */
