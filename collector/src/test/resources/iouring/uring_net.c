/*
 * A TCP client that makes no network system call: it creates a socket, connects it to 127.0.0.1:PORT and sends
 * "hello" through an io_uring (IORING_OP_SOCKET, IORING_OP_CONNECT, IORING_OP_SEND), one request at a time, with the
 * raw io_uring_setup and io_uring_enter calls. Prints its pid and waits for a line on stdin before it starts (so a
 * capture can be started for it), prints the socket's descriptor once the bytes are sent, then holds the connection
 * open until another line arrives. Any failure: one line on stderr naming the step, exit 1.
 *   uring_net PORT
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
static struct io_uring_sqe *sqes;
static struct io_uring_cqe *cqes;
static int ring;

static void fail(const char *step, int err)
{
	fprintf(stderr, "uring_net: %s failed: %s\n", step, strerror(err));
	exit(1);
}

/* Submits one request and waits for its completion; returns its result. */
static int run(const struct io_uring_sqe *req, const char *step)
{
	unsigned tail = *sq_tail, head;
	int res;

	sqes[tail & *sq_mask] = *req;
	sq_array[tail & *sq_mask] = tail & *sq_mask;
	__atomic_store_n(sq_tail, tail + 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
		fail("io_uring_enter", errno);
	head = *cq_head;
	if (head == __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE))
		fail(step, EAGAIN);
	res = cqes[head & *cq_mask].res;
	__atomic_store_n(cq_head, head + 1, __ATOMIC_RELEASE);
	if (res < 0)
		fail(step, -res);
	return res;
}

int main(int argc, char **argv)
{
	struct io_uring_params p;
	struct io_uring_sqe req;
	struct sockaddr_in to;
	static const char hello[] = "hello";
	char line[16];
	char *sq, *cq;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: uring_net PORT\n");
		return 2;
	}
	memset(&p, 0, sizeof(p));
	ring = syscall(__NR_io_uring_setup, 4, &p);
	if (ring < 0)
		fail("io_uring_setup", errno);
	sq = mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(unsigned), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		  ring, IORING_OFF_SQ_RING);
	cq = mmap(NULL, p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_CQ_RING);
	sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		    ring, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
		fail("mmap of the rings", errno);
	sq_tail = (unsigned *)(sq + p.sq_off.tail);
	sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	sq_array = (unsigned *)(sq + p.sq_off.array);
	cq_head = (unsigned *)(cq + p.cq_off.head);
	cq_tail = (unsigned *)(cq + p.cq_off.tail);
	cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);

	printf("%d\n", getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	memset(&req, 0, sizeof(req));
	req.opcode = IORING_OP_SOCKET;
	req.fd = AF_INET;
	req.off = SOCK_STREAM;
	fd = run(&req, "IORING_OP_SOCKET");

	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons(atoi(argv[1]));
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	memset(&req, 0, sizeof(req));
	req.opcode = IORING_OP_CONNECT;
	req.fd = fd;
	req.addr = (uintptr_t)&to;
	req.off = sizeof(to);
	run(&req, "IORING_OP_CONNECT");

	memset(&req, 0, sizeof(req));
	req.opcode = IORING_OP_SEND;
	req.fd = fd;
	req.addr = (uintptr_t)hello;
	req.len = 5;
	if (run(&req, "IORING_OP_SEND") != 5)
		fail("IORING_OP_SEND (short)", EIO);

	printf("%d\n", fd);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		line[0] = 0;
	return 0;
}
