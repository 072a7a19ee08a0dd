package io.sockflow.runner;

import io.sockflow.jobs.sink.IcebergTables;
import io.sockflow.jobs.sink.LakeRetention;
import io.sockflow.schemas.SocketEvent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;

/** The events the jobs kept in a lake's events table ({@code lake.events}), read back as records, by time. */
final class LakeEvents {
    private LakeEvents() {}

    /**
     * The events of {@code lake} (a warehouse folder, or a data folder of up that holds one) stamped at or after
     * {@code since}, ordered by time. A lake without an events table is an {@link IllegalArgumentException} that says
     * why.
     */
    static List<SocketEvent> read(String lake, String namespace, Instant since) {
        String warehouse = lake;
        if (!lake.contains("://") && Files.isDirectory(Path.of(lake, "warehouse"))) {
            warehouse = Path.of(lake, "warehouse").toString();
        }
        if (!warehouse.contains("://") && !Files.isDirectory(Path.of(warehouse))) {
            throw new IllegalArgumentException(
                    "no lake at " + lake + ": give --lake the warehouse folder (or the data folder) of up");
        }
        Catalog catalog = IcebergTables.catalog(warehouse).loadCatalog();
        TableIdentifier id = TableIdentifier.of(namespace, LakeRetention.TABLE);
        if (!catalog.tableExists(id)) {
            throw new IllegalArgumentException("the lake " + lake + " has no table " + id
                    + ": the jobs keep their input events there when lake.events is true (the default)");
        }
        Table t = catalog.loadTable(id);
        IcebergTables.FromRecord<SocketEvent> from = new IcebergTables.FromRecord<>(SocketEvent.getClassSchema());
        List<SocketEvent> out = new ArrayList<>();
        long micros = since.getEpochSecond() * 1_000_000L + since.getNano() / 1_000;
        try (CloseableIterable<Record> rows = IcebergGenerics.read(t)
                .where(Expressions.greaterThanOrEqual("timestamp", micros))
                .build()) {
            for (Record r : rows) {
                out.add(from.apply(r));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // files come in no particular order; the job wants each source's events near their time
        out.sort(Comparator.comparing(SocketEvent::getTimestamp));
        return out;
    }
}
