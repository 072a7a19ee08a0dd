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
    static final List<String> SECRET_NAMES = List.of(
            "password",
            "passwd",
            "pass",
            "pwd",
            "token",
            "secret",
            "api-key",
            "api_key",
            "apikey",
            "access-key",
            "access_key",
            "private-key",
            "credentials",
            "auth");

    private static final Pattern ASSIGNED =
            Pattern.compile("(?i)((?:^|[\\s,;&?])-{0,2}[\\w.-]*(?:" + alternatives() + ")[\\w.-]*=)([^\\s,;&]+)");
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
        e.setStdio(stdio(pid));
    }

    /**
     * The standard streams that are an established TCP connection (a shell's streams on a socket: a reverse shell),
     * or null. Reading another process's descriptors needs root or the same user.
     */
    String stdio(int pid) {
        Map<Long, List<Integer>> fdsByInode = new LinkedHashMap<>();
        for (int fd = 0; fd <= 2; fd++) {
            try {
                String link =
                        Files.readSymbolicLink(proc.resolve(pid + "/fd/" + fd)).toString();
                if (link.startsWith("socket:[") && link.endsWith("]")) {
                    long inode = Long.parseLong(link.substring(8, link.length() - 1));
                    fdsByInode.computeIfAbsent(inode, i -> new ArrayList<>()).add(fd);
                }
            } catch (IOException | RuntimeException e) {
                // closed, or not ours to read
            }
        }
        if (fdsByInode.isEmpty()) {
            return null;
        }
        List<String> found = new ArrayList<>();
        for (Map.Entry<Long, List<Integer>> s : fdsByInode.entrySet()) {
            String conn = tcpConnection(pid, s.getKey());
            if (conn != null) {
                found.add(String.join(
                                ",", s.getValue().stream().map(String::valueOf).toList()) + " " + conn + " socket:["
                        + s.getKey() + "]");
            }
        }
        return found.isEmpty() ? null : String.join("; ", found);
    }

    /** LOCAL->REMOTE of the established TCP socket with this inode, from the process's /proc/PID/net/tcp{,6}. */
    String tcpConnection(int pid, long inode) {
        for (String table : List.of("tcp", "tcp6")) {
            try {
                for (String line : Files.readAllLines(proc.resolve(pid + "/net/" + table))) {
                    String[] f = line.strip().split("\\s+");
                    if (f.length < 10 || !f[9].equals(Long.toString(inode))) {
                        continue;
                    }
                    return "01".equals(f[3]) ? endpoint(f[1]) + "->" + endpoint(f[2]) : null; // 01: ESTABLISHED
                }
            } catch (IOException | RuntimeException e) {
                // no such table
            }
        }
        return null;
    }

    /** /proc/net/tcp's "0100007F:1F90" (address in the kernel's byte order, port in hex) as text. */
    static String endpoint(String hex) {
        String[] p = hex.split(":");
        int port = Integer.parseInt(p[1], 16);
        byte[] b = new byte[p[0].length() / 2];
        for (int i = 0; i < b.length; i += 4) {
            int word = (int) Long.parseLong(p[0].substring(i * 2, i * 2 + 8), 16);
            int le = Integer.reverseBytes(word); // each 32-bit word is in host (little-endian) order
            b[i] = (byte) (le >>> 24);
            b[i + 1] = (byte) (le >>> 16);
            b[i + 2] = (byte) (le >>> 8);
            b[i + 3] = (byte) le;
        }
        try {
            String a = java.net.InetAddress.getByAddress(b).getHostAddress();
            return (b.length == 16 ? "[" + a + "]" : a) + ":" + port;
        } catch (java.net.UnknownHostException e) {
            return hex;
        }
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

    record Stat(String comm, int ppid) {}

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
