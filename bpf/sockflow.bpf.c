// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * sockflow's kernel side.
 *
 * - System calls: a program at sys_enter keeps the arguments in task storage and one at sys_exit emits a record
 *   with the return value, the duration and the socket's kernel identity (cookie and sockfs inode, resolved from
 *   the fd in the kernel, because an fd number is reused as soon as it is closed).
 * - A socket's end of life: the kernel's release of an inet socket (cgroup sock_release), and for every family the
 *   descriptors dropped by close, exit, exec (close-on-exec), dup2/dup3 and close_range, each with whether it held
 *   the file's last reference.
 * - Identity: every inet socket gets its cookie at birth (cgroup sock_create for socket(), the TCP state hook for an
 *   accepted connection), so every later record of it carries the same cookie.
 * - Kernel tracepoints (tp_btf: their arguments are the kernel's own pointers, the same on every kernel version) keyed
 *   by cookie, and aggregated counters read by the collector.
 * - The start-up inventory: iterators that give every existing socket a cookie, then list every socket descriptor
 *   of every process.
 *
 * Built twice: with SF_KFUNC_CAST, kernel memory behind a plain pointer value is read through the bpf_rdonly_cast
 * kfunc (a guarded load per field); without it (kernels before 6.2 lack the kfunc) through bpf_probe_read_kernel.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>
#include "sockflow.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define S_IFMT		    00170000
#define S_IFSOCK	    0140000
#define AF_UNIX		    1
#define AF_INET		    2
#define AF_INET6	    10
#define SF_MMSG_SUM_MAX	    32
#define SF_UTS_LEN	    64
#define RCV_SHUTDOWN	    1
#define CLOSE_RANGE_CLOEXEC (1U << 2)
/* descriptor walks (exit, exec, close_range) look at no more than this many bitmap words: 65536 descriptors */
#define SF_FD_WORDS_MAX	    1024
/* a cause set by a call counts for the releases that follow it within this time (the release of a socket that
 * close() dropped runs as the call returns to user space, after sys_exit) */
#define SF_CAUSE_WINDOW_NS  100000000ULL

/* Puts the contract's types into the object's BTF, where the collector reads their layouts and values. */
struct sf_event *sf_event_btf_anchor __attribute__((unused));
struct sf_drop_key *sf_drop_key_btf_anchor __attribute__((unused));
struct sf_netdev_key *sf_netdev_key_btf_anchor __attribute__((unused));
struct sf_xdp_key *sf_xdp_key_btf_anchor __attribute__((unused));
enum sf_kind sf_kind_btf_anchor __attribute__((unused));
enum sf_cause sf_cause_btf_anchor __attribute__((unused));
enum sf_flag sf_flag_btf_anchor __attribute__((unused));
enum sf_group sf_group_btf_anchor __attribute__((unused));
enum sf_data_kind sf_data_kind_btf_anchor __attribute__((unused));
enum sf_limits sf_limits_btf_anchor __attribute__((unused));
enum sf_data_path sf_data_path_btf_anchor __attribute__((unused));
enum sf_io_uring_op sf_io_uring_op_btf_anchor __attribute__((unused));
struct sf_totals *sf_totals_btf_anchor __attribute__((unused));
struct sf_totals_key *sf_totals_key_btf_anchor __attribute__((unused));

/* The only .rodata variable: the collector writes it at offset 0 before load. */
const volatile struct sf_config sf_cfg = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sf_counters);
} counters SEC(".maps");

/* What a thread is doing: the arguments of the call it is in, until its sys_exit, and what it last did that can
 * drop a socket descriptor, which the release hook reads. */
struct sf_task {
	__u64 start_ns;
	__u64 a[6];
	__u64 sock_ino; /* close, dup2: the descriptor's socket, resolved at enter while the fd still exists */
	__u64 sock_addr;
	__u64 cookie;
	__u64 cause_ns; /* when cause was set */
	__u16 kind;
	__u16 data_kind;
	__u16 data_len;
	__u16 cause; /* enum sf_cause of the last call that could drop a descriptor */
	__u16 flags; /* close, dup2: SF_FLAG_LAST_REFERENCE */
	__u16 family;
	__u16 _pad[2];
	__u8 data[SF_DATA_LEN];
};

/* Per thread, freed with the thread: no entry can leak when a thread dies inside a call. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sf_task);
} inflight SEC(".maps");

/* ---- reading kernel memory behind a plain pointer value ---- */

#ifdef SF_KFUNC_CAST
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;
#define SF_CAST(ptr, type)		  ((type *)bpf_rdonly_cast((void *)(ptr), bpf_core_type_id_kernel(type)))
#define SF_GET(ptr, type, field)	  (SF_CAST(ptr, type)->field)
#define SF_COPY(dst, ptr, type, field, n) __builtin_memcpy(dst, &SF_CAST(ptr, type)->field, n)
#else
/* the pointer goes through a local first: CO-RE must relocate the field, not the expression that gave the pointer */
#define SF_GET(ptr, type, field)                                                                                       \
	({                                                                                                             \
		type *__sf_p = (type *)(ptr);                                                                          \
		BPF_CORE_READ(__sf_p, field);                                                                          \
	})
#define SF_COPY(dst, ptr, type, field, n)                                                                              \
	({                                                                                                             \
		type *__sf_p = (type *)(ptr);                                                                          \
		bpf_probe_read_kernel(dst, n, __builtin_preserve_access_index(&__sf_p->field));                        \
	})
#endif

/* struct file's reference count: f_ref (file_ref_t, 6.13 on: raw 0 means one reference) or f_count before. */
struct file___f_count {
	atomic_long_t f_count;
} __attribute__((preserve_access_index));

static __always_inline bool file_last_reference(__u64 fp)
{
	if (bpf_core_field_exists(struct file, f_ref))
		return BPF_CORE_READ((struct file *)fp, f_ref.refcnt.counter) == 0;
	return BPF_CORE_READ((struct file___f_count *)fp, f_count.counter) == 1;
}

static __always_inline struct sf_counters *counters_get(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&counters, &zero);
}

static __always_inline bool pid_in(const volatile __u32 *list, __u32 count, __u32 pid)
{
	for (int i = 0; i < SF_FILTER_PIDS; i++) {
		if (i >= count)
			break;
		if (list[i] == pid)
			return true;
	}
	return false;
}

static __always_inline bool cgroup_in(const volatile __u64 *list, __u32 count, __u64 id)
{
	for (int i = 0; i < SF_FILTER_CGROUPS; i++) {
		if (i >= count)
			break;
		if (list[i] == id)
			return true;
	}
	return false;
}

static __always_inline __u64 task_cgroup(struct task_struct *task)
{
	return task->cgroups->dfl_cgrp->kn->id;
}

/* Whether the task's calls are recorded: the network namespace, pid and cgroup filters. */
static __always_inline bool wanted(struct task_struct *task)
{
	__u32 pid = task->tgid;

	/* sf_cfg is read-only: without a namespace to keep, the verifier drops the read */
	if (sf_cfg.netns_include && BPF_CORE_READ(task, nsproxy, net_ns, ns.inum) != sf_cfg.netns_include)
		return false;
	if (sf_cfg.pid_include_count && !pid_in(sf_cfg.pid_include, sf_cfg.pid_include_count, pid))
		return false;
	if (sf_cfg.pid_exclude_count && pid_in(sf_cfg.pid_exclude, sf_cfg.pid_exclude_count, pid))
		return false;
	if (sf_cfg.cgroup_include_count || sf_cfg.cgroup_exclude_count) {
		__u64 cg = task_cgroup(task);
		if (sf_cfg.cgroup_include_count && !cgroup_in(sf_cfg.cgroup_include, sf_cfg.cgroup_include_count, cg))
			return false;
		if (sf_cfg.cgroup_exclude_count && cgroup_in(sf_cfg.cgroup_exclude, sf_cfg.cgroup_exclude_count, cg))
			return false;
	}
	return true;
}

/* Whether the task is on an exclude list (sockflow's own processes): what it does to sockets is not recorded. */
static __always_inline bool excluded_task(struct task_struct *task)
{
	if (sf_cfg.pid_exclude_count && pid_in(sf_cfg.pid_exclude, sf_cfg.pid_exclude_count, task->tgid))
		return true;
	return sf_cfg.cgroup_exclude_count &&
	       cgroup_in(sf_cfg.cgroup_exclude, sf_cfg.cgroup_exclude_count, task_cgroup(task));
}

/* Whether a socket lives in another network namespace than the one the collector is scoped to. */
static __always_inline bool sock_foreign(__u64 skp)
{
	__u64 net;

	if (!sf_cfg.netns_include || !skp)
		return false;
	net = (__u64)SF_GET(skp, struct sock, __sk_common.skc_net.net);
	return !net || BPF_CORE_READ((struct net *)net, ns.inum) != sf_cfg.netns_include;
}

/* Whether a socket's kernel records are not sent: it was made by an excluded cgroup (sockflow's own), or it lives in
 * another network namespace than the one recorded. */
static __always_inline bool sock_excluded(__u64 skp)
{
	__u64 cgrp, id;

	if (sock_foreign(skp))
		return true;
	if (!sf_cfg.cgroup_exclude_count || !skp)
		return false;
	cgrp = (__u64)SF_GET(skp, struct sock, sk_cgrp_data.cgroup);
	if (!cgrp)
		return false;
	id = BPF_CORE_READ((struct cgroup *)cgrp, kn, id);
	return cgroup_in(sf_cfg.cgroup_exclude, sf_cfg.cgroup_exclude_count, id);
}

/* task -> files -> fdtable -> file, or 0. */
static __always_inline __u64 file_of_fd(struct task_struct *task, long fd)
{
	struct fdtable *fdt;
	struct file *fp = NULL;

	if (fd < 0)
		return 0;
	fdt = task->files->fdt;
	if (!fdt || (unsigned long)fd >= fdt->max_fds)
		return 0;
	if (bpf_probe_read_kernel(&fp, sizeof(fp), &fdt->fd[fd]))
		return 0;
	return (__u64)fp;
}

