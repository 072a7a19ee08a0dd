// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * sockflow's kernel side: one record per network system call.
 *
 * Each traced call has a program at sys_enter that keeps the arguments in a per-thread map and one at
 * sys_exit that emits a single record with the return value, the duration and the socket's kernel
 * identity (sockfs inode and struct sock address, resolved from the fd in the kernel, because an fd
 * number is reused as soon as it is closed).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "sockflow.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define AF_INET 2
#define AF_INET6 10
#define SF_MMSG_SUM_MAX 32
#define SF_UTS_LEN 64

/* Puts struct sf_event into the object's BTF, where the collector's layout test reads its offsets. */
struct sf_event *sf_event_btf_anchor __attribute__((unused));
struct sf_drop_key *sf_drop_key_btf_anchor __attribute__((unused));
struct sf_netdev_key *sf_netdev_key_btf_anchor __attribute__((unused));
struct sf_xdp_key *sf_xdp_key_btf_anchor __attribute__((unused));

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

/* What sys_enter saw, until sys_exit of the same thread. */
struct sf_args {
	__u64 start_ns;
	__u64 a[6];
	__u64 sock_ino;   /* close: resolved at enter, while the fd still exists */
	__u64 sock_addr;
	__u16 kind;
	__u16 data_kind;
	__u16 data_len;
	__u16 _pad;
	__u8 data[SF_DATA_LEN];
};

/* Per thread, freed with the thread: no entry can leak when a thread dies inside a call. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sf_args);
} inflight SEC(".maps");

/*
 * Reads kernel memory through BTF: a field read becomes one guarded load instead of a helper call, which is
 * most of what a record costs when there are twenty of them.
 */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;
#define SF_CAST(ptr, type) ((type *)bpf_rdonly_cast((void *)(ptr), bpf_core_type_id_kernel(type)))

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

static __always_inline bool wanted(__u32 pid)
{
	if (sf_cfg.pid_include_count && !pid_in(sf_cfg.pid_include, sf_cfg.pid_include_count, pid))
		return false;
	if (sf_cfg.pid_exclude_count && pid_in(sf_cfg.pid_exclude, sf_cfg.pid_exclude_count, pid))
		return false;
	if (sf_cfg.cgroup_include_count || sf_cfg.cgroup_exclude_count) {
		__u64 cg = bpf_get_current_cgroup_id();
		if (sf_cfg.cgroup_include_count &&
		    !cgroup_in(sf_cfg.cgroup_include, sf_cfg.cgroup_include_count, cg))
			return false;
		if (sf_cfg.cgroup_exclude_count &&
		    cgroup_in(sf_cfg.cgroup_exclude, sf_cfg.cgroup_exclude_count, cg))
			return false;
	}
	return true;
}

/* task -> files -> fdtable -> file -> socket -> sock. Returns 0 only for an fd that is a socket. */
static __always_inline int sock_of_fd(struct task_struct *task, long fd, __u64 *ino, __u64 *skp)
{
	struct fdtable *fdt;
	struct file *fp = NULL;
	struct file *f;
	struct inode *inode;
	struct socket *sock;

	if (fd < 0)
		return -1;
	fdt = task->files->fdt;
	if (!fdt || (unsigned long)fd >= fdt->max_fds)
		return -1;
	if (bpf_probe_read_kernel(&fp, sizeof(fp), &fdt->fd[fd]) || !fp)
		return -1;
	f = SF_CAST(fp, struct file);
	inode = f->f_inode;
	if (!inode || (inode->i_mode & S_IFMT) != S_IFSOCK)
		return -1;
	*ino = inode->i_ino;
	sock = SF_CAST(f->private_data, struct socket);
	*skp = (__u64)sock->sk;
	return 0;
}

