package io.sockflow.jobs.lifecycle;

import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.SocketIdentity;
import java.util.List;

/**
 * A socket's identity on the stream, as {@link SocketIdentity} defines it (host, boot, and the cookie of an inet
 * socket or the inode of any other), made cheaply: a socket's records come in runs, and each is keyed twice (to pick
 * its channel, and again by the operator that receives it).
 */
public final class SocketKeys {
    private SocketKeys() {}

    /** The lifecycle key, or null for records that concern no socket (sethostname, counters). */
    public static String key(SocketEvent e) {
        Long cookie = e.getSocketCookie();
        boolean byCookie = SocketIdentity.byCookie(e.getFamily(), cookie);
        Long inode = e.getSocketInode();
        if (!byCookie && (inode == null || inode == 0)) {
            return null;
        }
        long id = byCookie ? cookie : inode;
        String host = e.getHost();
        String boot = e.getBootId();
        int slot = (int) (id ^ id >>> 32 ^ (byCookie ? 0x5bd1e995 : 0)) & (RECENT - 1);
        Recent r = RECENT_KEYS[slot];
        // host and boot id are the same String instances record after record (the reader's string cache)
        if (r != null && r.id == id && r.byCookie == byCookie && r.host == host && r.boot == boot) {
            return r.key;
        }
        String key = SocketIdentity.key(host, boot, e.getFamily(), cookie, inode);
        RECENT_KEYS[slot] = new Recent(host, boot, id, byCookie, key);
        return key;
    }

    /**
     * Keys made lately: one String per socket instead of two per record, with its hash code computed once. Entries
     * are immutable, so threads share the table without a lock; a miss only makes a key anew.
     */
    private record Recent(String host, String boot, long id, boolean byCookie, String key) {}

    private static final int RECENT = 4096;
    private static final Recent[] RECENT_KEYS = new Recent[RECENT];

    static boolean hasKey(SocketEvent e) {
        Long inode = e.getSocketInode();
        return SocketIdentity.byCookie(e.getFamily(), e.getSocketCookie()) || inode != null && inode != 0;
    }

    /**
     * The records that feed the lifecycles: those of a socket; a socketpair call feeds both its ends (the second end
     * gets a copy with the two sockets swapped).
     */
    public static List<SocketEvent> lifecycleInputs(SocketEvent e) {
        if (!hasKey(e)) {
            return List.of();
        }
        if (e.getKind() == EventKind.SOCKETPAIR && e.getReturnValue() >= 0 && e.getRelatedSocketInode() != null) {
            SocketEvent other = SocketEvent.newBuilder(e).build();
            other.setSocketInode(e.getRelatedSocketInode());
            other.setRelatedSocketInode(e.getSocketInode());
            other.setSocketCookie(e.getRelatedSocketCookie());
            other.setRelatedSocketCookie(e.getSocketCookie());
            other.setSocketKernelAddress(e.getRelatedSocketKernelAddress());
            other.setRelatedSocketKernelAddress(e.getSocketKernelAddress());
            other.setFd(e.getResultFd2());
            return List.of(e, other);
        }
        return List.of(e);
    }
}
