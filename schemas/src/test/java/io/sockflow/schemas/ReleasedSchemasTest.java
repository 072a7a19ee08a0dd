package io.sockflow.schemas;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.schemas.registry.Compatibility;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

/**
 * The build's schema check: every schema stays BACKWARD-compatible with its last released copy in
 * schemas/released (consumers on the new schema read what was written with the old), and every field has a doc.
 * Releasing a schema means copying it there.
 */
class ReleasedSchemasTest {
    static final Path CURRENT = Path.of("src/main/avro");
    static final Path RELEASED = Path.of("released");

    static Schema parse(Path p) throws IOException {
        return new Schema.Parser().parse(Files.readString(p));
    }

    static List<String> check(Schema candidate, Schema released) {
        return Compatibility.BACKWARD.problems(candidate, List.of(released));
    }

    @Test
    void everySchemaIsBackwardCompatibleWithItsReleasedCopy() throws IOException {
        try (Stream<Path> s = Files.list(RELEASED)) {
            for (Path released : s.filter(p -> p.toString().endsWith(".avsc")).toList()) {
                Path current = CURRENT.resolve(released.getFileName());
                assertTrue(Files.exists(current), "a released schema was removed: " + released.getFileName());
                List<String> problems = check(parse(current), parse(released));
                assertEquals(List.of(), problems, released.getFileName() + " breaks BACKWARD compatibility");
            }
        }
    }

    /** The current SocketEvent schema with one field added first, or with one field's type replaced. */
    static Schema edited(String addField, String retypeField, String newType) throws IOException {
        com.fasterxml.jackson.databind.ObjectMapper m = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.node.ObjectNode root = (com.fasterxml.jackson.databind.node.ObjectNode)
                m.readTree(Files.readString(CURRENT.resolve("SocketEvent.avsc")));
        com.fasterxml.jackson.databind.node.ArrayNode fields =
                (com.fasterxml.jackson.databind.node.ArrayNode) root.get("fields");
        if (addField != null) {
            fields.insert(0, m.readTree(addField));
        }
        if (retypeField != null) {
            for (com.fasterxml.jackson.databind.JsonNode f : fields) {
                if (f.get("name").asText().equals(retypeField)) {
                    ((com.fasterxml.jackson.databind.node.ObjectNode) f).put("type", newType);
                }
            }
        }
        return new Schema.Parser().parse(m.writeValueAsString(root));
    }

    /**
     * A reader that predates a kind (CLOCK, the newest) reads it as the enum's default, UNKNOWN, and the rest of the
     * record as written: a job or consumer not yet upgraded goes on.
     */
    @Test
    void aReaderOfTheReleasedSchemaReadsAClockRecordAsUnknown() throws IOException {
        Schema released = parse(RELEASED.resolve("SocketEvent.avsc"));
        assertFalse(
                released.getField("kind").schema().getEnumSymbols().contains("CLOCK"),
                "the released copy predates CLOCK");
        SocketEvent tick = new SocketEvent();
        tick.setHost("web-1");
        tick.setBootId("boot-a");
        tick.setTimestamp(java.time.Instant.parse("2026-12-03T12:00:00Z"));
        tick.setMonotonicNs(5_000_000_000L);
        tick.setDurationNs(0L);
        tick.setKind(EventKind.CLOCK);
        tick.setPid(0);
        tick.setTid(0);
        tick.setProcessStartNs(0L);
        tick.setComm("");
        tick.setUid(0);
        tick.setGid(0);
        tick.setCgroupId(0L);
        tick.setReturnValue(0L);
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        org.apache.avro.io.BinaryEncoder enc =
                org.apache.avro.io.EncoderFactory.get().binaryEncoder(bytes, null);
        new org.apache.avro.specific.SpecificDatumWriter<>(SocketEvent.class).write(tick, enc);
        enc.flush();
        org.apache.avro.generic.GenericRecord old = new org.apache.avro.generic.GenericDatumReader<
                        org.apache.avro.generic.GenericRecord>(SocketEvent.getClassSchema(), released)
                .read(null, org.apache.avro.io.DecoderFactory.get().binaryDecoder(bytes.toByteArray(), null));
        assertEquals("UNKNOWN", old.get("kind").toString());
        assertEquals("web-1", old.get("host").toString());
        assertEquals(5_000_000_000L, old.get("monotonicNs"));
    }

    @Test
    void aBreakingChangeFailsTheCheck() throws IOException {
        Schema released = parse(RELEASED.resolve("SocketEvent.avsc"));
        // a new field without a default: old records cannot be read with the new schema
        List<String> problems = check(
                edited("{\"name\": \"mandatoryNewField\", \"type\": \"string\", \"doc\": \"x\"}", null, null),
                released);
        assertFalse(problems.isEmpty());
        assertTrue(problems.toString().contains("mandatoryNewField"), problems.toString());
        // and a changed type
        assertFalse(check(edited(null, "pid", "string"), released).isEmpty());
        // whereas an optional field with a default is fine
        assertEquals(
                List.of(),
                check(
                        edited(
                                "{\"name\": \"extra\", \"type\": [\"null\", \"string\"], "
                                        + "\"default\": null, \"doc\": \"x\"}",
                                null,
                                null),
                        released));
    }

    @Test
    void everyFieldIsDocumented() throws IOException {
        try (Stream<Path> s = Files.list(CURRENT)) {
            for (Path p : s.filter(f -> f.toString().endsWith(".avsc")).toList()) {
                Schema schema = parse(p);
                assertNotNull(schema.getDoc(), p + " has no doc");
                for (Schema.Field f : schema.getFields()) {
                    assertNotNull(f.doc(), p.getFileName() + ": field " + f.name() + " has no doc");
                    assertFalse(f.doc().isBlank());
                }
            }
        }
    }
}
