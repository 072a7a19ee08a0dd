package io.sockflow.collector.capture;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.collector.LiveCapture;
import io.sockflow.collector.Sys;
import io.sockflow.collector.bpf.BpfException;
import io.sockflow.collector.bpf.EventLayout;
import io.sockflow.collector.cli.CollectCommandAccess;
import io.sockflow.schemas.EventKind;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Loading, sizing, filtering, accounting and tearing down a real capture. */
@Tag("root")
class CaptureLifecycleTest {
    /** 51 system-call programs and 6 kernel tracepoints (perf_event links), 11 tp_btf, 2 cgroup hooks, 5 iterators. */
    static final int PROGRAMS = 75;

    static final int SYSCALL_PROGRAMS = 51;
    static final java.util.Map<String, Long> LINKS =
            java.util.Map.of("perf_event", 57L, "raw_tracepoint", 11L, "cgroup", 2L, "iter", 5L);

    static final long SELF = ProcessHandle.current().pid();

    /** Counted for this JVM alone: another collector may be running on the machine. */
    static long sockflowPrograms() throws Exception {
        return io.sockflow.collector.Bpftool.syscallPrograms(SELF);
    }

    @Test
    void closingLeavesNoProgramOrLinkBehind() throws Exception {
        long progsBefore = sockflowPrograms();
        java.util.Map<String, Long> linksBefore = io.sockflow.collector.Bpftool.heldLinksByType(SELF);
        try (LiveCapture live = new LiveCapture()) {
            assertEquals(PROGRAMS, live.capture.links().size());
            assertEquals(progsBefore + SYSCALL_PROGRAMS, sockflowPrograms());
            java.util.Map<String, Long> during = io.sockflow.collector.Bpftool.heldLinksByType(SELF);
            for (var l : LINKS.entrySet()) {
                assertEquals(
                        linksBefore.getOrDefault(l.getKey(), 0L) + l.getValue(),
                        during.getOrDefault(l.getKey(), 0L),
                        l.getKey() + " links while attached");
            }
        }
        assertEquals(progsBefore, sockflowPrograms(), "programs unloaded");
        assertEquals(linksBefore, io.sockflow.collector.Bpftool.heldLinksByType(SELF), "links destroyed, every type");
    }

    @Test
    void aFullRingBufferDropsAndCountsExactly() {
        AtomicLong decoded = new AtomicLong();
        CaptureOptions tiny = CaptureOptions.defaults()
                .withExcludeSelf(false)
                .withPidInclude(List.of((int) ProcessHandle.current().pid()))
                .withRingBufferBytes(4096);
        int calls = 5_000;
        try (Capture c = Capture.open(tiny, rec -> decoded.incrementAndGet());
                Arena a = Arena.ofConfined()) {
            long fd = Sys.ok(Sys.SOCKET, Sys.AF_INET, Sys.SOCK_DGRAM, 0);
            MemorySegment name = a.allocate(16, 8);
            MemorySegment len = Sys.intValue(a, 16);
            for (int i = 0; i < calls; i++) {
                Sys.ok(Sys.GETSOCKNAME, fd, Sys.addr(name), Sys.addr(len));
            }
            Sys.ok(Sys.CLOSE, fd);
            Capture.Stats before = c.stats();
            assertTrue(before.submitted() >= calls + 2, "every call was submitted: " + before);
            assertTrue(before.dropped() > 0, "4 KiB holds about a dozen records: " + before);
            int capacity = (int) (4096 / (EventLayout.SIZE + 8));
            c.drain();
            Capture.Stats after = c.stats();
            assertEquals(after.submitted(), after.received() + after.dropped(), "nothing lost silently: " + after);
            assertEquals(after.received(), decoded.get());
            // the filter is this JVM's pid: its other threads' calls while the ring drains may land in the room
            // the drain makes, so the bound is the ring plus what was submitted since the loop ended
            long lateSubmits = after.submitted() - before.submitted();
            assertTrue(
                    after.received() <= capacity + lateSubmits,
                    "no more than the ring holds (" + capacity + ") plus " + lateSubmits + " late: " + after
                            + ", before " + before);
            assertTrue(
                    CollectCommandAccess.describe(after).contains(after.dropped() + " dropped"),
                    "the collector reports the drops");
        }
    }

    @Test
    void aMissingTracepointIsSkippedAndTheRestRuns() {
        TracepointCatalog real = TracepointCatalog.tracefs(CaptureOptions.DEFAULT_TRACEFS);
        // the kernel here has every tracepoint; this catalog hides one, as an older kernel would lack it
        TracepointCatalog withoutSethostname = (cat, name) -> !name.endsWith("_sethostname") && real.exists(cat, name);
        try (LiveCapture live = new LiveCapture(CaptureOptions.defaults().withCatalog(withoutSethostname)).start()) {
            assertEquals(List.of("sethostname"), live.capture.missingTracepoints());
            assertEquals(PROGRAMS - 2, live.capture.links().size());
            assertFalse(live.capture.programNames().contains("sys_enter_sethostname"));
            assertFalse(live.capture.programNames().contains("sys_exit_sethostname"));
            int tid = Sys.gettid();
            long fd = Sys.ok(Sys.SOCKET, Sys.AF_INET, Sys.SOCK_DGRAM, 0);
            Sys.ok(Sys.CLOSE, fd);
            live.await(
                    e -> e.getTid() == tid && e.getKind() == EventKind.SOCKET && e.getResultFd() == (int) fd,
                    Duration.ofSeconds(10));
        }
    }

    @Test
    void pidExcludeFiltersInTheKernel() {
        int self = (int) ProcessHandle.current().pid();
        try (Capture c = Capture.open(
                CaptureOptions.defaults().withExcludeSelf(true).withPidInclude(List.of(self)), rec -> {})) {
            for (int i = 0; i < 100; i++) {
                Sys.ok(Sys.CLOSE, Sys.ok(Sys.SOCKET, Sys.AF_INET, Sys.SOCK_DGRAM, 0));
            }
            assertEquals(0, c.stats().submitted(), "own process excluded: nothing even reaches the ring");
        }
    }

    @Test
    void withoutBtfTheCaptureSaysSoInOneLine() {
        BpfException e = assertThrows(
                BpfException.class,
                () -> Capture.open(CaptureOptions.defaults().withBtfPath(Path.of("/nonexistent/vmlinux")), rec -> {}));
        assertEquals(Preflight.EXIT_KERNEL, e.exitCode());
        assertTrue(e.getMessage().startsWith("no kernel BTF at /nonexistent/vmlinux"), e.getMessage());
        assertTrue(e.getMessage().contains("CONFIG_DEBUG_INFO_BTF"));
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void missingPrivilegesAreNamed() {
        BpfException e = assertThrows(BpfException.class, () -> Preflight.checkPrivileges(0L));
        assertEquals(Preflight.EXIT_PRIVILEGES, e.exitCode());
        assertTrue(e.getMessage().contains("CAP_BPF CAP_PERFMON"), e.getMessage());
        long bpfAndPerfmonOnly = (1L << Preflight.CAP_BPF) | (1L << Preflight.CAP_PERFMON);
        // tracefs readable as root here, so it is the two load capabilities that matter in this check
        assertDoesNotThrow(() -> Preflight.checkPrivileges(bpfAndPerfmonOnly | (1L << Preflight.CAP_DAC_READ_SEARCH)));
    }
}
