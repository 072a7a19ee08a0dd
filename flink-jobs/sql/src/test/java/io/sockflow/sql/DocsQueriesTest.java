package io.sockflow.sql;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.jobs.sink.IcebergTables;
import io.sockflow.schemas.Alert;
import io.sockflow.schemas.Flow;
import io.sockflow.schemas.FlowRecordType;
import io.sockflow.schemas.LifecycleStatus;
import io.sockflow.schemas.Severity;
import io.sockflow.schemas.SocketLifecycle;
import io.sockflow.schemas.SocketRole;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.runtime.typeutils.InternalTypeInfo;
import org.apache.flink.types.Row;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.flink.CatalogLoader;
import org.apache.iceberg.flink.FlinkSchemaUtil;
import org.apache.iceberg.flink.TableLoader;
import org.apache.iceberg.flink.sink.FlinkSink;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The example queries of docs/queries.md, taken from the page itself, run through the same entry point as
 * {@code ./sockflow sql -e} on lake tables written the way the jobs write them (same schema, same sink), and each
 * must return the rows the data implies.
 */
@Tag("slow")
class DocsQueriesTest {
    @TempDir
    static Path dir;

    static String warehouse;
    static Map<String, String> queries;
    static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.SECONDS);

    @BeforeAll
    static void writeLake() throws Exception {
        warehouse = dir.resolve("warehouse").toString();
        queries = pageQueries();
        List<Flow> flows = List.of(
                flow("a", FlowRecordType.NEW, "curl", "10.0.0.5", 443, 0, 0, 0),
                flow("a", FlowRecordType.END, "curl", "10.0.0.5", 443, 5000, 100000, 2000),
                flow("b", FlowRecordType.END, "python3", "127.0.0.1", 8080, 100, 200, 10),
                flow("c", FlowRecordType.END, "python3", "127.0.0.1", 8080, 100, 200, 12),
                flow("d", FlowRecordType.END, "ssh", "10.0.0.9", 22, 10, 10, 3_600_000));
        List<SocketLifecycle> lifecycles = List.of(
                life(1, SocketRole.CLIENT, LifecycleStatus.CLOSED, "curl", 11, null, "ECONNREFUSED", false),
                life(2, SocketRole.CLIENT, LifecycleStatus.CLOSED, "curl", 11, null, "ECONNREFUSED", false),
                life(3, SocketRole.CLIENT, LifecycleStatus.CLOSED, "nc", 12, null, "ETIMEDOUT", false),
                life(4, SocketRole.CLIENT, LifecycleStatus.CLOSED, "curl", 11, null, "CLOSE", true),
                life(5, SocketRole.LISTENER, LifecycleStatus.OPEN, "python3", 20, 8080, null, false),
                life(6, SocketRole.LISTENER, LifecycleStatus.OPEN, "sshd", 30, 22, null, false),
                life(6, SocketRole.LISTENER, LifecycleStatus.CLOSED, "sshd", 30, 22, "CLOSE", false),
                life(7, SocketRole.LISTENER, LifecycleStatus.OPEN, "postgres", 40, 5432, null, false),
                life(7, SocketRole.LISTENER, LifecycleStatus.OPEN, "postgres", 40, 5432, null, false));
        List<Alert> alerts = List.of(
                alert("x", "hostname-change", NOW.minus(10, ChronoUnit.MINUTES), "evil"),
                alert("y", "raw-socket", NOW.minus(2, ChronoUnit.HOURS), "tcpdump"));
        CatalogLoader lake = IcebergTables.catalog(warehouse);
        Configuration conf = new Configuration();
        conf.setString("restart-strategy.type", "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
        write(env, lake, "flows", Flow.getClassSchema(), "start", flows);
        write(env, lake, "lifecycles", SocketLifecycle.getClassSchema(), "updatedAt", lifecycles);
        write(env, lake, "alerts", Alert.getClassSchema(), "timestamp", alerts);
        env.execute("write lake");
    }

    static <T extends SpecificRecord> void write(
            StreamExecutionEnvironment env,
            CatalogLoader lake,
            String table,
            Schema schema,
            String time,
            List<T> records) {
        IcebergTables.ensure(lake, "sockflow", table, schema, time);
        IcebergTables.ToRow toRow = new IcebergTables.ToRow(schema);
        List<RowData> rows = new ArrayList<>();
        records.forEach(r -> rows.add(toRow.apply(r)));
        var type = InternalTypeInfo.of(FlinkSchemaUtil.convert(IcebergTables.icebergSchema(schema)));
        FlinkSink.forRowData(env.fromData(rows, type))
                .tableLoader(TableLoader.fromCatalog(lake, TableIdentifier.of("sockflow", table)))
                .uidPrefix(table)
                .append();
    }

    static Flow flow(String id, FlowRecordType type, String comm, String dst, int port, long out, long in, long ms) {
        return Flow.newBuilder()
                .setFlowId(id)
                .setRecordType(type)
                .setHost("web-1")
                .setCommunityId("1:x")
                .setNetworkTransport("tcp")
                .setNetworkType("ipv4")
                .setSourceAddress("10.0.0.1")
                .setSourcePort(40000)
                .setDestinationAddress(dst)
                .setDestinationPort(port)
                .setSourceBytes(out)
                .setDestinationBytes(in)
                .setStart(NOW.minusMillis(ms))
                .setEnd(NOW)
                .setDurationMs(ms)
                .setSourceComm(comm)
                .setSourcePid(100)
                .setDestinationComm(port == 8080 ? "python3" : null)
                .build();
    }

    static SocketLifecycle life(
            long inode,
            SocketRole role,
            LifecycleStatus status,
            String comm,
            int pid,
            Integer port,
            String end,
            boolean connected) {
        return SocketLifecycle.newBuilder()
                .setHost("web-1")
                .setBootId("b")
                .setSocketInode(inode)
                .setStatus(status)
                .setRole(role)
                .setFamily("AF_INET")
                .setProtocol("TCP")
                .setComm(comm)
                .setPid(pid)
                .setLocalAddress(port == null ? null : "0.0.0.0")
                .setLocalPort(port)
                .setListeningAt(role == SocketRole.LISTENER ? NOW.minusSeconds(60) : null)
                .setConnectedAt(connected ? NOW : null)
                .setEndReason(end)
                .setUpdatedAt(NOW)
                .build();
    }

    static Alert alert(String id, String rule, Instant t, String comm) {
        return Alert.newBuilder()
                .setAlertId(id)
                .setRule(rule)
                .setSeverity(Severity.HIGH)
                .setTimestamp(t)
                .setHost("web-1")
                .setComm(comm)
                .setPid(66)
                .setSummary(comm + " did " + rule)
                .build();
    }

    static Map<String, String> pageQueries() throws Exception {
        String text = Files.readString(Path.of("../../docs/queries.md"));
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = Pattern.compile("<!-- query: ([a-z-]+) -->\\s*```sql\\n(.*?)```", Pattern.DOTALL)
                .matcher(text);
        while (m.find()) {
            out.put(m.group(1), m.group(2).strip());
        }
        return out;
    }

    static List<String> rows(String name) {
        SqlShell shell = new SqlShell(warehouse, "sockflow", false);
        String q = SqlShell.statements(queries.get(name)).get(0);
        List<String> out = new ArrayList<>();
        for (Row r : shell.rows(q)) {
            List<String> fields = new ArrayList<>();
            for (int i = 0; i < r.getArity(); i++) {
                fields.add(String.valueOf(r.getField(i)));
            }
            out.add(String.join(" | ", fields));
        }
        return out;
    }

    @Test
    void thePageHasTheFiveQueries() {
        assertEquals(
                List.of("top-talkers", "failed-connects", "listeners", "longest", "recent-alerts"),
                List.copyOf(queries.keySet()));
    }

    @Test
    void topTalkers() {
        assertEquals(
                List.of(
                        "curl | 10.0.0.5 | 443 | 5000 | 100000 | 1",
                        "python3 | 127.0.0.1 | 8080 | 200 | 400 | 2",
                        "ssh | 10.0.0.9 | 22 | 10 | 10 | 1"),
                rows("top-talkers"));
    }

    @Test
    void failedConnectsPerProcess() {
        assertEquals(List.of("curl | 11 | ECONNREFUSED | 2", "nc | 12 | ETIMEDOUT | 1"), rows("failed-connects"));
    }

    @Test
    void currentListeners() {
        List<String> r = rows("listeners");
        assertEquals(2, r.size(), r.toString());
        assertTrue(r.get(0).startsWith("web-1 | postgres | 40 | 0.0.0.0 | 5432 | "), r.get(0));
        assertTrue(r.get(1).startsWith("web-1 | python3 | 20 | 0.0.0.0 | 8080 | "), r.get(1));
    }

    @Test
    void longestConnections() {
        List<String> r = rows("longest");
        assertEquals(4, r.size());
        assertTrue(r.get(0).startsWith("ssh | null | 10.0.0.9 | 22 | 3600000 |"), r.get(0));
        assertTrue(r.get(1).startsWith("curl | null | 10.0.0.5 | 443 | 2000 |"), r.get(1));
    }

    @Test
    void alertsOfTheLastHour() {
        List<String> r = rows("recent-alerts");
        assertEquals(1, r.size(), r.toString());
        assertTrue(r.get(0).contains("hostname-change | HIGH | evil | 66 | evil did hostname-change"), r.get(0));
    }

    @Test
    void eachQueryRunsThroughTheCommandLine() throws Exception {
        PrintStream old = System.out;
        StringBuilder all = new StringBuilder();
        try {
            for (var q : queries.entrySet()) {
                ByteArrayOutputStream buf = new ByteArrayOutputStream();
                System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
                assertEquals(0, SqlShell.run(new String[] {"--warehouse", warehouse, "-e", q.getValue()}), q.getKey());
                String out = buf.toString(StandardCharsets.UTF_8);
                assertTrue(out.contains("row"), out); // Flink's tableau ends with "N rows in set"
                all.append("-- ").append(q.getKey()).append('\n').append(out).append('\n');
            }
        } finally {
            System.setOut(old);
        }
        Files.writeString(Path.of("target/docs-query-output.txt"), all);
        assertEquals(
                3,
                SqlShell.run(new String[] {"--warehouse", dir.resolve("nothing").toString(), "-e", "SELECT 1"}),
                "no warehouse: a one-line error and exit 3");
    }
}
