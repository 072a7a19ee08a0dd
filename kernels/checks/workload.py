"""Socket calls for the collector to see: a TCP listener on loopback, a client that connects, sends and receives,
and a UDP datagram, repeated every PAUSE seconds (argument 2, default 0.2) until killed. Prints its pid first so a check can pick its events."""
import os
import socket
import sys
import time

print(os.getpid(), flush=True)
seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 120
pause = float(sys.argv[2]) if len(sys.argv) > 2 else 0.2
end = time.monotonic() + seconds
while time.monotonic() < end:
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    cli = socket.create_connection(srv.getsockname())
    conn, _ = srv.accept()
    cli.sendall(b"x" * 1000)
    got = 0
    while got < 1000:
        got += len(conn.recv(4096))
    conn.sendall(b"y" * 500)
    cli.recv(4096)
    for s in (cli, conn, srv):
        s.close()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.sendto(b"z" * 100, ("127.0.0.1", 9))
    u.close()
    time.sleep(pause)
