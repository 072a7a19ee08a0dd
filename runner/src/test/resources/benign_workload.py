"""An ordinary busy host, for the soak and the live truth test: servers and clients that fork, exit without closing,
get killed, exec with close-on-exec descriptors, connect non-blocking, keep idle connections open and pass
descriptors. Nothing in it is an attack. Runs for the given number of seconds (0: until killed), then exits.

Usage: benign_workload.py SECONDS
"""
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time

stop_at = time.time() + float(sys.argv[1]) if len(sys.argv) > 1 and float(sys.argv[1]) > 0 else float("inf")
rnd = random.Random(7)


def running():
    return time.time() < stop_at


def die_with_parent():
    """A long-lived child goes when the workload does: a test stops the workload with SIGKILL, which its children do
    not get, and one left behind would serve (and hold the test's output open) for ever."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:
        os._exit(0)  # the workload went before this child got here


def start_forking_server():
    """A classic fork-per-connection server: the child serves and exits (half of them without closing); the parent
    closes its copy."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        die_with_parent()
        os.close(r)
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", 0))
        srv.listen(16)
        os.write(w, str(srv.getsockname()[1]).encode() + b"\n")
        os.close(w)
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        srv.settimeout(0.5)
        while running():
            try:
                conn, _ = srv.accept()
            except socket.timeout:
                continue
            if os.fork() == 0:
                srv.close()
                try:
                    data = conn.recv(4096)
                    conn.sendall(b"ok:" + data[:16])
                except OSError:
                    pass
                if rnd.random() < 0.5:
                    conn.close()
                os._exit(0)
            conn.close()
        os._exit(0)
    os.close(w)
    port = int(os.read(r, 32).split(b"\n")[0])
    os.close(r)
    return pid, port


def keepalive_server(ready):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    ready.append(srv.getsockname()[1])
    srv.settimeout(0.5)

    def serve(c):
        try:
            while running():
                d = c.recv(4096)
                if not d:
                    break
                c.sendall(d)
        except OSError:
            pass
        finally:
            c.close()

    while running():
        try:
            c, _ = srv.accept()
        except socket.timeout:
            continue
        threading.Thread(target=serve, args=(c,), daemon=True).start()
    srv.close()


def keepalive_clients(port):
    """Long-lived connections, some idle for long stretches."""
    conns = []
    while running():
        if len(conns) < 8:
            try:
                conns.append(socket.create_connection(("127.0.0.1", port), timeout=2))
            except OSError:
                pass
        for c in list(conns):
            try:
                if rnd.random() < 0.5:
                    c.sendall(b"x" * rnd.randint(1, 2000))
                    c.recv(65536)
                if rnd.random() < 0.05:
                    c.close()
                    conns.remove(c)
            except OSError:
                conns.remove(c)
        time.sleep(0.5)
    for c in conns:
        c.close()


def fork_clients(port):
    while running():
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
            s.sendall(b"hello")
            s.recv(100)
            s.close()
        except OSError:
            pass
        time.sleep(0.3)


def nonblocking_refused():
    while running():
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", 1))
        except (BlockingIOError, OSError):
            pass
        time.sleep(0.2)
        s.close()
        time.sleep(1.5)


def udp_pair():
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("127.0.0.1", 0))
    cli = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.settimeout(0.2)
    while running():
        cli.sendto(b"ping", srv.getsockname())
        try:
            d, a = srv.recvfrom(100)
            srv.sendto(d, a)
            cli.recv(100)
        except OSError:
            pass
        time.sleep(0.5)
    srv.close()
    cli.close()


def short_lived_processes():
    """Children that exit holding sockets, get killed, and exec with close-on-exec descriptors."""
    while running():
        kind = rnd.choice(["exit", "kill", "exec"])
        pid = os.fork()
        if pid == 0:
            held = [socket.socket(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM), socket.socketpair()]
            held[0].bind(("127.0.0.1", 0))
            held[0].listen(1)
            if kind == "exec":
                os.execv("/bin/sleep", ["sleep", "0.5"])
            time.sleep(0.5 if kind == "exit" else 30)
            os._exit(0)
        if kind == "kill":
            time.sleep(0.5)
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        time.sleep(1)


def unix_server_and_fd_passing():
    path = "/tmp/sockflow-benign-%d.sock" % os.getpid()
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(4)
    srv.settimeout(0.5)
    while running():
        c = socket.socket(socket.AF_UNIX)
        c.connect(path)
        try:
            a, _ = srv.accept()
        except socket.timeout:
            c.close()
            continue
        x, y = socket.socketpair()
        a.sendmsg([b"fd"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, x.fileno().to_bytes(4, "little"))])
        c.recvmsg(16, socket.CMSG_LEN(4))
        for s in (a, c, x, y):
            s.close()
        time.sleep(1)
    srv.close()
    os.unlink(path)


def subprocess_runs():
    """A process holding sockets that runs programs (its descriptors are close-on-exec in the child)."""
    keep = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    while running():
        subprocess.run(["true"])
        time.sleep(2)
    keep.close()


if __name__ == "__main__":
    server_pid, fport = start_forking_server()
    ready = []
    threading.Thread(target=keepalive_server, args=(ready,), daemon=True).start()
    while not ready:
        time.sleep(0.05)
    actors = [lambda: keepalive_clients(ready[0]), lambda: fork_clients(fport), nonblocking_refused, udp_pair,
              short_lived_processes, unix_server_and_fd_passing, subprocess_runs]
    threads = [threading.Thread(target=a, daemon=True) for a in actors]
    for t in threads:
        t.start()
    print("ready", flush=True)
    while running():
        time.sleep(0.5)
    for t in threads:
        t.join(5)
    os.waitpid(server_pid, 0)
