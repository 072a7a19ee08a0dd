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
            if (r.startsWith("127.") || r.equals("::1") || r.startsWith("::ffff:127.")) {
                return r;
            }
        }
        return a;
    }

    /** host | protocol | lower endpoint | higher endpoint: the same for both ends of a connection on one host. */
    public static String key(SocketLifecycle l) {
        String a = localAddress(l) + "/" + l.getLocalPort();
        String b = l.getRemoteAddress() + "/" + l.getRemotePort();
        String lo = a.compareTo(b) <= 0 ? a : b;
        String hi = a.compareTo(b) <= 0 ? b : a;
        return l.getHost() + "|" + l.getProtocol() + "|" + lo + "|" + hi;
    }

    public static int protocolNumber(String protocol) {
        return "UDP".equals(protocol) ? 17 : 6;
    }
}
