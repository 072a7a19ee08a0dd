package io.sockflow.collector.capture;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.collector.bpf.BpfException;
import io.sockflow.collector.sys.Privileges;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The capabilities a container grants the collector (the deployments read the list) pass its own check. */
class PreflightTest {
    static long mask(List<String> names) {
        long m = 0;
        for (int bit = 0; bit < 64; bit++) {
            if (names.contains(Privileges.names(1L << bit))) {
                m |= 1L << bit;
            }
        }
        return m;
    }

    @Test
    void theCaptureCapabilitiesAreWhatThePreflightAsksFor() {
        Path noTracefs = Path.of("/nonexistent-tracefs"); // so that reading it takes CAP_DAC_READ_SEARCH
        long granted = mask(Preflight.CAPTURE_CAPABILITIES);
        assertEquals(Preflight.CAPTURE_CAPABILITIES.size(), Long.bitCount(granted), "each name is a capability");
        assertDoesNotThrow(() -> Preflight.checkPrivileges(granted, noTracefs));
        for (String required : List.of("CAP_BPF", "CAP_PERFMON", "CAP_DAC_READ_SEARCH")) {
            long without = granted & ~mask(List.of(required));
            BpfException e =
                    assertThrows(BpfException.class, () -> Preflight.checkPrivileges(without, noTracefs), required);
            assertTrue(e.getMessage().contains(required), e.getMessage());
        }
        assertTrue(Preflight.CAPTURE_CAPABILITIES.contains("CAP_NET_ADMIN"), "the cgroup hooks");
        assertFalse(Preflight.CAPTURE_CAPABILITIES.contains("CAP_SYS_ADMIN"));
        assertEquals(
                List.of("CAP_SETUID", "CAP_SETGID", "CAP_CHOWN"),
                Privileges.SWITCH_CAPABILITIES.stream()
                        .map(n -> Privileges.names(mask(List.of(n))))
                        .toList());
    }
}
