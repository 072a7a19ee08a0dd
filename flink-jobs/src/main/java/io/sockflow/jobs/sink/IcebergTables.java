package io.sockflow.jobs.sink;

import java.io.Serializable;
import java.net.URI;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.IndexedRecord;
import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.GenericMapData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.AlreadyExistsException;
import org.apache.iceberg.flink.CatalogLoader;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * The lake side: Iceberg tables whose columns are the Avro schema's fields (one definition of every record), in
 * a Hadoop catalog under the warehouse path, partitioned by day and host, and the conversion of a record to the
 * Flink row the Iceberg sink writes. Avro to Iceberg: string and enum to string, int, long, boolean, double,
 * timestamp-micros/millis to timestamptz, arrays and maps of strings; unions with null are optional columns.
 */
public final class IcebergTables {
    private IcebergTables() {}

    /** A warehouse given as a folder or a URI, as the Hadoop catalog wants it. */
    public static String warehouseUri(String warehouse) {
        if (warehouse.contains("://") || warehouse.startsWith("file:")) {
            return warehouse;
        }
        return Path.of(warehouse).toAbsolutePath().normalize().toUri().toString();
    }

    public static CatalogLoader catalog(String warehouse) {
        return CatalogLoader.hadoop("sockflow", new Configuration(), Map.of("warehouse", warehouseUri(warehouse)));
    }

    /** Creates the table when missing (partitioned by day of {@code timeField} and by host); returns it. */
    public static Table ensure(CatalogLoader loader, String namespace, String name, Schema avro, String timeField) {
        Catalog catalog = loader.loadCatalog();
        TableIdentifier id = TableIdentifier.of(namespace, name);
        if (catalog instanceof SupportsNamespaces ns && !ns.namespaceExists(Namespace.of(namespace))) {
            try {
                ns.createNamespace(Namespace.of(namespace));
            } catch (AlreadyExistsException ignored) {
                // made by a concurrent start
            }
        }
        org.apache.iceberg.Schema schema = icebergSchema(avro);
        if (catalog.tableExists(id)) {
            return withWriteProperties(withColumns(catalog.loadTable(id), schema));
        }
        PartitionSpec spec =
                PartitionSpec.builderFor(schema).day(timeField).identity("host").build();
        Map<String, String> props = new java.util.HashMap<>(WRITE_PROPERTIES);
        props.put("format-version", "2");
        try {
            return catalog.createTable(id, schema, spec, props);
        } catch (AlreadyExistsException e) {
            return withWriteProperties(catalog.loadTable(id));
        }
    }

    /**
     * How the jobs' Parquet files are written. A column's dictionary is given up once it passes 16 KiB: host,
     * process, role and status names keep theirs, while ids, times and byte counts, which never repeat, go plain
     * after a few hundred values instead of filling a 2 MiB dictionary (Iceberg's default) that each row had to be
     * looked up in; that lookup was nearly a third of the Iceberg writers' time.
     */
    static final Map<String, String> WRITE_PROPERTIES = Map.of(
            "write.parquet.compression-codec", "zstd",
            "write.parquet.dict-size-bytes", "16384");

    /**
     * Gives a table made by an earlier version the columns its schema gained since (fields are only ever added, as
     * the schemas evolve BACKWARD-compatibly): old rows read them as null.
     */
    static Table withColumns(Table t, org.apache.iceberg.Schema current) {
        if (current.columns().stream().allMatch(c -> t.schema().findField(c.name()) != null)) {
            return t;
        }
        try {
            t.updateSchema().unionByNameWith(current).commit();
        } catch (org.apache.iceberg.exceptions.CommitFailedException e) {
            // a concurrent start added them
        }
        t.refresh();
        return t;
    }

    /** Gives a table made by an earlier version the write properties it lacks; values someone set are kept. */
    private static Table withWriteProperties(Table t) {
        var update = t.updateProperties();
        boolean changed = false;
        for (Map.Entry<String, String> p : WRITE_PROPERTIES.entrySet()) {
            if (!t.properties().containsKey(p.getKey())) {
                update.set(p.getKey(), p.getValue());
                changed = true;
            }
        }
        if (changed) {
            try {
                update.commit();
            } catch (org.apache.iceberg.exceptions.CommitFailedException e) {
                // a concurrent start set them
            }
            t.refresh();
        }
        return t;
    }

    public static org.apache.iceberg.Schema icebergSchema(Schema avro) {
        AtomicInteger ids = new AtomicInteger(0);
        List<Types.NestedField> fields = new ArrayList<>();
        for (Schema.Field f : avro.getFields()) {
            fields.add(field(f.name(), f.schema(), f.doc(), ids));
        }
        return new org.apache.iceberg.Schema(fields);
    }

