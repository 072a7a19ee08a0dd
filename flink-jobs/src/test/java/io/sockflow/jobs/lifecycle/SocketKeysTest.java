package io.sockflow.jobs.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.sockflow.schemas.SocketEvent;
import org.junit.jupiter.api.Test;

/**
 * Socket keys follow the identity rule (an inet socket's cookie, any other socket's inode) and are remembered by id: a
 * remembered key must never be handed to another host, boot, socket, or the other kind of id.
 */
class SocketKeysTest {
    private static SocketEvent event(String host, String boot, String family, Long inode, Long cookie) {
        SocketEvent e = new SocketEvent();
        e.setHost(host);
        e.setBootId(boot);
        e.setFamily(family);
        e.setSocketInode(inode);
        e.setSocketCookie(cookie);
        e.setSocketKernelAddress(0xffff0000L);
        return e;
    }

    @Test
    void keysFollowHostBootAndIdentityWhateverWasSeenBefore() {
        // 50,000, 54,096 and 2^32 + 50,001 share a slot of the table (slot = (i ^ i >>> 32) & 4095)
        long[] ids = {50_000, 50_000 + 4096, 50_001L + (1L << 32), 1};
        for (int round = 0; round < 3; round++) {
            for (String host : new String[] {"web-1", "web-2", new String("web-1")}) {
                for (String boot : new String[] {"b1", "b2", new String("b1")}) {
                    for (long id : ids) {
                        assertEquals(
                                host + "|" + boot + "|i" + id,
                                SocketKeys.key(event(host, boot, "AF_UNIX", id, 99L)),
                                "a unix socket: its inode");
                        assertEquals(
                                host + "|" + boot + "|c" + Long.toHexString(id),
                                SocketKeys.key(event(host, boot, "AF_INET", 7L, id)),
                                "an inet socket: its cookie");
                        assertEquals(
                                host + "|" + boot + "|i" + id,
                                SocketKeys.key(event(host, boot, "AF_INET6", id, null)),
                                "an inet socket without cookie");
                    }
                }
            }
        }
        assertNull(SocketKeys.key(event("web-1", "b1", "AF_INET", null, null)), "no socket: no key");
        assertNull(SocketKeys.key(event("web-1", "b1", "AF_UNIX", 0L, 5L)), "inode 0 names nothing");
    }

    @Test
    void aSocketsRecordsShareOneKey() {
        String first = SocketKeys.key(event("web-1", "b1", "AF_INET", 77L, 0xabcL));
        assertSame(
                first,
                SocketKeys.key(event("web-1", "b1", "AF_INET", null, 0xabcL)),
                "a kernel record without the inode is keyed with the socket's calls");
    }
}
