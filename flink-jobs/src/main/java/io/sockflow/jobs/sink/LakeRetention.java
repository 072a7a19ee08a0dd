package io.sockflow.jobs.sink;

import io.sockflow.jobs.config.JobConfig;
import io.sockflow.schemas.SocketEvent;
import java.io.Serializable;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.table.data.RowData;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lake keeps bounded history: whole days older than {@code lake.events.retention} are deleted from the events
 * table, and older than {@code lake.retention} from the lifecycles, flows and alerts tables, at the job's start and
 * then every hour (by the first of the tasks that write the events table, or at start only when events are not
 * kept); snapshots older than a day are let go on every table so that deleted files leave the disk. A retention of 0
 * keeps everything. The hourly pass also compacts past days: a day's partition (a day and a host) of many small files,
 * one per checkpoint, becomes one file. A failed pass is logged and tried again at the next hour; it never fails the
 * job.
 */
public final class LakeRetention implements Serializable, Runnable {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(LakeRetention.class);
    static final Duration EVERY = Duration.ofHours(1);
    /** A past day's partition of this many data files or more is compacted into one. */
    static final int COMPACT_FILES = 8;
    /** The lake table of every input event. */
    public static final String TABLE = "events";

    /** One table, the field its days are partitioned by, and how long its rows are kept (0: for ever). */
    public record Kept(String table, String timeField, Duration keep) implements Serializable {}

    private final String warehouse;
    private final String namespace;
    private final List<Kept> tables;

    public LakeRetention(String warehouse, String namespace, List<Kept> tables) {
        this.warehouse = warehouse;
        this.namespace = namespace;
        this.tables = List.copyOf(tables);
    }

    /** The tables of the jobs' lake with their retention, as configured. */
    public static LakeRetention of(JobConfig cfg, Map<String, String> resultTables) {
        List<Kept> kept = new ArrayList<>();
        Duration results = cfg.getDuration(JobConfig.LAKE_RETENTION);
        resultTables.forEach((table, field) -> kept.add(new Kept(table, field, results)));
        if (cfg.getBoolean(JobConfig.LAKE_EVENTS)) {
            kept.add(new Kept(TABLE, "timestamp", cfg.getDuration(JobConfig.LAKE_EVENTS_RETENTION)));
        }
        return new LakeRetention(cfg.get(JobConfig.WAREHOUSE), cfg.get(JobConfig.NAMESPACE), kept);
    }

    /** One pass at {@code now}; returns the number of data files deleted. */
    public long apply(Instant now) {
        Catalog catalog = IcebergTables.catalog(warehouse).loadCatalog();
        long files = 0;
        for (Kept k : tables) {
            TableIdentifier id = TableIdentifier.of(namespace, k.table());
            if (!catalog.tableExists(id)) {
                continue;
            }
            Table t = catalog.loadTable(id);
            files += IcebergTables.dropDaysBefore(t, k.timeField(), k.keep().isZero() ? null : now.minus(k.keep()));
        }
        return files;
    }

    /**
     * The hourly pass: the retention, then the compaction of past days (each day and host of {@value #COMPACT_FILES}
     * files or more becomes one file).
     */
    public void hourly() {
        run();
        try {
            Instant now = Instant.now();
            Catalog catalog = IcebergTables.catalog(warehouse).loadCatalog();
            long files = 0;
            for (Kept k : tables) {
                TableIdentifier id = TableIdentifier.of(namespace, k.table());
                if (catalog.tableExists(id)) {
                    files += IcebergTables.compactDaysBefore(catalog.loadTable(id), now, COMPACT_FILES);
                }
            }
            if (files > 0) {
                LOG.info("lake: compacted {} small files of past days", files);
            }
        } catch (RuntimeException e) {
            LOG.warn("lake: the compaction failed ({}); trying again in an hour", e.toString());
        }
    }

    @Override
    public void run() {
        try {
            long files = apply(Instant.now());
            if (files > 0) {
                LOG.info("lake: deleted {} files of days past their retention", files);
            }
        } catch (RuntimeException e) {
            LOG.warn("lake: the retention pass failed ({}); trying again in an hour", e.toString());
        }
    }

    /** Event to lake row; the first task also runs the retention every hour while it lives. */
    public static final class Rows extends RichMapFunction<SocketEvent, RowData> {
        private static final long serialVersionUID = 1L;
        private final IcebergTables.ToRow toRow;
        private final LakeRetention retention;
        private transient ScheduledExecutorService timer;

        public Rows(IcebergTables.ToRow toRow, LakeRetention retention) {
            this.toRow = toRow;
            this.retention = retention;
        }

        @Override
        public void open(OpenContext context) {
            if (getRuntimeContext().getTaskInfo().getIndexOfThisSubtask() == 0) {
                timer = Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "sockflow-lake-retention");
                    t.setDaemon(true);
                    return t;
                });
                timer.scheduleWithFixedDelay(retention::hourly, EVERY.toMinutes(), EVERY.toMinutes(), TimeUnit.MINUTES);
            }
        }

        @Override
        public RowData map(SocketEvent e) {
            return toRow.apply(e);
        }

        @Override
        public void close() {
            if (timer != null) {
                timer.shutdownNow();
            }
        }
    }
}
