package io.sockflow.jobs.detect;

import io.sockflow.jobs.types.BinaryTypeInfo;
import io.sockflow.schemas.Alert;
import io.sockflow.schemas.Severity;
import io.sockflow.schemas.SocketEvent;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.IndexedRecord;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichFlatMapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.typeutils.RowTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.types.logical.LogicalTypeFamily;
import org.apache.flink.table.types.logical.LogicalTypeRoot;
import org.apache.flink.types.Row;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the users' SQL rules ({@link UserRules}) on the event stream: the events are the table {@code events}, one
 * column per SocketEvent field (named as in the schema, e.g. {@code remotePort}; enums as their names, the event's
 * time as {@code timestamp} and as the event-time attribute {@code rowtime}). Each rule's query must be insert-only
 * (a filter, or a windowed aggregation) and return {@code host}, {@code pid} and {@code comm}, and a time column
 * ({@code rowtime}, {@code timestamp}, {@code window_time} or {@code window_end}); {@code processStartNs},
 * {@code uid}, {@code evidence} and {@code summary} are used when present, and every other column becomes an
 * attribute of the alert.
 */
public final class SqlRules {
    private static final Logger LOG = LoggerFactory.getLogger(SqlRules.class);
    static final List<String> TIME_COLUMNS = List.of("rowtime", "timestamp", "window_time", "window_end");
    private static final Set<String> REQUIRED = Set.of("host", "pid", "comm");
    private static final Pattern LINE = Pattern.compile("(?i)\\bline (\\d+)(?:, column (\\d+))?");

    private SqlRules() {}

    /** The tables a rule may read besides {@code events}, by name, with their records' schemas. */
    public static final Map<String, Schema> RESULT_TABLES = Map.of(
            "lifecycles", io.sockflow.schemas.SocketLifecycle.getClassSchema(),
            "flows", io.sockflow.schemas.Flow.getClassSchema());

    private static final Pattern TABLE_NAME = Pattern.compile("(?i)\\b(lifecycles|flows)\\b");

    /** The result tables ({@link #RESULT_TABLES}) that {@code r}'s query names. */
    public static Set<String> resultTables(UserRules.Rule r) {
        Set<String> out = new java.util.TreeSet<>();
        Matcher m = TABLE_NAME.matcher(query(r.sql()).replaceAll("--[^\n]*", ""));
        while (m.find()) {
            out.add(m.group(1).toLowerCase(java.util.Locale.ROOT));
        }
        return out;
    }

