package io.sockflow.jobs.sink;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.schemas.Flow;
import java.nio.file.Path;
import java.util.Map;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.flink.CatalogLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The lake tables: made with the write properties; a table made by an earlier version gets those it lacks. */
class IcebergTablesTest {

    @Test
    void newTablesGetTheWritePropertiesAndOlderTablesThoseTheyLack(@TempDir Path warehouse) {
        CatalogLoader loader = IcebergTables.catalog(warehouse.toString());
        Table fresh = IcebergTables.ensure(loader, "ns", "flows", Flow.getClassSchema(), "start");
        assertEquals("16384", fresh.properties().get("write.parquet.dict-size-bytes"));
        assertEquals("zstd", fresh.properties().get("write.parquet.compression-codec"));
        assertEquals(2, fresh.spec().fields().size(), "day and host");

        Catalog catalog = loader.loadCatalog();
        ((SupportsNamespaces) catalog).createNamespace(Namespace.of("old"));
        org.apache.iceberg.Schema schema = IcebergTables.icebergSchema(Flow.getClassSchema());
        catalog.createTable(
                TableIdentifier.of("old", "flows"),
                schema,
                PartitionSpec.unpartitioned(),
                Map.of("format-version", "2", "write.parquet.compression-codec", "snappy"));
        Table old = IcebergTables.ensure(loader, "old", "flows", Flow.getClassSchema(), "start");
        assertEquals("16384", old.properties().get("write.parquet.dict-size-bytes"));
        assertEquals("snappy", old.properties().get("write.parquet.compression-codec"), "a value someone set is kept");
        assertEquals(
                "16384",
                loader.loadCatalog()
                        .loadTable(TableIdentifier.of("old", "flows"))
                        .properties()
                        .get("write.parquet.dict-size-bytes"),
                "committed, not only on the object returned");
        String metadata = metadataFile(old);
        IcebergTables.ensure(loader, "old", "flows", Flow.getClassSchema(), "start");
        assertEquals(
                metadata,
                metadataFile(loader.loadCatalog().loadTable(TableIdentifier.of("old", "flows"))),
                "a table already up to date is not committed to again");
    }

    private static String metadataFile(Table t) {
        return ((org.apache.iceberg.HasTableOperations) t)
                .operations()
                .current()
                .metadataFileLocation();
    }

    static final org.apache.iceberg.Schema SMALL = new org.apache.iceberg.Schema(
            org.apache.iceberg.types.Types.NestedField.required(
                    1, "ts", org.apache.iceberg.types.Types.TimestampType.withZone()),
            org.apache.iceberg.types.Types.NestedField.required(
                    2, "host", org.apache.iceberg.types.Types.StringType.get()),
            org.apache.iceberg.types.Types.NestedField.required(3, "n", org.apache.iceberg.types.Types.LongType.get()));

    /** One data file of {@code count} rows at {@code at} on {@code host}, numbered from {@code from}, as a checkpoint adds. */
    static void append(Table t, java.time.Instant at, String host, long from, int count) throws Exception {
        org.apache.iceberg.PartitionKey key = new org.apache.iceberg.PartitionKey(t.spec(), t.schema());
        org.apache.iceberg.data.GenericRecord r = org.apache.iceberg.data.GenericRecord.create(t.schema());
        r.setField("ts", at.atOffset(java.time.ZoneOffset.UTC));
        r.setField("host", host);
        r.setField("n", from);
        key.partition(
                new org.apache.iceberg.data.InternalRecordWrapper(t.schema().asStruct()).wrap(r));
        var out = t.io().newOutputFile(
                        t.locationProvider().newDataLocation(t.spec(), key, java.util.UUID.randomUUID() + ".parquet"));
        org.apache.iceberg.io.DataWriter<org.apache.iceberg.data.Record> w =
                org.apache.iceberg.parquet.Parquet.writeData(out)
                        .schema(t.schema())
                        .withSpec(t.spec())
                        .withPartition(key)
                        .createWriterFunc(org.apache.iceberg.data.parquet.GenericParquetWriter::create)
                        .build();
        try (w) {
            for (long i = from; i < from + count; i++) {
                org.apache.iceberg.data.GenericRecord row = r.copy();
                row.setField("n", i);
                w.write(row);
            }
        }
        t.newAppend().appendFile(w.toDataFile()).commit();
    }

    static java.util.Map<String, Integer> filesByPartition(Table t) throws Exception {
        t.refresh();
        java.util.Map<String, Integer> m = new java.util.TreeMap<>();
        try (var tasks = t.newScan().planFiles()) {
            for (var task : tasks) {
                m.merge(t.spec().partitionToPath(task.file().partition()), 1, Integer::sum);
            }
        }
        return m;
    }

    static java.util.List<Long> rows(Table t) throws Exception {
        java.util.List<Long> n = new java.util.ArrayList<>();
        try (var it = org.apache.iceberg.data.IcebergGenerics.read(t).build()) {
            it.forEach(r -> n.add((Long) r.getField("n")));
        }
        n.sort(null);
        return n;
    }

