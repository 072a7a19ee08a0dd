package io.sockflow.schemas;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.avro.LogicalType;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

/**
 * docs/data-model.md against the Avro schemas, which are the one definition of every record: each field table there
 * is generated from the schema's docs, and every field has its row and every row names a field. After a schema
 * changes, regenerate the tables with
 * {@code mvn -o -q -pl schemas test -Dtest=DataModelDocsTest -Dsockflow.docs.write=true}.
 */
class DataModelDocsTest {
    static final Path PAGE = Path.of("../docs/data-model.md");
    static final Path SCHEMAS = Path.of("src/main/avro");
    static final List<String> RECORDS = List.of("SocketEvent", "SocketLifecycle", "Flow", "Alert");
    static final String END = "<!-- end of generated fields -->";

    static Schema schema(String name) throws IOException {
        return new Schema.Parser().parse(Files.readString(SCHEMAS.resolve(name + ".avsc")));
    }

    static String begin(String name) {
        return "<!-- fields of " + name + ": generated from schemas/src/main/avro/" + name
                + ".avsc by DataModelDocsTest -->";
    }

    /** The schema's type as a reader of the table wants it: nullable unions end in '?'. */
    static String type(Schema s) {
        if (s.getType() == Schema.Type.UNION) {
            List<Schema> other = s.getTypes().stream()
                    .filter(t -> t.getType() != Schema.Type.NULL)
                    .toList();
            String t = other.size() == 1
                    ? type(other.get(0))
                    : other.stream().map(DataModelDocsTest::type).toList().toString();
            return other.size() < s.getTypes().size() ? t + "?" : t;
        }
        LogicalType logical = s.getLogicalType();
        if (logical != null) {
            return logical.getName();
        }
        return switch (s.getType()) {
            case ENUM -> "enum " + s.getName();
            case RECORD -> s.getName();
            case ARRAY -> "array<" + type(s.getElementType()) + ">";
            case MAP -> "map<" + type(s.getValueType()) + ">";
            default -> s.getType().getName();
        };
    }

    /** The record a field holds, if any: itself, in a nullable union, or as the items of an array or map. */
    static Schema nested(Schema s, StringBuilder suffix) {
        return switch (s.getType()) {
            case RECORD -> s;
            case UNION ->
                s.getTypes().stream()
                        .filter(t -> t.getType() != Schema.Type.NULL)
                        .findFirst()
                        .map(t -> nested(t, suffix))
                        .orElse(null);
            case ARRAY -> {
                suffix.append("[]");
                yield nested(s.getElementType(), suffix);
            }
            case MAP -> {
                suffix.append("{}");
                yield nested(s.getValueType(), suffix);
            }
            default -> null;
        };
    }

    /** Every field of a record as a row (name, type, doc); a nested record's fields as {@code parent[].child}. */
    static Map<String, String[]> rows(Schema record, String prefix) {
        Map<String, String[]> rows = new LinkedHashMap<>();
        for (Schema.Field f : record.getFields()) {
            String name = prefix + f.name();
            rows.put(name, new String[] {type(f.schema()), f.doc()});
            StringBuilder suffix = new StringBuilder();
            Schema inner = nested(f.schema(), suffix);
            if (inner != null) {
                rows.putAll(rows(inner, name + suffix + "."));
            }
        }
        return rows;
    }

    /** The enums a record uses, each once, in the order their fields come. */
    static Map<String, Schema> enums(Schema s, Map<String, Schema> out) {
        switch (s.getType()) {
            case ENUM -> out.putIfAbsent(s.getName(), s);
            case RECORD -> s.getFields().forEach(f -> enums(f.schema(), out));
            case UNION -> s.getTypes().forEach(t -> enums(t, out));
            case ARRAY -> enums(s.getElementType(), out);
            case MAP -> enums(s.getValueType(), out);
            default -> {}
        }
        return out;
    }

    /** Text of a table cell: a '|' would end the cell, a '<' open an HTML tag, two '*' make emphasis. */
    static String cell(String text) {
        return text.replace("|", "\\|").replace("<", "&lt;").replace("*", "\\*");
    }

