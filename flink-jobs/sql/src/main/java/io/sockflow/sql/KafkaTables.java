package io.sockflow.sql;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.flink.formats.avro.typeutils.AvroSchemaConverter;
import org.apache.flink.table.types.logical.RowType;

/**
 * Flink SQL tables over sockflow's Kafka topics, in Flink's {@code avro-confluent} format. The columns are derived
 * from the Avro schemas (the one definition of every record) by Flink's own Avro converter, and the schema itself is
 * handed to the format, so enums read as strings and every field keeps its Avro type.
 */
public final class KafkaTables {
    private KafkaTables() {}

    /** {@code client}: further Kafka client settings (security.protocol, sasl.*, ssl.*), as a kafka.config file holds them. */
    public record Kafka(
            String bootstrapServers,
            String registryUrl,
            String registryUserInfo,
            boolean bounded,
            java.util.Map<String, String> client) {
        public Kafka(String bootstrapServers, String registryUrl, String registryUserInfo, boolean bounded) {
            this(bootstrapServers, registryUrl, registryUserInfo, bounded, java.util.Map.of());
        }

        /** The settings of a Kafka client properties file. */
        public static java.util.Map<String, String> load(java.nio.file.Path file) throws java.io.IOException {
            java.util.Properties p = new java.util.Properties();
            try (java.io.Reader r = java.nio.file.Files.newBufferedReader(file)) {
                p.load(r);
            }
            java.util.Map<String, String> m = new java.util.TreeMap<>();
            p.stringPropertyNames().forEach(n -> m.put(n, p.getProperty(n)));
            return m;
        }
    }

    public static String ddl(String table, String topic, Schema schema, Kafka k) {
        // Flink 2.1's avro-confluent format reads timestamps in its legacy mapping, which stops at millisecond
        // precision; sockflow's are timestamp-micros. So the reader schema carries them as plain longs (Avro
        // resolves a writer's timestamp-micros long into a reader's long) and each gets a computed column
        // <name>_ts of type TIMESTAMP_LTZ(3) next to it.
        List<String> micros = new ArrayList<>();
        String readerSchema = withoutMicros(schema, micros);
        // the physical columns exactly as Flink's own Avro converter derives them, which the format checks
        List<String> cols = new ArrayList<>();
        RowType row =
                (RowType) AvroSchemaConverter.convertToDataType(readerSchema).getLogicalType();
        for (RowType.RowField f : row.getFields()) {
            cols.add("  `" + f.getName() + "` " + f.getType().asSerializableString());
        }
        for (String m : micros) {
            cols.add("  `" + m + "_ts` AS TO_TIMESTAMP_LTZ(`" + m + "` / 1000, 3)");
        }
        cols.add("  `kafka_partition` INT METADATA FROM 'partition' VIRTUAL");
        cols.add("  `kafka_offset` BIGINT METADATA FROM 'offset' VIRTUAL");
        StringBuilder b = new StringBuilder("CREATE TABLE ")
                .append(table)
                .append(" (\n")
                .append(String.join(",\n", cols))
                .append("\n) WITH (\n")
                .append("  'connector' = 'kafka',\n")
                .append("  'topic' = '")
                .append(topic)
                .append("',\n")
                .append("  'properties.bootstrap.servers' = '")
                .append(k.bootstrapServers())
                .append("',\n")
                .append("  'properties.isolation.level' = 'read_committed',\n");
        k.client()
                .forEach((name, value) -> b.append("  'properties.")
                        .append(name.replace("'", "''"))
                        .append("' = '")
                        .append(value.replace("'", "''"))
                        .append("',\n"));
        b.append("  'scan.startup.mode' = 'earliest-offset',\n");
        if (k.bounded()) {
            b.append("  'scan.bounded.mode' = 'latest-offset',\n");
        }
        b.append("  'value.format' = 'avro-confluent',\n")
                .append("  'value.avro-confluent.url' = '")
                .append(k.registryUrl())
                .append("',\n");
        if (k.registryUserInfo() != null && !k.registryUserInfo().isBlank()) {
            b.append("  'value.avro-confluent.basic-auth.credentials-source' = 'USER_INFO',\n")
                    .append("  'value.avro-confluent.basic-auth.user-info' = '")
                    .append(k.registryUserInfo().replace("'", "''"))
                    .append("',\n");
        }
        b.append("  'value.avro-confluent.schema' = '")
                .append(readerSchema.replace("'", "''"))
                .append("'\n)");
        return b.toString();
    }

    /** The schema's JSON with every timestamp-micros long made a plain long; their field names go to {@code out}. */
    static String withoutMicros(Schema schema, List<String> out) {
        try {
            ObjectMapper json = new ObjectMapper();
            ObjectNode root = (ObjectNode) json.readTree(schema.toString());
            for (JsonNode f : root.get("fields")) {
                ObjectNode field = (ObjectNode) f;
                JsonNode t = field.get("type");
                if (isMicros(t)) {
                    field.put("type", "long");
                    out.add(field.get("name").asText());
                } else if (t.isArray()) {
                    ArrayNode union = (ArrayNode) t;
                    for (int i = 0; i < union.size(); i++) {
                        if (isMicros(union.get(i))) {
                            union.set(i, json.getNodeFactory().textNode("long"));
                            out.add(field.get("name").asText());
                        }
                    }
                }
            }
            return json.writeValueAsString(root);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean isMicros(JsonNode t) {
        return t.isObject() && "timestamp-micros".equals(t.path("logicalType").asText());
    }
}
