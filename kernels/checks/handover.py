"""A socket whose owner exits while a forked child still holds it: the collector must find the new holder with a
descriptor walk (an iterator run) and say so (OWNER_CHANGE). Prints one JSON line (cookie, pids) once the owner has
exited; the child closes the socket after HOLD seconds (argument 2) and exits."""
import json
import os
import socket
import struct
import sys
import time

SO_COOKIE = 57
port = int(sys.argv[1]) if len(sys.argv) > 1 else 47041
hold = float(sys.argv[2]) if len(sys.argv) > 2 else 4.0
r, w = os.pipe()
owner = os.fork()
if owner == 0:
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(1)
    cli = socket.create_connection(("127.0.0.1", port))
    acc, _ = srv.accept()
    cookie = struct.unpack("=Q", cli.getsockopt(socket.SOL_SOCKET, SO_COOKIE, 8))[0]
    if os.fork() == 0:
        # the child: keeps the client end after its owner is gone
        acc.close()
        srv.close()
        time.sleep(hold)
        cli.close()
        os._exit(0)
    os.write(w, json.dumps({"owner": os.getpid(), "cookie": cookie}).encode() + b"\n")
    os._exit(0)  # the owner exits holding cli, acc and srv: the child holds cli still
os.waitpid(owner, 0)
info = json.loads(os.read(r, 4096))
print(json.dumps(info), flush=True)
