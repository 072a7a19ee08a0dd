package io.sockflow.schemas;

/**
 * What makes two records the same socket, everywhere in sockflow (the collector's Kafka key, the jobs' keys, the lake):
 * the host, its boot, and
 * <ul>
 * <li>for inet sockets (AF_INET, AF_INET6), the socket cookie: the kernel's own identity of a socket, never reused in
 * a boot. sockflow gives every inet socket its cookie at birth (socket() and io_uring through the cgroup sock_create
 * hook, accepted connections through the TCP state hook) and the start-up inventory gives one to every inet socket that
 * existed before, so every record of an inet socket carries the same cookie;</li>
 * <li>for every other family (unix, netlink, packet, ...), the sockfs inode. The kernel makes those sockets' cookies
 * only when something asks (ss, sock_diag), so the cookie could appear half-way through a socket's life; the inode is
 * there from birth to release.</li>
 * </ul>
 * An inet record whose cookie the collector could not learn (a socket older than the capture, released before the
 * inventory ran) falls back to its inode; the collector counts those. The struct sock address is never a key: the
 * kernel reuses it for the next socket at once.
 */
public record SocketIdentity(String host, String bootId, long cookie, long inode) {

    public static boolean inet(String family) {
        return "AF_INET".equals(family) || "AF_INET6".equals(family);
    }

    /** Whether a record of this family names its socket by cookie (rather than inode). */
    public static boolean byCookie(String family, Long cookie) {
        return cookie != null && cookie != 0 && (family == null || inet(family));
    }

    /** The key of a socket: {@code host|boot|c<cookie hex>} or {@code host|boot|i<inode>}; null when it has neither. */
    public static String key(String host, String bootId, String family, Long cookie, Long inode) {
        if (byCookie(family, cookie)) {
            return host + "|" + bootId + "|c" + Long.toHexString(cookie);
        }
        if (inode != null && inode != 0) {
            return host + "|" + bootId + "|i" + inode;
        }
        return null;
    }

    public static String key(SocketEvent e) {
        return key(e.getHost(), e.getBootId(), e.getFamily(), e.getSocketCookie(), e.getSocketInode());
    }

    public static String key(SocketLifecycle l) {
        return key(l.getHost(), l.getBootId(), l.getFamily(), l.getSocketCookie(), l.getSocketInode());
    }

    /** The socket part of the key alone (the host and boot are the Kafka key's prefix anyway). */
    public static String local(String family, Long cookie, Long inode) {
        if (byCookie(family, cookie)) {
            return "c" + Long.toHexString(cookie);
        }
        return inode != null && inode != 0 ? "i" + inode : null;
    }
}