/* A file's socket: its inode and struct sock. Returns 0 only for a file that is a socket. */
static __always_inline int sock_of_file(__u64 fp, __u64 *ino, __u64 *skp)
{
	__u64 inode, sock;

	if (!fp)
		return -1;
	inode = (__u64)SF_GET(fp, struct file, f_inode);
	if (!inode || (SF_GET(inode, struct inode, i_mode) & S_IFMT) != S_IFSOCK)
		return -1;
	*ino = SF_GET(inode, struct inode, i_ino);
	sock = (__u64)SF_GET(fp, struct file, private_data);
	*skp = sock ? (__u64)SF_GET(sock, struct socket, sk) : 0;
	return 0;
}

static __always_inline int sock_of_fd(struct task_struct *task, long fd, __u64 *ino, __u64 *skp)
{
	return sock_of_file(file_of_fd(task, fd), ino, skp);
}

static __always_inline __u64 sock_cookie(__u64 skp)
{
	return skp ? SF_GET(skp, struct sock, __sk_common.skc_cookie.counter) : 0;
}

/* The inode of a socket (struct socket lives inside struct socket_alloc, next to its inode). */
static __always_inline __u64 socket_inode(__u64 sock)
{
	struct socket_alloc *sa;

	if (!sock)
		return 0;
	sa = container_of((struct socket *)sock, struct socket_alloc, socket);
	return BPF_CORE_READ(sa, vfs_inode.i_ino);
}

/* What struct sock says: family, type, protocol, state, namespace, addresses, cookie. */
static __always_inline void read_sock(__u64 skp, struct sf_event *e)
{
	__u64 net;

	if (!skp)
		return;
	e->family = SF_GET(skp, struct sock, __sk_common.skc_family);
	e->sk_type = SF_GET(skp, struct sock, sk_type);
	e->sk_protocol = SF_GET(skp, struct sock, sk_protocol);
	e->sk_state = SF_GET(skp, struct sock, __sk_common.skc_state);
	e->cookie = sock_cookie(skp);
	e->mark = SF_GET(skp, struct sock, sk_mark);
	net = (__u64)SF_GET(skp, struct sock, __sk_common.skc_net.net);
	if (net)
		e->netns = BPF_CORE_READ((struct net *)net, ns.inum);
	if (e->family != AF_INET && e->family != AF_INET6)
		return;
	/* the port the socket is bound to; once a closing socket is unhashed that is 0, and the port it had stays in
	 * inet_sport */
	e->lport = SF_GET(skp, struct sock, __sk_common.skc_num);
	if (!e->lport)
		e->lport = bpf_ntohs(SF_GET(skp, struct inet_sock, inet_sport));
	e->rport = bpf_ntohs(SF_GET(skp, struct sock, __sk_common.skc_dport));
	if (e->family == AF_INET) {
		*(__u32 *)e->laddr = SF_GET(skp, struct sock, __sk_common.skc_rcv_saddr);
		*(__u32 *)e->raddr = SF_GET(skp, struct sock, __sk_common.skc_daddr);
	} else {
		SF_COPY(e->laddr, skp, struct sock, __sk_common.skc_v6_rcv_saddr, 16);
		SF_COPY(e->raddr, skp, struct sock, __sk_common.skc_v6_daddr, 16);
	}
}

/* The kernel's own TCP byte counters, as data bytes: payload sent (retransmissions not counted twice) and
 * received (the FIN, which bytes_received counts as one, taken out). Data still queued unsent is not in them. */
static __always_inline void read_tcp_counters(__u64 skp, struct sf_event *e)
{
	struct tcp_sock *tp = (struct tcp_sock *)skp;
	__u64 in;

	if (!skp || (e->family != AF_INET && e->family != AF_INET6) || e->sk_protocol != IPPROTO_TCP)
		return;
	e->tcp_bytes_out = BPF_CORE_READ(tp, bytes_sent) - BPF_CORE_READ(tp, bytes_retrans);
	in = BPF_CORE_READ(tp, bytes_received);
	if (in && (BPF_CORE_READ((struct sock *)skp, sk_shutdown) & RCV_SHUTDOWN))
		in--;
	e->tcp_bytes_in = in;
}

static __always_inline void task_netns(struct task_struct *task, struct sf_event *e)
{
	e->netns = BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);
}

/* Copies a user sockaddr of user-given length into a record's data. */
static __always_inline __u16 copy_sockaddr(__u8 *dst, const void *uaddr, long len)
{
	if (!uaddr || len <= 0)
		return 0;
	if (len > SF_DATA_LEN)
		len = SF_DATA_LEN;
	if (bpf_probe_read_user(dst, len & 0xff, uaddr))
		return 0;
	return len;
}

/* Whether an IPv6 address needs a scope id (link-local unicast, or multicast of node or link scope), as the
 * kernel's ipv6_iface_scope_id() decides it. */
static __always_inline bool ipv6_needs_scope(const __u8 *a)
{
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return true;
	return a[0] == 0xff && ((a[1] & 0x0f) == 0x01 || (a[1] & 0x0f) == 0x02);
}

/*
 * The sockaddr_in6 getsockname() wrote for an AF_INET6 socket, as inet6_getname() builds it: the bound address, or the
 * source address the socket uses when it is bound to the wildcard; the scope id for a link-local address; flowinfo 0
 * (getsockname never sets it). getpeername and accept are left to the user-memory read: their flowinfo depends on a
 * socket option whose place differs between kernels.
 */
static __always_inline bool inet6_local_sockaddr(struct sf_event *e, __u64 skp)
{
	__u16 family = AF_INET6, port;
	__u64 half[2];
	__u32 scope = 0;

	SF_COPY(half, skp, struct sock, __sk_common.skc_v6_rcv_saddr, 16);
	if (!half[0] && !half[1]) {
		__u64 np = (__u64)SF_GET(skp, struct inet_sock, pinet6);

		if (np)
			SF_COPY(half, np, struct ipv6_pinfo, saddr, 16);
	}
	port = SF_GET(skp, struct inet_sock, inet_sport);
	if (ipv6_needs_scope((const __u8 *)half))
		scope = SF_GET(skp, struct sock, __sk_common.skc_bound_dev_if);
	/* struct sockaddr_in6: family, port, flowinfo (0: the record came zeroed), address, scope id */
	__builtin_memcpy(e->data, &family, 2);
	__builtin_memcpy(e->data + 2, &port, 2);
	__builtin_memcpy(e->data + 8, half, 16);
	__builtin_memcpy(e->data + 24, &scope, 4);
	e->data_len = 28;
	e->data_kind = SF_DATA_SOCKADDR;
	return true;
}

/*
 * The sockaddr getsockname(), getpeername() or accept() wrote for an AF_INET socket (and getsockname() for an AF_INET6
 * one), built from struct sock with loads as inet_getname() builds it: reading it back from the caller's memory took
 * two user-memory reads (the length, then the address), each dearer than the rest of the program. False otherwise
 * (read from user memory).
 */
static __always_inline bool inet_sockaddr(struct sf_event *e, __u64 skp, bool peer)
{
	__u16 family = AF_INET, port, sk_family;
	__u32 addr;

	if (!skp)
		return false;
	sk_family = SF_GET(skp, struct sock, __sk_common.skc_family);
	if (sk_family == AF_INET6 && !peer)
		return inet6_local_sockaddr(e, skp);
	if (sk_family != AF_INET)
		return false;
	if (peer) {
		port = SF_GET(skp, struct sock, __sk_common.skc_dport);
		addr = SF_GET(skp, struct sock, __sk_common.skc_daddr);
	} else {
		port = SF_GET(skp, struct inet_sock, inet_sport);
		addr = SF_GET(skp, struct sock, __sk_common.skc_rcv_saddr);
		if (!addr)
			addr = SF_GET(skp, struct inet_sock, inet_saddr);
	}
	/* struct sockaddr_in: family, port and address in network order, 8 bytes of zero (the record came zeroed) */
	__builtin_memcpy(e->data, &family, 2);
	__builtin_memcpy(e->data + 2, &port, 2);
	__builtin_memcpy(e->data + 4, &addr, 4);
	e->data_len = 16;
	e->data_kind = SF_DATA_SOCKADDR;
	return true;
}

/* Reads the int a user pointer points to (an addrlen or optlen), or -1. */
static __always_inline long user_int(const void *p)
{
	int v;

	if (!p || bpf_probe_read_user(&v, sizeof(v), p))
		return -1;
	return v;
}

static __always_inline __u64 wakeup_flags(void)
{
	if (!sf_cfg.wakeup_bytes)
		return 0; /* libbpf's adaptive default: wakes the reader whenever it had caught up */
	/* never wake: the reader polls on a short timer, which costs far less than a wakeup per record */
	return BPF_RB_NO_WAKEUP;
}

/* A zeroed record from the ring buffer, counted; NULL when the buffer is full (counted as dropped). */
static __always_inline struct sf_event *reserve(__u16 kind)
{
	struct sf_counters *c = counters_get();
	struct sf_event *e;

	if (c)
		__sync_fetch_and_add(&c->submitted, 1);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		if (c)
			__sync_fetch_and_add(&c->dropped, 1);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->fd = -1;
	e->peer_fd = -1;
	e->peer_fd2 = -1;
	return e;
}

/* The calling task's identity, read from the task itself: a load each, where the helpers would cost a call each. */
static __always_inline void caller(struct sf_event *e, struct task_struct *task)
{
	e->ts_ns = bpf_ktime_get_boot_ns();
	e->proc_start_ns = task->group_leader->start_boottime;
	e->cgroup_id = task_cgroup(task);
	e->pid = task->tgid;
	e->tid = task->pid;
	e->uid = task->cred->uid.val;
	e->gid = task->cred->gid.val;
	__builtin_memcpy(e->comm, task->comm, sizeof(e->comm));
}

