"""A network workload of known shape, for the end-to-end test. Prints what it did as JSON on its last line.

N TCP connections to a listener in the same process (client i sends 1000*(i+1) bytes, the server answers 500+i),
two connects refused (ports 1 and 9 on loopback, where nothing listens), one UDP exchange (a connected client
sends 40 bytes, an unconnected server answers 120), and a socketpair carrying 9 bytes.
"""
import json
import os
import socket
import sys
import threading

n = int(sys.argv[1])
up = [1000 * (i + 1) for i in range(n)]
down = [500 + i for i in range(n)]

listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.bind(("127.0.0.1", 0))
listener.listen(64)
port = listener.getsockname()[1]


def recv_exactly(s, count):
    got = 0
    while got < count:
        chunk = s.recv(min(65536, count - got))
        if not chunk:
            break
        got += len(chunk)
    return got


def serve():
    for i in range(n):
        conn, _ = listener.accept()
        recv_exactly(conn, up[i])
        conn.sendall(b"d" * down[i])
        conn.close()


server = threading.Thread(target=serve)
server.start()
clients = []
for i in range(n):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.connect(("127.0.0.1", port))
    clients.append(c.getsockname()[1])
    c.sendall(b"u" * up[i])
    recv_exactly(c, down[i])
    c.close()
server.join()
listener.close()

refused = 0
for p in (1, 9):
    r = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        r.connect(("127.0.0.1", p))
    except ConnectionRefusedError:
        refused += 1
    r.close()

us = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
us.bind(("127.0.0.1", 0))
uc = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
uc.connect(us.getsockname())
uc.send(b"q" * 40)
data, peer = us.recvfrom(2048)
us.sendto(b"a" * 120, peer)
uc.recv(2048)
udp = {"client": uc.getsockname()[1], "server": us.getsockname()[1]}
uc.close()
us.close()

a, b = socket.socketpair()
a.sendall(b"p" * 9)
b.recv(9)
a.close()
b.close()

print(json.dumps({"pid": os.getpid(), "port": port, "clients": clients, "up": up, "down": down,
                  "refused": refused, "udp": udp}))
