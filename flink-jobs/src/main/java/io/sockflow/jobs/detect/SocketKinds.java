package io.sockflow.jobs.detect;

import io.sockflow.schemas.SocketEvent;

/**
 * What kind of socket a record is about, read from the socket's family and its type with the flags separated:
 * the kernel's own view ({@code family}, {@code socketType}) first, the arguments of socket() otherwise, where the
 * type carries SOCK_CLOEXEC and SOCK_NONBLOCK beside it ({@code SOCK_RAW|SOCK_CLOEXEC}).
 */
public final class SocketKinds {
    private SocketKinds() {}

    public static String family(SocketEvent e) {
        return e.getFamily() != null ? e.getFamily() : e.getArgFamily();
    }

    /** The socket's type without its flags (SOCK_RAW for SOCK_RAW|SOCK_CLOEXEC|SOCK_NONBLOCK); null when unknown. */
    public static String baseType(SocketEvent e) {
        String t = e.getSocketType() != null ? e.getSocketType() : e.getArgType();
        return baseType(t);
    }

    static String baseType(String type) {
        if (type == null) {
            return null;
        }
        for (String part : type.split("\\|")) {
            String p = part.strip();
            if (!p.isEmpty() && !p.equals("SOCK_CLOEXEC") && !p.equals("SOCK_NONBLOCK")) {
                return p;
            }
        }
        return null;
    }

    public static boolean inet(String family) {
        return "AF_INET".equals(family) || "AF_INET6".equals(family);
    }

    /**
     * A socket that sees or crafts whole packets: a raw IP socket (AF_INET or AF_INET6, SOCK_RAW) or any packet
     * socket. A raw netlink socket is how ip, ss and nft talk to the kernel, not a packet socket.
     */
    public static boolean packetLevel(SocketEvent e) {
        String family = family(e);
        return "AF_PACKET".equals(family) || inet(family) && "SOCK_RAW".equals(baseType(e));
    }

    /** Loopback addresses, as the collector writes them (127.0.0.0/8, ::1, IPv4-mapped loopback). */
    public static boolean loopback(String address) {
        return address != null
                && (address.startsWith("127.") || address.equals("::1") || address.startsWith("::ffff:127."));
    }
}