static __always_inline void set_cause(struct sf_task *t, __u16 cause)
{
	t->cause = cause;
	t->cause_ns = bpf_ktime_get_boot_ns();
}

/* ---- the data path summed per socket (SF_DATA_PATH_AGGREGATE) ---- */

/* Bounded and not LRU: an entry is never evicted behind the collector's back. When it is full, a call is sent as a
 * per-call record instead, and counted (totals_full). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct sf_totals);
} sock_totals SEC(".maps");

/* The socket's identity, once per socket and CPU: the collector names the socket by it without another lookup. */
static __always_inline void totals_identity(struct sf_totals *v, __u64 skp)
{
	__u64 so, net;

	v->family = SF_GET(skp, struct sock, __sk_common.skc_family);
	v->sk_type = SF_GET(skp, struct sock, sk_type);
	v->sk_protocol = SF_GET(skp, struct sock, sk_protocol);
	net = (__u64)SF_GET(skp, struct sock, __sk_common.skc_net.net);
	if (net)
		v->netns = BPF_CORE_READ((struct net *)net, ns.inum);
	so = (__u64)SF_GET(skp, struct sock, sk_socket);
	if (so)
		v->sock_ino = socket_inode(so);
	v->lport = SF_GET(skp, struct sock, __sk_common.skc_num);
	v->rport = bpf_ntohs(SF_GET(skp, struct sock, __sk_common.skc_dport));
	if (v->family == AF_INET) {
		*(__u32 *)v->laddr = SF_GET(skp, struct sock, __sk_common.skc_rcv_saddr);
		*(__u32 *)v->raddr = SF_GET(skp, struct sock, __sk_common.skc_daddr);
	} else if (v->family == AF_INET6) {
		SF_COPY(v->laddr, skp, struct sock, __sk_common.skc_v6_rcv_saddr, 16);
		SF_COPY(v->raddr, skp, struct sock, __sk_common.skc_v6_daddr, 16);
	}
}

/* Adds one call to its socket's totals. False when the map is full (counted): the caller sends the call's record. */
static __always_inline bool totals_add(__u64 cookie, __u64 skp, long ret, bool out)
{
	struct sf_counters *c;
	struct sf_totals *v;

	if (!cookie || !skp)
		return false; /* no name to sum it under: the per-call record says it */
	v = bpf_map_lookup_elem(&sock_totals, &cookie);
	if (!v) {
		struct sf_totals init = {};

		totals_identity(&init, skp);
		bpf_map_update_elem(&sock_totals, &cookie, &init, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&sock_totals, &cookie);
		if (!v) {
			if ((c = counters_get()))
				__sync_fetch_and_add(&c->totals_full, 1);
			return false;
		}
	} else if (!v->family) {
		totals_identity(v, skp); /* the entry was made on another CPU: this CPU's slot starts zeroed */
	}
	/* per CPU: plain adds, no atomics */
	if (ret > 0) {
		if (out) {
			v->bytes_out += ret;
			v->calls_out++;
		} else {
			v->bytes_in += ret;
			v->calls_in++;
		}
	} else if (ret < 0) {
		if (out)
			v->errors_out++;
		else
			v->errors_in++;
	}
	if (v->sk_protocol == IPPROTO_TCP && v->sk_type == 1 /* SOCK_STREAM */) {
		__u32 srtt = SF_GET(skp, struct tcp_sock, srtt_us) >> 3;

		v->last_ns = bpf_ktime_get_boot_ns();
		v->retransmits = SF_GET(skp, struct tcp_sock, total_retrans);
		v->srtt_us = srtt;
		v->cwnd = SF_GET(skp, struct tcp_sock, snd_cwnd);
		/* the RTT's range over the socket's calls: in aggregate mode these stand in for tcp_probe's TCP_RTT */
		if (srtt) {
			if (!v->srtt_us_min || srtt < v->srtt_us_min)
				v->srtt_us_min = srtt;
			if (srtt > v->srtt_us_max)
				v->srtt_us_max = srtt;
		}
	}
	return true;
}

static __always_inline bool is_data_call(__u16 kind)
{
	return kind >= SF_KIND_RECVFROM && kind <= SF_KIND_SENDMMSG;
}

/* sf_task.flags bit of a call that enter left to the length tracepoints (beside SF_FLAG_LAST_REFERENCE) */
#define SF_TASK_SUMMED 0x8000

/* Whether the length hooks see this socket's data calls: every inet stream socket with the tracepoints, TCP's alone
 * with the fallback on tcp_sendmsg/tcp_recvmsg. */
static __always_inline bool length_hooked(__u64 skp)
{
	__u16 family = SF_GET(skp, struct sock, __sk_common.skc_family);

	if ((family != AF_INET && family != AF_INET6) || SF_GET(skp, struct sock, sk_type) != 1 /* SOCK_STREAM */)
		return false;
	return !(sf_cfg.data_path & SF_DATA_PATH_LENGTH_TCP_ONLY) ||
	       SF_GET(skp, struct sock, sk_protocol) == IPPROTO_TCP;
}

/* Whether the fd is a socket the length hooks see: loads only, cheaper than the user-memory reads it saves. */
static __always_inline bool stream_inet_fd(struct task_struct *task, long fd)
{
	__u64 ino = 0, skp = 0;

	if (sock_of_fd(task, fd, &ino, &skp) || !skp)
		return false;
	return length_hooked(skp);
}

/* ---- system calls ---- */

static __always_inline int on_enter(struct trace_event_raw_sys_enter *ctx, __u16 kind, int nargs)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct sf_task *a;

	if (!wanted(task))
		return 0; /* filtered out: no args kept, so no record at exit */
	a = bpf_task_storage_get(&inflight, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!a)
		return 0; /* no memory for this thread's storage: the exit counts an orphan */
	a->kind = kind;
	a->data_kind = SF_DATA_NONE;
	a->data_len = 0;
	a->sock_ino = 0;
	a->sock_addr = 0;
	a->cookie = 0;
	a->flags = 0;
	a->cause = SF_CAUSE_NONE; /* a new call: what an earlier one left behind no longer explains a release */
	if ((sf_cfg.data_path & (SF_DATA_PATH_AGGREGATE | SF_DATA_PATH_LENGTH_HOOKS)) ==
		    (SF_DATA_PATH_AGGREGATE | SF_DATA_PATH_LENGTH_HOOKS) &&
	    is_data_call(kind) && stream_inet_fd(task, (int)ctx->args[0])) {
		a->flags = SF_TASK_SUMMED; /* the length tracepoint sums it: no arguments or address to keep */
		return 0;
	}
	/*
	 * Only the arguments this call has: the kernel refuses to attach a program that reads past the end of its
	 * tracepoint's record (EACCES). Unrolled, because the verifier refuses a ctx pointer moved by a loop.
	 */
	a->a[0] = ctx->args[0];
	a->a[1] = nargs > 1 ? ctx->args[1] : 0;
	a->a[2] = nargs > 2 ? ctx->args[2] : 0;
	a->a[3] = nargs > 3 ? ctx->args[3] : 0;
	a->a[4] = nargs > 4 ? ctx->args[4] : 0;
	a->a[5] = nargs > 5 ? ctx->args[5] : 0;

	switch (kind) {
	case SF_KIND_CLOSE: {
		/* The fd is gone at exit; resolve it now, and keep nothing for fds that are not sockets. */
		__u64 fp = file_of_fd(task, (int)a->a[0]);

		set_cause(a, SF_CAUSE_CLOSE);
		if (sock_of_file(fp, &a->sock_ino, &a->sock_addr)) {
			a->kind = 0;
			return 0;
		}
		a->cookie = sock_cookie(a->sock_addr);
		a->family = a->sock_addr ? SF_GET(a->sock_addr, struct sock, __sk_common.skc_family) : 0;
		if (file_last_reference(fp))
			a->flags = SF_FLAG_LAST_REFERENCE;
		break;
	}
	case SF_KIND_BIND:
	case SF_KIND_CONNECT:
		a->data_len = copy_sockaddr(a->data, (void *)a->a[1], (int)a->a[2]);
		a->data_kind = a->data_len ? SF_DATA_SOCKADDR : SF_DATA_NONE;
		break;
	case SF_KIND_SENDTO:
		a->data_len = copy_sockaddr(a->data, (void *)a->a[4], (int)a->a[5]);
		a->data_kind = a->data_len ? SF_DATA_SOCKADDR : SF_DATA_NONE;
		break;
	case SF_KIND_SENDMSG:
	case SF_KIND_SENDMMSG: {
		/* msgvec[0].msg_hdr is at offset 0 of struct mmsghdr too */
		struct user_msghdr mh;

		if (bpf_probe_read_user(&mh, sizeof(mh), (void *)a->a[1]) == 0) {
			a->data_len = copy_sockaddr(a->data, mh.msg_name, mh.msg_namelen);
			a->data_kind = a->data_len ? SF_DATA_SOCKADDR : SF_DATA_NONE;
		}
		break;
	}
	case SF_KIND_SETHOSTNAME:
	case SF_KIND_SETDOMAINNAME: {
		long len = (int)a->a[1];

		if (len > SF_UTS_LEN)
			len = SF_UTS_LEN;
		if (len > 0 && bpf_probe_read_user(a->data, len & 0x7f, (void *)a->a[0]) == 0) {
			a->data_len = len;
			a->data_kind = SF_DATA_NAME;
		}
		break;
	}
	default:
		break;
	}
	a->start_ns = bpf_ktime_get_boot_ns();
	return 0;
}

static __always_inline __u64 sum_mmsg_len(const struct mmsghdr *vec, long n)
{
	__u64 sum = 0;

	for (int i = 0; i < SF_MMSG_SUM_MAX; i++) {
		unsigned int len;

		if (i >= n)
			break;
		if (bpf_probe_read_user(&len, sizeof(len), &vec[i].msg_len))
			break;
		sum += len;
	}
	return sum;
}

