package io.sockflow.collector;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** What bpftool says is loaded in the kernel. */
public final class Bpftool {
    private Bpftool() {}

    static JsonNode show(String what) throws Exception {
        Process p = new ProcessBuilder("bpftool", what, "show", "-j").start();
        JsonNode n = new ObjectMapper().readTree(p.getInputStream());
        p.waitFor();
        return n;
    }

    /** Ids of the BPF programs one process holds, directly or through links (from /proc/PID/fdinfo). */
    public static java.util.Set<Long> heldProgramIds(long pid) {
        java.util.Set<Long> ids = new java.util.HashSet<>();
        java.nio.file.Path fdinfo = java.nio.file.Path.of("/proc", Long.toString(pid), "fdinfo");
        try (java.util.stream.Stream<java.nio.file.Path> s = java.nio.file.Files.list(fdinfo)) {
            for (java.nio.file.Path f : (Iterable<java.nio.file.Path>) s::iterator) {
                try {
                    for (String line : java.nio.file.Files.readAllLines(f)) {
                        if (line.startsWith("prog_id:")) {
                            ids.add(Long.parseLong(line.substring(8).trim()));
                        }
                    }
                } catch (java.io.IOException closedMeanwhile) {
                    // the descriptor went away while listing
                }
            }
        } catch (java.io.IOException gone) {
            // the process is gone
        }
        return ids;
    }

    /** BPF links one process holds, by type as the kernel names it in fdinfo (perf_event, raw_tracepoint, cgroup, iter). */
    public static java.util.Map<String, Long> heldLinksByType(long pid) {
        java.util.Map<String, Long> m = new java.util.TreeMap<>();
        java.nio.file.Path fdinfo = java.nio.file.Path.of("/proc", Long.toString(pid), "fdinfo");
        try (java.util.stream.Stream<java.nio.file.Path> s = java.nio.file.Files.list(fdinfo)) {
            for (java.nio.file.Path f : (Iterable<java.nio.file.Path>) s::iterator) {
                try {
                    for (String line : java.nio.file.Files.readAllLines(f)) {
                        if (line.startsWith("link_type:")) {
                            String type = line.substring(10).trim();
                            m.merge(type.equals("perf") ? "perf_event" : type, 1L, Long::sum);
                        }
                    }
                } catch (java.io.IOException closedMeanwhile) {
                    // the descriptor went away while listing
                }
            }
        } catch (java.io.IOException gone) {
            // the process is gone
        }
        return m;
    }

    /** Ids of every BPF program now in the kernel. */
    public static java.util.Set<Long> programIds() throws Exception {
        java.util.Set<Long> ids = new java.util.HashSet<>();
        for (JsonNode prog : show("prog")) {
            ids.add(prog.path("id").asLong());
        }
        return ids;
    }

    /** sockflow's system-call programs held by one process (others may be running their own collector). */
    public static long syscallPrograms(long pid) throws Exception {
        java.util.Set<Long> ids = heldProgramIds(pid);
        long n = 0;
        for (JsonNode prog : show("prog")) {
            String name = prog.path("name").asText();
            if ((name.startsWith("sys_enter_") || name.startsWith("sys_exit_"))
                    && ids.contains(prog.path("id").asLong())) {
                n++;
            }
        }
        return n;
    }
}
