package io.sockflow.collector.proc;

import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The context of a program that just started, for the records of its exec: its parent, its command line (bounded,
 * secrets redacted) and its parent chain with each ancestor's program. Read from /proc as the exec's record comes
 * by (stat and cmdline are readable by any user); an ancestor's program comes from the execs seen (kept for the
 * most recent processes), else /proc/PID/exe where readable. A process gone before its record is read gets none.
 */
public final class ProcessContext {
    static final int MAX_CMDLINE = 1024;
    static final int MAX_ANCESTORS = 8;
    private static final int MAX_KNOWN = 65_536;
    /** Names of arguments whose value is a secret: NAME=VALUE, --NAME VALUE and --NAME=VALUE are redacted. */
    static final List<String> SECRET_NAMES = List.of("password", "passwd", "pass", "pwd", "token", "secret", "api-key",
            "api_key", "apikey", "access-key", "access_key", "private-key", "credentials", "auth");
    private static final Pattern ASSIGNED = Pattern.compile(
            "(?i)((?:^|[\\s,;&?])-{0,2}[\\w.-]*(?:" + alternatives() + ")[\\w.-]*=)([^\\s,;&]+)");
    private static final Pattern FLAG = Pattern.compile("(?i)^-{1,2}[\\w.-]*(?:" + alternatives() + ")[\\w.-]*$");
    static final String REDACTED = "***";

    private final Path proc;
    /** pid → the program its last exec asked for, most recent first out. */
    private final Map<Integer, String> exeByPid = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Integer, String> eldest) {
            return size() > MAX_KNOWN;
        }
    };

    public ProcessContext() {
        this(Path.of("/proc"));
    }

    ProcessContext(Path proc) {
        this.proc = proc;
    }

    private static String alternatives() {
        return String.join("|", SECRET_NAMES.stream().map(Pattern::quote).toList());
    }

    /** Fills ppid, cmdline and ancestry of a successful exec's record; other records are left alone. */
    public void fill(SocketEvent e) {
        if (e.getKind() != EventKind.EXEC || e.getReturnValue() != 0) {
            return;
        }
        int pid = e.getPid();
        if (e.getPath() != null) {
            exeByPid.put(pid, e.getPath());
        }
        Stat self = stat(pid);
        if (self == null) {
            return; // gone already
        }
        e.setPpid(self.ppid);
        e.setCmdline(cmdline(pid));
        List<String> chain = new ArrayList<>();
        int p = self.ppid;
        while (p > 0 && chain.size() < MAX_ANCESTORS) {
            Stat s = stat(p);
            if (s == null) {
                break;
            }
            chain.add(p + " " + s.comm + " " + exe(p));
            if (p == 1) {
                break;
            }
            p = s.ppid;
        }
        e.setAncestry(chain.isEmpty() ? null : String.join("\n", chain));
    }

    private String exe(int pid) {
        String known = exeByPid.get(pid);
        if (known != null) {
            return known;
        }
        try {
            return Files.readSymbolicLink(proc.resolve(pid + "/exe")).toString();
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return ""; // another user's process once the collector has given up root, or a kernel thread
        }
    }

    record Stat(String comm, int ppid) {
    }

    /** /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses, so it ends at the last ')'. */
    Stat stat(int pid) {
        try {
            String s = Files.readString(proc.resolve(pid + "/stat"), StandardCharsets.UTF_8);
            int open = s.indexOf('(');
            int close = s.lastIndexOf(')');
            if (open < 0 || close < open) {
                return null;
            }
            String[] rest = s.substring(close + 2).split(" ");
            return new Stat(s.substring(open + 1, close), Integer.parseInt(rest[1]));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    String cmdline(int pid) {
        try {
            byte[] raw = Files.readAllBytes(proc.resolve(pid + "/cmdline"));
            List<String> args = new ArrayList<>();
            int start = 0;
            for (int i = 0; i <= raw.length; i++) {
                if (i == raw.length || raw[i] == 0) {
                    if (i > start) {
                        args.add(new String(raw, start, i - start, StandardCharsets.UTF_8));
                    }
                    start = i + 1;
                }
            }
            return args.isEmpty() ? null : redact(args);
        } catch (IOException e) {
            return null;
        }
    }

    /** The arguments joined by spaces, each secret replaced by ***, at most {@link #MAX_CMDLINE} characters. */
    static String redact(List<String> args) {
        StringBuilder b = new StringBuilder();
        boolean nextIsSecret = false;
        for (String a : args) {
            String shown;
            if (nextIsSecret) {
                shown = REDACTED;
                nextIsSecret = false;
            } else if (FLAG.matcher(a).matches()) {
                shown = a;
                nextIsSecret = true; // --password VALUE
            } else {
                Matcher m = ASSIGNED.matcher(a);
                shown = m.replaceAll(r -> Matcher.quoteReplacement(r.group(1) + REDACTED));
            }
            if (!b.isEmpty()) {
                b.append(' ');
            }
            b.append(shown.replace('\n', ' '));
            if (b.length() >= MAX_CMDLINE) {
                b.setLength(MAX_CMDLINE - 3);
                b.append("...");
                break;
            }
        }
        return b.toString();
    }
}