/* The task storage entry of this call, consumed; NULL (and an orphan counted) when its enter was not seen. */
static __always_inline struct sf_task *take_args(struct task_struct *task, __u16 kind)
{
	struct sf_counters *c;
	struct sf_task *a = bpf_task_storage_get(&inflight, task, 0, 0);

	if (!a || a->kind != kind) {
		if (a)
			a->kind = 0;
		if (wanted(task) && (c = counters_get()))
			__sync_fetch_and_add(&c->orphan_exits, 1);
		return NULL; /* enter not seen (filtered, or the call began before attach) */
	}
	a->kind = 0; /* consumed: the next exit of this thread needs its own enter */
	return a;
}

/* Fills the parts of a socket call's record that depend on the kind: the socket, the arguments, the data. */
static __always_inline void fill_call(struct sf_event *e, struct sf_task *a, struct task_struct *task, __u16 kind,
				      long ret)
{
	switch (kind) {
	case SF_KIND_SOCKET:
		e->fd = -1;
		e->arg_a = a->a[0];
		e->arg_b = a->a[1];
		e->arg_c = a->a[2];
		if (ret >= 0 && sock_of_fd(task, ret, &e->sock_ino, &e->sock_addr) == 0) {
			e->peer_fd = ret;
			read_sock(e->sock_addr, e);
		}
		break;
	case SF_KIND_SOCKETPAIR: {
		int sv[2] = {-1, -1};

		e->fd = -1;
		e->arg_a = a->a[0];
		e->arg_b = a->a[1];
		e->arg_c = a->a[2];
		if (ret == 0 && bpf_probe_read_user(sv, sizeof(sv), (void *)a->a[3]) == 0) {
			e->peer_fd = sv[0];
			e->peer_fd2 = sv[1];
			sock_of_fd(task, sv[0], &e->sock_ino, &e->sock_addr);
			sock_of_fd(task, sv[1], &e->peer_ino, &e->peer_sock_addr);
			e->peer_cookie = sock_cookie(e->peer_sock_addr);
			read_sock(e->sock_addr, e);
		}
		break;
	}
	case SF_KIND_CLOSE:
		/* what enter resolved: by now the socket may be gone */
		e->sock_ino = a->sock_ino;
		e->sock_addr = a->sock_addr;
		e->cookie = a->cookie;
		e->family = a->family;
		e->flags = ret == 0 ? a->flags : 0;
		e->cause = SF_CAUSE_CLOSE;
		break;
	case SF_KIND_ACCEPT:
	case SF_KIND_ACCEPT4:
		if (kind == SF_KIND_ACCEPT4)
			e->arg_flags = a->a[3];
		sock_of_fd(task, e->fd, &e->peer_ino, &e->peer_sock_addr);
		e->peer_cookie = sock_cookie(e->peer_sock_addr);
		if (ret >= 0) {
			e->peer_fd = ret;
			if (sock_of_fd(task, ret, &e->sock_ino, &e->sock_addr) == 0)
				read_sock(e->sock_addr, e);
			if (!a->a[1] || !a->a[2] || !inet_sockaddr(e, e->sock_addr, true)) {
				e->data_len = copy_sockaddr(e->data, (void *)a->a[1], user_int((void *)a->a[2]));
				e->data_kind = e->data_len ? SF_DATA_SOCKADDR : SF_DATA_NONE;
			}
		}
		break;
	case SF_KIND_SETHOSTNAME:
	case SF_KIND_SETDOMAINNAME:
		e->fd = -1;
		e->arg_a = a->a[1];
		task_netns(task, e);
		break;
	default:
		if (sock_of_fd(task, e->fd, &e->sock_ino, &e->sock_addr) == 0)
			read_sock(e->sock_addr, e);
		break;
	}

	switch (kind) {
	case SF_KIND_SETSOCKOPT:
		e->arg_a = a->a[1];
		e->arg_b = a->a[2];
		e->arg_c = a->a[4];
		if ((int)a->a[4] >= 4)
			e->opt_value = user_int((void *)a->a[3]);
		break;
	case SF_KIND_GETSOCKOPT:
		e->arg_a = a->a[1];
		e->arg_b = a->a[2];
		e->arg_c = user_int((void *)a->a[4]);
		if (ret == 0 && e->arg_c >= 4)
			e->opt_value = user_int((void *)a->a[3]);
		break;
	case SF_KIND_LISTEN:
	case SF_KIND_SHUTDOWN:
		e->arg_a = a->a[1];
		break;
	case SF_KIND_GETSOCKNAME:
	case SF_KIND_GETPEERNAME:
		if (ret == 0 && !inet_sockaddr(e, e->sock_addr, kind == SF_KIND_GETPEERNAME)) {
			e->data_len = copy_sockaddr(e->data, (void *)a->a[1], user_int((void *)a->a[2]));
			e->data_kind = e->data_len ? SF_DATA_SOCKADDR : SF_DATA_NONE;
		}
		break;
	case SF_KIND_RECVFROM:
		e->arg_flags = a->a[3];
		e->bytes = ret > 0 ? ret : 0;
		if (ret >= 0) {
			e->data_len = copy_sockaddr(e->data, (void *)a->a[4], user_int((void *)a->a[5]));
			e->data_kind = e->data_len ? SF_DATA_SOCKADDR : SF_DATA_NONE;
		}
		break;
	case SF_KIND_SENDTO:
		e->arg_flags = a->a[3];
		e->bytes = ret > 0 ? ret : 0;
		break;
	case SF_KIND_SENDMSG:
		e->arg_flags = a->a[2];
		e->bytes = ret > 0 ? ret : 0;
		break;
	case SF_KIND_RECVMSG: {
		struct user_msghdr mh;

		e->arg_flags = a->a[2];
		e->bytes = ret > 0 ? ret : 0;
		if (ret >= 0 && bpf_probe_read_user(&mh, sizeof(mh), (void *)a->a[1]) == 0) {
			e->data_len = copy_sockaddr(e->data, mh.msg_name, mh.msg_namelen);
			e->data_kind = e->data_len ? SF_DATA_SOCKADDR : SF_DATA_NONE;
		}
		break;
	}
	case SF_KIND_SENDMMSG:
	case SF_KIND_RECVMMSG:
		e->arg_a = a->a[2];
		e->arg_flags = a->a[3];
		if (ret > 0)
			e->bytes = sum_mmsg_len((const struct mmsghdr *)a->a[1], ret);
		if (kind == SF_KIND_RECVMMSG && ret > 0) {
			struct user_msghdr mh;

			if (bpf_probe_read_user(&mh, sizeof(mh), (void *)a->a[1]) == 0) {
				e->data_len = copy_sockaddr(e->data, mh.msg_name, mh.msg_namelen);
				e->data_kind = e->data_len ? SF_DATA_SOCKADDR : SF_DATA_NONE;
			}
		}
		break;
	default:
		break;
	}
}

/* Aggregate mode: a stream inet socket's send or receive is summed, not recorded. False: send its record. */
static __always_inline bool data_call_summed(struct task_struct *task, struct sf_task *a, __u16 kind, long ret)
{
	__u64 ino = 0, skp = 0;
	__u16 family;
	long moved = ret;

	if (sock_of_fd(task, (int)a->a[0], &ino, &skp) || !skp)
		return false; /* not a socket (or gone): the record says what happened */
	family = SF_GET(skp, struct sock, __sk_common.skc_family);
	if ((family != AF_INET && family != AF_INET6) || SF_GET(skp, struct sock, sk_type) != 1 /* SOCK_STREAM */)
		return false; /* unix sockets, and datagrams: each record carries its peer */
	if ((sf_cfg.data_path & SF_DATA_PATH_LENGTH_HOOKS) && length_hooked(skp))
		return true; /* sock_send_length/sock_recv_length (or their fallback) summed it, or sent its record */
	if ((kind == SF_KIND_SENDMMSG || kind == SF_KIND_RECVMMSG) && ret > 0)
		moved = sum_mmsg_len((const struct mmsghdr *)a->a[1], ret);
	return totals_add(sock_cookie(skp), skp, moved,
			  kind == SF_KIND_SENDTO || kind == SF_KIND_SENDMSG || kind == SF_KIND_SENDMMSG);
}

static __always_inline int on_exit(struct trace_event_raw_sys_exit *ctx, __u16 kind)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct sf_task *a = take_args(task, kind);
	struct sf_event *e;
	long ret = ctx->ret;

	if (!a || (a->flags & SF_TASK_SUMMED))
		return 0; /* enter not seen, or a stream socket's call that the length tracepoint summed */
	if ((sf_cfg.data_path & SF_DATA_PATH_AGGREGATE) && is_data_call(kind) && data_call_summed(task, a, kind, ret))
		return 0; /* summed in sock_totals: the collector sends the socket's totals */
	e = reserve(kind);
	if (!e)
		return 0; /* ring buffer full: counted, the collector reports it */
	caller(e, task);
	e->duration_ns = e->ts_ns - a->start_ns;
	e->ret = ret;
	e->fd = (int)a->a[0];
	e->data_kind = a->data_kind;
	e->data_len = a->data_len;
	if (a->data_len)
		__builtin_memcpy(e->data, a->data, SF_DATA_LEN);
	fill_call(e, a, task, kind, ret);
	bpf_ringbuf_submit(e, wakeup_flags());
	return 0;
}

