"""A loopback TCP load for benchmarks and tests: one connection pumped as fast as it can for SECONDS, then
REFUSED connects to a closed port (each one a reset). Prints 'done' when finished.

usage: pump.py SECONDS REFUSED
"""
import socket
import sys
import threading
import time

seconds, refused = float(sys.argv[1]), int(sys.argv[2])
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(64)
client = socket.create_connection(server.getsockname())
accepted, _ = server.accept()


def drain():
    while accepted.recv(65536):
        pass


reader = threading.Thread(target=drain)
reader.start()
buf = b"x" * 1400
end = time.time() + seconds
while time.time() < end:
    client.send(buf)
client.close()
reader.join()
accepted.close()
for _ in range(refused):
    try:
        socket.create_connection(("127.0.0.1", 1)).close()
    except OSError:
        pass
print("done", flush=True)
