package io.sockflow.collector.transport;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.utils.Utils;

/**
 * Which partitions of the events topic got nothing from this collector since the last tick, and a key that the
 * producer's default partitioner sends to each of them (murmur2 of the key, modulo the partitions, as for every
 * record). The jobs keep event time per partition and move it only on records: a partition that hears nothing from a
 * host would hold that host's time back, so each tick it gets one clock record instead. One thread writes
 * ({@link #wrote}, {@link #quiet}): the capturing one.
 */
public final class PartitionClock {
    private final String host;
    private int partitions;
    private boolean[] written;
    private byte[][] keys;

    public PartitionClock(String host, int partitions) {
        this.host = host;
        resize(partitions);
    }

    /** The partition a keyed record goes to, from its key's murmur2 hash (the default partitioner's rule). */
    public static int partition(int murmur2, int partitions) {
        return Utils.toPositive(murmur2) % partitions;
    }

    /** A record with a key of this murmur2 hash was written. */
    public void wrote(int murmur2) {
        written[partition(murmur2, partitions)] = true;
    }

    /** The topic has this many partitions now (it can grow); the partitions' record of this tick starts over. */
    public void resize(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("a topic has at least one partition, got " + n);
        }
        if (n == partitions) {
            return;
        }
        partitions = n;
        written = new boolean[n];
        keys = new byte[n][];
    }

    public int partitions() {
        return partitions;
    }

    /**
     * The keys of the partitions that got nothing since the last call, one each, in partition order; the next tick
     * starts with none written.
     */
    public List<byte[]> quiet() {
        List<byte[]> out = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            if (!written[p]) {
                out.add(key(p));
            }
            written[p] = false;
        }
        return out;
    }

    /** "host/clock/N" for the first N whose key the default partitioner sends to partition p. */
    byte[] key(int p) {
        byte[] k = keys[p];
        if (k == null) {
            for (long n = p; ; n++) {
                byte[] candidate = (host + "/clock/" + n).getBytes(StandardCharsets.UTF_8);
                if (partition(Utils.murmur2(candidate), partitions) == p) {
                    k = candidate;
                    break;
                }
            }
            keys[p] = k;
        }
        return k;
    }
}