    private static Types.NestedField field(String name, Schema s, String doc, AtomicInteger ids) {
        int id = ids.incrementAndGet();
        Schema t = nonNull(s);
        Type type = type(t, ids);
        return t != s
                ? Types.NestedField.optional(id, name, type, doc)
                : Types.NestedField.required(id, name, type, doc);
    }

    private static Schema nonNull(Schema s) {
        if (s.getType() == Schema.Type.UNION) {
            for (Schema b : s.getTypes()) {
                if (b.getType() != Schema.Type.NULL) {
                    return b;
                }
            }
        }
        return s;
    }

    private static Type type(Schema s, AtomicInteger ids) {
        LogicalType lt = s.getLogicalType();
        if (lt instanceof LogicalTypes.TimestampMicros || lt instanceof LogicalTypes.TimestampMillis) {
            return Types.TimestampType.withZone();
        }
        return switch (s.getType()) {
            case STRING, ENUM -> Types.StringType.get();
            case INT -> Types.IntegerType.get();
            case LONG -> Types.LongType.get();
            case BOOLEAN -> Types.BooleanType.get();
            case DOUBLE -> Types.DoubleType.get();
            case FLOAT -> Types.FloatType.get();
            case BYTES -> Types.BinaryType.get();
            case ARRAY -> Types.ListType.ofRequired(ids.incrementAndGet(), type(s.getElementType(), ids));
            case MAP -> {
                int k = ids.incrementAndGet();
                int v = ids.incrementAndGet();
                yield Types.MapType.ofRequired(k, v, Types.StringType.get(), type(s.getValueType(), ids));
            }
            case RECORD -> {
                List<Types.NestedField> nested = new ArrayList<>();
                for (Schema.Field f : s.getFields()) {
                    nested.add(field(f.name(), f.schema(), f.doc(), ids));
                }
                yield Types.StructType.of(nested);
            }
            default -> throw new IllegalArgumentException("no lake column type for Avro " + s);
        };
    }

    /** Record to row, field by field in schema order. */
    public static final class ToRow implements Serializable {
        private static final long serialVersionUID = 1L;
        /** How a top-level field converts, planned once from the schema: most rows are mostly nulls and strings. */
        private static final byte PLAIN = 0, STRING = 1, OTHER = 2;
        /** Strings remembered with their lake form (UTF-8 encoded once), by identity; a power of two. */
        private static final int STRINGS = 1024;

        private final String schemaJson;
        private transient Schema schema;
        private transient Schema[] types;
        private transient byte[] kinds;
        private transient String[] stringKeys;
        private transient StringData[] stringValues;

        public ToRow(Schema schema) {
            this.schemaJson = schema.toString();
        }

        public RowData apply(IndexedRecord r) {
            if (kinds == null) {
                plan();
            }
            int n = kinds.length;
            GenericRowData row = new GenericRowData(n);
            for (int i = 0; i < n; i++) {
                Object v = r.get(i);
                if (v != null) {
                    row.setField(
                            i,
                            switch (kinds[i]) {
                                case STRING ->
                                    v instanceof String str
                                            ? string(str)
                                            : v instanceof Enum<?> symbol
                                                    ? string(symbol.name())
                                                    : StringData.fromString(v.toString());
                                case PLAIN -> v instanceof Instant t ? TimestampData.fromInstant(t) : v;
                                default -> value(types[i], v);
                            });
                }
            }
            return row;
        }

        private void plan() {
            schema = new Schema.Parser().parse(schemaJson);
            List<Schema.Field> fields = schema.getFields();
            types = new Schema[fields.size()];
            byte[] k = new byte[fields.size()];
            for (int i = 0; i < k.length; i++) {
                types[i] = nonNull(fields.get(i).schema());
                k[i] = switch (types[i].getType()) {
                    case STRING, ENUM -> STRING;
                    case ARRAY, MAP, RECORD, BYTES -> OTHER;
                    default -> PLAIN;
                };
            }
            stringKeys = new String[STRINGS];
            stringValues = new StringData[STRINGS];
            kinds = k;
        }

