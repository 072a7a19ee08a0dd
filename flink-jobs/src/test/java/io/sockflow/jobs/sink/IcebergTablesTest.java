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
}