#define SF_SYSCALL(name, kind, nargs)                                                                                  \
	SEC("tracepoint/syscalls/sys_enter_" #name)                                                                    \
	int sys_enter_##name(struct trace_event_raw_sys_enter *ctx)                                                    \
	{                                                                                                              \
		return on_enter(ctx, kind, nargs);                                                                     \
	}                                                                                                              \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                                                     \
	int sys_exit_##name(struct trace_event_raw_sys_exit *ctx)                                                      \
	{                                                                                                              \
		return on_exit(ctx, kind);                                                                             \
	}

SF_SYSCALL(socket, SF_KIND_SOCKET, 3)
SF_SYSCALL(socketpair, SF_KIND_SOCKETPAIR, 4)
SF_SYSCALL(setsockopt, SF_KIND_SETSOCKOPT, 5)
SF_SYSCALL(getsockopt, SF_KIND_GETSOCKOPT, 5)
SF_SYSCALL(getsockname, SF_KIND_GETSOCKNAME, 3)
SF_SYSCALL(getpeername, SF_KIND_GETPEERNAME, 3)
SF_SYSCALL(bind, SF_KIND_BIND, 3)
SF_SYSCALL(listen, SF_KIND_LISTEN, 2)
SF_SYSCALL(accept, SF_KIND_ACCEPT, 3)
SF_SYSCALL(accept4, SF_KIND_ACCEPT4, 4)
SF_SYSCALL(connect, SF_KIND_CONNECT, 3)
SF_SYSCALL(shutdown, SF_KIND_SHUTDOWN, 2)
SF_SYSCALL(recvfrom, SF_KIND_RECVFROM, 6)
SF_SYSCALL(recvmsg, SF_KIND_RECVMSG, 3)
SF_SYSCALL(recvmmsg, SF_KIND_RECVMMSG, 5)
SF_SYSCALL(sendto, SF_KIND_SENDTO, 6)
SF_SYSCALL(sendmsg, SF_KIND_SENDMSG, 3)
SF_SYSCALL(sendmmsg, SF_KIND_SENDMMSG, 4)
SF_SYSCALL(sethostname, SF_KIND_SETHOSTNAME, 2)
SF_SYSCALL(setdomainname, SF_KIND_SETDOMAINNAME, 2)
SF_SYSCALL(close, SF_KIND_CLOSE, 1)

/* ---- descriptors dropped other than by close(): exit, exec, dup2/dup3, close_range ---- */

/*
 * One FD_DROP record for a socket descriptor of the current task (nothing for other files). A global function: the
 * verifier checks it once, not once for each of the 64 descriptors a bitmap word of the walk below covers.
 */
__noinline int emit_drop(__u64 fp, int fd, __u16 cause, __u16 flags)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct sf_event *e;
	__u64 ino = 0, skp = 0;

	if (sock_of_file(fp, &ino, &skp))
		return 0; /* not a socket */
	if (sock_foreign(skp))
		return 0; /* a socket of another network namespace (made before the process moved to this one) */
	e = reserve(SF_KIND_FD_DROP);
	if (!e)
		return 0;
	caller(e, task);
	e->fd = fd;
	e->sock_ino = ino;
	e->sock_addr = skp;
	e->cause = cause;
	e->flags = flags | (file_last_reference(fp) ? SF_FLAG_LAST_REFERENCE : 0);
	read_sock(skp, e);
	bpf_ringbuf_submit(e, wakeup_flags());
	return 1;
}

struct fd_walk {
	struct fdtable *fdt;
	__u64 words; /* bitmap words to look at */
	__u64 open;  /* the word being walked: its open descriptors (close-on-exec ones only, for exec) */
	__u32 word;  /* its index */
	__u32 first; /* close_range: the range */
	__u32 last;
	__u16 cause;
	__u16 flags;
	bool cloexec_only;
};

/* One descriptor of the word being walked: a drop record if it is an open socket. */
static long walk_bit(__u32 b, void *vctx)
{
	struct fd_walk *fw = vctx;
	__u32 fd = fw->word * 64 + b;
	struct file *fp = NULL;

	if (b >= 64 || !(fw->open >> b))
		return 1; /* no open descriptor left in this word */
	if (!(fw->open & (1UL << b)) || fd < fw->first || fd > fw->last)
		return 0;
	if (bpf_probe_read_kernel(&fp, sizeof(fp), &fw->fdt->fd[fd]) || !fp)
		return 0;
	emit_drop((__u64)fp, fd, fw->cause, fw->flags);
	return 0;
}

/*
 * One word of the open-descriptor bitmap, its bits walked by bpf_loop too: a loop of its own here would end in a
 * fall-through back to its head, which verifiers before 6.3 refuse ("back-edge") whatever the bound.
 */
static long walk_word(__u32 w, void *vctx)
{
	struct fd_walk *fw = vctx;
	unsigned long open = 0, mask = ~0UL;

	if (w >= fw->words)
		return 1;
	if (bpf_probe_read_kernel(&open, sizeof(open), &fw->fdt->open_fds[w]) || !open)
		return 0;
	if (fw->cloexec_only) {
		if (bpf_probe_read_kernel(&mask, sizeof(mask), &fw->fdt->close_on_exec[w]))
			return 0;
		open &= mask;
	}
	fw->open = open;
	fw->word = w;
	bpf_loop(64, walk_bit, fw, 0);
	return 0;
}

/* Walks the current task's descriptor table (bounded: 65536 descriptors; a cut is counted). */
static __always_inline void walk_fds(struct task_struct *task, __u16 cause, __u16 flags, bool cloexec_only, __u32 first,
				     __u32 last)
{
	struct sf_counters *c;
	struct fd_walk fw = {
		.cause = cause,
		.flags = flags,
		.cloexec_only = cloexec_only,
		.first = first,
		.last = last,
	};
	__u32 max;

	fw.fdt = task->files->fdt;
	if (!fw.fdt)
		return;
	max = fw.fdt->max_fds;
	fw.words = (max + 63) / 64;
	if (fw.words > SF_FD_WORDS_MAX) {
		fw.words = SF_FD_WORDS_MAX;
		if ((c = counters_get()))
			__sync_fetch_and_add(&c->fd_walk_cut, 1);
	}
	bpf_loop(fw.words, walk_word, &fw, 0);
}

/* An exit: the thread that drops the process's descriptor table (the last one sharing it) reports each socket
 * descriptor in it. The sockets' releases follow as the table goes. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(process_exit, struct task_struct *p)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct sf_task *t;

	if (!wanted(task))
		return 0; /* filtered out */
	t = bpf_task_storage_get(&inflight, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (t)
		set_cause(t, SF_CAUSE_EXIT);
	if (!task->files || task->files->count.counter != 1)
		return 0; /* other threads (or a CLONE_FILES sibling) still use the table: not this exit's to report */
	walk_fds(task, SF_CAUSE_EXIT, 0, false, 0, ~0U);
	return 0;
}

/* exec: the close-on-exec socket descriptors, reported when the call starts and marked pending; the EXEC record at
 * its end says whether they went (success) or stayed (failure). */
static __always_inline int exec_enter(const char *filename)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct sf_task *a;

	if (!wanted(task))
		return 0; /* filtered out */
	a = bpf_task_storage_get(&inflight, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!a)
		return 0;
	a->kind = SF_KIND_EXEC;
	a->start_ns = bpf_ktime_get_boot_ns();
	set_cause(a, SF_CAUSE_EXEC);
	a->data_len = 0;
	a->data_kind = SF_DATA_NONE;
	if (bpf_probe_read_user_str(a->data, SF_DATA_LEN, filename) > 0) {
		a->data_kind = SF_DATA_NAME;
		a->data_len = SF_DATA_LEN; /* NUL-terminated within */
	}
	walk_fds(task, SF_CAUSE_EXEC, SF_FLAG_PENDING_EXEC, true, 0, ~0U);
	return 0;
}

static __always_inline int exec_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct sf_task *a = take_args(task, SF_KIND_EXEC);
	struct sf_event *e;

	if (!a)
		return 0;
	e = reserve(SF_KIND_EXEC);
	if (!e)
		return 0;
	caller(e, task);
	e->duration_ns = e->ts_ns - a->start_ns;
	e->ret = ctx->ret;
	e->flags = ctx->ret < 0 ? SF_FLAG_EXEC_FAILED : 0;
	e->data_kind = a->data_kind;
	e->data_len = a->data_len;
	if (a->data_len)
		__builtin_memcpy(e->data, a->data, SF_DATA_LEN);
	task_netns(task, e);
	bpf_ringbuf_submit(e, wakeup_flags());
	/* the close-on-exec descriptors are released as the call returns, after this: the cause stays EXEC */
	if (ctx->ret == 0)
		set_cause(a, SF_CAUSE_EXEC);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_execve")
int sys_enter_execve(struct trace_event_raw_sys_enter *ctx)
{
	return exec_enter((const char *)ctx->args[0]);
}

SEC("tracepoint/syscalls/sys_exit_execve")
int sys_exit_execve(struct trace_event_raw_sys_exit *ctx)
{
	return exec_exit(ctx);
}