    /** The generated block of one record, markers included. */
    static String block(String name) throws IOException {
        Schema s = schema(name);
        StringBuilder b = new StringBuilder(begin(name)).append("\n\n");
        b.append(cell(s.getDoc())).append("\n\n");
        b.append("| field | type | meaning |\n|---|---|---|\n");
        rows(s, "")
                .forEach((field, r) -> b.append("| `")
                        .append(field)
                        .append("` | `")
                        .append(r[0])
                        .append("` | ")
                        .append(cell(r[1]))
                        .append(" |\n"));
        Map<String, Schema> enums = enums(s, new LinkedHashMap<>());
        if (!enums.isEmpty()) {
            b.append('\n');
            for (Schema e : enums.values()) {
                b.append("- `")
                        .append(e.getName())
                        .append("`: ")
                        .append(e.getDoc() == null ? "" : cell(e.getDoc()) + " ")
                        .append("Values: ")
                        .append(String.join(
                                ", ",
                                e.getEnumSymbols().stream()
                                        .map(x -> "`" + x + "`")
                                        .toList()))
                        .append('\n');
            }
        }
        return b.append(END).toString();
    }

    static final boolean WRITE = Boolean.getBoolean("sockflow.docs.write");

    /** The page; in write mode, with its tables regenerated first. */
    static synchronized String page() throws IOException {
        assertTrue(Files.exists(PAGE), PAGE.toAbsolutePath() + " exists");
        String page = Files.readString(PAGE);
        if (WRITE) {
            String generated = generated(page);
            if (!generated.equals(page)) {
                Files.writeString(PAGE, generated);
            }
            return generated;
        }
        return page;
    }

    /** The page with every record's block replaced by the one its schema gives. */
    static String generated(String page) throws IOException {
        String updated = page;
        for (String name : RECORDS) {
            int at = updated.indexOf(begin(name));
            assertTrue(at >= 0, "docs/data-model.md has the marker " + begin(name));
            int end = updated.indexOf(END, at);
            assertTrue(end > at, "the generated fields of " + name + " end with " + END);
            updated = updated.substring(0, at) + block(name) + updated.substring(end + END.length());
        }
        return updated;
    }

    /** The part of the page under {@code ### name}, up to the next heading of level 2 or 3. */
    static String section(String page, String name) {
        Matcher m =
                Pattern.compile("(?m)^### " + Pattern.quote(name) + "\\b.*$").matcher(page);
        assertTrue(m.find(), "docs/data-model.md has a section '### " + name + "'");
        Matcher next = Pattern.compile("(?m)^#{2,3} ").matcher(page);
        int end = next.find(m.end()) ? next.start() : page.length();
        return page.substring(m.end(), end);
    }

    /** The field names of the table rows in a section: the first cell of every row that starts with a code span. */
    static List<String> rowNames(String section) {
        List<String> names = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^\\| `([^`]+)` \\|").matcher(section);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    @Test
    void everyFieldHasARowAndEveryRowNamesAField() throws Exception {
        String page = page();
        List<String> problems = new ArrayList<>();
        for (String name : RECORDS) {
            Set<String> fields = rows(schema(name), "").keySet();
            List<String> rows = rowNames(section(page, name));
            for (String f : fields) {
                if (!rows.contains(f)) {
                    problems.add(name + "." + f + " has no row in docs/data-model.md");
                }
            }
            for (String r : rows) {
                if (!fields.contains(r)) {
                    problems.add("docs/data-model.md has a row " + name + "." + r + ", a field " + name
                            + ".avsc does not have");
                }
            }
            if (new LinkedHashSet<>(rows).size() != rows.size()) {
                problems.add("docs/data-model.md lists a field of " + name + " twice");
            }
        }
        assertEquals(
                List.of(),
                problems,
                "regenerate the tables: mvn -o -q -pl schemas test -Dtest=DataModelDocsTest "
                        + "-Dsockflow.docs.write=true");
    }

    @Test
    void theFieldTablesAreGeneratedFromTheSchemasDocs() throws Exception {
        String page = page();
        assertEquals(
                generated(page),
                page,
                "docs/data-model.md's field tables differ from the schemas' docs: edit the "
                        + "docs in schemas/src/main/avro, then regenerate the tables with mvn -o -q -pl schemas test "
                        + "-Dtest=DataModelDocsTest -Dsockflow.docs.write=true");
    }

    @Test
    void aRecordsRowsFollowItsFieldsAndNestedRecords() throws Exception {
        Map<String, String[]> rows = rows(schema("SocketLifecycle"), "");
        assertEquals("array<ProcessRef>", rows.get("holders")[0]);
        assertEquals("int", rows.get("holders[].pid")[0]);
        assertEquals("timestamp-micros?", rows.get("createdAt")[0]);
        assertEquals("enum LifecycleStatus", rows.get("status")[0]);
        assertEquals("map<string>", rows(schema("Alert"), "").get("attributes")[0]);
        assertEquals("a \\| b &lt;hex> MSG_\\*", cell("a | b <hex> MSG_*"));
    }
}
