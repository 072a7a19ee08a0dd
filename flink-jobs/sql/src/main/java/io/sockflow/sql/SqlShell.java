package io.sockflow.sql;

import io.sockflow.schemas.Alert;
import io.sockflow.schemas.Flow;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.SocketLifecycle;
import io.sockflow.schemas.config.Check;
import io.sockflow.schemas.config.Flags;
import io.sockflow.schemas.config.Validators;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/**
 * {@code sockflow sql}: Flink SQL on sockflow's results. The catalog {@code lake} is the Iceberg warehouse the jobs
 * write (tables {@code lake.sockflow.lifecycles}, {@code flows}, {@code alerts}) and is the current one, so
 * {@code flows} alone works; the catalog {@code kafka} has one table per topic ({@code kafka.sockflow.events},
 * {@code lifecycles}, {@code flows}, {@code alerts}) read through the schema registry. Runs one statement
 * ({@code -e}), a file of them ({@code -f}), or a prompt.
 */
public final class SqlShell {
    private final TableEnvironment env;

    /** The default topic of each Kafka table. */
    public static final Map<String, String> TOPICS = Map.of(
            "events",
            "sockflow.events",
            "lifecycles",
            "sockflow.lifecycles",
            "flows",
            "sockflow.flows",
            "alerts",
            "sockflow.alerts");

    private static final Map<String, Schema> SCHEMAS = Map.of(
            "events",
            SocketEvent.getClassSchema(),
            "lifecycles",
            SocketLifecycle.getClassSchema(),
            "flows",
            Flow.getClassSchema(),
            "alerts",
            Alert.getClassSchema());

    public SqlShell(String warehouse, String namespace, boolean streaming) {
        this(warehouse, namespace, streaming, null, TOPICS);
    }

    /** With {@code kafka} set, also the catalog {@code kafka}: one table per topic ({@code kafka.sockflow.flows}, ...). */
    public SqlShell(
            String warehouse,
            String namespace,
            boolean streaming,
            KafkaTables.Kafka kafka,
            Map<String, String> topics) {
        EnvironmentSettings.Builder settings = EnvironmentSettings.newInstance()
                .withConfiguration(LocalCluster.secured(
                        warehouse.contains("://") ? null : Path.of(warehouse.replaceFirst("^file:", ""))));
        env = TableEnvironment.create((streaming ? settings.inStreamingMode() : settings.inBatchMode()).build());
        if (kafka != null) {
            env.executeSql("CREATE CATALOG kafka WITH ('type'='generic_in_memory', 'default-database'='sockflow')");
            for (Map.Entry<String, String> t : new TreeMap<>(topics).entrySet()) {
                env.executeSql(KafkaTables.ddl(
                        "kafka.sockflow.`" + t.getKey() + "`",
                        t.getValue(),
                        SCHEMAS.get(t.getKey()),
                        new KafkaTables.Kafka(
                                kafka.bootstrapServers(),
                                kafka.registryUrl(),
                                kafka.registryUserInfo(),
                                !streaming,
                                kafka.client())));
            }
        }
        env.getConfig().set("table.display.max-column-width", "20");
        env.getConfig().set("parallelism.default", "1");
        String uri = warehouse.contains("://") || warehouse.startsWith("file:")
                ? warehouse
                : Path.of(warehouse).toAbsolutePath().normalize().toUri().toString();
        env.executeSql("CREATE CATALOG lake WITH ('type'='iceberg', 'catalog-type'='hadoop', 'warehouse'='" + uri
                + "', 'default-database'='" + namespace + "')");
        env.executeSql("USE CATALOG lake");
    }

    public TableResult execute(String sql) {
        return env.executeSql(sql);
    }

