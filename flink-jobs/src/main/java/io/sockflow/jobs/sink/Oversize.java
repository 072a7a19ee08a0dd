package io.sockflow.jobs.sink;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * What the Kafka sinks do with a record larger than a broker takes (which would fail the job, and again after every
 * restart): a result is written with its long strings, lists and maps cut, each cut saying how much it left out; a
 * dead letter's bytes are cut. Every cut is counted by the sink.
 */
final class Oversize {
    /** Room for what Kafka adds to a record's key, value and headers (batch header, lengths, attributes). */
    static final int KAFKA_OVERHEAD = 512;

    private Oversize() {}

    /**
     * A copy of {@code r} with strings longer than {@code maxChars} and lists and maps longer than {@code maxItems}
     * cut, each cut marked; the original is not changed (it may be on its way to another sink).
     */
    @SuppressWarnings("unchecked")
    static <T extends SpecificRecord> T cut(T r, int maxChars, int maxItems) {
        Schema schema = r.getSchema();
        T copy = (T) SpecificData.get().newRecord(null, schema);
        for (Schema.Field f : schema.getFields()) {
            copy.put(f.pos(), cutValue(r.get(f.pos()), maxChars, maxItems));
        }
        return copy;
    }

    private static Object cutValue(Object v, int maxChars, int maxItems) {
        if (v instanceof CharSequence s) {
            return cutString(s.toString(), maxChars);
        }
        if (v instanceof ByteBuffer b && b.remaining() > maxChars) {
            ByteBuffer d = b.duplicate();
            d.limit(d.position() + maxChars);
            return d.slice();
        }
        if (v instanceof List<?> l) {
            List<Object> out = new ArrayList<>(Math.min(l.size(), maxItems) + 1);
            for (int i = 0; i < l.size() && i < maxItems; i++) {
                out.add(cutValue(l.get(i), maxChars, maxItems));
            }
            if (l.size() > maxItems && !l.isEmpty() && l.get(0) instanceof CharSequence) {
                out.add("[" + (l.size() - maxItems) + " more items cut]");
            }
            return out;
        }
        if (v instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            Iterator<? extends Map.Entry<?, ?>> it = m.entrySet().iterator();
            for (int i = 0; i < maxItems && it.hasNext(); i++) {
                Map.Entry<?, ?> e = it.next();
                out.put(cutValue(e.getKey(), maxChars, maxItems), cutValue(e.getValue(), maxChars, maxItems));
            }
            if (m.size() > maxItems) {
                Object any = m.values().iterator().next();
                if (any instanceof CharSequence) {
                    out.put("sockflow.cut", (m.size() - maxItems) + " more entries cut");
                }
            }
            return out;
        }
        return v;
    }

    static String cutString(String s, int maxChars) {
        if (s.length() <= maxChars) {
            return s;
        }
        int end = maxChars;
        if (Character.isHighSurrogate(s.charAt(end - 1))) {
            end--; // never half a character
        }
        return s.substring(0, end) + "…[" + (s.length() - end) + " more characters cut]";
    }

    /** The first {@code n} bytes of {@code b} (all of it when shorter). */
    static byte[] head(byte[] b, int n) {
        return b == null || b.length <= n ? b : java.util.Arrays.copyOf(b, Math.max(0, n));
    }
}
