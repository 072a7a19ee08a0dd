package io.sockflow.jobs.lifecycle;

import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;

import java.util.List;

/**
 * A socket's identity on the stream: host, boot and sockfs inode. Kernel records whose socket the collector could
 * not tie to an inode (a socket older than the capture) are keyed by their {@code struct sock} address instead, so
 * they still make a lifecycle (with CREATE not seen).
 */
public final class SocketKeys {
    private SocketKeys() {
    }

    /** The lifecycle key, or null for events that concern no socket (sethostname, counters). */
    public static String key(SocketEvent e) {
        Long inode = e.getSocketInode();
        if (inode != null && inode != 0) {
            String host = e.getHost();
            String boot = e.getBootId();
            long i = inode;
            int slot = (int) (i ^ i >>> 32) & (RECENT - 1);
            Recent r = RECENT_KEYS[slot];
            // host and boot id are the same String instances event after event (the reader's string cache)
            if (r != null && r.inode == i && r.host == host && r.boot == boot) {
                return r.key;
            }
            String key = host + "|" + boot + "|" + i;
            RECENT_KEYS[slot] = new Recent(host, boot, i, key);
            return key;
        }
        Long sk = e.getSocketKernelAddress();
        if (sk != null && sk != 0) {
            return e.getHost() + "|" + e.getBootId() + "|sk" + Long.toHexString(sk);
        }
        return null;
    }

    /**
     * Keys made lately, by inode: a socket's events come in runs, and each is keyed twice (to pick its channel, and
     * again by the operator that receives it). One String per socket instead of two per event, with its hash code
     * computed once. Entries are immutable, so threads share the table without a lock; a miss only makes a key anew.
     */
    private record Recent(String host, String boot, long inode, String key) {
    }

    private static final int RECENT = 4096;
    private static final Recent[] RECENT_KEYS = new Recent[RECENT];

    /** Whether {@link #key} is not null, without making the key. */
    static boolean hasKey(SocketEvent e) {
        Long inode = e.getSocketInode();
        Long sk = e.getSocketKernelAddress();
        return inode != null && inode != 0 || sk != null && sk != 0;
    }

    /**
     * The events that feed the lifecycles: those with a socket; a socketpair call feeds both its ends (the second
     * end gets a copy with the two sockets swapped).
     */
    public static List<SocketEvent> lifecycleInputs(SocketEvent e) {
        if (!hasKey(e)) {
            return List.of();
        }
        if (e.getKind() == EventKind.SOCKETPAIR && e.getReturnValue() >= 0 && e.getRelatedSocketInode() != null) {
            SocketEvent other = SocketEvent.newBuilder(e).build();
            other.setSocketInode(e.getRelatedSocketInode());
            other.setRelatedSocketInode(e.getSocketInode());
            other.setSocketKernelAddress(e.getRelatedSocketKernelAddress());
            other.setRelatedSocketKernelAddress(e.getSocketKernelAddress());
            other.setFd(e.getResultFd2());
            return List.of(e, other);
        }
        return List.of(e);
    }
}