SEC("tracepoint/syscalls/sys_enter_execveat")
int sys_enter_execveat(struct trace_event_raw_sys_enter *ctx)
{
	return exec_enter((const char *)ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_exit_execveat")
int sys_exit_execveat(struct trace_event_raw_sys_exit *ctx)
{
	return exec_exit(ctx);
}

/* dup2/dup3 onto an open socket descriptor closes that socket's descriptor. */
static __always_inline int dup_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	long oldfd = (int)ctx->args[0], newfd = (int)ctx->args[1];
	struct sf_task *a;
	__u64 fp;

	if (oldfd == newfd || !wanted(task))
		return 0; /* nothing replaced, or filtered out */
	a = bpf_task_storage_get(&inflight, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!a)
		return 0;
	a->kind = 0;
	fp = file_of_fd(task, newfd);
	if (sock_of_file(fp, &a->sock_ino, &a->sock_addr))
		return 0; /* the descriptor replaced is not a socket (or not open) */
	a->kind = SF_KIND_FD_DROP;
	a->a[1] = newfd;
	a->cookie = sock_cookie(a->sock_addr);
	a->family = a->sock_addr ? SF_GET(a->sock_addr, struct sock, __sk_common.skc_family) : 0;
	a->flags = file_last_reference(fp) ? SF_FLAG_LAST_REFERENCE : 0;
	a->start_ns = bpf_ktime_get_boot_ns();
	set_cause(a, SF_CAUSE_DUP2);
	return 0;
}

static __always_inline int dup_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct sf_task *a = bpf_task_storage_get(&inflight, task, 0, 0);
	struct sf_event *e;

	if (!a || a->kind != SF_KIND_FD_DROP)
		return 0; /* no socket was replaced */
	a->kind = 0;
	if (ctx->ret < 0)
		return 0; /* the call failed: the descriptor stays */
	e = reserve(SF_KIND_FD_DROP);
	if (!e)
		return 0;
	caller(e, task);
	e->duration_ns = e->ts_ns - a->start_ns;
	e->fd = a->a[1];
	e->sock_ino = a->sock_ino;
	e->sock_addr = a->sock_addr;
	e->cause = SF_CAUSE_DUP2;
	e->flags = a->flags;
	/* what enter resolved: the socket may be gone with the descriptor */
	e->family = a->family;
	e->cookie = a->cookie;
	bpf_ringbuf_submit(e, wakeup_flags());
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_dup2")
int sys_enter_dup2(struct trace_event_raw_sys_enter *ctx)
{
	return dup_enter(ctx);
}

SEC("tracepoint/syscalls/sys_exit_dup2")
int sys_exit_dup2(struct trace_event_raw_sys_exit *ctx)
{
	return dup_exit(ctx);
}

SEC("tracepoint/syscalls/sys_enter_dup3")
int sys_enter_dup3(struct trace_event_raw_sys_enter *ctx)
{
	return dup_enter(ctx);
}

SEC("tracepoint/syscalls/sys_exit_dup3")
int sys_exit_dup3(struct trace_event_raw_sys_exit *ctx)
{
	return dup_exit(ctx);
}

/* close_range(first, last, flags): reported as the call starts; it fails only on arguments checked here. */
SEC("tracepoint/syscalls/sys_enter_close_range")
int sys_enter_close_range(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 first = ctx->args[0], last = ctx->args[1], flags = ctx->args[2];
	struct sf_task *a;

	if (!wanted(task) || first > last || (flags & CLOSE_RANGE_CLOEXEC))
		return 0; /* filtered out, an invalid range, or only marks descriptors close-on-exec */
	a = bpf_task_storage_get(&inflight, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (a)
		set_cause(a, SF_CAUSE_CLOSE_RANGE);
	walk_fds(task, SF_CAUSE_CLOSE_RANGE, 0, false, first, last);
	return 0;
}

/* ---- the kernel's own view of inet sockets: birth and release (cgroup hooks) ---- */

/* A socket's creation gives it its cookie, so that every later record carries it. A record only for sockets made
 * outside socket()/socketpair() (io_uring), whose call records carry the rest. */
SEC("cgroup/sock_create")
int sock_create(struct bpf_sock *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 cookie = bpf_get_socket_cookie(ctx);
	__u64 skp = (__u64)ctx;
	struct sf_task *a;
	struct sf_event *e;

	if (!wanted(task))
		return 1; /* filtered out; 1 lets the socket be made */
	a = bpf_task_storage_get(&inflight, task, 0, 0);
	if (a && (a->kind == SF_KIND_SOCKET || a->kind == SF_KIND_SOCKETPAIR))
		return 1; /* the call's own record says it */
	e = reserve(SF_KIND_SOCK_CREATE);
	if (!e)
		return 1;
	caller(e, task);
	e->sock_addr = skp;
	e->sock_ino = socket_inode((__u64)BPF_CORE_READ((struct sock *)skp, sk_socket));
	read_sock(skp, e);
	e->cookie = cookie;
	bpf_ringbuf_submit(e, wakeup_flags());
	return 1;
}

/*
 * Where cgroup programs may not use task storage (6.12 and before), nothing tells a socket() from io_uring here: the
 * socket only gets its cookie, and sockets made outside socket() are not recorded as made.
 */
SEC("cgroup/sock_create")
int sock_create_plain(struct bpf_sock *ctx)
{
	bpf_get_socket_cookie(ctx);
	return 1;
}

/* The release record; with_cause: what the releasing task last did that drops descriptors (task storage). */
static __always_inline int release(struct bpf_sock *ctx, bool with_cause)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 cookie = bpf_get_socket_cookie(ctx);
	__u64 skp = (__u64)ctx;
	struct sf_task *t;
	struct sf_event *e;

	if (sock_excluded(skp) || excluded_task(task))
		return 1; /* one of sockflow's own sockets, or released by one of its processes (the include lists do not
			   * apply: a socket of an included process may be released by any other) */
	e = reserve(SF_KIND_SOCK_RELEASE);
	if (!e)
		return 1;
	caller(e, task);
	e->sock_addr = skp;
	e->sock_ino = socket_inode((__u64)BPF_CORE_READ((struct sock *)skp, sk_socket));
	read_sock(skp, e);
	read_tcp_counters(skp, e);
	e->cookie = cookie;
	e->cause = SF_CAUSE_OTHER;
	if (task->flags & 0x00200000 /* PF_KTHREAD */) {
		e->flags = SF_FLAG_KTHREAD; /* a delayed release: the task says nothing of the socket */
	} else if (!with_cause) {
		e->cause = SF_CAUSE_NONE; /* not known here: the collector takes it from the descriptor drop before */
	} else if ((t = bpf_task_storage_get(&inflight, task, 0, 0)) && t->cause &&
		   e->ts_ns - t->cause_ns < SF_CAUSE_WINDOW_NS) {
		e->cause = t->cause;
	}
	bpf_ringbuf_submit(e, wakeup_flags());
	return 1;
}

/* The last reference to an inet socket went: the kernel releases it. Runs in the task that dropped it. */
SEC("cgroup/sock_release")
int sock_release(struct bpf_sock *ctx)
{
	return release(ctx, true);
}

/* The same where cgroup programs may not use task storage (6.12 and before): without the cause. */
SEC("cgroup/sock_release")
int sock_release_plain(struct bpf_sock *ctx)
{
	return release(ctx, false);
}

/* ---- io_uring: network requests that make no system call of their own ---- */

/* IOSQE_FIXED_FILE, which the request's flags keep at the same bit (REQ_F_FIXED_FILE) on every kernel */
#define SF_REQ_F_FIXED_FILE 1ULL

static __always_inline bool uring_network_op(__u32 op)
{
	switch (op) {
	case SF_IO_URING_OP_SENDMSG:
	case SF_IO_URING_OP_RECVMSG:
	case SF_IO_URING_OP_ACCEPT:
	case SF_IO_URING_OP_CONNECT:
	case SF_IO_URING_OP_SEND:
	case SF_IO_URING_OP_RECV:
	case SF_IO_URING_OP_SHUTDOWN:
	case SF_IO_URING_OP_SOCKET:
	case SF_IO_URING_OP_SEND_ZC:
	case SF_IO_URING_OP_SENDMSG_ZC:
	case SF_IO_URING_OP_BIND:
	case SF_IO_URING_OP_LISTEN:
	case SF_IO_URING_OP_RECV_ZC:
		return true;
	}
	return false;
}

/*
 * A request submitted to an io_uring, after its preparation and before the kernel runs it: in the submitting task,
 * or in the ring's polling thread (SQPOLL), which shares the process's descriptors and memory. The request's own
 * data (struct io_socket, io_connect, ...) lies at its start, where the file pointer goes once it runs; the socket
 * is found from the descriptor number instead. A registered file (IOSQE_FIXED_FILE) is an index into the ring's own
 * table, which is not read: such a record has no socket.
 */
static __always_inline int uring_submit(struct io_kiocb *req)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 reqp = (__u64)req;
	__u64 ino = 0, skp = 0;
	struct sf_event *e;
	__u32 op;

	op = req->opcode;
	if (!uring_network_op(op))
		return 0; /* files, timers and the rest: not network */
	if (!wanted(task))
		return 0; /* filtered out, or one of sockflow's own processes */
	e = reserve(SF_KIND_IO_URING_SUBMIT);
	if (!e)
		return 0;
	caller(e, task);
	task_netns(task, e);
	e->io_uring_op = op;
	if (op != SF_IO_URING_OP_SOCKET) {
		e->fd = req->cqe.fd;
		if (req->flags & SF_REQ_F_FIXED_FILE)
			e->flags = SF_FLAG_FIXED_FILE;
		else if (!sock_of_fd(task, e->fd, &ino, &skp)) {
			e->sock_ino = ino;
			e->sock_addr = skp;
			read_sock(skp, e);
		}
	}
	switch (op) {
	case SF_IO_URING_OP_SOCKET:
		e->arg_a = SF_GET(reqp, struct io_socket, domain);
		e->arg_b = SF_GET(reqp, struct io_socket, type);
		e->arg_c = SF_GET(reqp, struct io_socket, protocol);
		break;
	case SF_IO_URING_OP_CONNECT:
		e->data_len = copy_sockaddr(e->data, (void *)SF_GET(reqp, struct io_connect, addr),
					    SF_GET(reqp, struct io_connect, addr_len));
		if (e->data_len)
			e->data_kind = SF_DATA_SOCKADDR;
		break;
	case SF_IO_URING_OP_ACCEPT:
		e->arg_flags = (__u32)SF_GET(reqp, struct io_accept, flags);
		break;
	case SF_IO_URING_OP_SHUTDOWN:
		e->arg_a = SF_GET(reqp, struct io_shutdown, how);
		break;
	case SF_IO_URING_OP_SEND:
	case SF_IO_URING_OP_SENDMSG:
	case SF_IO_URING_OP_RECV:
	case SF_IO_URING_OP_RECVMSG:
	case SF_IO_URING_OP_SEND_ZC:
	case SF_IO_URING_OP_SENDMSG_ZC:
		e->arg_flags = SF_GET(reqp, struct io_sr_msg, msg_flags);
		break;
	}
	bpf_ringbuf_submit(e, wakeup_flags());
	return 0;
}

