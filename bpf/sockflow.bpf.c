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