    /**
     * The alerts of every rule; a rule the planner refuses is a {@link UserRules.RuleException} naming its line. The
     * rules read the table {@code events} and, when they name them, {@code lifecycles} and {@code flows}: the
     * results as the jobs make them ({@code results}; a rule that names one the job does not make is refused).
     */
    public static DataStream<Alert> build(
            StreamExecutionEnvironment env,
            DataStream<SocketEvent> events,
            Map<String, DataStream<? extends IndexedRecord>> results,
            List<UserRules.Rule> rules) {
        StreamTableEnvironment t = StreamTableEnvironment.create(env);
        t.createTemporaryView("events", table(t, events, SocketEvent.getClassSchema(), "events"));
        Set<String> named = new java.util.TreeSet<>();
        for (UserRules.Rule r : rules) {
            for (String name : resultTables(r)) {
                if (!results.containsKey(name)) {
                    throw new UserRules.RuleException(
                            r.file() + ": the query reads " + name + ", which this job does not"
                                    + " make: run the " + (name.equals("flows") ? "flow" : "lifecycle") + " job beside"
                                    + " detection (jobs setting)");
                }
                named.add(name);
            }
        }
        for (String name : named) {
            t.createTemporaryView(name, table(t, results.get(name), RESULT_TABLES.get(name), name));
        }
        DataStream<Alert> all = null;
        for (UserRules.Rule r : rules) {
            Table q;
            try {
                q = t.sqlQuery(query(r.sql()));
            } catch (RuntimeException e) {
                throw refused(r, e);
            }
            List<String> names = columns(r, q.getResolvedSchema());
            DataStream<Row> out;
            try {
                out = t.toDataStream(q);
            } catch (RuntimeException e) {
                if (String.valueOf(e.getMessage()).contains("update")) {
                    throw new UserRules.RuleException(r.file() + ": the query changes rows it has emitted (a GROUP BY "
                            + "or join without a window): aggregate in a window (TUMBLE, HOP) so each result is final");
                }
                throw refused(r, e);
            }
            DataStream<Alert> a = out.flatMap(new RowToAlert(r.name(), r.severity(), r.summary(), names))
                    .returns(BinaryTypeInfo.records(Alert.class))
                    .name("rule " + r.name())
                    .uid("user-rule-" + r.name());
            all = all == null ? a : all.union(a);
        }
        return all;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Table table(StreamTableEnvironment t, DataStream<?> stream, Schema schema, String name) {
        DataStream<Row> rows = ((DataStream) stream)
                .map(new RecordRows<>(schema))
                .returns(RecordRows.type(schema))
                .name(name + "-as-rows")
                .uid(name + "-as-rows");
        return t.fromDataStream(
                rows,
                org.apache.flink.table.api.Schema.newBuilder()
                        .columnByMetadata("rowtime", "TIMESTAMP_LTZ(3)")
                        .watermark("rowtime", "SOURCE_WATERMARK()")
                        .build());
    }

    /**
     * Plans every rule without running anything, so that a broken rule is refused at start with its
     * {@link UserRules.RuleException}; returns how many rules there are.
     */
    public static int check(List<UserRules.Rule> rules) {
        if (rules.isEmpty()) {
            return 0;
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1);
        // planned, never run: the stream's elements do not matter
        DataStream<SocketEvent> events = env.fromSequence(0, 0)
                .map(i -> new SocketEvent())
                .returns(BinaryTypeInfo.socketEvents())
                .assignTimestampsAndWatermarks(
                        org.apache.flink.api.common.eventtime.WatermarkStrategy.<SocketEvent>forMonotonousTimestamps()
                                .withTimestampAssigner((e, ts) -> 0L));
        Map<String, DataStream<? extends IndexedRecord>> results = new java.util.HashMap<>();
        results.put("lifecycles", dummy(env, io.sockflow.schemas.SocketLifecycle.class));
        results.put("flows", dummy(env, io.sockflow.schemas.Flow.class));
        build(env, events, results, rules);
        return rules.size();
    }

    /** A stream of {@code type} that is planned, never run. */
    private static <T extends org.apache.avro.specific.SpecificRecord> DataStream<T> dummy(
            StreamExecutionEnvironment env, Class<T> type) {
        return env.fromSequence(0, 0)
                .map(i -> type.getDeclaredConstructor().newInstance())
                .returns(BinaryTypeInfo.records(type))
                .assignTimestampsAndWatermarks(
                        org.apache.flink.api.common.eventtime.WatermarkStrategy.<T>forMonotonousTimestamps()
                                .withTimestampAssigner((e, ts) -> 0L));
    }

    /** The file's text as a query: a final ';' is dropped (kept as a space, so that line and column numbers hold). */
    static String query(String text) {
        String s = text.stripTrailing();
        return s.endsWith(";") ? s.substring(0, s.length() - 1) + " " : s;
    }

    static UserRules.RuleException refused(UserRules.Rule r, Throwable e) {
        Throwable cause = e;
        String message = firstLine(e.getMessage());
        // the planner wraps the parser's and validator's words: the innermost message that names a line says most
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c.getMessage() != null && LINE.matcher(c.getMessage()).find()) {
                cause = c;
            }
        }
        String text = firstLine(cause.getMessage());
        Matcher m = LINE.matcher(text);
        if (m.find()) {
            String what = text.contains(": ") ? text.substring(text.lastIndexOf(": ") + 2) : text;
            what = what.replaceFirst("(?i)^SQL parse failed\\. ", "")
                    .replaceAll("\\s*at line \\d+, column \\d+\\.?", "")
                    .strip();
            return new UserRules.RuleException(r.file() + " line " + m.group(1)
                    + (m.group(2) != null ? ", column " + m.group(2) : "") + ": " + what);
        }
        return new UserRules.RuleException(r.file() + ": " + (message.isEmpty() ? e.toString() : message));
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).strip();
    }

    /** The query's column names, checked against what an alert needs. */
    static List<String> columns(UserRules.Rule r, ResolvedSchema s) {
        List<String> names = s.getColumnNames();
        List<String> missing = new ArrayList<>();
        for (String c : REQUIRED) {
            if (!names.contains(c)) {
                missing.add(c);
            }
        }
        if (!missing.isEmpty()) {
            missing.sort(null);
            throw new UserRules.RuleException(r.file() + ": the query must return columns host, pid and comm; it lacks "
                    + String.join(", ", missing) + " (it returns " + String.join(", ", names) + ")");
        }
        boolean time = false;
        for (Column c : s.getColumns()) {
            if (TIME_COLUMNS.contains(c.getName())
                    && c.getDataType().getLogicalType().is(LogicalTypeFamily.TIMESTAMP)) {
                time = true;
            }
        }
        if (!time) {
            throw new UserRules.RuleException(r.file() + ": the query must return the alert's time as one of "
                    + String.join(", ", TIME_COLUMNS) + " (a timestamp; SELECT rowtime, or window_end for a window)");
        }
        if (s.getColumn("pid")
                .map(c -> !c.getDataType().getLogicalType().is(LogicalTypeFamily.INTEGER_NUMERIC))
                .orElse(false)) {
            throw new UserRules.RuleException(r.file() + ": column pid must be an integer");
        }
        if (s.getColumn("evidence")
                .map(c -> !c.getDataType().getLogicalType().is(LogicalTypeFamily.CHARACTER_STRING)
                        && !c.getDataType().getLogicalType().is(LogicalTypeRoot.ARRAY))
                .orElse(false)) {
            throw new UserRules.RuleException(r.file() + ": column evidence must be a string or an array of strings");
        }
        return names;
    }

    /** A record (a SocketEvent, a lifecycle, a flow) as a row of its table: one column per field of its schema. */
    static final class RecordRows<T extends IndexedRecord> implements MapFunction<T, Row> {
        private static final long serialVersionUID = 1L;
        private final String schemaJson;
        private transient List<Schema.Field> fields;

        RecordRows(Schema schema) {
            this.schemaJson = schema.toString();
        }

        static RowTypeInfo type(Schema schema) {
            List<Schema.Field> fields = schema.getFields();
            TypeInformation<?>[] types = new TypeInformation<?>[fields.size()];
            String[] names = new String[fields.size()];
            for (int i = 0; i < types.length; i++) {
                names[i] = fields.get(i).name();
                types[i] = typeOf(fields.get(i).schema());
            }
            return new RowTypeInfo(types, names);
        }

        private static TypeInformation<?> typeOf(Schema s) {
            if (s.getType() == Schema.Type.UNION) {
                for (Schema b : s.getTypes()) {
                    if (b.getType() != Schema.Type.NULL) {
                        return typeOf(b);
                    }
                }
            }
            if (s.getLogicalType() instanceof LogicalTypes.TimestampMillis
                    || s.getLogicalType() instanceof LogicalTypes.TimestampMicros) {
                return Types.INSTANT;
            }
            return switch (s.getType()) {
                case INT -> Types.INT;
                case LONG -> Types.LONG;
                case BOOLEAN -> Types.BOOLEAN;
                case DOUBLE -> Types.DOUBLE;
                case FLOAT -> Types.FLOAT;
                case BYTES -> Types.PRIMITIVE_ARRAY(Types.BYTE);
                default -> Types.STRING;
            };
        }

        @Override
        public Row map(T e) {
            if (fields == null) {
                fields = new Schema.Parser().parse(schemaJson).getFields();
            }
            Row r = new Row(fields.size());
            for (int i = 0; i < fields.size(); i++) {
                r.setField(i, value(e.get(i)));
            }
            return r;
        }

        private static Object value(Object v) {
            if (v == null
                    || v instanceof Integer
                    || v instanceof Long
                    || v instanceof Boolean
                    || v instanceof Instant
                    || v instanceof Double
                    || v instanceof Float) {
                return v;
            }
            if (v instanceof ByteBuffer b) {
                byte[] out = new byte[b.remaining()];
                b.duplicate().get(out);
                return out;
            }
            return v.toString();
        }
    }

    /**
     * One result row of a rule as an alert. A row that cannot be one (a null host, say) is dropped and counted in
     * the metric {@code userRuleRowsDropped}, with one log line for the first: never a failure of the job.
     */
    static final class RowToAlert extends RichFlatMapFunction<Row, Alert> {
        private static final long serialVersionUID = 1L;
        private static final Set<String> USED =
                Set.of("host", "pid", "comm", "processStartNs", "uid", "evidence", "summary");
        private final String rule;
        private final Severity severity;
        private final String summary;
        private final List<String> names;
        private transient Counter dropped;

        RowToAlert(String rule, Severity severity, String summary, List<String> names) {
            this.rule = rule;
            this.severity = severity;
            this.summary = summary;
            this.names = List.copyOf(names);
        }

        private Object get(Row row, String name) {
            int i = names.indexOf(name);
            return i < 0 ? null : row.getField(i);
        }

        @Override
        public void open(OpenContext ctx) {
            dropped = getRuntimeContext().getMetricGroup().counter("userRuleRowsDropped");
        }

        @Override
        public void flatMap(Row row, Collector<Alert> out) {
            Alert a;
            try {
                a = alert(row);
            } catch (RuntimeException e) {
                if (dropped != null && dropped.getCount() == 0) {
                    LOG.warn(
                            "rule {}: a result row that cannot be an alert is dropped and counted ({}): {}",
                            rule,
                            e.toString(),
                            row);
                }
                if (dropped != null) {
                    dropped.inc();
                }
                return;
            }
            out.collect(a);
        }

        Alert alert(Row row) {
            if (get(row, "host") == null || !(get(row, "pid") instanceof Number)) {
                throw new IllegalArgumentException("no host or pid");
            }
            SocketEvent who = new SocketEvent();
            who.setHost(String.valueOf(get(row, "host")));
            who.setPid(get(row, "pid") instanceof Number n ? n.intValue() : -1);
            who.setComm(String.valueOf(get(row, "comm")));
            who.setProcessStartNs(get(row, "processStartNs") instanceof Number n ? n.longValue() : 0L);
            who.setUid(get(row, "uid") instanceof Number n ? n.intValue() : -1);
            Instant time = null;
            for (String c : TIME_COLUMNS) {
                Object v = get(row, c);
                if (v instanceof Instant i) {
                    time = i;
                } else if (v instanceof LocalDateTime l) {
                    time = l.toInstant(ZoneOffset.UTC);
                }
                if (time != null) {
                    break;
                }
            }
            List<String> evidence = new ArrayList<>();
            Object ev = get(row, "evidence");
            if (ev instanceof Object[] arr) {
                for (Object o : arr) {
                    evidence.add(String.valueOf(o));
                }
            } else if (ev != null) {
                evidence.add(ev.toString());
            }
            Map<String, String> attributes = new LinkedHashMap<>();
            StringBuilder seed = new StringBuilder();
            for (int i = 0; i < names.size(); i++) {
                Object v = row.getField(i);
                String s = v instanceof Object[] a ? Arrays.toString(a) : String.valueOf(v);
                seed.append(names.get(i)).append('=').append(s).append('|');
                if (!USED.contains(names.get(i)) && !TIME_COLUMNS.contains(names.get(i)) && v != null) {
                    attributes.put(names.get(i), s);
                }
            }
            Object text = get(row, "summary");
            attributes.put("source", "user rule");
            Alert alert = Alerts.of(
                    rule,
                    severity,
                    time == null ? Instant.EPOCH : time,
                    who,
                    text != null ? text.toString() : summary,
                    evidence,
                    attributes,
                    seed.toString());
            if (!(get(row, "uid") instanceof Number)) {
                alert.setUid(null); // not known: the query did not say
            }
            return alert;
        }
    }
}
