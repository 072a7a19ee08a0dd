package io.sockflow.collector.bpf;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The one line a refused program is switched off with, from libbpf's messages as libbpf 1.1 writes them. */
class LibbpfLogTest {
    @Test
    void theVerifiersLastWordComesFromInsideTheLogLibbpfHandsOverAsOneMessage() {
        List<String> messages = List.of(
                "libbpf: prog 'sock_create': BPF program load failed: Invalid argument",
                "libbpf: prog 'sock_create': -- BEGIN PROG LOAD LOG --\n0: R1=ctx() R10=fp0\n"
                        + "; a = bpf_task_storage_get(&inflight, task, 0, 0); @ sockflow.bpf.c:994\n"
                        + "30: (85) call bpf_task_storage_get#156\n"
                        + "program of this type cannot use helper bpf_task_storage_get#156\n"
                        + "processed 36 insns (limit 1000000) max_states_per_insn 0 total_states 2\n"
                        + "-- END PROG LOAD LOG --",
                "libbpf: prog 'sock_create': failed to load: -22",
                "libbpf: failed to load object 'sockflow'");
        assertEquals("program of this type cannot use helper bpf_task_storage_get#156", LibbpfLog.reason(messages));
    }

    @Test
    void withoutAVerifierLogLibbpfsOwnComplaintAboutTheProgramIsTheReason() {
        List<String> messages = List.of(
                "libbpf: prog 'sock_send_length': failed to find kernel BTF type ID of 'sock_send_length': -3",
                "libbpf: prog 'sock_send_length': failed to load: -3",
                "libbpf: failed to load object 'sockflow'");
        assertEquals(
                "prog 'sock_send_length': failed to find kernel BTF type ID of 'sock_send_length': -3",
                LibbpfLog.reason(messages));
        assertNull(LibbpfLog.reason(List.of("libbpf: failed to load object 'sockflow'")));
    }
}
