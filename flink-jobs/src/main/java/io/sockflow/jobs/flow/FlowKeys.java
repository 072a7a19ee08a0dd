package io.sockflow.jobs.flow;

import io.sockflow.schemas.SocketLifecycle;

/** Which lifecycles are one end of a flow, and the key both ends of one connection share. */
public final class FlowKeys {
    private FlowKeys() {}

    /**
     * IP stream or datagram sockets with both ends known that moved data, or were seen created and connected (not,
     * say, a copy of a socket a child process closed on its way to exec).
     */
    public static boolean isFlowSide(SocketLifecycle l) {
        boolean moved = l.getBytesSent() + l.getBytesReceived() > 0;
        boolean seenBorn = !l.getNotSeen().contains("CREATE");
        return (moved || seenBorn && l.getConnectedAt() != null)
                && l.getLocalPort() != null
                && l.getRemotePort() != null
                && l.getLocalPort() != 0
                && l.getRemotePort() != 0
                && l.getLocalAddress() != null
                && l.getRemoteAddress() != null
                && ("AF_INET".equals(l.getFamily()) || "AF_INET6".equals(l.getFamily()))
                && ("TCP".equals(l.getProtocol()) || "UDP".equals(l.getProtocol()));
    }

    /**
     * The local address as the peer sees it: a socket bound to the wildcard that talks to a loopback peer is on
     * loopback too (an unconnected UDP server, for one).
     */
    public static String localAddress(SocketLifecycle l) {
        String a = l.getLocalAddress();
        if ("0.0.0.0".equals(a) || "::".equals(a)) {
            String r = l.getRemoteAddress();
            if (loopback(r)) {
                return r;
            }
        }
        return a;
    }

    /** A loopback address: 127.0.0.0/8, ::1, or 127.0.0.0/8 mapped into IPv6. */
    static boolean loopback(String a) {
        return a.startsWith("127.") || a.equals("::1") || a.startsWith("::ffff:127.");
    }

    /** host | protocol | lower endpoint | higher endpoint: the same for both ends of a connection on one host. */
    public static String key(SocketLifecycle l) {
        return key(l, false);
    }

    /**
     * The flow's key. Host-scoped, {@code host | protocol | lower endpoint | higher endpoint}: the same for both ends
     * of a connection on one host. Fleet-wide ({@code fleet}, the default of {@code flow.scope}) when both addresses
     * name hosts (not loopback, wildcard or link-local): {@code * | protocol | ...}, the same for the two ends of a
     * connection between two observed hosts, so that one flow names both processes.
     */
    public static String key(SocketLifecycle l, boolean fleet) {
        String local = localAddress(l);
        String a = local + "/" + l.getLocalPort();
        String b = l.getRemoteAddress() + "/" + l.getRemotePort();
        String lo = a.compareTo(b) <= 0 ? a : b;
        String hi = a.compareTo(b) <= 0 ? b : a;
        boolean acrossHosts = fleet && namesAHost(local) && namesAHost(l.getRemoteAddress());
        return (acrossHosts ? "*" : l.getHost()) + "|" + l.getProtocol() + "|" + lo + "|" + hi;
    }

    /**
     * Whether an address says which host it is on: not loopback, wildcard or link-local (those repeat from host to
     * host, so only the host tells two such connections apart).
     */
    static boolean namesAHost(String a) {
        String v = a.startsWith("::ffff:") ? a.substring(7) : a;
        String lower = v.toLowerCase(java.util.Locale.ROOT);
        return !(v.isEmpty()
                || v.startsWith("127.")
                || v.equals("0.0.0.0")
                || v.startsWith("169.254.")
                || lower.equals("::")
                || lower.equals("::1")
                || lower.startsWith("fe8")
                || lower.startsWith("fe9")
                || lower.startsWith("fea")
                || lower.startsWith("feb"));
    }

    public static int protocolNumber(String protocol) {
        return "UDP".equals(protocol) ? 17 : 6;
    }
}
