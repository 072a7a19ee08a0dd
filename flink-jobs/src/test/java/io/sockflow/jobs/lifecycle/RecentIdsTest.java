package io.sockflow.jobs.lifecycle;

import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** The duplicate window: exactly the last {@code capacity} ids, however they collide in the table. */
class RecentIdsTest {

    @Test
    void remembersExactlyTheLastCapacityIds() {
        RecentIds r = new RecentIds(3);
        assertTrue(r.add(10));
        assertTrue(r.add(20));
        assertTrue(r.add(30));
        assertFalse(r.add(10), "still in the window");
        assertEquals(3, r.size());
        assertTrue(r.add(40), "a new id pushes the oldest (10) out");
        assertFalse(r.contains(10));
        assertTrue(r.add(10), "forgotten, so taken as new");
        assertFalse(r.contains(20), "and 20 went out for it");
        assertArrayEquals(new long[] {30, 40, 10}, r.toArray(), "oldest first");
    }

    @Test
    void agreesWithASimpleWindowOnManyCollidingIds() {
        // ids drawn from a small range repeat often, and a table of 2^k slots sees long probe runs and removals
        // from their middle
        for (int capacity : new int[] {1, 2, 7, 64, 1000}) {
            RecentIds r = new RecentIds(capacity);
            ArrayDeque<Long> order = new ArrayDeque<>();
            Set<Long> in = new HashSet<>();
            Random rnd = new Random(capacity);
            for (int i = 0; i < 200_000; i++) {
                long id = 1 + rnd.nextInt(3 * capacity);
                boolean fresh = !in.contains(id);
                assertEquals(fresh, r.add(id), "capacity " + capacity + ", step " + i + ", id " + id);
                if (fresh) {
                    order.addLast(id);
                    in.add(id);
                    if (order.size() > capacity) {
                        in.remove(order.removeFirst());
                    }
                }
                assertEquals(order.size(), r.size());
            }
            for (long id = 1; id <= 3L * capacity; id++) {
                assertEquals(in.contains(id), r.contains(id), "capacity " + capacity + ", id " + id);
            }
        }
    }

    @Test
    void zeroIsTakenForOneAndBadCapacitiesAreRefused() {
        RecentIds r = new RecentIds(4);
        assertTrue(r.add(0));
        assertFalse(r.add(1), "0 and 1 share the mark");
        assertThrows(IllegalArgumentException.class, () -> new RecentIds(0));
        assertThrows(IllegalArgumentException.class, () -> new RecentIds((1 << 26) + 1));
    }

    @Test
    void theWindowRebuiltFromItsArrayBehavesTheSame() {
        RecentIds a = new RecentIds(50);
        Random rnd = new Random(3);
        for (int i = 0; i < 500; i++) {
            a.add(rnd.nextLong());
        }
        RecentIds b = new RecentIds(50);
        for (long id : a.toArray()) {
            assertTrue(b.add(id));
        }
        assertArrayEquals(a.toArray(), b.toArray());
        long[] ids = a.toArray();
        assertFalse(b.add(ids[0]), "the oldest is still there");
        assertTrue(b.add(42), "a new id");
        assertFalse(b.contains(ids[0]), "pushes the oldest out");
        assertTrue(a.add(42));
        assertArrayEquals(a.toArray(), b.toArray(), "the original does the same");
    }
}
