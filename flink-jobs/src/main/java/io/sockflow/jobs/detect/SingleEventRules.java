package io.sockflow.jobs.detect;

import io.sockflow.schemas.Alert;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.Severity;
import io.sockflow.schemas.SocketEvent;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.util.Collector;

/**
 * Rules that one event is enough for:
 * <ul>
 * <li>{@code hostname-change}: sethostname or setdomainname changed the name (HIGH), or was refused by the kernel
 * (LOW: an attempt, with the errno in the summary);</li>
 * <li>{@code raw-socket}: a raw IP socket (AF_INET or AF_INET6, SOCK_RAW whatever its flags) or a packet socket
 * (AF_PACKET) opened: sniffing or crafting packets; raw netlink sockets (ip, ss, nft) are not;</li>
 * <li>{@code shell-connect}: a shell process connecting out (a reverse shell's first step);</li>
 * <li>{@code reverse-shell}: a shell or an interpreter started with its standard streams on an established TCP
 * connection (a socket dup2()'d onto 0-2 before the exec, bash's {@code >& /dev/tcp/...}).</li>
 * </ul>
 */
public final class SingleEventRules implements FlatMapFunction<SocketEvent, Alert> {
    private static final long serialVersionUID = 1L;

    private final Set<String> shells;
    private final Set<String> interpreters;

    public SingleEventRules(Set<String> shells) {
        this(shells, Set.of("python", "python2", "python3", "perl", "ruby", "php", "node", "lua", "tclsh", "irb"));
    }

    public SingleEventRules(Set<String> shells, Set<String> interpreters) {
        this.shells = Set.copyOf(shells);
        this.interpreters = Set.copyOf(interpreters);
    }

    /** The name, or the name with a version (python3.11, perl5.36). */
    static boolean named(String comm, Set<String> names) {
        if (comm == null) {
            return false;
        }
        if (names.contains(comm)) {
            return true;
        }
        String base = comm.replaceFirst("[0-9.]+$", "");
        return !base.equals(comm) && names.contains(base);
    }

    @Override
    public void flatMap(SocketEvent e, Collector<Alert> out) {
        EventKind k = e.getKind();
        switch (k) {
            case SETHOSTNAME, SETDOMAINNAME -> {
                // only a call the kernel carried out changed the name; a refused one is an attempt, worth a look
                boolean refused = e.getReturnValue() < 0;
                String errno = e.getErrno() != null ? e.getErrno().toString() : "error " + e.getReturnValue();
                String call = k.name().toLowerCase() + "('" + e.getName() + "')";
                out.collect(Alerts.of(
                        "hostname-change",
                        refused ? Severity.LOW : Severity.HIGH,
                        e.getTimestamp(),
                        e,
                        e.getComm() + " (pid " + e.getPid() + ") "
                                + (refused ? "tried " + call + ": attempt refused with " + errno : "called " + call),
                        List.of(Alerts.describe(e)),
                        Map.of("call", k.name(), "name", String.valueOf(e.getName()), "result", refused ? errno : "OK"),
                        Alerts.eventId(e)));
            }
            case SOCKET -> {
                if (e.getReturnValue() >= 0 && SocketKinds.packetLevel(e)) {
                    String family = SocketKinds.family(e);
                    String type = SocketKinds.baseType(e);
                    out.collect(Alerts.of(
                            "raw-socket",
                            Severity.MEDIUM,
                            e.getTimestamp(),
                            e,
                            e.getComm() + " (pid " + e.getPid() + ") opened a " + family + " " + type + " socket"
                                    + (e.getArgProtocol() != null ? " (protocol " + e.getArgProtocol() + ")" : ""),
                            List.of(Alerts.describe(e)),
                            Map.of(
                                    "family",
                                    String.valueOf(family),
                                    "type",
                                    String.valueOf(type),
                                    "requested",
                                    String.valueOf(e.getArgType())),
                            Alerts.eventId(e)));
                }
            }
            case EXEC -> {
                if (e.getReturnValue() == 0
                        && e.getStdio() != null
                        && (named(e.getComm(), shells) || named(e.getComm(), interpreters))) {
                    out.collect(Alerts.of(
                            "reverse-shell",
                            Severity.CRITICAL,
                            e.getTimestamp(),
                            e,
                            e.getComm() + " (pid " + e.getPid()
                                    + ") started with its standard streams on a TCP connection: " + e.getStdio(),
                            List.of(Alerts.describe(e) + " stdio " + e.getStdio()),
                            Map.of("program", String.valueOf(e.getPath()), "stdio", e.getStdio()),
                            Alerts.eventId(e)));
                }
            }
            case CONNECT -> {
                boolean tried = e.getReturnValue() >= 0 || "EINPROGRESS".equals(e.getErrno());
                boolean inet = "AF_INET".equals(e.getSockaddrFamily()) || "AF_INET6".equals(e.getSockaddrFamily());
                if (tried && inet && shells.contains(e.getComm())) {
                    out.collect(Alerts.of(
                            "shell-connect",
                            Severity.HIGH,
                            e.getTimestamp(),
                            e,
                            "shell " + e.getComm() + " (pid " + e.getPid() + ") connected to " + e.getSockaddrAddress()
                                    + ":" + e.getSockaddrPort(),
                            List.of(Alerts.describe(e)),
                            Map.of("destination", e.getSockaddrAddress() + ":" + e.getSockaddrPort()),
                            Alerts.eventId(e)));
                }
            }
            default -> {}
        }
    }
}
