package io.sockflow.collector.capture;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import io.sockflow.collector.bpf.EventLayout;
import io.sockflow.collector.bpf.KernelContract;
import io.sockflow.collector.bpf.Libbpf;
import io.sockflow.collector.decode.HostInfo;
import io.sockflow.collector.decode.InetText;
import io.sockflow.collector.decode.KernelSymbols;
import io.sockflow.collector.sys.Libc;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Reads (and resets) the counters the kernel aggregates per CPU: RTT and congestion window per TCP socket, packet
 * drops per reason, packets and bytes per interface, XDP errors, UDP receive-queue overflows. Each entry is taken
 * with lookup-and-delete, so an increment lands either in this interval or in the next, never in none.
 */
public final class KernelCounters {
    private final Capture capture;
    private final HostInfo host;
    private final int cpus;
    private long lastReadNs;

    public KernelCounters(Capture capture, HostInfo host) {
        this.capture = capture;
        this.host = host;
        this.cpus = capture.possibleCpus();
        this.lastReadNs = Libc.clockNanos(Libc.CLOCK_BOOTTIME);
    }

    /** Counter records for everything counted since the last read. */
    public List<SocketEvent> read() {
        long now = Libc.clockNanos(Libc.CLOCK_BOOTTIME);
        long intervalMs = (now - lastReadNs) / 1_000_000L;
        lastReadNs = now;
        List<SocketEvent> out = new ArrayList<>();
        Map<Integer, String> ifnames = interfaceNames();
        try (Arena a = Arena.ofConfined()) {
            KernelContract.Struct rtt = EventLayout.RTT;
            long oSamples = rtt.offset("samples"),
                    oLast = rtt.offset("srtt_us_last"),
                    oMin = rtt.offset("srtt_us_min"),
                    oMax = rtt.offset("srtt_us_max"),
                    oCwnd = rtt.offset("cwnd_last"),
                    oFamily = rtt.offset("family"),
                    oSport = rtt.offset("sport"),
                    oDport = rtt.offset("dport"),
                    oSaddr = rtt.offset("saddr"),
                    oDaddr = rtt.offset("daddr");
            drain(a, "rtt", EventLayout.RTT_KEY.size(), rtt.size(), (key, values) -> {
                long cookie = key.get(JAVA_LONG_UNALIGNED, EventLayout.RTT_KEY.offset("cookie"));
                long samples = 0;
                long last = 0, min = Long.MAX_VALUE, max = 0, cwnd = 0;
                MemorySegment first = null;
                for (MemorySegment v : values) {
                    long n = v.get(JAVA_LONG_UNALIGNED, oSamples);
                    if (n == 0) {
                        continue;
                    }
                    if (first == null
                            || v.get(JAVA_SHORT_UNALIGNED, oFamily) != 0
                                    && first.get(JAVA_SHORT_UNALIGNED, oFamily) == 0) {
                        first = v; // the CPU that created the entry holds the socket's addresses
                    }
                    samples += n;
                    last = Integer.toUnsignedLong(v.get(JAVA_INT_UNALIGNED, oLast));
                    min = Math.min(min, Integer.toUnsignedLong(v.get(JAVA_INT_UNALIGNED, oMin)));
                    max = Math.max(max, Integer.toUnsignedLong(v.get(JAVA_INT_UNALIGNED, oMax)));
                    cwnd = Integer.toUnsignedLong(v.get(JAVA_INT_UNALIGNED, oCwnd));
                }
                if (first == null) {
                    return;
                }
                SocketEvent e = base(EventKind.TCP_RTT, now, intervalMs);
                e.setSocketCookie(cookie);
                e.setCount(samples);
                e.setRttUs(last);
                e.setRttMinUs(min);
                e.setRttMaxUs(max);
                e.setCwnd(cwnd);
                int family = Short.toUnsignedInt(first.get(JAVA_SHORT_UNALIGNED, oFamily));
                byte[] s = first.asSlice(oSaddr, 16).toArray(JAVA_BYTE);
                byte[] d = first.asSlice(oDaddr, 16).toArray(JAVA_BYTE);
                e.setFamily(family == 10 ? "AF_INET6" : "AF_INET");
                e.setProtocol("TCP");
                e.setLocalAddress(family == 10 ? InetText.ipv6(s, 0) : InetText.ipv4(s, 0));
                e.setRemoteAddress(family == 10 ? InetText.ipv6(d, 0) : InetText.ipv4(d, 0));
                e.setLocalPort(Short.toUnsignedInt(first.get(JAVA_SHORT_UNALIGNED, oSport)));
                e.setRemotePort(Short.toUnsignedInt(first.get(JAVA_SHORT_UNALIGNED, oDport)));
                out.add(e);
            });
            drain(a, "drops", EventLayout.DROP_KEY.size(), 8, (key, values) -> {
                long n = sum(values, 0);
                if (n == 0) {
                    return;
                }
                SocketEvent e = base(EventKind.SKB_DROPS, now, intervalMs);
                e.setReason(KernelSymbols.local()
                        .dropReason(key.get(JAVA_INT_UNALIGNED, EventLayout.DROP_KEY.offset("reason"))));
                e.setEventProtocol(ethertype(
                        Short.toUnsignedInt(key.get(JAVA_SHORT_UNALIGNED, EventLayout.DROP_KEY.offset("protocol")))));
                e.setCount(n);
                out.add(e);
            });
            drain(a, "netdev", EventLayout.NETDEV_KEY.size(), EventLayout.NETDEV.size(), (key, values) -> {
                long packets = sum(values, EventLayout.NETDEV.offset("packets"));
                if (packets == 0) {
                    return;
                }
                int ifindex = key.get(JAVA_INT_UNALIGNED, EventLayout.NETDEV_KEY.offset("ifindex"));
                SocketEvent e = base(EventKind.NETDEV_TRAFFIC, now, intervalMs);
                e.setInterfaceName(ifnames.getOrDefault(ifindex, "ifindex-" + ifindex));
                e.setDirection(
                        key.get(JAVA_INT_UNALIGNED, EventLayout.NETDEV_KEY.offset("direction")) == 0
                                ? "TRANSMIT"
                                : "RECEIVE");
                e.setCount(packets);
                e.setBytes(sum(values, EventLayout.NETDEV.offset("bytes")));
                out.add(e);
            });
            drain(a, "xdp_errors", EventLayout.XDP_KEY.size(), 8, (key, values) -> {
                long n = sum(values, 0);
                if (n == 0) {
                    return;
                }
                KernelContract.Struct xk = EventLayout.XDP_KEY;
                int ifindex = key.get(JAVA_INT_UNALIGNED, xk.offset("ifindex"));
                SocketEvent e = base(EventKind.XDP_ERRORS, now, intervalMs);
                e.setInterfaceName(ifnames.getOrDefault(ifindex, "ifindex-" + ifindex));
                e.setReason((key.get(JAVA_INT_UNALIGNED, xk.offset("kind")) == 0 ? "EXCEPTION " : "REDIRECT_ERROR ")
                        + xdpAction(key.get(JAVA_INT_UNALIGNED, xk.offset("action"))));
                e.setCount(n);
                out.add(e);
            });
            drain(a, "udp_queue_full", 4, 8, (key, values) -> {
                long n = sum(values, 0);
                if (n == 0) {
                    return;
                }
                SocketEvent e = base(EventKind.UDP_QUEUE_OVERFLOWS, now, intervalMs);
                e.setProtocol("UDP");
                e.setCount(n);
                out.add(e);
            });
        }
        return out;
    }

