package io.sockflow.collector.sockets;

import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The sockets the collector knew alive, kept in its state folder (written whole, then renamed into place, at every
 * sweep and at a stop): the next start ends those that went while no collector ran, so a lifecycle never stays open for
 * a socket the kernel released meanwhile. One line per socket, tab-separated: host, boot id, family, cookie, inode,
 * type, protocol, local address, local port, owner pid, owner start, owner comm.
 */
final class LiveSocketsFile {
    private static final String HEADER = "# sockflow live sockets v1";

    private LiveSocketsFile() {}

    static void write(Path file, List<SocketEvent> live) throws IOException {
        StringBuilder b = new StringBuilder(HEADER).append('\n');
        for (SocketEvent e : live) {
            b.append(clean(e.getHost()))
                    .append('\t')
                    .append(clean(e.getBootId()))
                    .append('\t')
                    .append(clean(e.getFamily()))
                    .append('\t')
                    .append(n(e.getSocketCookie()))
                    .append('\t')
                    .append(n(e.getSocketInode()))
                    .append('\t')
                    .append(clean(e.getSocketType()))
                    .append('\t')
                    .append(clean(e.getProtocol()))
                    .append('\t')
                    .append(clean(e.getLocalAddress()))
                    .append('\t')
                    .append(n(e.getLocalPort()))
                    .append('\t')
                    .append(e.getPid())
                    .append('\t')
                    .append(e.getProcessStartNs())
                    .append('\t')
                    .append(clean(e.getComm()))
                    .append('\n');
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, b, StandardCharsets.UTF_8);
        try {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** What a previous run wrote; an unreadable line or file gives what could be read (nothing, at worst). */
    static List<SocketEvent> read(Path file) {
        List<SocketEvent> out = new ArrayList<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return out;
        }
        if (lines.isEmpty() || !lines.get(0).equals(HEADER)) {
            return out;
        }
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split("\t", -1);
            if (f.length != 12) {
                continue;
            }
            try {
                SocketEvent e = new SocketEvent();
                e.setHost(f[0]);
                e.setBootId(f[1]);
                e.setTimestamp(Instant.EPOCH);
                e.setMonotonicNs(0L);
                e.setDurationNs(0L);
                e.setKind(EventKind.SOCK_RELEASE);
                e.setFamily(s(f[2]));
                e.setSocketCookie(l(f[3]));
                e.setSocketInode(l(f[4]));
                e.setSocketType(s(f[5]));
                e.setProtocol(s(f[6]));
                e.setLocalAddress(s(f[7]));
                e.setLocalPort(f[8].isEmpty() ? null : Integer.parseInt(f[8]));
                e.setPid(Integer.parseInt(f[9]));
                e.setTid(0);
                e.setProcessStartNs(Long.parseLong(f[10]));
                e.setComm(f[11]);
                e.setUid(0);
                e.setGid(0);
                e.setCgroupId(0L);
                e.setReturnValue(0L);
                out.add(e);
            } catch (NumberFormatException bad) {
                // a damaged line: that socket is left to the jobs' own view
            }
        }
        return out;
    }

    private static String clean(String v) {
        return v == null ? "" : v.replace('\t', ' ').replace('\n', ' ');
    }

    private static String n(Object v) {
        return v == null ? "" : v.toString();
    }

    private static String s(String v) {
        return v.isEmpty() ? null : v;
    }

    private static Long l(String v) {
        return v.isEmpty() ? null : Long.parseLong(v);
    }
}
