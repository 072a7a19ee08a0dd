"""Sockets that end three ways, for a check to hold the collector's records against the kernel's own view (ss):
closed by their process, left open by a process that exits, and inherited by a fork whose child closes its copy
while the parent keeps it. Prints one JSON line with the cookies (SO_COOKIE) and pids, then waits for a line on
stdin (the check looks at ss meanwhile), closes the parent's last socket and prints a second line."""
import json
import os
import socket
import struct
import sys
import time

SO_COOKIE = 57
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 47021


def cookie(s):
    return struct.unpack("=Q", s.getsockopt(socket.SOL_SOCKET, SO_COOKIE, 8))[0]


def boottime_ns():
    return time.clock_gettime_ns(time.CLOCK_BOOTTIME)


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", PORT))
srv.listen(8)
out = {"pid": os.getpid(), "listener": cookie(srv)}

# closed: both ends of a connection, by close()
c = socket.create_connection(("127.0.0.1", PORT))
a, _ = srv.accept()
c.sendall(b"c" * 1000)
a.recv(4096)
out["closed"] = [cookie(c), cookie(a)]
c.close()
a.close()

# exits: a child connects, sends, and exits holding its socket (no close)
r, w = os.pipe()
child = os.fork()
if child == 0:
    s = socket.create_connection(("127.0.0.1", PORT))
    s.sendall(b"e" * 700)
    os.write(w, struct.pack("=Q", cookie(s)))
    time.sleep(0.3)
    os._exit(0)  # no close: the kernel drops the descriptor at exit
acc, _ = srv.accept()
got = 0
while got < 700:
    got += len(acc.recv(4096))
out["exited"] = struct.unpack("=Q", os.read(r, 8))[0]
out["exited_pid"] = child
os.waitpid(child, 0)
out["exited_peer"] = cookie(acc)
acc.close()

# inherited: the parent's connected socket goes to a forked child, which closes its copy and exits
kept = socket.create_connection(("127.0.0.1", PORT))
kept_peer, _ = srv.accept()
kept.sendall(b"k" * 500)
got = 0
while got < 500:
    got += len(kept_peer.recv(4096))
kept_peer.sendall(b"p" * 250)
got = 0
while got < 250:
    got += len(kept.recv(4096))
child = os.fork()
if child == 0:
    kept.close()
    os._exit(0)
os.waitpid(child, 0)
out["inherited"] = cookie(kept)
out["inherited_child"] = child
out["checkpoint_ns"] = boottime_ns()
print(json.dumps(out), flush=True)

sys.stdin.readline()  # the check has read the kernel's view
kept.close()
kept_peer.close()
srv.close()
print(json.dumps({"closed_at_ns": boottime_ns()}), flush=True)
time.sleep(0.2)
