package io.sockflow.schemas.registry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/**
 * Avro in the Confluent wire format: a zero magic byte, the writer schema's registry id as a 4-byte big-endian int,
 * then the Avro binary encoding of the record. What Kafka Connect, ksqlDB, Flink's avro-confluent format and
 * Confluent's clients read and write.
 */
public final class ConfluentAvro {
    public static final byte MAGIC = 0;
    public static final int HEADER = 5;

    private ConfluentAvro() {}

    /** The subject of a topic's values under the default TopicNameStrategy. */
    public static String valueSubject(String topic) {
        return topic + "-value";
    }

    /** The schema id of a framed record; throws {@link IllegalArgumentException} when it is not one. */
    public static int schemaId(byte[] framed) {
        if (framed == null || framed.length < HEADER) {
            throw new IllegalArgumentException(
                    "not a Confluent-framed Avro record: " + (framed == null ? "null" : framed.length + " bytes"));
        }
        if (framed[0] != MAGIC) {
            throw new IllegalArgumentException("not a Confluent-framed Avro record: magic byte " + framed[0]);
        }
        return ByteBuffer.wrap(framed, 1, 4).getInt();
    }

    /** Writes one record type to one topic; single-threaded (it reuses its buffers). */
    public static final class Serializer<T extends SpecificRecord> {
        private final RegistryClient registry;
        private final String subject;
        private final Schema schema;
        private final SpecificDatumWriter<T> writer;
        private final ByteArrayOutputStream out = new ByteArrayOutputStream(512);
        private final java.util.function.BiConsumer<T, io.sockflow.schemas.avro.AvroBinaryBuffer> fastWriter;
        private final io.sockflow.schemas.avro.AvroBinaryBuffer fastOut =
                new io.sockflow.schemas.avro.AvroBinaryBuffer(512);
        private BinaryEncoder encoder;
        private int id = -1;

        public Serializer(RegistryClient registry, String topic, Schema schema) {
            this(registry, topic, schema, null);
        }

        /**
         * @param fastWriter a hand-written encoder of the record's Avro binary (byte for byte Avro's), or null for
         *                   Avro's generic writer
         */
        public Serializer(
                RegistryClient registry,
                String topic,
                Schema schema,
                java.util.function.BiConsumer<T, io.sockflow.schemas.avro.AvroBinaryBuffer> fastWriter) {
            this.registry = registry;
            this.subject = valueSubject(topic);
            this.schema = schema;
            this.writer = new SpecificDatumWriter<>(schema);
            this.fastWriter = fastWriter;
        }

        /** Registers the schema now (it is done on first use otherwise); returns its id. */
        public int register() {
            if (id < 0) {
                id = registry.register(subject, schema);
            }
            return id;
        }

        public byte[] serialize(T record) {
            int schemaId = register();
            if (fastWriter != null) {
                fastOut.reset();
                fastOut.writeRawByte(MAGIC);
                fastOut.writeRawByte(schemaId >>> 24);
                fastOut.writeRawByte(schemaId >>> 16);
                fastOut.writeRawByte(schemaId >>> 8);
                fastOut.writeRawByte(schemaId);
                fastWriter.accept(record, fastOut);
                return fastOut.toByteArray();
            }
            out.reset();
            out.write(MAGIC);
            out.write(schemaId >>> 24);
            out.write(schemaId >>> 16);
            out.write(schemaId >>> 8);
            out.write(schemaId);
            encoder = EncoderFactory.get().directBinaryEncoder(out, encoder);
            try {
                writer.write(record, encoder);
                encoder.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return out.toByteArray();
        }
    }

    /**
     * Reads framed records written with any registered version into the reader's schema. What it throws says whose
     * fault a failure is: an {@link IllegalArgumentException} for a record that cannot be read (bad framing, an id
     * that names no usable schema, corrupt or hostile Avro), a {@link RegistryException} with status 404 for an id
     * the registry does not know, and any other {@link RegistryException} for a registry that cannot answer now.
     * Every length in the record is bounded by the record's own size before anything is allocated, on both the
     * fast and the resolving path.
     */
    public static final class Deserializer<T extends SpecificRecord> {
        private final RegistryClient registry;
        private final Schema readerSchema;
        private final Map<Integer, Resolving<T>> readers = new HashMap<>();
        /** Schema ids whose schema is the reader's own: the fast reader reads those. */
        private final Map<Integer, Boolean> current = new HashMap<>();

