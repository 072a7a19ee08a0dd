package io.sockflow.jobs.lifecycle;

import io.sockflow.schemas.SocketEvent;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/** Socket keys are remembered by inode: a remembered key must never be handed to another host, boot or socket. */
class SocketKeysTest {
    private static SocketEvent event(String host, String boot, Long inode, Long sk) {
        SocketEvent e = new SocketEvent();
        e.setHost(host);
        e.setBootId(boot);
        e.setSocketInode(inode);
        e.setSocketKernelAddress(sk);
        return e;
    }

    @Test
    void keysFollowHostBootAndInodeWhateverWasSeenBefore() {
        // 50,000, 54,096 and 2^32 + 50,001 share a slot of the table (slot = (i ^ i >>> 32) & 4095)
        long[] inodes = {50_000, 50_000 + 4096, 50_001L + (1L << 32), 1};
        for (int round = 0; round < 3; round++) {
            for (String host : new String[] {"web-1", "web-2", new String("web-1")}) {
                for (String boot : new String[] {"b1", "b2", new String("b1")}) {
                    for (long inode : inodes) {
                        assertEquals(host + "|" + boot + "|" + inode, SocketKeys.key(event(host, boot, inode, null)));
                    }
                }
            }
        }
        assertEquals("web-1|b1|skff00", SocketKeys.key(event("web-1", "b1", null, 0xff00L)));
        assertEquals("web-1|b1|skff00", SocketKeys.key(event("web-1", "b1", 0L, 0xff00L)));
        assertNull(SocketKeys.key(event("web-1", "b1", null, null)));
    }

    @Test
    void aSocketsEventsShareOneKey() {
        String host = "web-1";
        String boot = "b1";
        String first = SocketKeys.key(event(host, boot, 77L, null));
        assertSame(first, SocketKeys.key(event(host, boot, 77L, 0xffL)));
    }
}
