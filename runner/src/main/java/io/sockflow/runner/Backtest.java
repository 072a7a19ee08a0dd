package io.sockflow.runner;

import io.sockflow.collector.transport.KafkaOutput;
import io.sockflow.embedded.LocalStack;
import io.sockflow.jobs.SockflowJob;
import io.sockflow.jobs.config.JobConfig;
import io.sockflow.jobs.detect.SqlRules;
import io.sockflow.jobs.detect.UserRules;
import io.sockflow.schemas.Alert;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.registry.ConfluentAvro;
import io.sockflow.schemas.registry.RegistryClient;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * {@code sockflow backtest FILE}: what the detection rules (the built-in ones and the users' SQL rules) would have
 * raised on a recorded capture. The capture goes through the very job that runs live, on a private broker and
 * registry on loopback, bounded and at the capture's own times; every alert is printed with its evidence.
 */
public final class Backtest {
    static final String USAGE = """
            usage: sockflow backtest [FILE] [RULE.sql] [--lake DIR] [--since DURATION] [--set KEY=VALUE ...] [--quiet]

            Runs the detection rules over recorded events and prints the alerts they would have raised, each with its
            evidence, then their count. Nothing leaves this host: the events go through the live job on a private
            broker on 127.0.0.1, at their own times.

              FILE                 a capture file (sockflow collect --output file), or sample (the one that ships)
              RULE.sql             one rule of yours: it runs beside the built-in rules and only its alerts are
                                   printed; without FILE it runs over the lake's events
              --lake DIR           the events of a lake instead of a capture: a warehouse folder, or the data
                                   folder of up (default data/warehouse when RULE.sql is given without FILE)
              --since DURATION     with a lake: the events of this last stretch of time (default 7d), e.g. 2h, 3d
              --set KEY=VALUE      a job setting (repeatable), e.g. --set detect.rules.dir=./rules or
                                   --set detect.portscan.ports=10 (sockflow config --explain jobs lists them)
              --quiet              the alerts' one-line summaries only, without evidence
            """;

    private Backtest() {}

    public static void main(String[] args) {
        System.setProperty("log4j.shutdownHookEnabled", "false");
        // a short batch run: the libraries' warnings (offset commits racing the broker's start, source settings
        // they override) say nothing about the rules; their errors still show, and sockflow's own lines
        org.apache.logging.log4j.core.config.Configurator.setRootLevel(org.apache.logging.log4j.Level.ERROR);
        org.apache.logging.log4j.core.config.Configurator.setLevel("io.sockflow", org.apache.logging.log4j.Level.WARN);
        System.exit(run(args, System.out));
    }

    static int run(String[] args, PrintStream out) {
        String file = null;
        String ruleFile = null;
        String lake = null;
        java.time.Duration since = java.time.Duration.ofDays(7);
        boolean quiet = false;
        Map<String, String> sets = new LinkedHashMap<>();
        try {
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--help", "-h" -> {
                        out.print(USAGE);
                        return 0;
                    }
                    case "--quiet" -> quiet = true;
                    case "--set" -> {
                        String pair = value(args, i++, a);
                        int eq = pair.indexOf('=');
                        if (eq <= 0) {
                            throw new IllegalArgumentException("--set " + pair + ": give KEY=VALUE");
                        }
                        Up.Options.jobSetting(pair.substring(0, eq), pair.substring(eq + 1), sets);
                    }
                    case "--lake" -> lake = value(args, i++, a);
                    case "--since" -> {
                        String v = value(args, i++, a);
                        try {
                            since = io.sockflow.schemas.config.Durations.parse(v);
                        } catch (IllegalArgumentException e) {
                            throw new IllegalArgumentException(
                                    "--since " + v + ": " + e.getMessage() + ": give a duration such as 2h or 7d");
                        }
                    }
                    default -> {
                        if (a.startsWith("-")) {
                            throw new IllegalArgumentException("unknown argument '" + a + "'");
                        } else if (a.endsWith(".sql") && ruleFile == null) {
                            ruleFile = a;
                        } else if (!a.endsWith(".sql") && file == null) {
                            file = a;
                        } else {
                            throw new IllegalArgumentException("unknown argument '" + a + "'");
                        }
                    }
                }
            }
            if (file != null && lake != null) {
                throw new IllegalArgumentException("give a capture FILE or --lake, not both");
            }
            if (file == null && lake == null) {
                if (ruleFile == null) {
                    throw new IllegalArgumentException("give the capture file to test the rules on, or --lake DIR");
                }
                lake = "data/warehouse";
            }
        } catch (IllegalArgumentException e) {
            System.err.println("sockflow backtest: " + e.getMessage() + " (see sockflow backtest --help)");
            return 2;
        }
        Path dir = null;
        try {
            dir = Files.createTempDirectory("sockflow-backtest");
            String onlyRule = null;
            if (ruleFile != null) {
                // the one rule, alone in a rules folder of its own
                Path rule = Path.of(ruleFile);
                if (!Files.isRegularFile(rule)) {
                    System.err.println("sockflow backtest: " + ruleFile + ": no such rule file");
                    return 2;
                }
                Path rules = Files.createDirectories(dir.resolve("rules"));
                Files.copy(rule, rules.resolve(rule.getFileName().toString()));
                sets.put(JobConfig.RULES_DIR.name(), rules.toString());
            }
            String rulesDir = sets.getOrDefault(JobConfig.RULES_DIR.name(), JobConfig.RULES_DIR.defaultValue());
            try {
                List<UserRules.Rule> loaded = UserRules.load(rulesDir);
                int rules = SqlRules.check(loaded);
                if (ruleFile != null) {
                    onlyRule = loaded.get(0).name();
                    out.println("backtest: rule " + onlyRule + " from " + ruleFile);
                } else if (rules > 0) {
                    out.println("backtest: " + rules + " user rule" + (rules == 1 ? "" : "s") + " from " + rulesDir);
                }
            } catch (UserRules.RuleException e) {
                System.err.println("sockflow backtest: " + e.getMessage());
                return 2;
            }
            List<SocketEvent> events;
            if (lake != null) {
                String ns = sets.getOrDefault(JobConfig.NAMESPACE.name(), JobConfig.NAMESPACE.defaultValue());
                try {
                    events = LakeEvents.read(lake, ns, java.time.Instant.now().minus(since));
                } catch (IllegalArgumentException e) {
                    System.err.println("sockflow backtest: " + e.getMessage());
                    return 2;
                }
                out.println("backtest: " + events.size() + " events of the lake " + lake + " since "
                        + java.time.Instant.now().minus(since).truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
                        + " through the detection job");
            } else {
                try {
                    events = Replay.load(file);
                } catch (UncheckedIOException | org.apache.avro.AvroRuntimeException e) {
                    System.err.println("sockflow backtest: " + file + " is not a capture sockflow can read ("
                            + e.getMessage() + "): record one with sockflow collect --output file --file FILE");
                    return 2;
                }
                out.println("backtest: " + events.size() + " events of " + file + " through the detection job");
            }
            List<Alert> alerts = detect(events, sets, dir);
            int others = 0;
            int shown = 0;
            for (Alert a : alerts) {
                if (onlyRule != null && !onlyRule.equals(a.getRule())) {
                    others++;
                    continue;
                }
                shown++;
                out.println(a.getTimestamp() + "  " + a.getSeverity() + "  " + a.getRule() + "  " + a.getHost()
                        + " pid " + a.getPid() + " (" + a.getComm() + "): " + a.getSummary());
                if (!quiet) {
                    for (String ev : a.getEvidence()) {
                        out.println("    " + ev);
                    }
                }
            }
            out.println("backtest: " + shown + " alert" + (shown == 1 ? "" : "s")
                    + (onlyRule == null
                            ? ""
                            : " of " + onlyRule + " (" + others + " of the built-in rules not shown)"));
            return 0;
        } catch (Exception e) {
            System.err.println("sockflow backtest: the detection job failed: " + e.getMessage());
            return 1;
        } finally {
            if (dir != null) {
                DataFolder.deleteTree(dir);
            }
        }
    }

    private static String value(String[] args, int i, String flag) {
        if (i + 1 >= args.length) {
            throw new IllegalArgumentException(flag + " needs a value");
        }
        return args[i + 1];
    }

    /** The alerts the detection job raises on {@code events}, by time. */
    static List<Alert> detect(List<SocketEvent> events, Map<String, String> sets, Path dir) throws Exception {
        int[] ports = io.sockflow.embedded.LoopbackPorts.free(2);
        try (LocalStack stack = LocalStack.start(dir.resolve("kafka"), ports[0], ports[1])) {
            Map<String, String> m = new HashMap<>();
            m.put("bootstrap.servers", stack.bootstrapServers());
            m.put("registry.url", stack.registryUrl());
            m.put("jobs", "detection");
            m.put("bounded", "true");
            m.put("starting.offsets", "earliest");
            m.put("sink.iceberg", "false");
            m.put("checkpoint.dir", dir.resolve("checkpoints").toString());
            m.put("warehouse", dir.resolve("warehouse").toString());
            m.put("checkpoint.interval", "1s");
            m.put("group.id", "sockflow-backtest");
            m.put("transactional.id.prefix", "sockflow-backtest");
            m.putAll(sets);
            JobConfig cfg = JobConfig.of(m);
            SockflowJob.prepare(cfg);
            String topic = cfg.get(JobConfig.EVENTS_TOPIC);
            RegistryClient registry = new RegistryClient(RegistryClient.Config.of(stack.registryUrl()));
            ConfluentAvro.Serializer<SocketEvent> ser =
                    new ConfluentAvro.Serializer<>(registry, topic, SocketEvent.getClassSchema());
            Properties p = new Properties();
            p.put("bootstrap.servers", stack.bootstrapServers());
            p.put("acks", "all");
            p.put("enable.idempotence", "true");
            // one request in flight: the first sends to a topic made a moment ago can meet a broker that does not lead
            // its partition yet; retried one at a time they stay in order, where batches in flight behind a refused one
            // are refused as out of sequence until they time out
            p.put("max.in.flight.requests.per.connection", "1");
            List<java.util.concurrent.Future<org.apache.kafka.clients.producer.RecordMetadata>> sent =
                    new ArrayList<>();
            try (KafkaProducer<byte[], byte[]> producer =
                    new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
                for (SocketEvent e : events) {
                    sent.add(producer.send(new ProducerRecord<>(topic, KafkaOutput.key(e), ser.serialize(e))));
                }
                producer.flush();
                int lost = 0;
                Throwable cause = null;
                for (var f : sent) {
                    try {
                        f.get();
                    } catch (java.util.concurrent.ExecutionException x) {
                        lost++;
                        cause = x.getCause();
                    }
                }
                if (lost > 0) {
                    // a backtest over part of the events would say less than the events do: none at all instead
                    throw new IllegalStateException("the local Kafka did not take " + lost + " of " + events.size()
                            + " events (" + cause + "); run the backtest again");
                }
            }
            Configuration conf = new Configuration();
            conf.setString("restart-strategy.type", "none");
            StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
            SockflowJob.run(env, cfg);
            List<Alert> alerts = readAlerts(stack.bootstrapServers(), cfg.get(JobConfig.ALERTS_TOPIC), registry);
            alerts.sort(Comparator.comparing(Alert::getTimestamp).thenComparing(Alert::getRule));
            return alerts;
        }
    }

    /** Every committed alert on {@code topic}. */
    static List<Alert> readAlerts(String bootstrap, String topic, RegistryClient registry) {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", bootstrap);
        c.put("isolation.level", "read_committed");
        c.put("enable.auto.commit", "false");
        ConfluentAvro.Deserializer<Alert> de = new ConfluentAvro.Deserializer<>(registry, Alert.getClassSchema());
        List<Alert> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = consumer.partitionsFor(topic).stream()
                    .map(i -> new TopicPartition(topic, i.partition()))
                    .toList();
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            Map<TopicPartition, Long> end = consumer.endOffsets(parts);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (System.nanoTime() < deadline) {
                boolean done = true;
                for (TopicPartition tp : parts) {
                    done &= consumer.position(tp) >= end.get(tp);
                }
                if (done) {
                    break;
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.value() != null) {
                        out.add(de.deserialize(r.value()));
                    }
                }
            }
        }
        return out;
    }
}
