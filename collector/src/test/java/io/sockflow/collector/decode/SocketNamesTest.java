package io.sockflow.collector.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

/** socket()'s type argument by name: the base type and the flags socket(2) documents, with any other bits ignored. */
class SocketNamesTest {
    private static final int NONBLOCK = 0x800;
    private static final int CLOEXEC = 0x80000;

    @Test
    void everyTypeWithEveryCombinationOfFlags() {
        assertEquals("SOCK_STREAM", SocketNames.typeWithFlags(1));
        assertEquals("SOCK_STREAM|SOCK_NONBLOCK", SocketNames.typeWithFlags(1 | NONBLOCK));
        assertEquals("SOCK_DGRAM|SOCK_CLOEXEC", SocketNames.typeWithFlags(2 | CLOEXEC));
        assertEquals("SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC", SocketNames.typeWithFlags(1 | NONBLOCK | CLOEXEC));
        for (int base = 0; base < 16; base++) {
            for (int flags : new int[] {0, NONBLOCK, CLOEXEC, NONBLOCK | CLOEXEC}) {
                String expected = SocketNames.type(base)
                        + ((flags & NONBLOCK) != 0 ? "|SOCK_NONBLOCK" : "")
                        + ((flags & CLOEXEC) != 0 ? "|SOCK_CLOEXEC" : "");
                assertEquals(expected, SocketNames.typeWithFlags(base | flags));
                // one String per combination, not one per call
                assertSame(SocketNames.typeWithFlags(base | flags), SocketNames.typeWithFlags(base | flags));
            }
        }
    }

    @Test
    void bitsSocketDoesNotDefineAreLeftOutOfTheName() {
        assertEquals("SOCK_STREAM|SOCK_NONBLOCK", SocketNames.typeWithFlags(1 | NONBLOCK | 0x4000_0000));
        assertEquals("SOCK_DGRAM", SocketNames.typeWithFlags(2 | 0x100));
    }
}
