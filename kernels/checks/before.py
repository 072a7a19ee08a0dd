"""Sockets that exist before the collector starts, for its start-up inventory to find: a TCP listener, a connection
to it (both ends) and a bound UDP socket. Prints one JSON line with their cookies (SO_COOKIE) and ports, then holds
them until a line comes on stdin, and closes them."""
import json
import os
import socket
import struct
import sys

SO_COOKIE = 57


def cookie(s):
    return struct.unpack("=Q", s.getsockopt(socket.SOL_SOCKET, SO_COOKIE, 8))[0]


port = int(sys.argv[1]) if len(sys.argv) > 1 else 47031
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(4)
cli = socket.create_connection(("127.0.0.1", port))
acc, _ = srv.accept()
cli.sendall(b"b" * 400)
got = 0
while got < 400:
    got += len(acc.recv(4096))
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("127.0.0.1", port + 1))
print(json.dumps({"pid": os.getpid(), "port": port, "listener": cookie(srv), "client": cookie(cli),
                  "accepted": cookie(acc), "udp": cookie(udp)}), flush=True)
sys.stdin.readline()
for s in (cli, acc, srv, udp):
    s.close()
