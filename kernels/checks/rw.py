"""A TCP connection that moves data through every call a program uses for it: the client writes with write() and
send(), the server reads with read() and recv(), and answers the same way. Before the ends close, each end's own
counters are read from the kernel (TCP_INFO: tcpi_bytes_acked, tcpi_bytes_received), for a check to hold the
records' byte totals against both what was written and what the kernel counted. Then a second connection is reset:
its server closes it with data unread, so the kernel sends a reset from a full socket (tcp_send_active_reset).
Prints one JSON line."""
import json
import os
import socket
import struct
import sys
import time

SO_COOKIE = 57
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 47051
# sizes that no read or write splits evenly, and more than one segment each
WRITE, SEND = 70001, 30011
ANSWER_WRITE, ANSWER_SEND = 9001, 4007


def cookie(s):
    return struct.unpack("=Q", s.getsockopt(socket.SOL_SOCKET, SO_COOKIE, 8))[0]


def tcp_info(s):
    """(unacked, bytes_acked, bytes_received) of struct tcp_info (linux/tcp.h: offsets 24, 120, 128)."""
    b = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    return struct.unpack_from("=I", b, 24)[0], *struct.unpack_from("=QQ", b, 120)


def write_all(s, data):
    view = memoryview(data)
    while view:
        view = view[os.write(s.fileno(), view):]


def read_exactly(s, n, use_read):
    got = 0
    while got < n:
        chunk = os.read(s.fileno(), min(65536, n - got)) if use_read else s.recv(min(65536, n - got))
        if not chunk:
            raise SystemExit(f"the peer closed after {got} of {n} bytes")
        got += len(chunk)


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", PORT))
srv.listen(4)
c = socket.create_connection(("127.0.0.1", PORT))
a, _ = srv.accept()

write_all(c, b"w" * WRITE)
c.sendall(b"s" * SEND)
read_exactly(a, WRITE, use_read=True)
read_exactly(a, SEND, use_read=False)
write_all(a, b"W" * ANSWER_WRITE)
a.sendall(b"S" * ANSWER_SEND)
read_exactly(c, ANSWER_WRITE, use_read=True)
read_exactly(c, ANSWER_SEND, use_read=False)
for _ in range(100):  # loopback acks at once; wait for them anyway
    if tcp_info(c)[0] == 0 and tcp_info(a)[0] == 0:
        break
    time.sleep(0.01)
(_, c_acked, c_received), (_, a_acked, a_received) = tcp_info(c), tcp_info(a)
out = {
    "pid": os.getpid(),
    "port": PORT,
    "client": cookie(c),
    "server": cookie(a),
    "client_sent": WRITE + SEND,
    "client_received": ANSWER_WRITE + ANSWER_SEND,
    # the connecting end's bytes_acked counts its SYN too (the ack of the SYN-ACK moves snd_una by one), the accepting
    # end's does not (it takes snd_una from that ack as it becomes established): data bytes acked, each way
    "client_tcp_info": [c_acked - 1, c_received],
    "server_tcp_info": [a_acked, a_received],
}
c.close()
a.close()

# the reset: the server closes its end with the client's bytes unread in its receive queue
r = socket.create_connection(("127.0.0.1", PORT))
ra, _ = srv.accept()
r.sendall(b"r" * 100)
for _ in range(100):
    if tcp_info(r)[0] == 0:
        break
    time.sleep(0.01)
out["reset_by"] = cookie(ra)
out["reset_peer"] = cookie(r)
ra.close()  # data unread: the kernel answers with a reset, not a FIN
try:
    r.recv(10)
    out["peer_saw"] = "no reset"
except ConnectionResetError:
    out["peer_saw"] = "reset"
r.close()
srv.close()
print(json.dumps(out), flush=True)