SEC("tp_btf/io_uring_submit_req")
int BPF_PROG(io_uring_submit, struct io_kiocb *req)
{
	return uring_submit(req);
}

/* The same tracepoint under its older name (6.1 has it), with an argument more; the collector loads this one where the
 * kernel has no io_uring_submit_req */
SEC("tp_btf/io_uring_submit_sqe")
int BPF_PROG(io_uring_submit_sqe, struct io_kiocb *req, bool force_nonblock)
{
	return uring_submit(req);
}

/* ---- kernel tracepoints (tp_btf: the kernel's own arguments) ---- */

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct sf_rtt_key);
	__type(value, struct sf_rtt);
} rtt SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct sf_drop_key);
	__type(value, __u64);
} drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct sf_netdev_key);
	__type(value, struct sf_netdev);
} netdev SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct sf_xdp_key);
	__type(value, __u64);
} xdp_errors SEC(".maps");

/* a hash of one key rather than an array, so that the collector can read and reset it atomically */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} udp_queue_full SEC(".maps");

/* A record for a kernel event of a socket: the socket, and the task the kernel happened to run it in. */
static __always_inline struct sf_event *sock_record(__u16 kind, const struct sock *sk)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct sf_event *e;
	__u64 skp = (__u64)sk;
	__u64 so;

	e = reserve(kind);
	if (!e)
		return NULL;
	e->ts_ns = bpf_ktime_get_boot_ns();
	e->pid = task->tgid;
	e->tid = task->pid;
	__builtin_memcpy(e->comm, task->comm, sizeof(e->comm));
	e->sock_addr = skp;
	read_sock(skp, e);
	/* the sockfs inode, while the socket still has one (not before accept, not after close) */
	so = (__u64)SF_GET(skp, struct sock, sk_socket);
	if (so)
		e->sock_ino = socket_inode(so);
	return e;
}

/*
 * The state changes the aggregate data path records: a connection established (either end), a connect's outcome
 * (SYN_SENT left: established, refused or timed out), a listener's start and end. The rest (SYN_RECV, the closing
 * handshake's FIN_WAIT1/FIN_WAIT2/CLOSE_WAIT/LAST_ACK/CLOSE) tell no consumer anything the release and the resets do
 * not, and were five of a short connection's eight state records; per-call mode keeps every one.
 */
static __always_inline bool state_recorded(int oldstate, int newstate)
{
	if (!(sf_cfg.data_path & SF_DATA_PATH_AGGREGATE))
		return true;
	return newstate == TCP_ESTABLISHED || oldstate == TCP_SYN_SENT || newstate == TCP_LISTEN ||
	       (oldstate == TCP_LISTEN && newstate == TCP_CLOSE);
}

/* TCP state changes (see state_recorded). Gives the socket its cookie first: an accepted connection, which no
 * creation hook sees, gets it here (in SYN_RECV), before accept() returns it. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(sock_set_state, const struct sock *sk, const int oldstate, const int newstate)
{
	struct sf_event *e;
	__u64 cookie;

	if (sk->sk_protocol != IPPROTO_TCP)
		return 0; /* only TCP has a state machine worth following */
	cookie = bpf_get_socket_cookie((void *)sk);
	if (!(sf_cfg.groups & SF_GROUP_SOCK) || !state_recorded(oldstate, newstate) || sock_excluded((__u64)sk))
		return 0; /* group switched off, a change not recorded, or one of sockflow's own sockets */
	e = sock_record(SF_KIND_TCP_STATE, sk);
	if (!e)
		return 0;
	e->cookie = cookie;
	e->arg_a = oldstate;
	e->arg_b = newstate;
	bpf_ringbuf_submit(e, wakeup_flags());
	return 0;
}

/* The socket's error as the kernel reports it: how a non-blocking connect ended (ECONNREFUSED, ETIMEDOUT, ...). */
SEC("tp_btf/inet_sk_error_report")
int BPF_PROG(sock_error_report, const struct sock *sk)
{
	struct sf_event *e;
	__u64 cookie = bpf_get_socket_cookie((void *)sk);

	if (!(sf_cfg.groups & SF_GROUP_SOCK) || sock_excluded((__u64)sk))
		return 0; /* group switched off, or one of sockflow's own sockets */
	e = sock_record(SF_KIND_SOCK_ERROR, sk);
	if (!e)
		return 0;
	e->cookie = cookie;
	e->arg_a = sk->sk_err;
	bpf_ringbuf_submit(e, wakeup_flags());
	return 0;
}

static __always_inline int msg_length(struct sock *sk, int ret, int flags, __u16 kind)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct sf_event *e;
	__u64 cookie;
	__u16 family = sk->__sk_common.skc_family;

	if (!(sf_cfg.groups & SF_GROUP_SOCK))
		return 0; /* group switched off */
	if (family != AF_INET && family != AF_INET6)
		return 0; /* unix and netlink traffic is seen by the system calls */
	if (!wanted(task) || sock_foreign((__u64)sk))
		return 0; /* fires in the sending or receiving process: the same filters as its system calls */
	if (sf_cfg.data_path & SF_DATA_PATH_AGGREGATE) {
		/* the cookie the socket got at birth is a load; the helper (which makes one) only for a socket without */
		cookie = sk->__sk_common.skc_cookie.counter;
		if (!cookie)
			cookie = bpf_get_socket_cookie(sk);
		if (totals_add(cookie, (__u64)sk, ret, kind == SF_KIND_SOCK_SEND))
			return 0; /* summed in sock_totals: the collector sends the socket's totals */
	} else {
		cookie = bpf_get_socket_cookie(sk);
	}
	e = sock_record(kind, sk);
	if (!e)
		return 0;
	caller(e, task);
	e->cookie = cookie;
	e->ret = ret;
	e->bytes = ret > 0 ? ret : 0;
	e->arg_flags = (__u32)flags;
	bpf_ringbuf_submit(e, wakeup_flags());
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(sock_send_length, struct sock *sk, int ret, int flags)
{
	return msg_length(sk, ret, flags, SF_KIND_SOCK_SEND);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(sock_recv_length, struct sock *sk, int ret, int flags)
{
	return msg_length(sk, ret, flags, SF_KIND_SOCK_RECV);
}

/*
 * The fallback where those tracepoints are missing (before 6.3): TCP's own sendmsg and recvmsg, as they return. They
 * see read() and write() as the tracepoints do, for TCP alone (SF_DATA_PATH_LENGTH_TCP_ONLY). Loaded only where the
 * kernel lacks the tracepoints and its tcp_recvmsg has this prototype (5.19 on; kernels that later dropped addr_len
 * have the tracepoints); the collector checks both, and that the kernel takes fexit programs.
 */
SEC("fexit/tcp_sendmsg")
int BPF_PROG(tcp_sendmsg_length, struct sock *sk, struct msghdr *msg, size_t size, int ret)
{
	return msg_length(sk, ret, BPF_CORE_READ(msg, msg_flags), SF_KIND_SOCK_SEND);
}

SEC("fexit/tcp_recvmsg")
int BPF_PROG(tcp_recvmsg_length, struct sock *sk, struct msghdr *msg, size_t len, int flags, int *addr_len, int ret)
{
	return msg_length(sk, ret, flags, SF_KIND_SOCK_RECV);
}

/*
 * The endpoints of a reset the kernel sent for a segment that matched no socket, from that segment's headers: the
 * local end is where the segment was going, the remote end where it came from.
 */
static __always_inline void reset_endpoints(struct sf_event *e, const struct sk_buff *skb)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 nh = BPF_CORE_READ(skb, network_header);
	__u16 th = BPF_CORE_READ(skb, transport_header);
	struct tcphdr tcp;
	__u8 version = 0;

	if (!head || bpf_probe_read_kernel(&version, 1, head + nh) ||
	    bpf_probe_read_kernel(&tcp, sizeof(tcp), head + th))
		return;
	version >>= 4;
	if (version == 4) {
		struct iphdr ip;

		if (bpf_probe_read_kernel(&ip, sizeof(ip), head + nh))
			return;
		e->family = AF_INET;
		*(__u32 *)e->laddr = ip.daddr;
		*(__u32 *)e->raddr = ip.saddr;
	} else if (version == 6) {
		struct ipv6hdr ip6;

		if (bpf_probe_read_kernel(&ip6, sizeof(ip6), head + nh))
			return;
		e->family = AF_INET6;
		__builtin_memcpy(e->laddr, &ip6.daddr, 16);
		__builtin_memcpy(e->raddr, &ip6.saddr, 16);
	} else {
		return;
	}
	e->sk_protocol = IPPROTO_TCP;
	e->lport = bpf_ntohs(tcp.dest);
	e->rport = bpf_ntohs(tcp.source);
}

static __always_inline int tcp_event(const struct sock *sk, const struct sk_buff *skb, __u16 kind, int reason)
{
	struct sf_event *e;
	__u64 cookie;

	if (!(sf_cfg.groups & SF_GROUP_TCP))
		return 0; /* group switched off */
	if (!sk) {
		/* a reset for a segment that matched no socket: recorded with the segment's endpoints, without a socket,
		 * in the network namespace of the device the segment came in on */
		__u32 netns = skb ? BPF_CORE_READ(skb, dev, nd_net.net, ns.inum) : 0;

		if (sf_cfg.netns_include && netns != sf_cfg.netns_include)
			return 0; /* another network namespace than the one recorded */
		e = reserve(kind);
		if (!e)
			return 0;
		e->ts_ns = bpf_ktime_get_boot_ns();
		e->arg_b = reason;
		e->netns = netns;
		if (skb)
			reset_endpoints(e, skb);
		bpf_ringbuf_submit(e, wakeup_flags());
		return 0;
	}
	if (sock_excluded((__u64)sk))
		return 0; /* one of sockflow's own sockets */
	cookie = bpf_get_socket_cookie((void *)sk);
	e = sock_record(kind, sk);
	if (!e)
		return 0;
	e->cookie = cookie;
	e->arg_b = reason;
	bpf_ringbuf_submit(e, wakeup_flags());
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tcp_retransmit, const struct sock *sk)
{
	return tcp_event(sk, NULL, SF_KIND_TCP_RETRANSMIT, 0);
}

