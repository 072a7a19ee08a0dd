package io.sockflow.collector;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** What bpftool says is loaded in the kernel. */
public final class Bpftool {
    private Bpftool() {
    }

    static JsonNode show(String what) throws Exception {
        Process p = new ProcessBuilder("bpftool", what, "show", "-j").start();
        JsonNode n = new ObjectMapper().readTree(p.getInputStream());
        p.waitFor();
        return n;
    }

    /** sockflow's system-call programs now in the kernel (names are cut to 15 characters there). */
    public static long syscallPrograms() throws Exception {
        long n = 0;
        for (JsonNode prog : show("prog")) {
            String name = prog.path("name").asText();
            if (name.startsWith("sys_enter_") || name.startsWith("sys_exit_")) {
                n++;
            }
        }
        return n;
    }

    /** Links now in the kernel, by type (perf_event for tracepoints, tracing for tp_btf, cgroup, iter). */
    public static java.util.Map<String, Long> linksByType() throws Exception {
        java.util.Map<String, Long> m = new java.util.TreeMap<>();
        for (JsonNode l : show("link")) {
            m.merge(l.path("type").asText(), 1L, Long::sum);
        }
        return m;
    }

    /** perf-event links now in the kernel (how tracepoint programs are attached). */
    public static long perfEventLinks() throws Exception {
        long n = 0;
        for (JsonNode l : show("link")) {
            if (l.path("type").asText().equals("perf_event")) {
                n++;
            }
        }
        return n;
    }
}
