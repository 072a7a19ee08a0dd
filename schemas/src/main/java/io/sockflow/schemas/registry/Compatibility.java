package io.sockflow.schemas.registry;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;

/**
 * Avro schema compatibility as Confluent Schema Registry defines its levels: BACKWARD means consumers using the
 * new schema can read data written with the previous one, FORWARD the other way round, FULL both; the
 * _TRANSITIVE variants check against every earlier version rather than the latest only.
 */
public enum Compatibility {
    NONE,
    BACKWARD,
    BACKWARD_TRANSITIVE,
    FORWARD,
    FORWARD_TRANSITIVE,
    FULL,
    FULL_TRANSITIVE;

    public static Compatibility parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("unknown compatibility level '" + s + "': one of NONE, BACKWARD, "
                    + "BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE");
        }
    }

    /**
     * What makes {@code candidate} incompatible with the versions already registered (oldest first); empty when it
     * is compatible.
     */
    public List<String> problems(Schema candidate, List<Schema> existing) {
        List<String> out = new ArrayList<>();
        if (this == NONE || existing.isEmpty()) {
            return out;
        }
        boolean transitive = name().endsWith("_TRANSITIVE");
        List<Schema> against = transitive ? existing : List.of(existing.getLast());
        for (Schema old : against) {
            if (this == BACKWARD || this == BACKWARD_TRANSITIVE || this == FULL || this == FULL_TRANSITIVE) {
                out.addAll(describe(
                        "reading data written with an earlier version",
                        SchemaCompatibility.checkReaderWriterCompatibility(candidate, old)));
            }
            if (this == FORWARD || this == FORWARD_TRANSITIVE || this == FULL || this == FULL_TRANSITIVE) {
                out.addAll(describe(
                        "an earlier version reading data written with this one",
                        SchemaCompatibility.checkReaderWriterCompatibility(old, candidate)));
            }
        }
        return out;
    }

    private static List<String> describe(String direction, SchemaCompatibility.SchemaPairCompatibility r) {
        List<String> out = new ArrayList<>();
        if (r.getType() == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
            return out;
        }
        for (SchemaCompatibility.Incompatibility i : r.getResult().getIncompatibilities()) {
            out.add(direction + ": " + i.getType() + " at " + i.getLocation() + " (" + i.getMessage() + ")");
        }
        return out;
    }
}
