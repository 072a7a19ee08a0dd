package io.sockflow.collector.output;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.IndexedRecord;

/**
 * Writes Avro records as one plain JSON object per line, with the schema's field names: nulls as null, enums
 * by name, timestamps as ISO-8601 text, bytes in base64. (Avro's own JSON encoding wraps every union value in an
 * object, which nobody wants to read in a terminal or a jq filter.)
 */
public final class JsonEventWriter implements AutoCloseable {
    private final JsonGenerator gen;

    public JsonEventWriter(OutputStream out) {
        try {
            this.gen = new JsonFactory().createGenerator(out, JsonEncoding.UTF8);
            gen.setRootValueSeparator(null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void write(IndexedRecord r) {
        try {
            gen.writeStartObject();
            List<Schema.Field> fields = r.getSchema().getFields();
            for (int i = 0; i < fields.size(); i++) {
                gen.writeFieldName(fields.get(i).name());
                writeValue(r.get(i));
            }
            gen.writeEndObject();
            gen.writeRaw('\n');
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void writeValue(Object v) throws IOException {
        switch (v) {
            case null -> gen.writeNull();
            case Integer i -> gen.writeNumber(i);
            case Long l -> gen.writeNumber(l);
            case Boolean b -> gen.writeBoolean(b);
            case Double d -> gen.writeNumber(d);
            case Float f -> gen.writeNumber(f);
            case Instant t -> gen.writeString(t.toString());
            case ByteBuffer bb -> {
                ByteBuffer d = bb.duplicate();
                byte[] bytes = new byte[d.remaining()];
                d.get(bytes);
                gen.writeString(Base64.getEncoder().encodeToString(bytes));
            }
            case IndexedRecord rec -> write(rec);
            default -> gen.writeString(v.toString());
        }
    }

    public void flush() {
        try {
            gen.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        try {
            gen.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
