package io.sockflow.collector.capture;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.collector.bpf.Btf;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The choice between the length tracepoints and their fallback (fexit on tcp_sendmsg/tcp_recvmsg), asked of this
 * host's own BTF (6.18: it has the tracepoints). The kernels without them are the lane's (kernels/checks/capture).
 */
class KernelFeaturesTest {
    static final Btf BTF = read();

    static Btf read() {
        try {
            return Btf.read(Path.of("/sys/kernel/btf/vmlinux"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void aFunctionsParametersAreCountedFromItsPrototypeAndAMissingOneIsMinusOne() {
        assertEquals(3, BTF.functionArgs("tcp_sendmsg"), "sk, msg, size");
        // sk, msg, len, flags and (5.19 to 6.x, the kernels the fallback is for) addr_len; newer ones dropped addr_len
        int recv = BTF.functionArgs("tcp_recvmsg");
        assertTrue(recv == 4 || recv == 5, "tcp_recvmsg takes " + recv);
        assertEquals(-1, BTF.functionArgs("no_such_function_in_any_kernel"));
    }

    @Test
    void withTheLengthTracepointsTheFallbackIsNotWantedAndNotLoaded() {
        KernelFeatures k = KernelFeatures.of(BTF, Path.of("/sys/fs/cgroup"));
        assertTrue(k.has("sock-send-recv-length"));
        assertFalse(k.wantsLengthFallback());
        String why = k.refusal("tcp_sendmsg_length", "fexit/tcp_sendmsg");
        assertEquals("sock_send_length is loaded instead", why);
        assertEquals("sock_recv_length is loaded instead", k.refusal("tcp_recvmsg_length", "fexit/tcp_recvmsg"));
        assertNull(k.refusal("sock_send_length", "tp_btf/sock_send_length"));
    }

    @Test
    void theFallbacksTwoProgramsGoTogether() {
        assertEquals(java.util.List.of("tcp_recvmsg_length"), Capture.partners("tcp_sendmsg_length"));
        assertEquals(java.util.List.of("tcp_sendmsg_length"), Capture.partners("tcp_recvmsg_length"));
    }

    @Test
    void whatTheKernelLacksSaysWhetherTheFallbackSeesReadAndWrite() {
        KernelFeatures k = KernelFeatures.of(BTF, Path.of("/sys/fs/cgroup"));
        k.lengthFallback(false, "fexit refused");
        assertEquals(KernelFeatures.NO_LENGTH_FALLBACK, without(k));
        k.lengthFallback(true, null);
        assertEquals(KernelFeatures.LENGTH_FALLBACK, without(k));
    }

    static String without(KernelFeatures k) {
        return k.all().stream()
                .filter(f -> f.name().equals("sock-send-recv-length"))
                .findFirst()
                .orElseThrow()
                .without();
    }
}