    @Test
    void pastDaysWithManySmallFilesAreCompactedIntoOneEachAndNoRowIsLostOrDoubled(@TempDir Path warehouse)
            throws Exception {
        Catalog catalog = IcebergTables.catalog(warehouse.toString()).loadCatalog();
        ((SupportsNamespaces) catalog).createNamespace(Namespace.of("c"));
        Table t = catalog.createTable(
                TableIdentifier.of("c", "small"),
                SMALL,
                PartitionSpec.builderFor(SMALL).day("ts").identity("host").build(),
                Map.of("format-version", "2"));
        java.time.Instant today = java.time.Instant.parse("2026-12-03T10:00:00Z");
        java.time.Instant yesterday = today.minus(java.time.Duration.ofDays(1));
        long n = 0;
        for (int i = 0; i < 12; i++) { // a day of checkpoints on host a
            append(t, yesterday, "a", n, 5);
            n += 5;
        }
        for (int i = 0; i < 3; i++) { // few files on host b: left as they are
            append(t, yesterday, "b", n, 5);
            n += 5;
        }
        for (int i = 0; i < 12; i++) { // today's, still being written: not touched
            append(t, today, "a", n, 5);
            n += 5;
        }
        java.util.List<Long> before = rows(t);
        assertEquals(n, before.size());

        assertEquals(12, IcebergTables.compactDaysBefore(t, today, 8), "host a's twelve files of yesterday");
        java.util.Map<String, Integer> files = filesByPartition(t);
        assertEquals(1, files.get("ts_day=2026-12-02/host=a"), files.toString());
        assertEquals(3, files.get("ts_day=2026-12-02/host=b"), files.toString());
        assertEquals(12, files.get("ts_day=2026-12-03/host=a"), files.toString());
        assertEquals(before, rows(t), "every row once");

        // a late row for yesterday arrives after the compaction; the next pass leaves the two files (below the bar)
        append(t, yesterday, "a", n, 1);
        assertEquals(0, IcebergTables.compactDaysBefore(t, today, 8));
        assertEquals(2, filesByPartition(t).get("ts_day=2026-12-02/host=a"));
        assertEquals(n + 1, rows(t).size());
    }

    @Test
    void aRowHasEveryFieldOfItsRecordWhateverStringsItSharesWithTheRowsBefore() {
        IcebergTables.ToRow toRow = new IcebergTables.ToRow(io.sockflow.schemas.SocketEvent.getClassSchema());
        io.sockflow.schemas.SocketEvent a = io.sockflow.jobs.Ev.of(
                        io.sockflow.schemas.EventKind.CONNECT, 300, "curl", 5)
                .socket(100)
                .tcp()
                .local("127.0.0.1", 40000)
                .remote("127.0.0.1", 8080)
                .sockaddr("127.0.0.1", 8080)
                .ret(-115, "EINPROGRESS")
                .get();
        a.setFlagNames("SOCK_NONBLOCK|SOCK_CLOEXEC");
        org.apache.flink.table.data.RowData first = toRow.apply(a);
        var fields = io.sockflow.schemas.SocketEvent.getClassSchema().getFields();
        assertEquals(fields.size(), first.getArity());
        int host = pos("host");
        int kind = pos("kind");
        int ts = pos("timestamp");
        int port = pos("remotePort");
        int errno = pos("errno");
        int bytes = pos("sockaddrBytes");
        int flags = pos("flagNames");
        int name = pos("name");
        assertEquals("web-1", first.getString(host).toString());
        assertEquals("CONNECT", first.getString(kind).toString());
        assertEquals(a.getTimestamp(), first.getTimestamp(ts, 6).toInstant());
        assertEquals(8080, first.getInt(port));
        assertEquals(-115L, first.getLong(pos("returnValue")));
        assertEquals("EINPROGRESS", first.getString(errno).toString());
        assertEquals(16, first.getBinary(bytes).length);
        assertEquals("SOCK_NONBLOCK|SOCK_CLOEXEC", first.getString(flags).toString());
        assertTrue(first.isNullAt(name));
        // the next record: the same String objects for some fields, new ones of other content for others, a string
        // of the same content in a new object, and a field that was set now null
        io.sockflow.schemas.SocketEvent b =
                io.sockflow.schemas.SocketEvent.newBuilder(a).build();
        b.setHost(a.getHost());
        b.setErrno(new String("ECONNREFUSED".toCharArray()));
        b.setComm(new String(a.getComm().toCharArray()));
        b.setKind(io.sockflow.schemas.EventKind.CLOSE);
        b.setRemotePort(null);
        org.apache.flink.table.data.RowData second = toRow.apply(b);
        assertEquals("web-1", second.getString(host).toString());
        assertEquals("ECONNREFUSED", second.getString(errno).toString());
        assertEquals("curl", second.getString(pos("comm")).toString());
        assertEquals("CLOSE", second.getString(kind).toString());
        assertTrue(second.isNullAt(port));
        assertEquals("EINPROGRESS", first.getString(errno).toString(), "the first row is left as it was");
        for (int i = 0; i < 3_000; i++) { // more distinct strings than the conversion remembers
            b.setComm("p" + i);
            assertEquals("p" + i, toRow.apply(b).getString(pos("comm")).toString());
        }
    }

    /** The position of a SocketEvent field in the record and in its lake row. */
    private static int pos(String field) {
        return io.sockflow.schemas.SocketEvent.getClassSchema().getField(field).pos();
    }
}
