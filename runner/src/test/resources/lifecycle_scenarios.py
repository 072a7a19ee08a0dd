"""Socket lifecycles in the shapes of real hosts, for the end-to-end lifecycle test.

Usage: lifecycle_scenarios.py SCENARIO [ARGS]. Each scenario prints JSON lines: {"ready": ...} when it waits for the
test (a line on stdin lets it go on), and a last line {"facts": ...} with what it did: pids, and for every socket its
cookie (SO_COOKIE, the kernel's own identity), inode, and the bytes it carried. The test holds sockflow's lifecycles
against these facts.
"""
import json
import os
import signal
import socket
import struct
import sys
import threading
import time

SO_COOKIE = 57
TCP_SYNCNT = 7


def cookie(s):
    return struct.unpack("Q", s.getsockopt(socket.SOL_SOCKET, SO_COOKIE, 8))[0]


def inode(s):
    return os.fstat(s.fileno()).st_ino


def ident(s, **more):
    d = {"cookie": cookie(s), "inode": inode(s), "family": s.family.name}
    d.update(more)
    return d


def say(**kv):
    print(json.dumps(kv), flush=True)


def wait_go():
    sys.stdin.readline()


def recv_exactly(s, n):
    got = 0
    while got < n:
        chunk = s.recv(min(65536, n - got))
        if not chunk:
            break
        got += len(chunk)
    return got


def fork_server(wait_before):
    """(a, b) A listener and an accepted connection with a client in another process. The server forks a child that
    closes its inherited copies and exits; the parent keeps serving and closes later. With wait_before, the sockets
    exist before the collector starts (the test starts it after "ready")."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    r, w = os.pipe()
    client_pid = os.fork()
    if client_pid == 0:  # the client, a process of its own
        os.close(w)
        c = socket.create_connection(("127.0.0.1", port))
        c.sendall(b"a" * 1000)
        recv_exactly(c, 300)
        os.read(r, 1)  # the second round
        c.sendall(b"b" * 2000)
        recv_exactly(c, 700)
        os.read(r, 1)  # the end
        c.close()
        os._exit(0)
    os.close(r)
    conn, _ = listener.accept()
    recv_exactly(conn, 1000)
    conn.sendall(b"x" * 300)
    if wait_before:
        say(ready="sockets made")
        wait_go()
    child = os.fork()
    if child == 0:  # a forked child closes what it inherited, then exits
        conn.close()
        listener.close()
        os._exit(0)
    os.waitpid(child, 0)
    os.write(w, b"1")
    recv_exactly(conn, 2000)
    conn.sendall(b"y" * 700)
    time.sleep(0.3)
    facts = {"server": os.getpid(), "client": client_pid, "child": child,
             "listener": ident(listener, port=port), "accepted": ident(conn, sent=1000, received=3000)}
    os.write(w, b"1")
    os.waitpid(client_pid, 0)
    conn.close()
    listener.close()
    say(facts=facts)


def dup_close():
    """(c) dup() then close one of the two: not an end; dup2() over the last one: the end (cause DUP2). And a copy made
    with dup2(fd, newfd): closing the original is not an end; closing the copy, the last descriptor, is (cause CLOSE).
    The moments of the first and the last drop are in the facts (seconds since the epoch)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    facts = {"pid": os.getpid(), "sock": ident(s)}
    fd2 = os.dup(s.fileno())
    facts["firstCloseAt"] = time.time()
    s.close()  # one descriptor of two: a call, not an end
    time.sleep(1.0)
    other = os.open("/dev/null", os.O_RDONLY)
    facts["lastDropAt"] = time.time()
    os.dup2(other, fd2)  # replaces the socket's last descriptor: its end
    t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t.bind(("127.0.0.1", 0))
    copy = os.dup2(t.fileno(), 200)  # the copy made with dup2 onto a free number
    facts["dup2Made"] = ident(t, copy=copy, firstCloseAt=time.time())
    t.close()  # the original of the two: a call, not an end
    time.sleep(1.0)
    facts["dup2Made"]["lastCloseAt"] = time.time()
    os.close(copy)  # the last descriptor: the end
    time.sleep(0.5)
    say(facts=facts)


def holder(kind):
    """(d) A process holding a listener, a connected TCP socket, a UDP socket and a unix socket, that exits without
    closing them (kind "exit") or waits to be killed with SIGKILL (kind "kill")."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]
    c = socket.create_connection(("127.0.0.1", port))
    a, _ = listener.accept()
    c.sendall(b"q" * 10)
    recv_exactly(a, 10)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    x, y = socket.socketpair()
    facts = {"pid": os.getpid(), "listener": ident(listener, port=port), "client": ident(c), "accepted": ident(a),
             "udp": ident(u), "unix": ident(x), "unix2": ident(y)}
    if kind == "exit":
        time.sleep(0.3)
        facts["exitAt"] = time.time()  # the moment of the exit (seconds since the epoch), just before it
        say(facts=facts)
        os._exit(0)
    say(facts=facts)
    while True:
        time.sleep(1)


def living_listener():
    """(d) A listener of the workload that lives on while the processes of (d) exit and are killed: the live view lists
    it and not theirs. It closes when the test says."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    say(facts={"pid": os.getpid(), "listener": ident(listener, port=listener.getsockname()[1])})
    wait_go()
    listener.close()


