"""A TCP connection made and used through io_uring alone: IORING_OP_SOCKET, IORING_OP_CONNECT and IORING_OP_SEND,
one request at a time, with the raw io_uring_setup and io_uring_enter calls (no liburing, no compiler). The listener
is an ordinary socket of the same process. Prints one JSON line: the pid, the io_uring socket's descriptor, the port
and the cookie that ss shows for that descriptor (sk:), read while the connection is open."""
import ctypes
import json
import mmap
import os
import re
import socket
import struct
import subprocess
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 47041
NR_SETUP, NR_ENTER = 425, 426  # x86_64 and every architecture of the generic table
OP_SOCKET, OP_CONNECT, OP_SEND = 45, 16, 26
ENTER_GETEVENTS = 1
OFF_SQ_RING, OFF_CQ_RING, OFF_SQES = 0, 0x8000000, 0x10000000

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def die(what, err):
    sys.exit(f"uring.py: {what} failed: {os.strerror(err)}")


params = ctypes.create_string_buffer(120)  # struct io_uring_params
ring = libc.syscall(ctypes.c_long(NR_SETUP), ctypes.c_uint(4), params)
if ring < 0:
    die("io_uring_setup", ctypes.get_errno())
sq_entries, cq_entries = struct.unpack_from("=II", params, 0)
sq_tail_off, sq_mask_off = struct.unpack_from("=II", params, 44)
sq_array_off = struct.unpack_from("=I", params, 64)[0]
cq_head_off, cq_tail_off, cq_mask_off = struct.unpack_from("=III", params, 80)
cqes_off = struct.unpack_from("=I", params, 100)[0]
sq = mmap.mmap(ring, sq_array_off + 4 * sq_entries, offset=OFF_SQ_RING)
cq = mmap.mmap(ring, cqes_off + 16 * cq_entries, offset=OFF_CQ_RING)
sqes = mmap.mmap(ring, 64 * sq_entries, offset=OFF_SQES)


def run(what, opcode, fd=0, off=0, addr=0, length=0):
    """Submits one request and waits for its completion; returns its result."""
    tail = struct.unpack_from("=I", sq, sq_tail_off)[0]
    idx = tail & struct.unpack_from("=I", sq, sq_mask_off)[0]
    sqes[64 * idx:64 * idx + 64] = struct.pack("=BBHiQQII", opcode, 0, 0, fd, off, addr, length, 0).ljust(64, b"\0")
    struct.pack_into("=I", sq, sq_array_off + 4 * idx, idx)
    struct.pack_into("=I", sq, sq_tail_off, (tail + 1) & 0xFFFFFFFF)
    if libc.syscall(ctypes.c_long(NR_ENTER), ring, 1, 1, ENTER_GETEVENTS, None, 0) < 0:
        die("io_uring_enter", ctypes.get_errno())
    head = struct.unpack_from("=I", cq, cq_head_off)[0]
    if head == struct.unpack_from("=I", cq, cq_tail_off)[0]:
        die(what, 11)
    res = struct.unpack_from("=i", cq, cqes_off + 16 * (head & struct.unpack_from("=I", cq, cq_mask_off)[0]) + 8)[0]
    struct.pack_into("=I", cq, cq_head_off, (head + 1) & 0xFFFFFFFF)
    if res < 0:
        die(what, -res)
    return res


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", PORT))
srv.listen(1)

fd = run("IORING_OP_SOCKET", OP_SOCKET, fd=socket.AF_INET, off=socket.SOCK_STREAM)
# struct sockaddr_in: the family in host order, the port and address in network order
to = ctypes.create_string_buffer(struct.pack("=H", socket.AF_INET) + struct.pack("!H4s8x", PORT, socket.inet_aton("127.0.0.1")), 16)
run("IORING_OP_CONNECT", OP_CONNECT, fd=fd, addr=ctypes.addressof(to), off=16)
hello = ctypes.create_string_buffer(b"hello", 5)
if run("IORING_OP_SEND", OP_SEND, fd=fd, addr=ctypes.addressof(hello), length=5) != 5:
    sys.exit("uring.py: IORING_OP_SEND sent less than 5 bytes")
conn, _ = srv.accept()
got = b""
while len(got) < 5:
    got += conn.recv(5 - len(got))

ss = subprocess.run(["ss", "-tnpe"], capture_output=True, text=True).stdout
cookie = None
for line in ss.splitlines():
    m = re.search(r"\bsk:([0-9a-f]+)", line)
    if m and f"pid={os.getpid()},fd={fd})" in line:
        cookie = int(m.group(1), 16)
print(json.dumps({"pid": os.getpid(), "fd": fd, "port": PORT, "cookie": cookie, "received": got.decode()}), flush=True)
os.close(fd)
conn.close()
srv.close()