static __always_inline void read_sock(__u64 skp, struct sf_event *e)
{
	struct sock *sk;

	if (!skp)
		return;
	sk = SF_CAST(skp, struct sock);
	e->family = sk->__sk_common.skc_family;
	e->sk_type = sk->sk_type;
	e->sk_protocol = sk->sk_protocol;
	if (e->family == AF_INET) {
		*(__u32 *)e->laddr = sk->__sk_common.skc_rcv_saddr;
		*(__u32 *)e->raddr = sk->__sk_common.skc_daddr;
	} else if (e->family == AF_INET6) {
		__builtin_memcpy(e->laddr, &sk->__sk_common.skc_v6_rcv_saddr, 16);
		__builtin_memcpy(e->raddr, &sk->__sk_common.skc_v6_daddr, 16);
	} else {
		return;
	}
	e->lport = sk->__sk_common.skc_num;
	e->rport = bpf_ntohs(sk->__sk_common.skc_dport);
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

static __always_inline int on_enter(struct trace_event_raw_sys_enter *ctx, __u16 kind, int nargs)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct sf_args *a;

	if (!wanted(task->tgid))
		return 0; /* filtered out: no args kept, so no record at exit */
	a = bpf_task_storage_get(&inflight, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!a)
		return 0; /* no memory for this thread's storage: the exit counts an orphan */
	a->kind = kind;
	a->data_kind = SF_DATA_NONE;
	a->data_len = 0;
	a->sock_ino = 0;
	a->sock_addr = 0;
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
	case SF_KIND_CLOSE:
		/* The fd is gone at exit; resolve it now, and keep nothing for fds that are not sockets. */
		if (sock_of_fd(task, (int)a->a[0], &a->sock_ino, &a->sock_addr)) {
			a->kind = 0;
			return 0;
		}
		break;
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

static __always_inline int on_exit(struct trace_event_raw_sys_exit *ctx, __u16 kind)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct sf_counters *c;
	struct sf_args *a;
	struct sf_event *e;
	long ret = ctx->ret;
	__u64 now;

	a = bpf_task_storage_get(&inflight, task, 0, 0);
	if (!a || a->kind != kind) {
		if (a)
			a->kind = 0;
		if (wanted(task->tgid) && (c = counters_get()))
			__sync_fetch_and_add(&c->orphan_exits, 1);
		return 0; /* enter not seen (filtered, or the call began before attach) */
	}
	a->kind = 0; /* consumed: the next exit of this thread needs its own enter */
	c = counters_get();
	if (c)
		__sync_fetch_and_add(&c->submitted, 1);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		if (c)
			__sync_fetch_and_add(&c->dropped, 1);
		return 0; /* ring buffer full: counted, the collector reports it */
	}

	now = bpf_ktime_get_boot_ns();
	e->ts_ns = now;
	e->duration_ns = now - a->start_ns;
	e->proc_start_ns = task->group_leader->start_boottime;
	/* read from the task itself: a load each, where the helpers would cost a call each */
	e->cgroup_id = task->cgroups->dfl_cgrp->kn->id;
	e->pid = task->tgid;
	e->tid = task->pid;
	e->uid = task->cred->uid.val;
	e->gid = task->cred->gid.val;
	__builtin_memcpy(e->comm, task->comm, sizeof(e->comm));
	e->kind = kind;
	e->ret = ret;
	e->bytes = 0;
	e->arg_flags = 0;
	e->sock_ino = 0;
	e->sock_addr = 0;
	e->peer_ino = 0;
	e->peer_sock_addr = 0;
	e->fd = (int)a->a[0];
	e->peer_fd = -1;
	e->peer_fd2 = -1;
	e->arg_a = 0;
	e->arg_b = 0;
	e->arg_c = 0;
	e->opt_value = 0;
	e->family = 0;
	e->sk_type = 0;
	e->sk_protocol = 0;
	e->lport = 0;
	e->rport = 0;
	__builtin_memset(e->laddr, 0, sizeof(e->laddr));
	__builtin_memset(e->raddr, 0, sizeof(e->raddr));
	e->data_kind = a->data_kind;
	e->data_len = a->data_len;
	e->_reserved = 0;
	if (a->data_len)
		__builtin_memcpy(e->data, a->data, SF_DATA_LEN);

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
			read_sock(e->sock_addr, e);
		}
		break;
	}
	case SF_KIND_CLOSE:
		e->sock_ino = a->sock_ino;
		e->sock_addr = a->sock_addr;
		break;
	case SF_KIND_ACCEPT:
	case SF_KIND_ACCEPT4:
		if (kind == SF_KIND_ACCEPT4)
			e->arg_flags = a->a[3];
		sock_of_fd(task, e->fd, &e->peer_ino, &e->peer_sock_addr);
		if (ret >= 0) {
			e->peer_fd = ret;
			if (sock_of_fd(task, ret, &e->sock_ino, &e->sock_addr) == 0)
				read_sock(e->sock_addr, e);
			e->data_len = copy_sockaddr(e->data, (void *)a->a[1], user_int((void *)a->a[2]));
			e->data_kind = e->data_len ? SF_DATA_SOCKADDR : SF_DATA_NONE;
		}
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
		if (ret == 0) {
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
	case SF_KIND_SETHOSTNAME:
	case SF_KIND_SETDOMAINNAME:
		e->fd = -1;
		e->arg_a = a->a[1];
		break;
	default:
		break;
	}

	bpf_ringbuf_submit(e, wakeup_flags());
	return 0;
}

