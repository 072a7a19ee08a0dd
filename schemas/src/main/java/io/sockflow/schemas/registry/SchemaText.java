package io.sockflow.schemas.registry;

import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;

/**
 * One text per schema: clients write the same schema as different JSON (key order, spacing), so schemas are
 * compared as Avro parses and prints them, never as the raw strings they arrived as.
 */
public final class SchemaText {
    private SchemaText() {}

    public static Schema parse(String text) {
        return new Schema.Parser().setValidateDefaults(true).parse(text);
    }

    /** The canonical text of a schema given as text; throws {@link SchemaParseException} for a bad one. */
    public static String canonical(String text) {
        return parse(text).toString();
    }
}
