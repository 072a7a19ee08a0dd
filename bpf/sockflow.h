/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The contract between sockflow's kernel programs and its collector: every record, enum and constant the kernel
 * side hands to user space is defined here and nowhere else. The collector reads the layouts and the enum values
 * from the BTF that the compiled object carries (collector/.../bpf/KernelContract.java), by name, so a field moved
 * here moves there too; KernelContractTest fails when a kind or an enum value has no counterpart on the Java and Avro
 * side. Everything the collector needs is an enum (not a #define) so that it lands in BTF.
 *
 * Rules for changing this file: fields are naturally aligned with no implicit padding (explicit _pad fields only),
 * and kind numbers are never reused for something else.
 */
#ifndef SOCKFLOW_H
#define SOCKFLOW_H

enum sf_limits {
	SF_COMM_LEN = 16,
	/* large enough for a sockaddr_un (110 bytes) and a UTS name (64 bytes) */
	SF_DATA_LEN = 128,
	SF_FILTER_PIDS = 8,
	SF_FILTER_CGROUPS = 4,
};

/*
 * What a record describes. Values are stable on the wire. The ranges say where pid and comm come from:
 * below SF_KIND_FIRST_KERNEL the task that made the call; from it on, whatever task the kernel ran in (softirq,
 * timers), so the collector attributes the record to the socket's owner instead.
 */
enum sf_kind {
	/* system calls, one record when the call returns; pid/comm of the caller */
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
	SF_KIND_CLOSE = 21, /* flags: SF_FLAG_LAST_REFERENCE when this close dropped the file's last reference */
	/* a socket descriptor dropped other than by close(): one record per descriptor; cause says how (exit, exec of a
	 * close-on-exec descriptor, dup2/dup3 over it, close_range); pid/comm of the process that dropped it */
	SF_KIND_FD_DROP = 22,
	/* the start-up inventory: one record per (process, descriptor) holding a socket when capture started */
	SF_KIND_INVENTORY = 23,
	/* the kernel released an inet socket (cgroup sock_release): the last reference to it went. pid/comm of the task
	 * that dropped it; cause from what that task was doing */
	SF_KIND_SOCK_RELEASE = 24,
	/* an inet socket created outside socket()/socketpair() (io_uring's IORING_OP_SOCKET): cgroup sock_create */
	SF_KIND_SOCK_CREATE = 25,
	/* execve/execveat returned (ret 0: the process now runs the new program); data: the file name asked for */
	SF_KIND_EXEC = 26,
	/* a network request submitted to an io_uring (io_uring:io_uring_submit_req), which no system call of its own
	 * shows: io_uring_op the opcode; fd the request's descriptor and the socket's identity from it (not for a
	 * registered file: SF_FLAG_FIXED_FILE); arguments as the matching call's where the request carries them. One
	 * record when submitted, before the kernel runs it: ret is 0, and the outcome is not known */
	SF_KIND_IO_URING_SUBMIT = 27,

	SF_KIND_FIRST_KERNEL = 32,
	/* kernel tracepoints, one record per event, keyed by the socket cookie */
	SF_KIND_TCP_STATE = 32,		/* sock:inet_sock_set_state: arg_a old state, arg_b new state */
	SF_KIND_SOCK_SEND = 33,		/* sock:sock_send_length: bytes, arg_flags */
	SF_KIND_SOCK_RECV = 34,		/* sock:sock_recv_length: bytes, arg_flags */
	SF_KIND_TCP_RETRANSMIT = 35,	/* tcp:tcp_retransmit_skb: sk_state */
	SF_KIND_TCP_SEND_RESET = 36,	/* tcp:tcp_send_reset: sk_state, arg_b reason (6.10+; -1 before: none) */
	SF_KIND_TCP_RECEIVE_RESET = 37, /* tcp:tcp_receive_reset: sk_state */
	SF_KIND_TCP_DESTROY = 38,	/* tcp:tcp_destroy_sock */
	SF_KIND_SOCK_ERROR = 39,	/* sock:inet_sk_error_report: arg_a the socket's error (an errno) */
	/* never in the ring buffer: the collector makes it from the sock_totals map (struct sf_totals), one per socket
	 * per interval and one at its release */
	SF_KIND_SOCK_TOTALS = 40,
};

/* How a socket descriptor or a socket went: sf_event.cause of FD_DROP, CLOSE and SOCK_RELEASE records. */
enum sf_cause {
	SF_CAUSE_NONE = 0,
	SF_CAUSE_CLOSE = 1,	  /* close() */
	SF_CAUSE_EXIT = 2,	  /* the process exited (or was killed) holding it */
	SF_CAUSE_EXEC = 3,	  /* a successful exec closed it (close-on-exec) */
	SF_CAUSE_DUP2 = 4,	  /* dup2()/dup3() onto its descriptor number */
	SF_CAUSE_CLOSE_RANGE = 5, /* close_range() */
	SF_CAUSE_OTHER = 6,	  /* another path: a call that held a reference returned, io_uring, unix gc */
};

/* Bits of sf_event.flags. */
enum sf_flag {
	SF_FLAG_LAST_REFERENCE = 1, /* the descriptor held the file's last reference: the socket goes with it */
	SF_FLAG_PENDING_EXEC =
		2, /* FD_DROP seen at exec's start: valid only if the exec succeeds (an exec_result follows) */
	SF_FLAG_CLOEXEC = 4,	  /* INVENTORY: the descriptor is close-on-exec */
	SF_FLAG_KTHREAD = 8,	  /* SOCK_RELEASE: released by a kernel thread (delayed fput), not by a process */
	SF_FLAG_EXEC_FAILED = 16, /* EXEC: the exec failed; the drops pending on it did not happen */
	SF_FLAG_FIXED_FILE =
		32, /* IO_URING_SUBMIT: fd is an index into the ring's registered files, not a descriptor */
};

/* Tracepoint groups, for sf_config.groups: a bit each, in this order. */
enum sf_group {
	SF_GROUP_SOCK = 1 << 0,
	SF_GROUP_TCP = 1 << 1,
	SF_GROUP_SKB = 1 << 2,
	SF_GROUP_NET = 1 << 3,
	SF_GROUP_XDP = 1 << 4,
	SF_GROUP_UDP = 1 << 5,
};

/* What the data[] bytes of a record hold. */
enum sf_data_kind {
	SF_DATA_NONE = 0,
	SF_DATA_SOCKADDR = 1, /* a struct sockaddr_* exactly as the call passed or received it */
	SF_DATA_NAME = 2,     /* the name given to sethostname/setdomainname (not NUL-terminated) */
};

/* How the data path (send and receive) is recorded: sf_config.data_path bits. */
enum sf_data_path {
	/* inet sockets' sends and receives are summed per socket in sock_totals, not sent one record per call (the
	 * per-call records of datagram sockets stay: they carry each datagram's peer) */
	SF_DATA_PATH_AGGREGATE = 1,
	/* the sock_send_length/sock_recv_length programs are attached and do the summing; without them (kernels before
	 * 6.3) the send/recv system calls' exits do, for stream sockets */
	SF_DATA_PATH_LENGTH_HOOKS = 2,
	/* with SF_DATA_PATH_LENGTH_HOOKS: the hooks are the fallback on TCP's own sendmsg/recvmsg (fexit, kernels
	 * before 6.3), which see TCP only: other stream sockets (MPTCP) are left to the system calls' exits */
	SF_DATA_PATH_LENGTH_TCP_ONLY = 4,
};

/*
 * The io_uring opcodes recorded (IO_URING_SUBMIT's io_uring_op), named as the kernel's enum io_uring_op without its
 * IORING_OP_ prefix; the collector names them from here. The numbers are uapi (include/uapi/linux/io_uring.h): never
 * renumbered, only appended to, so the same on every kernel, and a kernel without one refuses it before the
 * tracepoint. Every other opcode (files, timers, polls) is not recorded.
 */
enum sf_io_uring_op {
	SF_IO_URING_OP_SENDMSG = 9,
	SF_IO_URING_OP_RECVMSG = 10,
	SF_IO_URING_OP_ACCEPT = 13,
	SF_IO_URING_OP_CONNECT = 16,
	SF_IO_URING_OP_SEND = 26,
	SF_IO_URING_OP_RECV = 27,
	SF_IO_URING_OP_SHUTDOWN = 34,
	SF_IO_URING_OP_SOCKET = 45,
	SF_IO_URING_OP_SEND_ZC = 47,
	SF_IO_URING_OP_SENDMSG_ZC = 48,
	SF_IO_URING_OP_BIND = 56,
	SF_IO_URING_OP_LISTEN = 57,
	SF_IO_URING_OP_RECV_ZC = 58,
};

/* A socket's data path summed in the kernel (per CPU), keyed by cookie: read by the collector at an interval,
 * without reset (the totals only grow), and deleted once the collector has seen the socket's release. */
struct sf_totals_key {
	__u64 cookie;
};

struct sf_totals {
	__u64 bytes_out; /* bytes moved by calls that returned > 0 */
	__u64 bytes_in;
	__u64 calls_out; /* calls that moved data (returned > 0) */
	__u64 calls_in;
	__u64 errors_out; /* calls that failed (returned < 0: EAGAIN included) */
	__u64 errors_in;
	__u64 last_ns;	/* CLOCK_BOOTTIME of this CPU's last call: tells which CPU's TCP figures are the latest */
	__u64 sock_ino; /* sockfs inode, when the entry was made on this CPU */
	__u32 netns;
	__u32 retransmits; /* TCP: tcp_sock.total_retrans at this CPU's last call */
	__u32 srtt_us;	   /* TCP: smoothed RTT at this CPU's last call, microseconds */
	__u32 cwnd;	   /* TCP: congestion window at this CPU's last call, segments */
	__u16 family;
	__u16 sk_type;
	__u16 sk_protocol;
	__u16 lport;
	__u16 rport;
	__u16 _pad1[3];
	__u8 laddr[16];
	__u8 raddr[16];
	__u32 srtt_us_min; /* TCP: smallest and largest smoothed RTT seen at this CPU's calls (0: none yet) */
	__u32 srtt_us_max;
};

/* Aggregated in the kernel and read (and reset) by the collector at an interval. */
struct sf_rtt_key {
	__u64 cookie; /* socket cookie */
};

struct sf_rtt {
	__u32 srtt_us_last; /* smoothed RTT, microseconds (tcp_sock.srtt_us >> 3) */
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
	__u32 reason;	/* enum skb_drop_reason */
	__u16 protocol; /* skb->protocol (ethertype), host order as the tracepoint gives it */
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
	__u32 kind; /* 0 xdp_exception, 1 xdp_redirect_err */
	__u32 _pad;
};

/*
 * One record: a system call on a socket (emitted when it returns), a kernel event of a socket, a descriptor
 * dropped, a socket released, or a line of the start-up inventory. Always written whole: a program zeroes the record
 * before filling it, so a field it does not set reads 0.
 *
 * Identity: cookie is the kernel's socket cookie (ss -e shows it as sk:<hex>); sock_ino the sockfs inode
 * (/proc/PID/fd). Inet sockets get their cookie when created (cgroup sock_create) or accepted (the TCP state hook);
 * other families only when something asks for it, so cookie may be 0 for them.
 *
 * Argument slots by kind (arg_a / arg_b / arg_c / opt_value):
 *   socket, socketpair:     family / type with flags / protocol
 *   setsockopt, getsockopt: level / optname / optlen (after the call for getsockopt) / first int of optval
 *   listen:                 backlog
 *   shutdown:               how
 *   accept4:                flags in arg_flags
 *   recv*, send*:           flags in arg_flags; recvmmsg/sendmmsg: vlen in arg_a
 *   sethostname/domainname: len in arg_a
 *   io_uring_submit:        as the matching call: socket's family / type / protocol, shutdown's how,
 *                           send/recv and accept flags in arg_flags, connect's sockaddr in data
 *   tcp_state:              old state / new state
 *   sock_error:             the socket's error
 */
struct sf_event {
	__u64 ts_ns;	     /* CLOCK_BOOTTIME when the call returned or the event happened */
	__u64 duration_ns;   /* time spent in the call */
	__u64 proc_start_ns; /* thread-group leader's start, CLOCK_BOOTTIME: (pid, this) names a process */
	__u64 cgroup_id;     /* cgroup v2 id of the calling task */
	__u64 sock_ino;	     /* sockfs inode of the socket the record concerns; 0 if none or not known */
	__u64 sock_addr; /* kernel address of its struct sock (reused at once after the socket is freed: never a key) */
	__u64 cookie;	 /* socket cookie; 0 if the kernel has not made one */
	__u64 peer_ino;	 /* socketpair: the second end; accept: the listener */
	__u64 peer_sock_addr; /* struct sock of the same */
	__u64 peer_cookie;    /* cookie of the same */
	__s64 ret;	      /* return value; negative errno on failure */
	__u64 bytes;	      /* bytes moved: ret for send/recv, summed msg_len for the *mmsg calls */
	__u64 arg_flags;      /* MSG_* flags, accept4 flags */
	__u64 tcp_bytes_out;  /* SOCK_RELEASE, INVENTORY of TCP: data bytes sent so far, by the kernel's own counters */
	__u64 tcp_bytes_in;   /* SOCK_RELEASE, INVENTORY of TCP: data bytes received so far, likewise */
	__u32 pid;	      /* thread-group id */
	__u32 tid;	      /* thread id */
	__u32 uid;
	__u32 gid;
	__u32 netns; /* inode of the socket's network namespace (the caller's, for records without a socket) */
	__u32 mark;  /* the socket's mark (sk_mark: SO_MARK, policy routing, service meshes); 0 if none or no socket */
	__u32 io_uring_op; /* IO_URING_SUBMIT: the request's opcode (enum io_uring_op, the uapi numbering) */
	__s32 fd;	   /* the fd the call was given (accept: the listener; socket: -1) */
	__s32 peer_fd;	   /* socket/accept: the new fd; socketpair: sv[0]; -1 otherwise */
	__s32 peer_fd2;	   /* socketpair: sv[1]; -1 otherwise */
	__s32 arg_a;
	__s32 arg_b;
	__s32 arg_c;
	__s32 opt_value;
	__u16 kind;   /* enum sf_kind */
	__u16 family; /* of the socket (from struct sock), 0 if unknown */
	__u16 sk_type;
	__u16 sk_protocol;
	__u16 sk_state;	 /* struct sock's state (TCP_* numbering; 7 CLOSE for a closed or unconnected socket) */
	__u16 lport;	 /* local port, host order, from struct sock after the call */
	__u16 rport;	 /* remote port, host order */
	__u16 cause;	 /* enum sf_cause */
	__u16 flags;	 /* enum sf_flag bits */
	__u16 data_kind; /* enum sf_data_kind */
	__u16 data_len;	 /* valid bytes in data[] */
	__u16 _pad;
	__u8 laddr[16]; /* local address from struct sock: IPv4 in the first 4 bytes, or IPv6 */
	__u8 raddr[16]; /* remote address from struct sock */
	char comm[SF_COMM_LEN];
	__u8 data[SF_DATA_LEN];
};

/* Per-CPU accounting; submitted = received by the collector + dropped, exactly. */
struct sf_counters {
	__u64 submitted;    /* records the programs tried to hand over (ring-buffer reservations) */
	__u64 dropped;	    /* reservations refused because the ring buffer was full */
	__u64 orphan_exits; /* exits whose enter was not seen (started before attach) */
	__u64 fd_walk_cut;  /* descriptor walks (exit, exec) that stopped at their bound before the table's end */
	__u64 totals_full;  /* data-path calls not summed because sock_totals was full: sent as per-call records */
};

/* Filters, set by the collector before load (the programs' .rodata). An empty list means "any". */
struct sf_config {
	__u32 pid_include[SF_FILTER_PIDS];
	__u32 pid_exclude[SF_FILTER_PIDS];
	__u64 cgroup_include[SF_FILTER_CGROUPS];
	/* tasks in these cgroups are not traced, and neither are sockets they created (kernel records included):
	 * sockflow's own processes run in a cgroup of their own, listed here */
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
	__u32 groups;	 /* enum sf_group bits of the tracepoint groups to record */
	__u32 data_path; /* enum sf_data_path bits; 0: one record per send and receive */
	/* the inode of the one network namespace recorded (a collector scoped to a pod or container), 0: every one.
	 * Calls are kept by their task's namespace, kernel records of a socket by the socket's */
	__u32 netns_include;
	__u32 _pad0;
};

#endif /* SOCKFLOW_H */
