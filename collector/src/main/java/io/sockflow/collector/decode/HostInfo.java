package io.sockflow.collector.decode;

import io.sockflow.collector.sys.Libc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/**
 * What the decoder adds to every record of this host: its name, the kernel's boot id, and the offset that turns
 * the kernel's CLOCK_BOOTTIME into wall-clock time.
 */
public final class HostInfo {
    private final String host;
    private final String bootId;
    private volatile long bootToRealtimeNs;

    public HostInfo(String host, String bootId, long bootToRealtimeNs) {
        this.host = host;
        this.bootId = bootId;
        this.bootToRealtimeNs = bootToRealtimeNs;
    }

    /** This machine: hostname and boot id from /proc, the clock offset measured now. */
    public static HostInfo local(String hostOverride) {
        String host = hostOverride != null ? hostOverride : read("/proc/sys/kernel/hostname", "localhost");
        return new HostInfo(host, read("/proc/sys/kernel/random/boot_id", "unknown"), measureOffset());
    }

    /** realtime - boottime, sampled between two boot-clock reads to bound the error. */
    public static long measureOffset() {
        long best = Long.MAX_VALUE;
        long offset = 0;
        for (int i = 0; i < 5; i++) {
            long b0 = Libc.clockNanos(Libc.CLOCK_BOOTTIME);
            long r = Libc.clockNanos(Libc.CLOCK_REALTIME);
            long b1 = Libc.clockNanos(Libc.CLOCK_BOOTTIME);
            if (b1 - b0 < best) {
                best = b1 - b0;
                offset = r - (b0 + (b1 - b0) / 2);
            }
        }
        return offset;
    }

    /** Follows wall-clock adjustments (NTP); called now and then by the collector. */
    public void refreshClock() {
        bootToRealtimeNs = measureOffset();
    }

    private static String read(String path, String fallback) {
        try {
            return Files.readString(Path.of(path)).trim();
        } catch (IOException e) {
            return fallback;
        }
    }

    public String host() {
        return host;
    }

    public String bootId() {
        return bootId;
    }

    public long toEpochNanos(long bootNs) {
        return bootNs + bootToRealtimeNs;
    }

    public Instant toInstant(long bootNs) {
        long n = toEpochNanos(bootNs);
        return Instant.ofEpochSecond(Math.floorDiv(n, 1_000_000_000L), Math.floorMod(n, 1_000_000_000L));
    }

    /**
     * A record the collector makes itself rather than decodes (the capture's start, socket totals, kernel counters):
     * this host's header at {@code bootNs}, the kind, and no process (pid 0, no name); the caller fills the rest.
     */
    public io.sockflow.schemas.SocketEvent ownRecord(io.sockflow.schemas.EventKind kind, long bootNs) {
        io.sockflow.schemas.SocketEvent e = new io.sockflow.schemas.SocketEvent();
        e.setHost(host);
        e.setBootId(bootId);
        e.setTimestamp(toInstant(bootNs));
        e.setMonotonicNs(bootNs);
        e.setDurationNs(0L);
        e.setKind(kind);
        e.setPid(0);
        e.setTid(0);
        e.setProcessStartNs(0L);
        e.setComm("");
        e.setUid(0);
        e.setGid(0);
        e.setCgroupId(0L);
        e.setReturnValue(0L);
        return e;
    }
}
