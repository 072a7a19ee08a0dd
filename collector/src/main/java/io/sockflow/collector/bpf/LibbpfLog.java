package io.sockflow.collector.bpf;

import io.sockflow.collector.sys.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes libbpf's messages into the collector's log and keeps the last lines, so that a load failure can carry
 * the end of the verifier's log. Installed once per process; the upcall lives in the global arena because libbpf
 * keeps the pointer for ever.
 */
public final class LibbpfLog {
    private static final Logger LOG = LoggerFactory.getLogger("libbpf");
    private static final int KEEP = 64;
    private static final Deque<String> RECENT = new ArrayDeque<>();
    private static volatile boolean installed;

    private LibbpfLog() {}

    public static synchronized void install() {
        if (installed) {
            return;
        }
        MemorySegment fn;
        try {
            fn = Libbpf.upcall(
                    MethodHandles.lookup()
                            .findStatic(
                                    LibbpfLog.class,
                                    "print",
                                    MethodType.methodType(
                                            int.class, int.class, MemorySegment.class, MemorySegment.class)),
                    Libbpf.PRINT_FN,
                    Arena.global());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
        Libbpf.setPrint(fn);
        installed = true;
    }

    /** libbpf_print_fn_t: (enum libbpf_print_level level, const char *fmt, va_list args). */
    @SuppressWarnings("unused")
    private static int print(int level, MemorySegment fmt, MemorySegment args) {
        try {
            // a refusal's warning carries the whole verifier log, whose end says why: room for all of it
            String line = Libc.vformat(fmt.reinterpret(4096), args, level == 0 ? 1 << 20 : 2048)
                    .stripTrailing();
            synchronized (RECENT) {
                RECENT.addLast(line);
                if (RECENT.size() > KEEP) {
                    RECENT.removeFirst();
                }
            }
            // libbpf's levels: 0 warn, 1 info, 2 debug
            if (level == 0) {
                if (line.contains("memlock")) {
                    LOG.debug(line); // harmless where BPF memory is charged to the cgroup
                } else if (line.contains("prog '") || line.contains("failed to load object")) {
                    // a refused program: the loader switches it off and says why in one line (or fails with it)
                    LOG.debug(line);
                } else {
                    LOG.warn(line);
                }
            } else if (level == 1) {
                LOG.debug(line);
            } else {
                LOG.trace(line);
            }
        } catch (Throwable t) {
            // an exception escaping an upcall would kill the JVM
        }
        return 0;
    }

    /** Clears the kept lines; call before an operation whose failure should be explained. */
    public static void mark() {
        synchronized (RECENT) {
            RECENT.clear();
        }
    }

    public static List<String> recent() {
        synchronized (RECENT) {
            return new ArrayList<>(RECENT);
        }
    }

    /** The program libbpf last said it failed to load (its "prog 'NAME': failed to load" line), or null. */
    public static String failedProgram() {
        List<String> lines = recent();
        for (int i = lines.size() - 1; i >= 0; i--) {
            java.util.regex.Matcher m = FAILED.matcher(lines.get(i));
            if (m.find()) {
                return m.group(1);
            }
        }
        return null;
    }

    private static final java.util.regex.Pattern FAILED = java.util.regex.Pattern.compile(
            "prog '([^']+)': (?:failed to load|BPF program load failed|failed to resolve CO-RE relocation)");

    /**
     * The most telling line of the last refusal: the verifier's last word in its log (libbpf hands the whole log over
     * as one message), else libbpf's own complaint about the program; null when there is neither.
     */
    public static String verifierReason() {
        return reason(recent());
    }

    static String reason(List<String> messages) {
        for (int i = messages.size() - 1; i >= 0; i--) {
            String m = messages.get(i);
            int begin = m.indexOf("-- BEGIN PROG LOAD LOG --");
            if (begin < 0) {
                continue;
            }
            int end = m.indexOf("-- END PROG LOAD LOG --", begin);
            String[] lines = m.substring(begin + 25, end < 0 ? m.length() : end).split("\n");
            for (int j = lines.length - 1; j >= 0; j--) {
                String l = lines[j].trim();
                if (!l.isEmpty()
                        && !l.startsWith("processed ")
                        && !l.startsWith("verification time")
                        && !l.startsWith("stack depth")
                        && !l.startsWith("If it used")
                        && !l.startsWith("--")) {
                    return l;
                }
            }
        }
        for (int i = messages.size() - 1; i >= 0; i--) {
            String l = messages.get(i).trim();
            int prog = l.indexOf("prog '");
            if (prog < 0 || l.contains("BPF program load failed") || l.matches(".*failed to load: -?\\d+$")) {
                continue;
            }
            return l.substring(prog);
        }
        return null;
    }
}
