"""Makes each of the 20 seed system calls once, with arguments a check can recognise, through libc's syscall() so
that each is the call it names (Python's own accept() is accept4, its send() is sendto). Prints a JSON line first:
its pid and the arguments used. Run it in a UTS namespace of its own (unshare -u): it calls sethostname and
setdomainname."""
import ctypes
import json
import os
import socket
import struct
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
NR = dict(socket=41, connect=42, accept=43, sendto=44, recvfrom=45, sendmsg=46, recvmsg=47, shutdown=48, bind=49,
          listen=50, getsockname=51, getpeername=52, socketpair=53, setsockopt=54, getsockopt=55, sethostname=170,
          setdomainname=171, accept4=288, recvmmsg=299, sendmmsg=307)
HOST = b"sockflow-seed"
DOMAIN = b"seed.sockflow.test"
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 47011
UDP_PORT = PORT + 1
L = ctypes.c_long


def call(name, *args):
    conv = [L(a) if isinstance(a, int) else ctypes.c_void_p(None) if a is None else a for a in args]
    r = libc.syscall(L(NR[name]), *conv)
    if r < 0:
        raise OSError(ctypes.get_errno(), f"{name}: {os.strerror(ctypes.get_errno())}")
    return r


def sockaddr(port):
    b = struct.pack("=H", socket.AF_INET) + struct.pack("!H", port) + socket.inet_aton("127.0.0.1") + bytes(8)
    return ctypes.create_string_buffer(b, 16)


class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class msghdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32), ("iov", ctypes.POINTER(iovec)),
                ("iovlen", ctypes.c_size_t), ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]


class mmsghdr(ctypes.Structure):
    _fields_ = [("hdr", msghdr), ("len", ctypes.c_uint32)]


def msg(buf, n, name=None):
    iov = iovec(ctypes.cast(buf, ctypes.c_void_p), n)
    h = msghdr()
    h.iov = ctypes.pointer(iov)
    h.iovlen = 1
    if name is not None:
        h.name = ctypes.cast(name, ctypes.c_void_p)
        h.namelen = 16
    h._keep = (iov, buf, name)
    return h


def main():
    ptr = ctypes.byref
    SOCK_STREAM, SOCK_DGRAM, SOCK_CLOEXEC = 1, 2, 0o2000000
    # TCP listener: socket, setsockopt, getsockopt, bind, listen, getsockname
    srv = call("socket", socket.AF_INET, SOCK_STREAM, 6)
    one = ctypes.c_int(1)
    call("setsockopt", srv, socket.SOL_SOCKET, socket.SO_REUSEADDR, ptr(one), 4)
    val, vlen = ctypes.c_int(0), ctypes.c_uint32(4)
    call("getsockopt", srv, socket.SOL_SOCKET, socket.SO_TYPE, ptr(val), ptr(vlen))
    call("bind", srv, sockaddr(PORT), 16)
    call("listen", srv, 7)
    name, nlen = ctypes.create_string_buffer(16), ctypes.c_uint32(16)
    call("getsockname", srv, name, ptr(nlen))
    # two clients: one taken by accept, one by accept4
    c1 = call("socket", socket.AF_INET, SOCK_STREAM, 0)
    call("connect", c1, sockaddr(PORT), 16)
    a1 = call("accept", srv, None, None)
    c2 = call("socket", socket.AF_INET, SOCK_STREAM, 0)
    call("connect", c2, sockaddr(PORT), 16)
    peer, plen = ctypes.create_string_buffer(16), ctypes.c_uint32(16)
    a2 = call("accept4", srv, peer, ptr(plen), SOCK_CLOEXEC)
    call("getpeername", c1, name, ptr(nlen))
    # bytes: sendto / recvfrom on TCP, sendmsg / recvmsg
    out = ctypes.create_string_buffer(b"s" * 300, 300)
    inb = ctypes.create_string_buffer(4096)
    call("sendto", c1, out, 300, 0, None, 0)
    got = 0
    while got < 300:
        got += call("recvfrom", a1, inb, 4096, 0, None, None)
    m_out = msg(ctypes.create_string_buffer(b"m" * 200, 200), 200)
    call("sendmsg", c2, ptr(m_out), 0)
    m_in = msg(ctypes.create_string_buffer(4096), 4096)
    got = 0
    while got < 200:
        got += call("recvmsg", a2, ptr(m_in), 0)
    call("shutdown", c2, socket.SHUT_WR)
    # UDP: sendmmsg of two datagrams, recvmmsg of both
    us = call("socket", socket.AF_INET, SOCK_DGRAM, 0)
    call("bind", us, sockaddr(UDP_PORT), 16)
    uc = call("socket", socket.AF_INET, SOCK_DGRAM, 0)
    dst = sockaddr(UDP_PORT)
    vec = (mmsghdr * 2)()
    for i, n in enumerate((50, 70)):
        vec[i].hdr = msg(ctypes.create_string_buffer(b"u" * n, n), n, dst)
    assert call("sendmmsg", uc, vec, 2, 0) == 2
    rvec = (mmsghdr * 2)()
    for i in range(2):
        rvec[i].hdr = msg(ctypes.create_string_buffer(512), 512, ctypes.create_string_buffer(16))
    got = call("recvmmsg", us, rvec, 2, 0, None)
    # socketpair, then the names
    sv = (ctypes.c_int * 2)()
    call("socketpair", socket.AF_UNIX, SOCK_STREAM, 0, sv)
    call("sethostname", ctypes.create_string_buffer(HOST), len(HOST))
    call("setdomainname", ctypes.create_string_buffer(DOMAIN), len(DOMAIN))
    print(json.dumps({"pid": os.getpid(), "port": PORT, "udp_port": UDP_PORT, "fds": {
        "srv": srv, "c1": c1, "a1": a1, "c2": c2, "a2": a2, "us": us, "uc": uc, "sv": [sv[0], sv[1]]},
        "recvmmsg": got, "host": HOST.decode(), "domain": DOMAIN.decode()}), flush=True)
    for fd in (c1, a1, c2, a2, srv, us, uc, sv[0], sv[1]):
        os.close(fd)


main()
