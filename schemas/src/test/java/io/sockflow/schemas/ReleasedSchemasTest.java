package io.sockflow.schemas;

import io.sockflow.schemas.registry.Compatibility;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

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

    @Test
    void aBreakingChangeFailsTheCheck() throws IOException {
        Schema released = parse(RELEASED.resolve("SocketEvent.avsc"));
        // a new field without a default: old records cannot be read with the new schema
        String broken = Files.readString(CURRENT.resolve("SocketEvent.avsc")).replace(
                "{\"name\": \"host\", \"type\": \"string\"",
                "{\"name\": \"mandatoryNewField\", \"type\": \"string\", \"doc\": \"x\"},\n    {\"name\": \"host\", \"type\": \"string\"");
        List<String> problems = check(new Schema.Parser().parse(broken), released);
        assertFalse(problems.isEmpty());
        assertTrue(problems.toString().contains("mandatoryNewField"), problems.toString());
        // and a changed type
        String retyped = Files.readString(CURRENT.resolve("SocketEvent.avsc"))
                .replace("{\"name\": \"pid\", \"type\": \"int\"", "{\"name\": \"pid\", \"type\": \"string\"");
        assertFalse(check(new Schema.Parser().parse(retyped), released).isEmpty());
        // whereas an optional field with a default is fine
        String optional = Files.readString(CURRENT.resolve("SocketEvent.avsc")).replace(
                "{\"name\": \"host\", \"type\": \"string\"",
                "{\"name\": \"extra\", \"type\": [\"null\", \"string\"], \"default\": null, \"doc\": \"x\"},\n    {\"name\": \"host\", \"type\": \"string\"");
        assertEquals(List.of(), check(new Schema.Parser().parse(optional), released));
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