#define SF_SYSCALL(name, kind, nargs)                                                        \
	SEC("tracepoint/syscalls/sys_enter_" #name)                                   \
	int sys_enter_##name(struct trace_event_raw_sys_enter *ctx)                   \
	{                                                                             \
		return on_enter(ctx, kind, nargs);                                         \
	}                                                                             \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                    \
	int sys_exit_##name(struct trace_event_raw_sys_exit *ctx)                     \
	{                                                                             \
		return on_exit(ctx, kind);                                            \
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

/* ---- kernel tracepoints: SOCK, TCP (per event), SKB, NET, XDP, UDP (aggregated) ---- */

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

/* A record for a kernel event: the socket it concerns, and the task the kernel happened to run it in. */
static __always_inline struct sf_event *tp_record(__u16 kind, __u64 skp)
{
	struct task_struct *task = bpf_get_current_task_btf();
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
	e->ts_ns = bpf_ktime_get_boot_ns();
	e->kind = kind;
	e->pid = task->tgid;
	e->tid = task->pid;
	__builtin_memcpy(e->comm, task->comm, sizeof(e->comm));
	e->fd = -1;
	e->peer_fd = -1;
	e->peer_fd2 = -1;
	e->sock_addr = skp;
	if (skp) {
		/* the sockfs inode, where the socket still has a file */
		struct sock *sk = SF_CAST(skp, struct sock);
		struct socket *so = sk->sk_socket;

		if (so && so->file && so->file->f_inode)
			e->sock_ino = so->file->f_inode->i_ino;
		e->sk_type = sk->sk_type;
	}
	return e;
}

/*
 * Arrays in a tracepoint's record are copied with a helper: the verifier refuses loads through a moved ctx
 * pointer, which is what a copy of an array field (at a CO-RE-relocated offset) becomes.
 */
static __always_inline void tp_addrs(struct sf_event *e, __u16 family, __u16 sport, __u16 dport, const void *s4,
				     const void *d4, const void *s6, const void *d6)
{
	e->family = family;
	e->lport = sport;
	e->rport = dport;
	if (family == AF_INET6) {
		bpf_probe_read_kernel(e->laddr, 16, s6);
		bpf_probe_read_kernel(e->raddr, 16, d6);
	} else {
		bpf_probe_read_kernel(e->laddr, 4, s4);
		bpf_probe_read_kernel(e->raddr, 4, d4);
	}
}

SEC("tracepoint/sock/inet_sock_set_state")
int sock_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	struct sf_event *e;

	if (!(sf_cfg.groups & SF_GROUP_SOCK))
		return 0; /* group switched off */
	if (ctx->protocol != IPPROTO_TCP)
		return 0; /* only TCP has a state machine worth following */
	e = tp_record(SF_KIND_TCP_STATE, (__u64)ctx->skaddr);
	if (!e)
		return 0;
	e->arg_a = ctx->oldstate;
	e->arg_b = ctx->newstate;
	e->sk_protocol = ctx->protocol;
	tp_addrs(e, ctx->family, ctx->sport, ctx->dport, ctx->saddr, ctx->daddr, ctx->saddr_v6, ctx->daddr_v6);
	bpf_ringbuf_submit(e, wakeup_flags());
	return 0;
}

static __always_inline int msg_length(struct trace_event_raw_sock_msg_length *ctx, __u16 kind)
{
	struct sf_event *e;

	if (!(sf_cfg.groups & SF_GROUP_SOCK))
		return 0; /* group switched off */
	if (ctx->family != AF_INET && ctx->family != AF_INET6)
		return 0; /* unix and netlink traffic is seen by the system calls */
	if (!wanted(bpf_get_current_task_btf()->tgid))
		return 0; /* fires in the sending or receiving process: the same filters as its system calls */
	e = tp_record(kind, (__u64)ctx->sk);
	if (!e)
		return 0;
	e->ret = ctx->ret;
	e->bytes = ctx->ret > 0 ? ctx->ret : 0;
	e->arg_flags = (__u32)ctx->flags;
	read_sock((__u64)ctx->sk, e);
	bpf_ringbuf_submit(e, wakeup_flags());
	return 0;
}

SEC("tracepoint/sock/sock_send_length")
int sock_send_length(struct trace_event_raw_sock_msg_length *ctx)
{
	return msg_length(ctx, SF_KIND_SOCK_SEND);
}

SEC("tracepoint/sock/sock_recv_length")
int sock_recv_length(struct trace_event_raw_sock_msg_length *ctx)
{
	return msg_length(ctx, SF_KIND_SOCK_RECV);
}

SEC("tracepoint/tcp/tcp_retransmit_skb")
int tcp_retransmit(struct trace_event_raw_tcp_retransmit_skb *ctx)
{
	struct sf_event *e;

	if (!(sf_cfg.groups & SF_GROUP_TCP))
		return 0; /* group switched off */
	e = tp_record(SF_KIND_TCP_RETRANSMIT, (__u64)ctx->skaddr);
	if (!e)
		return 0;
	e->arg_a = ctx->state;
	e->sk_protocol = IPPROTO_TCP;
	tp_addrs(e, ctx->family, ctx->sport, ctx->dport, ctx->saddr, ctx->daddr, ctx->saddr_v6, ctx->daddr_v6);
	bpf_ringbuf_submit(e, wakeup_flags());
	return 0;
}

/* tcp_send_reset and tcp_probe give addresses as struct sockaddr_in / sockaddr_in6 in 28 bytes */
static __always_inline void sockaddr_endpoint(const void *ctx_sa, __u16 *family, __u16 *port, __u8 *addr)
{
	__u8 sa[28];

	if (bpf_probe_read_kernel(sa, sizeof(sa), ctx_sa))
		return;
	*family = *(__u16 *)sa;
	*port = bpf_ntohs(*(__u16 *)(sa + 2));
	if (*family == AF_INET6)
		__builtin_memcpy(addr, sa + 8, 16);
	else
		__builtin_memcpy(addr, sa + 4, 4);
}

SEC("tracepoint/tcp/tcp_send_reset")
int tcp_send_reset(struct trace_event_raw_tcp_send_reset *ctx)
{
	struct sf_event *e;
	__u16 f;

	if (!(sf_cfg.groups & SF_GROUP_TCP))
		return 0; /* group switched off */
	e = tp_record(SF_KIND_TCP_SEND_RESET, (__u64)ctx->skaddr);
	if (!e)
		return 0;
	e->arg_a = ctx->state;
	e->arg_b = ctx->reason;
	e->sk_protocol = IPPROTO_TCP;
	sockaddr_endpoint(ctx->saddr, &e->family, &e->lport, e->laddr);
	sockaddr_endpoint(ctx->daddr, &f, &e->rport, e->raddr);
	bpf_ringbuf_submit(e, wakeup_flags());
	return 0;
}

static __always_inline int tcp_sk_event(struct trace_event_raw_tcp_event_sk *ctx, __u16 kind)
{
	struct sf_event *e;

	if (!(sf_cfg.groups & SF_GROUP_TCP))
		return 0; /* group switched off */
	e = tp_record(kind, (__u64)ctx->skaddr);
	if (!e)
		return 0;
	e->sk_protocol = IPPROTO_TCP;
	e->peer_sock_addr = ctx->sock_cookie;
	tp_addrs(e, ctx->family, ctx->sport, ctx->dport, ctx->saddr, ctx->daddr, ctx->saddr_v6, ctx->daddr_v6);
	bpf_ringbuf_submit(e, wakeup_flags());
	return 0;
}

SEC("tracepoint/tcp/tcp_receive_reset")
int tcp_receive_reset(struct trace_event_raw_tcp_event_sk *ctx)
{
	return tcp_sk_event(ctx, SF_KIND_TCP_RECEIVE_RESET);
}

SEC("tracepoint/tcp/tcp_destroy_sock")
int tcp_destroy_sock(struct trace_event_raw_tcp_event_sk *ctx)
{
	return tcp_sk_event(ctx, SF_KIND_TCP_DESTROY);
}

SEC("tracepoint/tcp/tcp_probe")
int tcp_probe(struct trace_event_raw_tcp_probe *ctx)
{
	struct sf_rtt_key k = {.sock_addr = (__u64)ctx->skaddr};
	struct sf_rtt *v;
	__u32 srtt, cwnd;

	if (!(sf_cfg.groups & SF_GROUP_TCP))
		return 0; /* group switched off */
	srtt = ctx->srtt >> 3; /* tcp_sock.srtt_us holds 8 x the smoothed RTT in microseconds */
	cwnd = ctx->snd_cwnd;
	v = bpf_map_lookup_elem(&rtt, &k);
	if (!v) {
		struct sf_rtt init = {};
		__u16 f;

		init.srtt_us_min = srtt;
		init.cwnd_min = cwnd;
		sockaddr_endpoint(ctx->saddr, &init.family, &init.sport, init.saddr);
		sockaddr_endpoint(ctx->daddr, &f, &init.dport, init.daddr);
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
		return 0; /* group switched off */
	k.reason = ctx->reason;
	k.protocol = ctx->protocol;
	count_u64(&drops, &k);
	return 0;
}

static __always_inline int netdev_count(const void *skbaddr, __u32 len, __u32 direction)
{
	struct sf_netdev_key k = {.direction = direction};
	struct sk_buff *skb;
	struct net_device *dev;
	struct sf_netdev *v;

	if (!(sf_cfg.groups & SF_GROUP_NET))
		return 0; /* group switched off */
	skb = SF_CAST(skbaddr, struct sk_buff);
	dev = skb->dev;
	if (!dev)
		return 0;
	k.ifindex = dev->ifindex;
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
