package io.sockflow.collector.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.sockflow.schemas.SocketEvent;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Partition keys are the socket's identity (host/c<cookie>, host/i<inode>) or host/pid/PID, without a String per event. */
class KafkaKeyTest {
    @Test
    void keysAreTheHostAndTheDecimalId() {
        for (long id : new long[] {
            0, 7, 9, 10, 99, 100, 999_999, 1_000_000, 123_456_789_012L, Long.MAX_VALUE, 999_999_999_999_999_999L, -5
        }) {
            assertEquals("h1/" + id, new String(KafkaOutput.keyBytes("h1/", id), StandardCharsets.UTF_8));
        }
        assertEquals("other/pid/42", new String(KafkaOutput.keyBytes("other/pid/", 42), StandardCharsets.UTF_8));
    }

    /** Keys are cached by id: a cached key must never leak to another host, to a pid, or to a colliding id. */
    @Test
    void cachedKeysFollowTheHostTheKindOfIdAndTheId() {
        long[] ids = {50_000, 50_000 + 4096, 50_001L + (1L << 32), 7, 0}; // the first three share a slot
        for (int round = 0; round < 3; round++) {
            for (String host : new String[] {"web-1", "web-2", new String("web-1")}) {
                for (long id : ids) {
                    SocketEvent unix = event(host, id, 123);
                    // inode 0 names no socket
                    assertEquals(id == 0 ? host + "/pid/123" : host + "/i" + id, key(unix));
                    SocketEvent inet = event(host, id + 1, 123);
                    inet.setFamily("AF_INET6");
                    inet.setSocketCookie(id);
                    // cookie 0 is the kernel's "none yet": the inode names the socket then
                    assertEquals(
                            id == 0 ? host + "/i1" : host + "/c" + id,
                            key(inet),
                            "an inet socket is named by its cookie");
                    SocketEvent withoutSocket = event(host, null, (int) id);
                    assertEquals(host + "/pid/" + (int) id, key(withoutSocket));
                }
            }
        }
        SocketEvent e = event("web-1", 42L, 1);
        assertSame(KafkaOutput.key(e), KafkaOutput.key(e), "the same socket's key is made once");
    }

    private static String key(SocketEvent e) {
        return new String(KafkaOutput.key(e), StandardCharsets.UTF_8);
    }

    private static SocketEvent event(String host, Long inode, int pid) {
        SocketEvent e = new SocketEvent();
        e.setHost(host);
        e.setFamily("AF_UNIX");
        e.setSocketInode(inode);
        e.setPid(pid);
        return e;
    }
}
