package io.sockflow.schemas.avro;

import java.util.IdentityHashMap;
import java.util.Map;
import org.apache.avro.Schema;

/**
 * Walks one record's Avro binary along its writer's schema without building anything, so that Avro's own reader,
 * which allocates a string's, bytes' or array's length as soon as it reads it, only ever sees lengths that the
 * record's bytes can hold. Every string and bytes length must fit in the bytes left; every array and map block may
 * hold no more items than there are bytes left (items that take no bytes at all, such as nulls, share a fixed
 * budget), and a block that states its size in bytes must be exactly that long (a reader that skips it trusts the
 * size); union branches and enum symbols must exist; nesting is bounded; nothing may follow the record. The first
 * problem is an {@link IllegalArgumentException} naming it. Single-threaded (it reuses its input).
 */
public final class AvroBinaryCheck {
    /** Deeper than any schema of sockflow's: only a recursive schema gets there, and only with hostile data. */
    static final int MAX_DEPTH = 64;
    /** Items that take no bytes (null, an empty record) one record may hold: no reader needs more. */
    static final long MAX_EMPTY_ITEMS = 1 << 16;

    private final Schema schema;
    private final Map<Schema, Boolean> canBeEmpty = new IdentityHashMap<>();
    private final AvroBinaryInput in = new AvroBinaryInput();
    private long emptyBudget;
    /** The size in bytes the last block count came with, or -1. */
    private long blockSize;

    public AvroBinaryCheck(Schema writer) {
        this.schema = writer;
    }

    /** Checks the record in {@code b[off, off+len)}. */
    public void check(byte[] b, int off, int len) {
        in.reset(b, off, len);
        emptyBudget = MAX_EMPTY_ITEMS;
        value(schema, 0);
        if (!in.atEnd()) {
            throw new IllegalArgumentException(in.remaining() + " bytes after the end of the record");
        }
    }

    private void value(Schema s, int depth) {
        if (depth > MAX_DEPTH) {
            throw new IllegalArgumentException("values nested more than " + MAX_DEPTH + " deep");
        }
        switch (s.getType()) {
            case NULL -> {}
            case BOOLEAN -> in.readBoolean();
            case INT -> in.readInt();
            case LONG -> in.readLong();
            case FLOAT -> in.skip(4);
            case DOUBLE -> in.skip(8);
            case STRING, BYTES -> in.skipLengthPrefixed();
            case FIXED -> in.skip(s.getFixedSize());
            case ENUM -> {
                int i = in.readInt();
                if (i < 0 || i >= s.getEnumSymbols().size()) {
                    throw new IllegalArgumentException(
                            "enum index " + i + " of " + s.getEnumSymbols().size() + " symbols");
                }
            }
            case UNION -> {
                long i = in.readLong();
                if (i < 0 || i >= s.getTypes().size()) {
                    throw new IllegalArgumentException("a union branch " + i + " where there are "
                            + s.getTypes().size());
                }
                value(s.getTypes().get((int) i), depth + 1);
            }
            case RECORD -> {
                for (Schema.Field f : s.getFields()) {
                    value(f.schema(), depth + 1);
                }
            }
            case ARRAY -> items(s.getElementType(), false, depth);
            case MAP -> items(s.getValueType(), true, depth);
        }
    }

    private void items(Schema item, boolean map, int depth) {
        // a map entry has a key, at least one byte: only array items can take none
        boolean empty = !map && canBeEmpty(item);
        for (long n = blockCount(); n != 0; n = blockCount()) {
            // a block that gives its size is skipped by that size when the reader does not want it: its items must
            // fill it exactly, or what the reader reads next is not what was checked
            long size = blockSize;
            int start = in.remaining();
            if (empty) {
                emptyBudget -= n;
                if (emptyBudget < 0) {
                    throw new IllegalArgumentException(
                            "more than " + MAX_EMPTY_ITEMS + " array items that take no bytes");
                }
            } else if (n > in.remaining()) {
                throw new IllegalArgumentException("a block of " + n + " items with " + in.remaining() + " bytes left");
            }
            for (long k = 0; k < n; k++) {
                if (map) {
                    in.skipLengthPrefixed();
                }
                value(item, depth + 1);
            }
            if (size >= 0 && start - in.remaining() != size) {
                throw new IllegalArgumentException(
                        "a block said to be " + size + " bytes whose items take " + (start - in.remaining()));
            }
        }
    }

    /** An array's or map's next block count (a negative count is followed by the block's size in bytes). */
    private long blockCount() {
        blockSize = -1;
        long n = in.readLong();
        if (n < 0) {
            if (n == Long.MIN_VALUE) {
                throw new IllegalArgumentException("a block count of " + n);
            }
            n = -n;
            long size = in.readLong();
            if (size < 0 || size > in.remaining()) {
                throw new IllegalArgumentException(
                        "a block of " + size + " bytes with " + in.remaining() + " bytes left");
            }
            blockSize = size;
        }
        return n;
    }

    /** Whether a value of {@code s} can be encoded in zero bytes. */
    private boolean canBeEmpty(Schema s) {
        Boolean known = canBeEmpty.get(s);
        if (known != null) {
            return known;
        }
        canBeEmpty.put(s, false); // a record reached again through itself: decided by its other fields
        boolean empty = switch (s.getType()) {
            case NULL -> true;
            case FIXED -> s.getFixedSize() == 0;
            case RECORD -> s.getFields().stream().allMatch(f -> canBeEmpty(f.schema()));
            default -> false;
        };
        canBeEmpty.put(s, empty);
        return empty;
    }
}
