"""The workload of the capture that ships with sockflow (`up --replay sample`), in two processes: `server` makes eight
TCP connections carrying data, a UDP exchange and a socketpair; `scanner` scans 25 closed loopback ports and makes a
burst of getsockname calls. Each waits for a line on stdin (the recorder attaches the collector first), plays, and
prints "done".

Usage: sample_workload.py server|scanner
"""
import os
import socket
import sys
import time

sys.stdin.readline()
if sys.argv[1] == "scanner":
    time.sleep(0.5)
    probe = []
    for _ in range(25):  # 25 closed ports: bound then closed, so nothing listens there
        p = socket.socket()
        p.bind(("127.0.0.1", 0))
        probe.append(p.getsockname()[1])
        p.close()
    for port in probe:
        s = socket.socket()
        try:
            s.connect(("127.0.0.1", port))
        except OSError:
            pass
        s.close()
    s = socket.socket()
    for _ in range(61):
        s.getsockname()
    s.close()
    print("done", flush=True)
    sys.exit(0)

srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(16)
port = srv.getsockname()[1]
for i in range(8):
    c = socket.create_connection(("127.0.0.1", port))
    a, _ = srv.accept()
    c.sendall(b"q" * (1000 * (i + 1)))
    got = 0
    while got < 1000 * (i + 1):
        got += len(a.recv(65536))
    a.sendall(b"r" * (500 + i))
    got = 0
    while got < 500 + i:
        got += len(c.recv(65536))
    c.close()
    a.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", 0))
v = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
v.connect(u.getsockname())
v.send(b"x" * 40)
data, peer = u.recvfrom(100)
u.sendto(b"y" * 120, peer)
v.recv(200)
u.close()
v.close()
x, y = socket.socketpair()
x.send(b"ninebytes")
y.recv(9)
x.close()
y.close()
srv.close()
print("done", flush=True)
