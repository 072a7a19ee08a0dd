package io.sockflow.jobs;

import io.sockflow.jobs.config.JobConfig;
import io.sockflow.jobs.detect.AlertContext;
import io.sockflow.jobs.detect.AlertSuppression;
import io.sockflow.jobs.detect.BurstRules;
import io.sockflow.jobs.detect.IoUringRule;
import io.sockflow.jobs.detect.NewListenerRule;
import io.sockflow.jobs.detect.ProcessRules;
import io.sockflow.jobs.detect.SingleEventRules;
import io.sockflow.jobs.detect.SockoptRules;
import io.sockflow.jobs.detect.SqlRules;
import io.sockflow.jobs.detect.UserRules;
import io.sockflow.jobs.flow.FlowFunction;
import io.sockflow.jobs.flow.FlowKeys;
import io.sockflow.jobs.flow.NeverIdle;
import io.sockflow.jobs.input.DeadLetter;
import io.sockflow.jobs.input.Decoded;
import io.sockflow.jobs.input.EventDecoder;
import io.sockflow.jobs.lifecycle.LifecycleFunction;
import io.sockflow.jobs.lifecycle.SocketKeys;
import io.sockflow.jobs.sink.AvroRecordSerializer;
import io.sockflow.jobs.sink.DeadLetterSerializer;
import io.sockflow.jobs.sink.IcebergTables;
import io.sockflow.jobs.sink.LakeRetention;
import io.sockflow.jobs.sink.TopicRetention;
import io.sockflow.jobs.types.BinaryTypeInfo;
import io.sockflow.jobs.types.LifecycleChange;
import io.sockflow.schemas.Alert;
import io.sockflow.schemas.Flow;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.SocketLifecycle;
import io.sockflow.schemas.registry.RegistryClient;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.runtime.typeutils.InternalTypeInfo;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.flink.CatalogLoader;
import org.apache.iceberg.flink.FlinkSchemaUtil;
import org.apache.iceberg.flink.TableLoader;
import org.apache.iceberg.flink.sink.FlinkSink;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * The sockflow jobs as one Flink job graph: sockflow.events → lifecycle → flow, and detection, with exactly-once
 * sinks to Kafka topics (through the registry) and Iceberg tables (committed at checkpoints), and a dead-letter
 * topic for input that cannot be decoded. {@code main} is what {@code flink run} starts.
 */