/* 6.10 and later pass the reset's reason; the collector loads this one where the kernel's prototype has it */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(tcp_send_reset_reason, const struct sock *sk, const struct sk_buff *skb, int reason)
{
	return tcp_event(sk, skb, SF_KIND_TCP_SEND_RESET, reason);
}

/* before 6.10: no reason to pass, and -1 says so (0 is a reason, NOT_SPECIFIED): the record's reason stays absent */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(tcp_send_reset, const struct sock *sk, const struct sk_buff *skb)
{
	return tcp_event(sk, skb, SF_KIND_TCP_SEND_RESET, -1);
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(tcp_receive_reset, struct sock *sk)
{
	return tcp_event(sk, NULL, SF_KIND_TCP_RECEIVE_RESET, 0);
}

SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(tcp_destroy_sock, struct sock *sk)
{
	return tcp_event(sk, NULL, SF_KIND_TCP_DESTROY, 0);
}

/* RTT and congestion window per socket, summed in the kernel and read by the collector at an interval. */
SEC("tp_btf/tcp_probe")
int BPF_PROG(tcp_probe, struct sock *sk)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	struct sf_rtt_key k;
	struct sf_rtt *v;
	__u32 srtt, cwnd;

	if (!(sf_cfg.groups & SF_GROUP_TCP) || sock_excluded((__u64)sk) || !tp)
		return 0; /* group switched off, one of sockflow's own sockets, or not a full TCP socket */
	k.cookie = bpf_get_socket_cookie(sk);
	srtt = tp->srtt_us >> 3; /* tcp_sock.srtt_us holds 8 x the smoothed RTT in microseconds */
	cwnd = tp->snd_cwnd;
	v = bpf_map_lookup_elem(&rtt, &k);
	if (!v) {
		struct sf_rtt init = {};

		init.srtt_us_min = srtt;
		init.cwnd_min = cwnd;
		init.family = sk->__sk_common.skc_family;
		init.sport = sk->__sk_common.skc_num;
		init.dport = bpf_ntohs(sk->__sk_common.skc_dport);
		if (init.family == AF_INET6) {
			__builtin_memcpy(init.saddr, &sk->__sk_common.skc_v6_rcv_saddr, 16);
			__builtin_memcpy(init.daddr, &sk->__sk_common.skc_v6_daddr, 16);
		} else {
			*(__u32 *)init.saddr = sk->__sk_common.skc_rcv_saddr;
			*(__u32 *)init.daddr = sk->__sk_common.skc_daddr;
		}
		bpf_map_update_elem(&rtt, &k, &init, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&rtt, &k);
		if (!v)
			return 0; /* map full even after LRU eviction: nothing to update */
	}
	v->srtt_us_last = srtt;
	v->cwnd_last = cwnd;
	if (srtt < v->srtt_us_min || !v->samples)
		v->srtt_us_min = srtt;
	if (srtt > v->srtt_us_max)
		v->srtt_us_max = srtt;
	if (cwnd < v->cwnd_min || !v->samples)
		v->cwnd_min = cwnd;
	if (cwnd > v->cwnd_max)
		v->cwnd_max = cwnd;
	v->samples++;
	return 0;
}

static __always_inline void count_u64(void *map, void *key)
{
	__u64 *v = bpf_map_lookup_elem(map, key);

	if (v) {
		(*v)++;
		return;
	}
	__u64 one = 1;
	bpf_map_update_elem(map, key, &one, BPF_NOEXIST);
}

SEC("tracepoint/skb/kfree_skb")
int skb_drop(struct trace_event_raw_kfree_skb *ctx)
{
	struct sf_drop_key k = {};

	if (!(sf_cfg.groups & SF_GROUP_SKB))
		return 0;			/* group switched off */
	if (bpf_core_field_exists(ctx->reason)) /* 5.17 on; older kernels count every drop under reason 0 */
		k.reason = ctx->reason;
	k.protocol = ctx->protocol;
	count_u64(&drops, &k);
	return 0;
}

static __always_inline int netdev_count(const void *skbaddr, __u32 len, __u32 direction)
{
	struct sf_netdev_key k = {.direction = direction};
	struct sf_netdev *v;
	__u64 dev;

	if (!(sf_cfg.groups & SF_GROUP_NET))
		return 0; /* group switched off */
	dev = (__u64)SF_GET(skbaddr, struct sk_buff, dev);
	if (!dev)
		return 0;
	k.ifindex = SF_GET(dev, struct net_device, ifindex);
	v = bpf_map_lookup_elem(&netdev, &k);
	if (!v) {
		struct sf_netdev init = {.packets = 1, .bytes = len};

		bpf_map_update_elem(&netdev, &k, &init, BPF_NOEXIST);
		return 0;
	}
	v->packets++;
	v->bytes += len;
	return 0;
}

SEC("tracepoint/net/net_dev_xmit")
int net_dev_xmit(struct trace_event_raw_net_dev_xmit *ctx)
{
	if (ctx->rc != 0)
		return 0; /* not transmitted */
	return netdev_count(ctx->skbaddr, ctx->len, 0);
}

SEC("tracepoint/net/netif_receive_skb")
int netif_receive_skb(struct trace_event_raw_net_dev_template *ctx)
{
	return netdev_count(ctx->skbaddr, ctx->len, 1);
}

SEC("tracepoint/xdp/xdp_exception")
int xdp_exception(struct trace_event_raw_xdp_exception *ctx)
{
	struct sf_xdp_key k = {};

	if (!(sf_cfg.groups & SF_GROUP_XDP))
		return 0; /* group switched off */
	k.ifindex = ctx->ifindex;
	k.action = ctx->act;
	count_u64(&xdp_errors, &k);
	return 0;
}

SEC("tracepoint/xdp/xdp_redirect_err")
int xdp_redirect_err(struct trace_event_raw_xdp_redirect_template *ctx)
{
	struct sf_xdp_key k = {.kind = 1};

	if (!(sf_cfg.groups & SF_GROUP_XDP))
		return 0; /* group switched off */
	k.ifindex = ctx->ifindex;
	k.action = ctx->act;
	count_u64(&xdp_errors, &k);
	return 0;
}

SEC("tracepoint/udp/udp_fail_queue_rcv_skb")
int udp_queue_overflow(void *ctx)
{
	__u32 zero = 0;

	if (!(sf_cfg.groups & SF_GROUP_UDP))
		return 0; /* group switched off */
	count_u64(&udp_queue_full, &zero);
	return 0;
}

/* ---- the start-up inventory (iterators, run once by the collector) ---- */

/* The kernel makes a socket's cookie on first request. These walk the socket tables of the families that have an
 * iterator and ask for each one's, so the descriptor walk below finds a cookie on every such socket. The pointer is
 * read once: 6.1's verifier loses the null check when it is read again for the call. */
SEC("iter/tcp")
int cookies_tcp(struct bpf_iter__tcp *ctx)
{
	void *sk = ctx->sk_common;

	if (sk)
		bpf_get_socket_cookie(sk);
	return 0;
}

SEC("iter/udp")
int cookies_udp(struct bpf_iter__udp *ctx)
{
	void *sk = ctx->udp_sk;

	if (sk)
		bpf_get_socket_cookie(sk);
	return 0;
}

SEC("iter/unix")
int cookies_unix(struct bpf_iter__unix *ctx)
{
	void *sk = ctx->unix_sk;

	if (sk)
		bpf_get_socket_cookie(sk);
	return 0;
}

SEC("iter/netlink")
int cookies_netlink(struct bpf_iter__netlink *ctx)
{
	void *sk = ctx->sk;

	if (sk)
		bpf_get_socket_cookie(sk);
	return 0;
}

/* One INVENTORY record per socket descriptor of every process (threads sharing a table are visited once). */
SEC("iter/task_file")
int inventory(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct sf_event e;
	__u64 ino = 0, skp = 0;
	__u64 cloexec = 0;
	struct fdtable *fdt;

	if (!task || !file)
		return 0; /* the end of the walk */
	if (sock_of_file((__u64)file, &ino, &skp))
		return 0; /* not a socket */
	__builtin_memset(&e, 0, sizeof(e));
	e.kind = SF_KIND_INVENTORY;
	e.peer_fd = -1;
	e.peer_fd2 = -1;
	e.ts_ns = bpf_ktime_get_boot_ns();
	e.proc_start_ns = task->group_leader->start_boottime;
	e.cgroup_id = task_cgroup(task);
	e.pid = task->tgid;
	e.tid = task->pid;
	e.uid = task->cred->uid.val;
	e.gid = task->cred->gid.val;
	__builtin_memcpy(e.comm, task->group_leader->comm, sizeof(e.comm));
	e.fd = ctx->fd;
	e.sock_ino = ino;
	e.sock_addr = skp;
	read_sock(skp, &e);
	read_tcp_counters(skp, &e);
	fdt = task->files->fdt;
	if (fdt && ctx->fd < fdt->max_fds &&
	    bpf_probe_read_kernel(&cloexec, sizeof(cloexec), &fdt->close_on_exec[ctx->fd / 64]) == 0 &&
	    (cloexec & (1UL << (ctx->fd % 64))))
		e.flags |= SF_FLAG_CLOEXEC;
	bpf_seq_write(ctx->meta->seq, &e, sizeof(e));
	return 0;
}
