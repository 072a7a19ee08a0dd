package io.sockflow.sql;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.embedded.LocalStack;
import io.sockflow.schemas.Alert;
import io.sockflow.schemas.Flow;
import io.sockflow.schemas.FlowRecordType;
import io.sockflow.schemas.Severity;
import io.sockflow.schemas.registry.ConfluentAvro;
import io.sockflow.schemas.registry.RegistryClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.flink.types.Row;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kafka catalog: records written in the Confluent wire format through the embedded registry (as the jobs
 * write them) are read back by Flink SQL's avro-confluent format, enums as strings, timestamps, maps and arrays.
 */
@Tag("slow")
class KafkaTablesTest {
    @TempDir
    static Path dir;

    @Test
    void flowsAndAlertsOnKafkaAreQueryable() throws Exception {
        LocalStack stack = LocalStack.shared();
        String suffix = UUID.randomUUID().toString();
        String flows = "sql-flows-" + suffix;
        String alerts = "sql-alerts-" + suffix;
        Properties p = new Properties();
        p.put("bootstrap.servers", stack.bootstrapServers());
        try (Admin admin = Admin.create(p)) {
            admin.createTopics(List.of(new NewTopic(flows, 2, (short) 1), new NewTopic(alerts, 1, (short) 1)))
                    .all()
                    .get();
        }
        RegistryClient registry = new RegistryClient(RegistryClient.Config.of(stack.registryUrl()));
        var flowSer = new ConfluentAvro.Serializer<Flow>(registry, flows, Flow.getClassSchema());
        var alertSer = new ConfluentAvro.Serializer<Alert>(registry, alerts, Alert.getClassSchema());
        Instant t = Instant.parse("2026-11-25T10:00:00.123456Z");
        try (KafkaProducer<byte[], byte[]> prod =
                new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < 3; i++) {
                Flow f = Flow.newBuilder()
                        .setFlowId("f" + i)
                        .setRecordType(i == 0 ? FlowRecordType.NEW : FlowRecordType.END)
                        .setHost("web-1")
                        .setCommunityId("1:abc")
                        .setNetworkTransport("tcp")
                        .setNetworkType("ipv4")
                        .setSourceAddress("127.0.0.1")
                        .setSourcePort(40000 + i)
                        .setDestinationAddress("127.0.0.1")
                        .setDestinationPort(8080)
                        .setSourceBytes(100L * i)
                        .setDestinationBytes(10L * i)
                        .setStart(t)
                        .setEnd(t.plusSeconds(i))
                        .setDurationMs(1000L * i)
                        .setSourceComm("curl")
                        .build();
                prod.send(new ProducerRecord<>(flows, ("f" + i).getBytes(), flowSer.serialize(f)))
                        .get();
            }
            Alert a = Alert.newBuilder()
                    .setAlertId("a1")
                    .setRule("port-scan")
                    .setSeverity(Severity.HIGH)
                    .setTimestamp(t)
                    .setHost("web-1")
                    .setSummary("scan")
                    .setEvidence(List.of("e1", "e2"))
                    .setAttributes(Map.of("ports", "25"))
                    .build();
            prod.send(new ProducerRecord<>(alerts, "a1".getBytes(), alertSer.serialize(a)))
                    .get();
        }
        Files.createDirectories(dir.resolve("wh"));
        SqlShell shell = new SqlShell(
                dir.resolve("wh").toString(),
                "sockflow",
                false,
                new KafkaTables.Kafka(stack.bootstrapServers(), stack.registryUrl(), null, true),
                Map.of("flows", flows, "alerts", alerts));
        List<Row> rows = shell.rows(
                "SELECT recordType, sourcePort, sourceBytes, destinationBytes, `end`, end_ts FROM kafka.sockflow.flows "
                        + "WHERE recordType = 'END' ORDER BY sourcePort");
        assertEquals(2, rows.size());
        assertEquals("END", rows.get(0).getField(0));
        assertEquals(40001, rows.get(0).getField(1));
        assertEquals(100L, rows.get(0).getField(2));
        assertEquals(20L, rows.get(1).getField(3));
        assertEquals(
                t.plusSeconds(1).getEpochSecond() * 1_000_000L + 123_456L,
                rows.get(0).getField(4),
                "the timestamp as written: microseconds");
        assertEquals(Instant.parse("2026-11-25T10:00:01.123Z"), rows.get(0).getField(5), "and as a TIMESTAMP_LTZ(3)");
        List<Row> al = shell.rows(
                "SELECT rule, severity, evidence[2], attributes['ports'], timestamp_ts FROM kafka.sockflow.alerts");
        assertEquals(1, al.size());
        assertEquals("port-scan", al.get(0).getField(0));
        assertEquals("HIGH", al.get(0).getField(1));
        assertEquals("e2", al.get(0).getField(2));
        assertEquals("25", al.get(0).getField(3));
        assertEquals(Instant.parse("2026-11-25T10:00:00.123Z"), al.get(0).getField(4));
    }

    @Test
    void theKafkaCatalogLogsInWithUpsCredentialsBesideTheWarehouse(@TempDir Path data) throws Exception {
        Path warehouse = Files.createDirectories(data.resolve("warehouse"));
        assertEquals(Map.of(), SqlShell.kafkaClient(null, warehouse), "no credentials: none sent");
        Files.writeString(
                data.resolve("kafka-reader.properties"),
                "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n"
                        + "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"reader\" password=\"it's\";\n");
        Map<String, String> client = SqlShell.kafkaClient(null, warehouse);
        assertEquals("SASL_PLAINTEXT", client.get("security.protocol"));
        Files.writeString(data.resolve("kafka-admin.properties"), "security.protocol=SASL_SSL\n");
        assertEquals(
                "SASL_SSL",
                SqlShell.kafkaClient(null, warehouse).get("security.protocol"),
                "the admin's first, when readable");
        assertEquals(
                "SASL_PLAINTEXT",
                SqlShell.kafkaClient(data.resolve("kafka-reader.properties").toString(), warehouse)
                        .get("security.protocol"),
                "a file given wins");
        String ddl = KafkaTables.ddl(
                "t",
                "sockflow.alerts",
                Alert.getClassSchema(),
                new KafkaTables.Kafka("127.0.0.1:9092", "http://127.0.0.1:8081", null, true, client));
        assertTrue(ddl.contains("'properties.security.protocol' = 'SASL_PLAINTEXT'"), ddl);
        // a quote in a value is doubled, so it cannot end the SQL string early
        assertTrue(ddl.contains("password=\"it''s\";'"), ddl);
    }
}