        /**
         * The lake form of a string: a record's repeated values (host, process names, addresses, enum symbols) are
         * the same String objects from one record to the next, so their UTF-8 form is made once, not per row.
         */
        private StringData string(String s) {
            int i = System.identityHashCode(s) & (STRINGS - 1);
            if (stringKeys[i] == s) {
                return stringValues[i];
            }
            StringData d = StringData.fromBytes(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            stringKeys[i] = s;
            stringValues[i] = d;
            return d;
        }

        private static Object value(Schema s, Object v) {
            if (v == null) {
                return null;
            }
            if (v instanceof Instant t) {
                return TimestampData.fromInstant(t);
            }
            return switch (s.getType()) {
                case STRING, ENUM -> StringData.fromString(v.toString());
                case ARRAY -> {
                    List<?> l = (List<?>) v;
                    Object[] out = new Object[l.size()];
                    for (int i = 0; i < out.length; i++) {
                        out[i] = value(s.getElementType(), l.get(i));
                    }
                    yield new GenericArrayData(out);
                }
                case MAP -> {
                    Map<Object, Object> out = new HashMap<>();
                    ((Map<?, ?>) v)
                            .forEach(
                                    (k, x) -> out.put(StringData.fromString(k.toString()), value(s.getValueType(), x)));
                    yield new GenericMapData(out);
                }
                case RECORD -> {
                    IndexedRecord rec = (IndexedRecord) v;
                    List<Schema.Field> fs = s.getFields();
                    GenericRowData nested = new GenericRowData(fs.size());
                    for (int i = 0; i < fs.size(); i++) {
                        nested.setField(i, value(nonNull(fs.get(i).schema()), rec.get(i)));
                    }
                    yield nested;
                }
                case BYTES -> {
                    java.nio.ByteBuffer b = ((java.nio.ByteBuffer) v).duplicate();
                    byte[] a = new byte[b.remaining()];
                    b.get(a);
                    yield a;
                }
                default -> v;
            };
        }
    }

    /**
     * A lake row back to the record it was written from (the inverse of {@link ToRow}), field by field by name, so
     * that a row written by an earlier schema reads with the fields it lacks at their defaults. Timestamps come back
     * as instants, strings of enum fields as the enum's symbol.
     */
    public static final class FromRecord<T extends org.apache.avro.specific.SpecificRecord> {
        private final Schema schema;

        public FromRecord(Schema schema) {
            this.schema = schema;
        }

        @SuppressWarnings("unchecked")
        public T apply(org.apache.iceberg.data.Record row) {
            return (T) record(schema, row);
        }

        private static Object record(Schema s, org.apache.iceberg.StructLike row) {
            org.apache.avro.specific.SpecificData data = org.apache.avro.specific.SpecificData.get();
            IndexedRecord out = (IndexedRecord) data.newRecord(null, s);
            org.apache.iceberg.data.Record named = row instanceof org.apache.iceberg.data.Record r ? r : null;
            List<Schema.Field> fields = s.getFields();
            for (int i = 0; i < fields.size(); i++) {
                Schema.Field f = fields.get(i);
                Object v = named != null ? named.getField(f.name()) : row.get(i, Object.class);
                if (v == null) {
                    out.put(i, f.hasDefaultValue() ? data.getDefaultValue(f) : null);
                } else {
                    out.put(i, value(nonNull(f.schema()), v));
                }
            }
            return out;
        }

        private static Object value(Schema s, Object v) {
            if (v instanceof java.time.OffsetDateTime t) {
                return t.toInstant();
            }
            if (v instanceof java.time.LocalDateTime t) {
                return t.toInstant(java.time.ZoneOffset.UTC);
            }
            return switch (s.getType()) {
                case STRING -> v.toString();
                case ENUM -> org.apache.avro.specific.SpecificData.get().createEnum(v.toString(), s);
                case ARRAY -> {
                    List<Object> out = new ArrayList<>();
                    for (Object x : (List<?>) v) {
                        out.add(x == null ? null : value(nonNull(s.getElementType()), x));
                    }
                    yield out;
                }
                case MAP -> {
                    Map<String, Object> out = new HashMap<>();
                    ((Map<?, ?>) v)
                            .forEach((k, x) ->
                                    out.put(k.toString(), x == null ? null : value(nonNull(s.getValueType()), x)));
                    yield out;
                }
                case RECORD -> record(s, (org.apache.iceberg.StructLike) v);
                case BYTES -> v instanceof byte[] a ? java.nio.ByteBuffer.wrap(a) : v;
                default -> v;
            };
        }
    }

