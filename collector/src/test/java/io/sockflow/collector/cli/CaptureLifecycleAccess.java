package io.sockflow.collector.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Counts sockflow's programs in the kernel, as bpftool lists them. */
final class CaptureLifecycleAccess {
    private CaptureLifecycleAccess() {
    }

    static long sockflowPrograms() throws Exception {
        Process p = new ProcessBuilder("bpftool", "prog", "show", "-j").start();
        JsonNode progs = new ObjectMapper().readTree(p.getInputStream());
        p.waitFor();
        long n = 0;
        for (JsonNode prog : progs) {
            String name = prog.path("name").asText();
            if (name.startsWith("sys_enter_") || name.startsWith("sys_exit_")) {
                n++;
            }
        }
        return n;
    }
}