    private interface Entry {
        void accept(MemorySegment key, List<MemorySegment> perCpuValues);
    }

    private void drain(Arena a, String map, long keySize, long valueSize, Entry entry) {
        int fd = capture.mapFd(map);
        long stride = (valueSize + 7) & ~7L;
        MemorySegment key = a.allocate(keySize, 8);
        MemorySegment next = a.allocate(keySize, 8);
        MemorySegment values = a.allocate(stride * cpus, 8);
        List<MemorySegment> keys = new ArrayList<>();
        // collect the keys first: deleting while walking would restart the walk
        int rc = Libbpf.mapGetNextKey(fd, MemorySegment.NULL, next);
        while (rc == 0 && keys.size() < 100_000) {
            MemorySegment k = a.allocate(keySize, 8);
            k.copyFrom(next);
            keys.add(k);
            key.copyFrom(next);
            rc = Libbpf.mapGetNextKey(fd, key, next);
        }
        for (MemorySegment k : keys) {
            if (Libbpf.mapLookupAndDelete(fd, k, values) != 0) {
                continue;
            }
            List<MemorySegment> perCpu = new ArrayList<>(cpus);
            for (int c = 0; c < cpus; c++) {
                perCpu.add(values.asSlice(c * stride, valueSize));
            }
            entry.accept(k, perCpu);
        }
    }

    private static long sum(List<MemorySegment> values, long offset) {
        long n = 0;
        for (MemorySegment v : values) {
            n += v.get(JAVA_LONG_UNALIGNED, offset);
        }
        return n;
    }

    private SocketEvent base(EventKind kind, long bootNs, long intervalMs) {
        SocketEvent e = host.ownRecord(kind, bootNs);
        e.setAttribution("UNKNOWN");
        e.setIntervalMs(intervalMs);
        return e;
    }

    /** skb->protocol as kfree_skb reports it (already in host order). */
    static String ethertype(int v) {
        return switch (v) {
            case 0x0800 -> "IPv4";
            case 0x86DD -> "IPv6";
            case 0x0806 -> "ARP";
            case 0 -> "NONE";
            default -> String.format("0x%04x", v);
        };
    }

    static String xdpAction(int a) {
        return switch (a) {
            case 0 -> "XDP_ABORTED";
            case 1 -> "XDP_DROP";
            case 2 -> "XDP_PASS";
            case 3 -> "XDP_TX";
            case 4 -> "XDP_REDIRECT";
            default -> "XDP_" + a;
        };
    }

    /** ifindex to name, from /sys/class/net. */
    static Map<Integer, String> interfaceNames() {
        Map<Integer, String> m = new HashMap<>();
        try (Stream<Path> s = Files.list(Path.of("/sys/class/net"))) {
            for (Path p : s.toList()) {
                try {
                    m.put(
                            Integer.parseInt(
                                    Files.readString(p.resolve("ifindex")).trim()),
                            p.getFileName().toString());
                } catch (IOException | NumberFormatException ignored) {
                    // an interface that went away
                }
            }
        } catch (IOException ignored) {
            // no sysfs: numbers stay numbers
        }
        return m;
    }
}