    /** Every row of a query, for tests and scripts. */
    public List<Row> rows(String sql) {
        List<Row> out = new ArrayList<>();
        try (CloseableIterator<Row> it = env.executeSql(sql).collect()) {
            it.forEachRemaining(out::add);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    /** Statements of a script: split on ';' at line ends, comments (--) dropped. */
    public static List<String> statements(String script) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (String line : script.split("\n")) {
            String t = line.strip();
            if (t.startsWith("--") || t.isEmpty()) {
                continue;
            }
            cur.append(line).append('\n');
            if (t.endsWith(";")) {
                String s = cur.toString().strip();
                out.add(s.substring(0, s.length() - 1));
                cur.setLength(0);
            }
        }
        if (!cur.toString().isBlank()) {
            out.add(cur.toString().strip());
        }
        return out;
    }

    static String usage() {
        return """
                usage: sockflow sql [--warehouse DIR] [--namespace NS] [--bootstrap-servers HOSTS] [--registry-url URL]
                                    [--kafka-config FILE] [--streaming] [-e SQL | -f FILE]

                Flink SQL on sockflow's results: the lake tables (catalog `lake`, the current one: lifecycles, flows,
                alerts) and the Kafka topics (catalog `kafka`: kafka.sockflow.events, lifecycles, flows, alerts).
                Without -e or -f, a prompt: end each statement with ';', quit with Ctrl-D.
                  --warehouse DIR            the jobs' warehouse (default data/warehouse; env SOCKFLOW_WAREHOUSE)
                  --namespace NS             the Iceberg namespace (default sockflow)
                  --bootstrap-servers HOSTS  Kafka (default 127.0.0.1:9092; env SOCKFLOW_BOOTSTRAP_SERVERS)
                  --registry-url URL         schema registry (default http://127.0.0.1:8081; env SOCKFLOW_REGISTRY_URL)
                  --kafka-config FILE        Kafka client settings (SASL, TLS); default: the kafka-admin.properties,
                                             else kafka-reader.properties, beside --warehouse that you can read
                  --streaming                streaming mode (default batch: Kafka tables read up to their end)
                """;
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** The shell's settings, declared once and read by sockflow's one flag parser. */
    static final ConfigDef DEFINITION = new ConfigDef()
            .define(
                    "warehouse",
                    ConfigDef.Type.STRING,
                    "data/warehouse",
                    new ConfigDef.NonEmptyString(),
                    ConfigDef.Importance.HIGH,
                    "The jobs' Iceberg warehouse.")
            .define(
                    "namespace",
                    ConfigDef.Type.STRING,
                    "sockflow",
                    new ConfigDef.NonEmptyString(),
                    ConfigDef.Importance.LOW,
                    "The Iceberg namespace.")
            .define(
                    "bootstrap.servers",
                    ConfigDef.Type.STRING,
                    "127.0.0.1:9092",
                    Validators.hostPorts(),
                    ConfigDef.Importance.MEDIUM,
                    "Kafka, for the kafka catalog.")
            .define(
                    "registry.url",
                    ConfigDef.Type.STRING,
                    "http://127.0.0.1:8081",
                    Validators.urls(),
                    ConfigDef.Importance.MEDIUM,
                    "The schema registry.")
            .define(
                    "kafka.config",
                    ConfigDef.Type.STRING,
                    null,
                    ConfigDef.Importance.MEDIUM,
                    "Properties file of Kafka client settings (SASL, TLS) for the kafka catalog; default: up's "
                            + "kafka-admin.properties, else kafka-reader.properties, beside the warehouse, if readable.")
            .define(
                    "streaming",
                    ConfigDef.Type.BOOLEAN,
                    false,
                    ConfigDef.Importance.LOW,
                    "Streaming mode (default batch: Kafka tables read up to their end).")
            .define("execute", ConfigDef.Type.STRING, null, ConfigDef.Importance.MEDIUM, "SQL to run (-e).")
            .define("file", ConfigDef.Type.STRING, null, ConfigDef.Importance.MEDIUM, "A file of SQL to run (-f).");

    /** The environment variables the shell reads, shared with the collector's names (SOCKFLOW_ + the setting). */
    private static final java.util.Set<String> FROM_ENV =
            java.util.Set.of("warehouse", "bootstrap.servers", "registry.url", "kafka.config");

    /**
     * The given file's settings; without one, those of up's credentials beside the warehouse (its broker asks for
     * them): the admin's when this user can read them, else the reader's (the result topics only), else none.
     */
    static Map<String, String> kafkaClient(String file, Path warehouse) throws java.io.IOException {
        if (file != null) {
            return KafkaTables.Kafka.load(Path.of(file));
        }
        Path data = warehouse.toAbsolutePath().getParent();
        for (String name : List.of("kafka-admin.properties", "kafka-reader.properties")) {
            Path f = data == null ? null : data.resolve(name);
            if (f != null && Files.isReadable(f)) {
                return KafkaTables.Kafka.load(f);
            }
        }
        return Map.of();
    }

    static int run(String[] args) {
        List<String> given = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "-h", "--help" -> {
                    System.out.print(usage());
                    return 0;
                }
                // SQL may begin with a -- comment: glued to its flag, it is never read as a flag itself
                case "-e", "--execute", "-f", "--file" ->
                    given.add(
                            i + 1 < args.length
                                    ? (a.equals("-e") || a.equals("--execute") ? "--execute=" : "--file=") + args[++i]
                                    : a);
                default -> given.add(a);
            }
        }
        Map<String, String> env = new java.util.HashMap<>();
        for (String name : FROM_ENV) {
            String v = System.getenv(Flags.envName("SOCKFLOW_", name));
            if (v != null) {
                env.put(Flags.envName("SOCKFLOW_", name), v);
            }
        }
        Map<String, Object> v;
        try {
            Map<String, String> values = Flags.collect(DEFINITION, given, env, "SOCKFLOW_");
            Check.values(DEFINITION, values);
            v = DEFINITION.parse(values);
        } catch (ConfigException e) {
            String m = e.getMessage();
            System.err.println("sockflow sql: " + m + (m.contains("--help") ? "" : " (see sockflow sql --help)"));
            return 2;
        }
        String warehouse = (String) v.get("warehouse");
        String namespace = (String) v.get("namespace");
        boolean streaming = (Boolean) v.get("streaming");
        String sql = (String) v.get("execute");
        String file = (String) v.get("file");
        String bootstrap = (String) v.get("bootstrap.servers");
        String registry = (String) v.get("registry.url");
        String userInfo = System.getenv("SOCKFLOW_REGISTRY_BASIC_AUTH_USER_INFO");
        if (file != null && !Files.isReadable(Path.of(file))) {
            System.err.println("sockflow sql: -f " + file + " is not a readable file");
            return 2;
        }
        Path wh = Path.of(warehouse.replaceFirst("^file:", ""));
        if (!warehouse.contains("://") && !Files.isDirectory(wh.resolve(namespace))) {
            System.err.println("sockflow sql: no sockflow tables under " + wh.toAbsolutePath()
                    + ": run `sockflow up` (or the jobs) first, or point --warehouse at their warehouse");
            return 3;
        }
        Map<String, String> kafkaClient;
        try {
            kafkaClient = kafkaClient((String) v.get("kafka.config"), wh);
        } catch (java.io.IOException e) {
            System.err.println("sockflow sql: --kafka-config " + v.get("kafka.config") + " cannot be read ("
                    + e.getMessage() + "): give a readable Kafka client properties file");
            return 2;
        }
        SqlShell shell = new SqlShell(
                warehouse,
                namespace,
                streaming,
                new KafkaTables.Kafka(bootstrap, registry, userInfo, !streaming, kafkaClient),
                TOPICS);
        try {
            if (sql != null || file != null) {
                String script = sql != null ? sql : Files.readString(Path.of(file), StandardCharsets.UTF_8);
                for (String s : statements(script)) {
                    shell.execute(s).print();
                }
                return 0;
            }
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            StringBuilder buf = new StringBuilder();
            System.out.print("sockflow> ");
            System.out.flush();
            for (String line; (line = in.readLine()) != null; ) {
                buf.append(line).append('\n');
                if (line.strip().endsWith(";")) {
                    for (String s : statements(buf.toString())) {
                        try {
                            shell.execute(s).print();
                        } catch (RuntimeException e) {
                            System.err.println("error: " + rootMessage(e));
                        }
                    }
                    buf.setLength(0);
                }
                System.out.print(buf.isEmpty() ? "sockflow> " : "       -> ");
                System.out.flush();
            }
            return 0;
        } catch (IOException e) {
            System.err.println("sockflow sql: " + e.getMessage());
            return 1;
        } catch (RuntimeException e) {
            System.err.println("sockflow sql: " + rootMessage(e));
            return 1;
        }
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (" + t.getMessage() + ")";
    }
}