public final class SockflowJob {
    public static final String LIFECYCLES_TABLE = "lifecycles";
    public static final String FLOWS_TABLE = "flows";
    public static final String ALERTS_TABLE = "alerts";
    public static final String EVENTS_TABLE = LakeRetention.TABLE;

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SockflowJob.class);

    private SockflowJob() {}

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
            System.out.println("sockflow jobs: lifecycles, flows and alerts from sockflow.events\n\nSettings:\n"
                    + JobConfig.help());
            return;
        }
        JobConfig cfg;
        try {
            cfg = JobConfig.fromArgs(args, System.getenv());
        } catch (IllegalArgumentException e) {
            System.err.println("sockflow jobs: " + e.getMessage());
            System.exit(2);
            return;
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        prepare(cfg);
        build(env, cfg);
        env.execute("sockflow jobs");
    }

    /** Client side, before the job starts: output topics and lake tables exist. */
    public static void prepare(JobConfig cfg) {
        Properties p = kafkaProperties(cfg);
        p.put("bootstrap.servers", cfg.get(JobConfig.BOOTSTRAP));
        p.put("default.api.timeout.ms", "15000");
        p.put("request.timeout.ms", "10000");
        try (Admin admin = Admin.create(p)) {
            Set<String> existing = admin.listTopics().names().get(15, TimeUnit.SECONDS);
            List<NewTopic> missing = new ArrayList<>();
            Set<String> topics = new java.util.LinkedHashSet<>(); // existing ones: new ones get it at creation
            for (JobConfig.Option o : List.of(
                    JobConfig.LIFECYCLES_TOPIC,
                    JobConfig.FLOWS_TOPIC,
                    JobConfig.ALERTS_TOPIC,
                    JobConfig.DEAD_LETTER_TOPIC,
                    JobConfig.EVENTS_TOPIC)) {
                String t = cfg.get(o);
                if (existing.contains(t)) {
                    topics.add(t);
                } else {
                    missing.add(new NewTopic(t, cfg.getInt(JobConfig.TOPIC_PARTITIONS), (short) -1)
                            .configs(TopicRetention.configs(cfg)));
                }
            }
            if (!missing.isEmpty()) {
                try {
                    admin.createTopics(missing).all().get(15, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
            if (!topics.isEmpty()) {
                retention(admin, topics, cfg);
            }
        } catch (Exception e) {
            throw new IllegalStateException(
                    "cannot reach Kafka at " + cfg.get(JobConfig.BOOTSTRAP) + " to create the output topics ("
                            + e.getMessage() + "): start the broker or fix --bootstrap.servers",
                    e);
        }
        if (cfg.getBoolean(JobConfig.ICEBERG_SINK)) {
            CatalogLoader loader = IcebergTables.catalog(cfg.get(JobConfig.WAREHOUSE));
            String ns = cfg.get(JobConfig.NAMESPACE);
            IcebergTables.ensure(loader, ns, LIFECYCLES_TABLE, SocketLifecycle.getClassSchema(), "updatedAt");
            IcebergTables.ensure(loader, ns, FLOWS_TABLE, Flow.getClassSchema(), "start");
            IcebergTables.ensure(loader, ns, ALERTS_TABLE, Alert.getClassSchema(), "timestamp");
            if (cfg.getBoolean(JobConfig.LAKE_EVENTS)) {
                IcebergTables.ensure(loader, ns, EVENTS_TABLE, SocketEvent.getClassSchema(), "timestamp");
            }
            retention(cfg).run();
        }
    }

    /**
     * Existing topics get the configured retention too (see {@link TopicRetention} for which values are kept); a
     * broker that does not let the jobs read or change topic configs is said in one line, and the jobs go on.
     */
    private static void retention(Admin admin, Set<String> topics, JobConfig cfg) throws Exception {
        try {
            for (int attempt = 1; ; attempt++) {
                try {
                    TopicRetention.apply(admin, topics, cfg, java.time.Duration.ofSeconds(15));
                    return;
                } catch (ExecutionException e) {
                    // a topic created a moment ago (by a collector) is not known to every part of the broker yet
                    if (!(e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException)
                            || attempt == 20) {
                        throw e;
                    }
                    Thread.sleep(500);
                }
            }
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof org.apache.kafka.common.errors.AuthorizationException)) {
                throw e;
            }
            LOG.warn(
                    "cannot set the retention of topics {} ({}): grant the jobs' Kafka user DescribeConfigs and"
                            + " AlterConfigs on them, or set retention.ms and retention.bytes on them yourself",
                    topics,
                    e.getCause().getMessage());
        }
    }

    /** The lake's tables with their time fields and retention. */
    static LakeRetention retention(JobConfig cfg) {
        return LakeRetention.of(
                cfg, Map.of(LIFECYCLES_TABLE, "updatedAt", FLOWS_TABLE, "start", ALERTS_TABLE, "timestamp"));
    }

    static Properties kafkaProperties(JobConfig cfg) {
        Properties p = new Properties();
        String file = cfg.get(JobConfig.KAFKA_CONFIG);
        if (!file.isBlank()) {
            try (Reader r = Files.newBufferedReader(Path.of(file))) {
                p.load(r);
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read kafka.config " + file + ": " + e.getMessage());
            }
        }
        return p;
    }

    /** The job graph on the given environment (checkpointing set from the config). */
    public static void build(StreamExecutionEnvironment env, JobConfig cfg) {
        env.enableCheckpointing(
                cfg.getDuration(JobConfig.CHECKPOINT_INTERVAL).toMillis(), CheckpointingMode.EXACTLY_ONCE);
        // checkpoints on a file system: the state of many sockets outgrows the job manager's memory storage
        org.apache.flink.configuration.Configuration storage = new org.apache.flink.configuration.Configuration();
        storage.set(org.apache.flink.configuration.CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        storage.set(
                org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTS_DIRECTORY,
                IcebergTables.warehouseUri(cfg.get(JobConfig.CHECKPOINT_DIR)));
        // the last checkpoint outlives the job, cancelled or killed: a new job can start from it (restore)
        storage.set(
                org.apache.flink.configuration.CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
                org.apache.flink.configuration.ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        Path restore = Checkpoints.resolve(cfg.get(JobConfig.RESTORE), cfg.get(JobConfig.CHECKPOINT_DIR));
        if (restore != null) {
            LOG.info("starting from checkpoint {}", restore);
            storage.set(
                    org.apache.flink.configuration.StateRecoveryOptions.SAVEPOINT_PATH,
                    restore.toUri().toString());
            // the new job owns the checkpoint it starts from, and deletes it once its own supersede it
            storage.set(
                    org.apache.flink.configuration.StateRecoveryOptions.RESTORE_MODE,
                    org.apache.flink.core.execution.RecoveryClaimMode.CLAIM);
        }
        env.configure(storage);
        env.setParallelism(cfg.getInt(JobConfig.PARALLELISM));
        // no defensive copy of every record between chained operators: each source record is a fresh object, and
        // no function changes its input or keeps it beyond the state it writes
        env.getConfig().enableObjectReuse();
        EventDecoder.RegistrySupplier registry = registry(cfg);
        Properties kafka = kafkaProperties(cfg);
        String bootstrap = cfg.get(JobConfig.BOOTSTRAP);

        // the connector takes the reset strategy only in Kafka's deprecated type
        @SuppressWarnings("deprecation")
        OffsetsInitializer start = switch (cfg.get(JobConfig.STARTING_OFFSETS)) {
            case "latest" -> OffsetsInitializer.latest();
            case "committed" -> OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
            default -> OffsetsInitializer.earliest();
        };
        var sourceBuilder = KafkaSource.<Decoded>builder()
                .setBootstrapServers(bootstrap)
                .setTopics(cfg.get(JobConfig.EVENTS_TOPIC))
                .setGroupId(cfg.get(JobConfig.GROUP_ID))
                .setStartingOffsets(start)
                .setDeserializer(new EventDecoder(registry, EventDecoder.Limits.of(cfg)))
                .setProperties(kafka)
                .setProperty("partition.discovery.interval.ms", "30000")
                .setProperty("commit.offsets.on.checkpoint", "true");
        if (cfg.getBoolean(JobConfig.BOUNDED)) {
            sourceBuilder.setBounded(OffsetsInitializer.latest());
        }
        WatermarkStrategy<Decoded> watermarks = WatermarkStrategy.<Decoded>forBoundedOutOfOrderness(
                        cfg.getDuration(JobConfig.OUT_OF_ORDERNESS))
                // a dead letter's time is whatever its producer wrote: it must not move the watermark
                .withTimestampAssigner(
                        (d, kafkaTs) -> d.event != null ? d.event.getTimestamp().toEpochMilli() : Long.MIN_VALUE)
                .withIdleness(cfg.getDuration(JobConfig.IDLENESS));
        SingleOutputStreamOperator<SocketEvent> decoded = env.fromSource(
                        sourceBuilder.build(), watermarks, "sockflow.events")
                .uid("events-source")
                .process(new EventDecoder.Split())
                .returns(BinaryTypeInfo.socketEvents())
                .name("split-dead-letters")
                .uid("split");
        DataStream<DeadLetter> dead = decoded.getSideOutput(EventDecoder.Split.DEAD_LETTERS);
        dead.sinkTo(kafkaSink(
                        cfg,
                        kafka,
                        cfg.get(JobConfig.DEAD_LETTER_TOPIC) + "-dlq",
                        new DeadLetterSerializer(
                                cfg.get(JobConfig.DEAD_LETTER_TOPIC), cfg.getInt(JobConfig.MAX_RECORD_BYTES))))
                .name("dead-letter-sink")
                .uid("dead-letter-sink");

        DataStream<SocketEvent> events = decoded;
        long failAfter = cfg.getLong(JobConfig.FAIL_AFTER);
        long stallAfter = cfg.getLong(JobConfig.STALL_AFTER);
        if (failAfter > 0 || stallAfter > 0) {
            events = events.map(stallAfter > 0 ? new FailOnce(stallAfter, true) : new FailOnce(failAfter))
                    .returns(BinaryTypeInfo.socketEvents())
                    .name("fail-once")
                    .uid("fail-once");
        }
        Set<String> jobs = cfg.getSet(JobConfig.JOBS);
        boolean kafkaOut = cfg.getBoolean(JobConfig.KAFKA_SINK);
        boolean lakeOut = cfg.getBoolean(JobConfig.ICEBERG_SINK);
        CatalogLoader lake = lakeOut ? IcebergTables.catalog(cfg.get(JobConfig.WAREHOUSE)) : null;
        String ns = cfg.get(JobConfig.NAMESPACE);

        if (lake != null && cfg.getBoolean(JobConfig.LAKE_EVENTS)) {
            // every event as it came, for backtests of rules and for forensics; old days are deleted hourly
            IcebergTables.ToRow toRow = new IcebergTables.ToRow(SocketEvent.getClassSchema());
            DataStream<RowData> rows = events.map(new LakeRetention.Rows(toRow, retention(cfg)))
                    .returns(InternalTypeInfo.of(
                            FlinkSchemaUtil.convert(IcebergTables.icebergSchema(SocketEvent.getClassSchema()))))
                    .name("events-rows")
                    .uid("events-rows");
            FlinkSink.forRowData(rows)
                    .tableLoader(TableLoader.fromCatalog(lake, TableIdentifier.of(ns, EVENTS_TABLE)))
                    .uidPrefix("events-iceberg")
                    .append();
        }
        // the results, for the users' rules that read them
        Map<String, DataStream<? extends org.apache.avro.generic.IndexedRecord>> results = new java.util.HashMap<>();
        if (jobs.contains("lifecycle") || jobs.contains("flow")) {
            SingleOutputStreamOperator<SocketLifecycle> lifecycles = events.flatMap(
                            (SocketEvent e, org.apache.flink.util.Collector<SocketEvent> out) ->
                                    SocketKeys.lifecycleInputs(e).forEach(out::collect))
                    .returns(BinaryTypeInfo.socketEvents())
                    .name("socket-events")
                    .uid("socket-events")
                    .keyBy(SocketKeys::key)
                    .process(new LifecycleFunction(
                            cfg.getDuration(JobConfig.CLOSE_GRACE),
                            cfg.getDuration(JobConfig.SOCKET_TIMEOUT),
                            cfg.getDuration(JobConfig.UPDATE_INTERVAL)))
                    .returns(BinaryTypeInfo.records(SocketLifecycle.class))
                    .name("lifecycle")
                    .uid("lifecycle");
            results.put("lifecycles", lifecycles);
            if (jobs.contains("lifecycle")) {
                sinks(
                        cfg,
                        kafka,
                        lifecycles,
                        JobConfig.LIFECYCLES_TOPIC,
                        SocketLifecycle.getClassSchema(),
                        io.sockflow.schemas.SocketIdentity::key,
                        lake,
                        ns,
                        LIFECYCLES_TABLE,
                        kafkaOut,
                        "lifecycles");
            }
            if (jobs.contains("flow")) {
                TypeInformation<LifecycleChange> change = BinaryTypeInfo.lifecycleChanges();
                // filtered on each side of the union, in the lifecycle task: the union then feeds the flow shuffle
                // directly instead of through a task of its own
                DataStream<LifecycleChange> published = lifecycles
                        .filter(FlowKeys::isFlowSide)
                        .name("flow-sides")
                        .uid("flow-sides")
                        .map(l -> new LifecycleChange(l, true))
                        .returns(change)
                        .name("published")
                        .uid("published")
                        // the flow's inputs never idle: see NeverIdle for the flow END that never came without it
                        .transform("published-never-idle", change, new NeverIdle<>())
                        .uid("published-never-idle");
                DataStream<LifecycleChange> notices = lifecycles
                        .getSideOutput(LifecycleFunction.CONNECTED)
                        .filter(FlowKeys::isFlowSide)
                        .name("flow-side-notices")
                        .uid("flow-side-notices")
                        .map(l -> new LifecycleChange(l, false))
                        .returns(change)
                        .name("connected")
                        .uid("connected")
                        .transform("connected-never-idle", change, new NeverIdle<>())
                        .uid("connected-never-idle");
                boolean fleet = "fleet".equals(cfg.get(JobConfig.FLOW_SCOPE));
                DataStream<Flow> flows = published
                        .union(notices)
                        .keyBy(c -> FlowKeys.key(c.record, fleet))
                        .process(new FlowFunction(cfg.getDuration(JobConfig.FLOW_PAIR_GRACE)))
                        .returns(BinaryTypeInfo.records(Flow.class))
                        .name("flow")
                        .uid("flow");
                results.put("flows", flows);
                sinks(
                        cfg,
                        kafka,
                        flows,
                        JobConfig.FLOWS_TOPIC,
                        Flow.getClassSchema(),
                        Flow::getFlowId,
                        lake,
                        ns,
                        FLOWS_TABLE,
                        kafkaOut,
                        "flows");
            }
        }
        if (jobs.contains("detection")) {
            TypeInformation<Alert> alertType = BinaryTypeInfo.records(Alert.class);
            DataStream<Alert> single = events.flatMap(
                            new SingleEventRules(cfg.getSet(JobConfig.SHELLS), cfg.getSet(JobConfig.INTERPRETERS)))
                    .returns(alertType)
                    .name("single-event-rules")
                    .uid("single-event-rules");
            DataStream<Alert> processes = events.filter(ProcessRules::isInput)
                    .name("execs-and-pairs")
                    .uid("execs-and-pairs")
                    .keyBy(BurstRules::processKey)
                    .process(new ProcessRules(cfg.getSet(JobConfig.SOCKETPAIR_ALLOW)))
                    .returns(alertType)
                    .name("process-rules")
                    .uid("process-rules");
            DataStream<Alert> scans = events.filter(
                            e -> BurstRules.failedConnectPort(e) != null && BurstRules.scanTarget(e) != null)
                    .name("failed-connects")
                    .uid("failed-connects")
                    .keyBy(e -> BurstRules.processKey(e) + "|" + BurstRules.scanTarget(e))
                    .window(TumblingEventTimeWindows.of(cfg.getDuration(JobConfig.SCAN_WINDOW)))
                    .process(new BurstRules.PortScan(cfg.getInt(JobConfig.SCAN_PORTS)))
                    .returns(alertType)
                    .name("port-scan")
                    .uid("port-scan");
            DataStream<Alert> recon = events.filter(BurstRules::reconInput)
                    .name("name-calls")
                    .uid("name-calls")
                    .keyBy(BurstRules::processKey)
                    .window(TumblingEventTimeWindows.of(cfg.getDuration(JobConfig.RECON_WINDOW)))
                    .process(new BurstRules.Recon(cfg.getInt(JobConfig.RECON_CALLS)))
                    .returns(alertType)
                    .name("socket-recon")
                    .uid("socket-recon");
            Set<Integer> allowPorts = new TreeSet<>();
            for (String s : cfg.getList(JobConfig.LISTENER_ALLOW)) {
                allowPorts.add(Integer.parseInt(s));
            }
            int[] ephemeral = ephemeralRange(cfg.get(JobConfig.LISTENER_EPHEMERAL));
            DataStream<Alert> listeners = events.filter(NewListenerRule::isInput)
                    .name("listens")
                    .uid("listens")
                    .keyBy(SocketEvent::getHost)
                    .process(new NewListenerRule(
                            cfg.getDuration(JobConfig.LISTENER_LEARNING), allowPorts, ephemeral[0], ephemeral[1]))
                    .returns(alertType)
                    .name("new-listener")
                    .uid("new-listener");
            Set<String> sockoptRules = cfg.getSet(JobConfig.SOCKOPT_RULES);
            DataStream<Alert> sockopts = events.flatMap(
                            new SockoptRules(sockoptRules, cfg.getSet(JobConfig.SOCKOPT_ALLOW)))
                    .returns(alertType)
                    .name("sockopt-rules")
                    .uid("sockopt-rules");
            boolean probe = sockoptRules.contains("sockopt-probe");
            DataStream<Alert> probes = events.filter(e -> probe && SockoptRules.isGetsockopt(e))
                    .name("getsockopts")
                    .uid("getsockopts")
                    .keyBy(BurstRules::processKey)
                    .window(TumblingEventTimeWindows.of(cfg.getDuration(JobConfig.SOCKOPT_PROBE_WINDOW)))
                    .process(new SockoptRules.Probe(cfg.getInt(JobConfig.SOCKOPT_PROBE_OPTIONS)))
                    .returns(alertType)
                    .name("sockopt-probe")
                    .uid("sockopt-probe");
            DataStream<Alert> uring = events.filter(IoUringRule::isInput)
                    .name("io-uring-requests")
                    .uid("io-uring-requests")
                    .keyBy(BurstRules::processKey)
                    .window(TumblingEventTimeWindows.of(cfg.getDuration(JobConfig.IO_URING_WINDOW)))
                    .process(new IoUringRule(cfg.getSet(JobConfig.IO_URING_ALLOW)))
                    .returns(alertType)
                    .name("io-uring-network")
                    .uid("io-uring-network");
            DataStream<Alert> found = single.union(processes, scans, recon, listeners, sockopts, probes, uring);
            List<UserRules.Rule> userRules = UserRules.load(cfg.get(JobConfig.RULES_DIR));
            if (!userRules.isEmpty()) {
                found = found.union(SqlRules.build(env, events, results, userRules));
            }
            // each alert with its process's context: the exec that started its program
            DataStream<Alert> alerts = events.filter(AlertContext::isExec)
                    .name("execs")
                    .uid("execs")
                    .keyBy(BurstRules::processKey)
                    .connect(found.keyBy(AlertContext::key))
                    .process(new AlertContext())
                    .returns(alertType)
                    .name("alert-context")
                    .uid("alert-context");
            alerts = alerts.keyBy(AlertSuppression::key)
                    .process(new AlertSuppression(cfg.getDuration(JobConfig.ALERT_FOLD_WINDOW)))
                    .returns(alertType)
                    .name("alert-folding")
                    .uid("alert-folding");
            sinks(
                    cfg,
                    kafka,
                    alerts,
                    JobConfig.ALERTS_TOPIC,
                    Alert.getClassSchema(),
                    Alert::getAlertId,
                    lake,
                    ns,
                    ALERTS_TABLE,
                    kafkaOut,
                    "alerts");
        }
    }

    /** "LOW-HIGH" (detect.listener.ephemeral); empty is no range. */
    static int[] ephemeralRange(String range) {
        if (range == null || range.isBlank()) {
            return new int[] {0, -1};
        }
        String[] parts = range.strip().split("-");
        try {
            int low = Integer.parseInt(parts[0].strip());
            int high = Integer.parseInt(parts[parts.length - 1].strip());
            if (parts.length != 2 || low < 0 || high > 65535 || low > high) {
                throw new NumberFormatException();
            }
            return new int[] {low, high};
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("detect.listener.ephemeral '" + range
                    + "' is not a port range: give LOW-HIGH, e.g. 32768-60999 (or empty)");
        }
    }

    private static <T extends SpecificRecord> void sinks(
            JobConfig cfg,
            Properties kafka,
            DataStream<T> stream,
            JobConfig.Option topicOption,
            Schema schema,
            AvroRecordSerializer.KeyOf<T> key,
            CatalogLoader lake,
            String ns,
            String table,
            boolean kafkaOut,
            String name) {
        String topic = cfg.get(topicOption);
        EventDecoder.RegistrySupplier registry = registry(cfg);
        if (kafkaOut) {
            stream.sinkTo(kafkaSink(
                            cfg,
                            kafka,
                            name,
                            new AvroRecordSerializer<>(
                                    topic, schema, registry, key, cfg.getInt(JobConfig.MAX_RECORD_BYTES))))
                    .name(name + "-kafka")
                    .uid(name + "-kafka");
        }
        if (lake != null) {
            org.apache.iceberg.Schema icebergSchema = IcebergTables.icebergSchema(schema);
            IcebergTables.ToRow toRow = new IcebergTables.ToRow(schema);
            DataStream<RowData> rows = stream.map(toRow::apply)
                    .returns(InternalTypeInfo.of(FlinkSchemaUtil.convert(icebergSchema)))
                    .name(name + "-rows")
                    .uid(name + "-rows");
            FlinkSink.forRowData(rows)
                    .tableLoader(TableLoader.fromCatalog(lake, TableIdentifier.of(ns, table)))
                    .uidPrefix(name + "-iceberg")
                    .append();
        }
    }

    /** The registry client each task makes for itself (a serializable recipe, not a client). */
    static EventDecoder.RegistrySupplier registry(JobConfig cfg) {
        String url = cfg.get(JobConfig.REGISTRY);
        String auth = cfg.get(JobConfig.REGISTRY_AUTH);
        return () -> {
            RegistryClient.Config c = RegistryClient.Config.of(url);
            return new RegistryClient(auth.isBlank() ? c : c.withBasicAuth(auth));
        };
    }

    private static <T> KafkaSink<T> kafkaSink(
            JobConfig cfg,
            Properties kafka,
            String name,
            org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema<T> serializer) {
        Properties p = new Properties();
        p.putAll(kafka);
        // below the brokers' transaction.max.timeout.ms (15 min by default), above any checkpoint's duration
        p.put("transaction.timeout.ms", "600000");
        p.put("compression.type", "lz4");
        return KafkaSink.<T>builder()
                .setBootstrapServers(cfg.get(JobConfig.BOOTSTRAP))
                .setKafkaProducerConfig(p)
                .setRecordSerializer(serializer)
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(cfg.get(JobConfig.TRANSACTION_PREFIX) + "-" + name)
                .build();
    }

    /**
     * The restart strategy of sockflow's own runs ({@code up}, the tests of failure): exponential delay from 1 s to
     * 30 s, with no limit on attempts. A record the jobs cannot use does not fail them (it is dead-lettered), so what
     * fails them is the world around: a registry, broker or disk away for a while. A few attempts and then FAILED
     * turned such a spell into a stopped pipeline that every later start resumed into; retrying ever more slowly
     * picks up by itself once it is back, and restarts from the last checkpoint lose nothing. (A Flink cluster with
     * checkpointing defaults to the same kind.)
     */
    public static org.apache.flink.configuration.Configuration restartForever(
            org.apache.flink.configuration.Configuration conf) {
        conf.setString("restart-strategy.type", "exponential-delay");
        conf.setString("restart-strategy.exponential-delay.initial-backoff", "1s");
        conf.setString("restart-strategy.exponential-delay.max-backoff", "30s");
        conf.setString("restart-strategy.exponential-delay.backoff-multiplier", "2.0");
        conf.setString("restart-strategy.exponential-delay.reset-backoff-threshold", "5min");
        conf.setString("restart-strategy.exponential-delay.jitter-factor", "0.1");
        conf.setString(
                "restart-strategy.exponential-delay.attempts-before-reset-backoff",
                Integer.toString(Integer.MAX_VALUE));
        return conf;
    }

    /** Runs the job graph and waits (local environments; tests). */
    public static JobExecutionResult run(StreamExecutionEnvironment env, JobConfig cfg) throws Exception {
        prepare(cfg);
        build(env, cfg);
        return env.execute("sockflow jobs");
    }
}