        private final java.util.function.Function<io.sockflow.schemas.avro.AvroBinaryInput, T> fastReader;
        private final io.sockflow.schemas.avro.AvroBinaryInput fastIn = new io.sockflow.schemas.avro.AvroBinaryInput();
        private BinaryDecoder decoder;
        private int lastId = -1;
        private boolean lastIdCurrent;
        private boolean lastFast;

        /** Avro's resolving reader of one writer schema, and the check that runs before it. */
        private record Resolving<T>(DatumReader<T> reader, io.sockflow.schemas.avro.AvroBinaryCheck check) {}

        public Deserializer(RegistryClient registry, Schema readerSchema) {
            this(registry, readerSchema, null);
        }

        /**
         * With a hand-written reader for records written with {@code readerSchema} itself (the common case); records
         * of other schema versions go through Avro's resolving reader. Single-threaded (it reuses its buffers).
         */
        public Deserializer(
                RegistryClient registry,
                Schema readerSchema,
                java.util.function.Function<io.sockflow.schemas.avro.AvroBinaryInput, T> fastReader) {
            this.registry = registry;
            this.readerSchema = readerSchema;
            this.fastReader = fastReader;
        }

        public T deserialize(byte[] framed) {
            int id = schemaId(framed);
            if (id < 0) {
                // no registry hands out negative ids: do not ask one
                throw new IllegalArgumentException("schema id " + id + " is not a registry id (they are not negative)");
            }
            lastFast = false;
            if (fastReader != null && isCurrent(id)) {
                try {
                    T record = fastReader.apply(fastIn.reset(framed, HEADER, framed.length - HEADER));
                    lastFast = true;
                    return record;
                } catch (RuntimeException e) {
                    throw new IllegalArgumentException("corrupt Avro record (schema id " + id + "): " + why(e), e);
                }
            }
            Resolving<T> r = readers.get(id);
            if (r == null) {
                Schema writer = writerSchema(id);
                r = new Resolving<>(
                        new SpecificDatumReader<>(writer, readerSchema, SpecificData.getForSchema(readerSchema)),
                        new io.sockflow.schemas.avro.AvroBinaryCheck(writer));
                readers.put(id, r);
            }
            try {
                // Avro's reader allocates each length it reads before it reads the bytes: check them all first
                r.check().check(framed, HEADER, framed.length - HEADER);
                decoder = DecoderFactory.get().binaryDecoder(framed, HEADER, framed.length - HEADER, decoder);
                return r.reader().read(null, decoder);
            } catch (IOException | RuntimeException e) {
                throw new IllegalArgumentException("corrupt Avro record (schema id " + id + "): " + why(e), e);
            }
        }

        /**
         * The writer's schema: a registry that cannot answer throws its {@link RegistryException}; an answer that is
         * not a usable Avro schema is the id's fault, and stays so (ids never change meaning); any other failure of
         * the client (a bad URL, say) is not the record's, and is a {@link RegistryException} too.
         */
        private Schema writerSchema(int id) {
            try {
                return registry.byId(id);
            } catch (RegistryException e) {
                throw e;
            } catch (org.apache.avro.AvroRuntimeException e) {
                throw new IllegalArgumentException(
                        "schema id " + id + " is not a usable Avro schema: " + e.getMessage(), e);
            } catch (RuntimeException e) {
                throw new RegistryException(0, 0, "cannot ask the schema registry for schema id " + id + ": " + e);
            }
        }

        /** Whether schema {@code id} is the reader's own (the answer for the last id asked is kept: ids repeat). */
        private boolean isCurrent(int id) {
            if (id != lastId) {
                Boolean known = current.get(id);
                if (known == null) {
                    known = writerSchema(id).equals(readerSchema);
                    current.put(id, known);
                }
                lastIdCurrent = known;
                lastId = id;
            }
            return lastIdCurrent;
        }

        private static String why(Exception e) {
            return e instanceof IllegalArgumentException && e.getMessage() != null ? e.getMessage() : e.toString();
        }

        /**
         * Whether the record the last {@link #deserialize} returned was written with the reader's own schema (and
         * read by the fast reader): its bytes after the header are then that record in the current schema.
         */
        public boolean lastWasCurrentSchema() {
            return lastFast;
        }
    }
}
