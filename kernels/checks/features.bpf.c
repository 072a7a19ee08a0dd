// SPDX-License-Identifier: Apache-2.0
/*
 * One tiny program per kernel feature sockflow uses or may use, for bpfprobe to load (and attach) one by one on
 * each kernel. Built three times: as is, with -DKFUNC=1 (bpf_rdonly_cast declared as sockflow declares it) and with
 * -DKFUNC=2 (declared __weak and checked before use), because an unresolved kfunc fails the whole object.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#ifndef KFUNC
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} task_store SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} ring SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_close")
int tracepoint_syscall(void *ctx)
{
	return 0;
}

SEC("tracepoint/sock/sock_send_length")
int tracepoint_sock_send_length(void *ctx)
{
	return 0;
}

SEC("tracepoint/sock/inet_sock_set_state")
int tracepoint_inet_sock_set_state(void *ctx)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_close")
int task_btf_deref(void *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();

	return t->files->fdt->max_fds == 0;
}

SEC("tracepoint/syscalls/sys_enter_close")
int task_storage_in_tracepoint(void *ctx)
{
	__u64 *v = bpf_task_storage_get(&task_store, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (v)
		*v += 1;
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_close")
int ringbuf_output(void *ctx)
{
	__u64 *e = bpf_ringbuf_reserve(&ring, sizeof(*e), 0);

	if (e) {
		*e = 1;
		bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	}
	return 0;
}

static long loop_step(__u64 i, void *c)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_close")
int bpf_loop_in_tracepoint(void *ctx)
{
	bpf_loop(16, loop_step, NULL, 0);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tp_btf_inet_sock_set_state, const struct sock *sk, int oldstate, int newstate)
{
	return 0;
}

SEC("iter/task_file")
int iter_task_file(struct bpf_iter__task_file *ctx)
{
	return 0;
}

SEC("iter/tcp")
int iter_tcp(struct bpf_iter__tcp *ctx)
{
	return 0;
}

SEC("cgroup/sock_create")
int cgroup_sock_create(struct bpf_sock *ctx)
{
	return bpf_get_socket_cookie(ctx) ? 1 : 1;
}

SEC("cgroup/sock_release")
int cgroup_sock_release(struct bpf_sock *ctx)
{
	return bpf_get_socket_cookie(ctx) ? 1 : 1;
}

SEC("fentry/tcp_close")
int BPF_PROG(fentry_tcp_close, struct sock *sk, long timeout)
{
	return 0;
}

SEC("fexit/tcp_close")
int BPF_PROG(fexit_tcp_close, struct sock *sk, long timeout)
{
	return 0;
}

SEC("lsm/socket_create")
int BPF_PROG(lsm_socket_create, int family, int type, int protocol, int kern, int ret)
{
	return ret;
}
#else
#if KFUNC == 2
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;
#else
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;
#endif

SEC("tracepoint/syscalls/sys_enter_close")
int kfunc_rdonly_cast(void *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();

#if KFUNC == 2
	if (!bpf_rdonly_cast)
		return 0;
#endif
	t = bpf_rdonly_cast(t, bpf_core_type_id_kernel(struct task_struct));
	return t->pid == 0;
}
#endif