def exec_cloexec():
    """(e) Close-on-exec sockets end at the exec; one that is not close-on-exec survives into the new program and ends
    at its exit."""
    t = socket.socket()  # Python makes sockets close-on-exec
    t.bind(("127.0.0.1", 0))
    t.listen(1)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    x, y = socket.socketpair()
    keep = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    os.set_inheritable(keep.fileno(), True)
    facts = {"pid": os.getpid(), "tcp": ident(t), "udp": ident(u), "unix": ident(x), "unix2": ident(y),
             "kept": ident(keep)}
    say(facts=facts)
    os.execv("/bin/sleep", ["sleep", "1"])


def nonblocking(dropped_addr, dropped_port):
    """(f) Non-blocking connects: to a closed loopback port (refused); to a host whose firewall drops SYNs, with the
    kernel giving up after one retry (timed out); and one the process gives up on first (abandoned)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    closed_port = probe.getsockname()[1]
    probe.close()
    refused = socket.socket()
    refused.setblocking(False)
    try:
        refused.connect(("127.0.0.1", closed_port))
    except BlockingIOError:
        pass
    timed = socket.socket()
    timed.setsockopt(socket.IPPROTO_TCP, TCP_SYNCNT, 1)
    timed.setblocking(False)
    try:
        timed.connect((dropped_addr, dropped_port))
    except BlockingIOError:
        pass
    gave_up = socket.socket()
    gave_up.setblocking(False)
    try:
        gave_up.connect((dropped_addr, dropped_port))
    except BlockingIOError:
        pass
    facts = {"pid": os.getpid(), "refused": ident(refused, port=closed_port), "timed": ident(timed),
             "gaveUp": ident(gave_up)}
    time.sleep(0.5)
    gave_up.close()
    deadline = time.time() + 20
    while time.time() < deadline:
        err = timed.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            facts["timedErrno"] = err
            break
        time.sleep(0.2)
    facts["refusedErrno"] = refused.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    refused.close()
    timed.close()
    say(facts=facts)


def fd_passing():
    """(g) A socket passed over a unix socket (SCM_RIGHTS) to another process, which uses it: a holder, not the owner."""
    left, right = socket.socketpair()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    r, w = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(w)
        left.close()
        msg, anc, flags, addr = right.recvmsg(16, socket.CMSG_LEN(4))
        fd = struct.unpack("i", anc[0][2][:4])[0]
        passed = socket.socket(fileno=fd)
        passed.sendto(b"from the receiver", sink.getsockname())
        os.read(r, 1)
        passed.close()
        os._exit(0)
    os.close(r)
    right.close()
    left.sendmsg([b"fd"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", u.fileno()))])
    time.sleep(1.0)  # the receiver used it; both hold it now
    facts = {"pid": os.getpid(), "receiver": child, "passed": ident(u)}
    say(facts=facts)
    wait_go()  # the test looks at the open lifecycle here
    os.write(w, b"1")
    os.waitpid(child, 0)
    u.close()
    sink.close()
    left.close()
    say(facts=facts)


def handover():
    """The owner exits while a forked child still holds its socket: the child takes it over, and ends it later."""
    r, w = os.pipe()
    parent = os.fork()
    if parent == 0:  # the owner: makes the socket, forks the child that keeps it, exits without closing
        os.close(r)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        facts = {"owner": os.getpid(), "sock": ident(s)}
        child = os.fork()
        if child == 0:
            time.sleep(3.0)  # the owner is gone by now; the child still uses the socket, then closes it
            s.sendto(b"still here", s.getsockname())
            s.close()
            os._exit(0)
        facts["child"] = child
        os.write(w, (json.dumps(facts) + "\n").encode())
        time.sleep(0.5)
        os._exit(0)
    os.close(w)
    facts = json.loads(os.read(r, 4096).decode().split("\n")[0])
    os.waitpid(parent, 0)
    time.sleep(4.5)
    say(facts=facts)


def threads():
    """(h) A socket made by one thread and closed by another of the same process."""
    box = {}
    made = threading.Thread(target=lambda: box.update(s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)))
    made.start()
    made.join()
    s = box["s"]
    s.bind(("127.0.0.1", 0))
    facts = {"pid": os.getpid(), "sock": ident(s)}
    closer = threading.Thread(target=s.close)
    closer.start()
    closer.join()
    time.sleep(0.3)
    say(facts=facts)


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "fork-server-before":
        fork_server(True)
    elif what == "fork-server-after":
        fork_server(False)
    elif what == "dup":
        dup_close()
    elif what == "exit":
        holder("exit")
    elif what == "kill":
        holder("kill")
    elif what == "listener":
        living_listener()
    elif what == "exec":
        exec_cloexec()
    elif what == "nonblocking":
        nonblocking(sys.argv[2], int(sys.argv[3]))
    elif what == "fd-passing":
        fd_passing()
    elif what == "threads":
        threads()
    elif what == "handover":
        handover()
    else:
        sys.exit("unknown scenario " + what)
