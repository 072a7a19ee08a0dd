package io.sockflow.embedded;

import static org.junit.jupiter.api.Assertions.*;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class LoopbackPortsTest {
    @Test
    void portsAreFreeDifferentAndBelowTheEphemeralRange() throws Exception {
        int low = LoopbackPorts.ephemeralLow();
        int[] ports = LoopbackPorts.free(200);
        assertEquals(200, Arrays.stream(ports).distinct().count(), "all different");
        for (int p : ports) {
            assertTrue(p >= 1024 && p < low, p + " is below " + low);
        }
        // each can be bound now, on loopback
        try (ServerSocket s = new ServerSocket(ports[0], 1, InetAddress.getLoopbackAddress())) {
            assertEquals(ports[0], s.getLocalPort());
            // and one that is bound is never handed out
            for (int i = 0; i < 2000; i++) {
                assertNotEquals(ports[0], LoopbackPorts.free());
            }
        }
        int pair = LoopbackPorts.freePair();
        assertTrue(LoopbackPorts.isFree(pair) && LoopbackPorts.isFree(pair + 1));
    }
}
