package io.sockflow.jobs.lifecycle;

import java.util.Arrays;

/**
 * The last {@code capacity} ids seen, exactly: a ring in arrival order and an open-addressing hash set over it.
 * Adding an id that is still in the window returns false; once {@code capacity} newer ids have been added, the
 * oldest is forgotten. Ids are 64-bit hashes; 0 is taken for 1 (the table's empty mark).
 */
final class RecentIds {
    private final long[] ring;
    private final long[] table;
    private final int mask;
    private int next;
    private int size;

    RecentIds(int capacity) {
        if (capacity < 1 || capacity > 1 << 26) {
            throw new IllegalArgumentException("capacity " + capacity + " out of 1..2^26");
        }
        ring = new long[capacity];
        table = new long[Integer.highestOneBit(capacity) << 2]; // at most half full
        mask = table.length - 1;
    }

    int capacity() {
        return ring.length;
    }

    int size() {
        return size;
    }

    /** Adds the id; false when it is among the last {@code capacity} ids added. */
    boolean add(long id) {
        long h = id == 0 ? 1 : id;
        int i = slot(h);
        while (table[i] != 0) {
            if (table[i] == h) {
                return false;
            }
            i = i + 1 & mask;
        }
        if (size == ring.length) {
            remove(ring[next]);
            i = find(h); // the removal may have moved entries on h's probe path
        } else {
            size++;
        }
        table[i] = h;
        ring[next] = h;
        next = next + 1 == ring.length ? 0 : next + 1;
        return true;
    }

    boolean contains(long id) {
        long h = id == 0 ? 1 : id;
        for (int i = slot(h); table[i] != 0; i = i + 1 & mask) {
            if (table[i] == h) {
                return true;
            }
        }
        return false;
    }

    /** The ids in the window, oldest first. */
    long[] toArray() {
        long[] out = new long[size];
        int start = size == ring.length ? next : 0;
        for (int k = 0; k < size; k++) {
            int j = start + k;
            out[k] = ring[j >= ring.length ? j - ring.length : j];
        }
        return out;
    }

    void clear() {
        Arrays.fill(table, 0);
        next = 0;
        size = 0;
    }

    private int find(long h) {
        int i = slot(h);
        while (table[i] != 0) {
            i = i + 1 & mask;
        }
        return i;
    }

    /** Removes h and closes the gap by moving later entries of the probe run back (no tombstones). */
    private void remove(long h) {
        int i = slot(h);
        while (table[i] != h) {
            i = i + 1 & mask;
        }
        int gap = i;
        for (int j = gap + 1 & mask; table[j] != 0; j = j + 1 & mask) {
            int home = slot(table[j]);
            // the entry at j may move to the gap when its home is not in (gap, j] cyclically
            boolean between = gap <= j ? gap < home && home <= j : gap < home || home <= j;
            if (!between) {
                table[gap] = table[j];
                gap = j;
            }
        }
        table[gap] = 0;
    }

    private int slot(long h) {
        long x = h * 0x9E3779B97F4A7C15L;
        return (int) (x >>> 32) & mask;
    }
}