    /**
     * Deletes the table's rows of every day before the one that holds {@code cutoff} (the tables are partitioned by
     * day, so whole files go and no file is rewritten; a null cutoff deletes nothing), then lets go of snapshots
     * older than a day, keeping the last 100 (where the Flink sink finds what it committed last), so that deleted
     * files and old metadata leave the disk. Returns the number of data files deleted.
     */
    public static long dropDaysBefore(Table t, String timeField, Instant cutoff) {
        t.refresh();
        if (t.currentSnapshot() == null) {
            return 0;
        }
        long files = 0;
        if (cutoff != null) {
            Instant day = cutoff.truncatedTo(java.time.temporal.ChronoUnit.DAYS);
            org.apache.iceberg.expressions.Expression older =
                    org.apache.iceberg.expressions.Expressions.lessThan(timeField, day.getEpochSecond() * 1_000_000L);
            try (var tasks = t.newScan().filter(older).planFiles()) {
                for (var task : tasks) {
                    files++;
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            if (files > 0) {
                t.newDelete().deleteFromRowFilter(older).commit();
            }
        }
        t.expireSnapshots()
                .expireOlderThan(System.currentTimeMillis()
                        - java.time.Duration.ofDays(1).toMillis())
                .retainLast(100)
                .commit();
        return files;
    }

    /**
     * Compacts the lake: every partition (a day and a host) of a day before {@code before} that holds {@code minFiles}
     * data files or more (the writers add one per checkpoint) is rewritten into one file, in one commit per partition
     * that replaces exactly the files it read; rows written meanwhile (late ones, to an old day) are in new files that
     * it does not touch. The replaced files leave the disk when their snapshots expire. Returns the files replaced.
     */
    public static long compactDaysBefore(Table t, Instant before, int minFiles) {
        t.refresh();
        org.apache.iceberg.Snapshot snapshot = t.currentSnapshot();
        if (snapshot == null || t.spec().fields().isEmpty()) {
            return 0;
        }
        int beforeDay =
                (int) before.truncatedTo(java.time.temporal.ChronoUnit.DAYS).getEpochSecond() / 86_400;
        Map<String, List<org.apache.iceberg.DataFile>> parts = new java.util.LinkedHashMap<>();
        java.util.Set<String> withDeletes = new java.util.HashSet<>();
        try (var tasks = t.newScan().useSnapshot(snapshot.snapshotId()).planFiles()) {
            for (org.apache.iceberg.FileScanTask task : tasks) {
                org.apache.iceberg.DataFile f = task.file();
                Integer day = f.partition().get(0, Integer.class);
                if (f.specId() != t.spec().specId() || day == null || day >= beforeDay) {
                    continue;
                }
                String key = t.spec().partitionToPath(f.partition());
                parts.computeIfAbsent(key, k -> new ArrayList<>()).add(f);
                if (!task.deletes().isEmpty()) {
                    withDeletes.add(key);
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        long replaced = 0;
        for (Map.Entry<String, List<org.apache.iceberg.DataFile>> part : parts.entrySet()) {
            List<org.apache.iceberg.DataFile> files = part.getValue();
            if (files.size() < minFiles || withDeletes.contains(part.getKey())) {
                continue;
            }
            org.apache.iceberg.DataFile merged = rewrite(t, files);
            org.apache.iceberg.RewriteFiles rewrite = t.newRewrite().validateFromSnapshot(snapshot.snapshotId());
            files.forEach(rewrite::deleteFile);
            rewrite.addFile(merged).commit();
            replaced += files.size();
        }
        return replaced;
    }

    /** The rows of {@code files} (one partition's) written into one new Parquet file of the same partition. */
    private static org.apache.iceberg.DataFile rewrite(Table t, List<org.apache.iceberg.DataFile> files) {
        org.apache.iceberg.DataFile first = files.get(0);
        String name = "compacted-" + java.util.UUID.randomUUID() + ".parquet";
        org.apache.iceberg.io.OutputFile out =
                t.io().newOutputFile(t.locationProvider().newDataLocation(t.spec(), first.partition(), name));
        org.apache.iceberg.io.DataWriter<org.apache.iceberg.data.Record> writer;
        try {
            writer = org.apache.iceberg.parquet.Parquet.writeData(out)
                    .schema(t.schema())
                    .withSpec(t.spec())
                    .withPartition(first.partition())
                    .setAll(t.properties())
                    .createWriterFunc(org.apache.iceberg.data.parquet.GenericParquetWriter::create)
                    .overwrite()
                    .build();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        try (writer) {
            for (org.apache.iceberg.DataFile f : files) {
                try (org.apache.iceberg.io.CloseableIterable<org.apache.iceberg.data.Record> rows =
                        org.apache.iceberg.parquet.Parquet.read(t.io().newInputFile(f.location()))
                                .project(t.schema())
                                .createReaderFunc(
                                        type -> org.apache.iceberg.data.parquet.GenericParquetReaders.buildReader(
                                                t.schema(), type))
                                .build()) {
                    for (org.apache.iceberg.data.Record r : rows) {
                        writer.write(r);
                    }
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return writer.toDataFile();
    }

    /** For logs: where a table lives. */
    public static URI location(Table t) {
        return URI.create(t.location());
    }
}
