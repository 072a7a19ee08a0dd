package io.sockflow.jobs;

import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;
import java.time.Instant;

/**
 * Hand-made events for the operator tests: a host whose clock starts at {@link #T0}; a process is (pid, comm);
 * the time is given in milliseconds after T0 and the monotonic clock follows it, like the collector's.
 */
public final class Ev {
    public static final Instant T0 = Instant.parse("2026-11-25T10:00:00Z");
    public static final String HOST = "web-1";
    public static final String BOOT = "boot-a";

    private final SocketEvent e;

    private Ev(EventKind kind, int pid, String comm, long atMs) {
        e = new SocketEvent();
        e.setHost(HOST);
        e.setBootId(BOOT);
        e.setTimestamp(T0.plusMillis(atMs));
        e.setMonotonicNs(1_000_000_000_000L + atMs * 1_000_000L);
        e.setDurationNs(1000L);
        e.setKind(kind);
        e.setPid(pid);
        e.setTid(pid);
        e.setProcessStartNs(pid * 1000L);
        e.setComm(comm);
        e.setUid(1000);
        e.setGid(1000);
        e.setCgroupId(1L);
        e.setReturnValue(0L);
        e.setAttribution(kind.ordinal() >= EventKind.TCP_STATE.ordinal() ? "SOCKET_OWNER" : "CALLER");
    }

    public static Ev of(EventKind kind, int pid, String comm, long atMs) {
        return new Ev(kind, pid, comm, atMs);
    }

    /** The cookie the collector gives the socket of this inode in these tests (inet sockets are named by it). */
    public static long cookie(long inode) {
        return 0x4000_0000_0000L + inode;
    }

    public Ev socket(long inode) {
        e.setSocketInode(inode);
        e.setSocketCookie(cookie(inode));
        e.setSocketKernelAddress(0xffff000000000000L + inode);
        return this;
    }

    /** The close of the socket's last descriptor (the kernel's release follows: {@link #released}). */
    public Ev last() {
        e.setLastReference(true);
        e.setCause("CLOSE");
        return this;
    }

    /** This record as the kernel's release of its socket, with the given cause. */
    public Ev released(String cause) {
        e.setKind(EventKind.SOCK_RELEASE);
        e.setCause(cause);
        e.setLastReference(null);
        return this;
    }

    public Ev tcp() {
        e.setFamily("AF_INET");
        e.setSocketType("SOCK_STREAM");
        e.setProtocol("TCP");
        return this;
    }

    public Ev udp() {
        e.setFamily("AF_INET");
        e.setSocketType("SOCK_DGRAM");
        e.setProtocol("UDP");
        return this;
    }

    public Ev unix() {
        e.setFamily("AF_UNIX");
        e.setSocketType("SOCK_STREAM");
        return this;
    }

    public Ev local(String addr, int port) {
        e.setLocalAddress(addr);
        e.setLocalPort(port);
        return this;
    }

    public Ev remote(String addr, int port) {
        e.setRemoteAddress(addr);
        e.setRemotePort(port);
        return this;
    }

    public Ev sockaddr(String addr, int port) {
        e.setSockaddrFamily(addr.contains(":") ? "AF_INET6" : "AF_INET");
        e.setSockaddrAddress(addr);
        e.setSockaddrPort(port);
        e.setSockaddrBytes(java.nio.ByteBuffer.wrap(new byte[16]));
        return this;
    }

    public Ev related(long inode) {
        e.setRelatedSocketInode(inode);
        e.setRelatedSocketCookie(cookie(inode));
        e.setRelatedSocketKernelAddress(0xffff000000000000L + inode);
        return this;
    }

    public Ev bytes(long n) {
        e.setBytes(n);
        e.setReturnValue(n);
        return this;
    }

    /**
     * The kernel's totals of the socket since its birth, as the collector's default data path sends them: on a
     * SOCK_TOTALS while it lives ({@code last} false) or on its release ({@code last} true).
     */
    public Ev totals(long sent, long received, long callsSent, long callsReceived, boolean last) {
        e.setBytesSent(sent);
        e.setBytesReceived(received);
        e.setCallsSent(callsSent);
        e.setCallsReceived(callsReceived);
        e.setErrorsSent(0L);
        e.setErrorsReceived(0L);
        e.setTotalsFinal(last);
        return this;
    }

    public Ev ret(long r, String errno) {
        e.setReturnValue(r);
        e.setErrno(errno);
        return this;
    }

    public Ev state(String old, String now) {
        e.setTcpOldState(old);
        e.setTcpState(now);
        return this;
    }

    public Ev args(String family, String type) {
        e.setArgFamily(family);
        e.setArgType(type);
        return this;
    }

    public Ev name(String n) {
        e.setName(n);
        return this;
    }

    public Ev tid(int tid) {
        e.setTid(tid);
        return this;
    }

    public SocketEvent get() {
        return SocketEvent.newBuilder(e).build();
    }
}
