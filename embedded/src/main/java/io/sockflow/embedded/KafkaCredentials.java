package io.sockflow.embedded;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The broker's accounts, made once per data folder with random passwords and kept there as Kafka client properties
 * files (owner-only), so that kcat or the Kafka tools can be given them as they are: {@value #ADMIN} (a super user:
 * topics are made and ACLs granted with it), {@value #COLLECTOR} (writes the events topic only), {@value #JOBS} (reads
 * the events, writes the results in its own transactions) and {@value #READER} (reads the result topics only). What
 * each role may do is {@link KafkaAcls}'.
 */
public record KafkaCredentials(Map<String, String> passwords) {
    public static final String ADMIN = "sockflow";
    public static final String COLLECTOR = "collector";
    public static final String JOBS = "jobs";
    public static final String READER = "reader";
    /**
     * The account of a registry that is not sockflow's own (docker-compose.yml's Confluent Schema Registry; the
     * embedded one logs in as the admin): no file is made for it here, {@link KafkaAcls#registry} says what it may do.
     */
    public static final String REGISTRY = "registry";

    public static final String ADMIN_FILE = "kafka-admin.properties";
    public static final String COLLECTOR_FILE = "kafka-collector.properties";
    public static final String JOBS_FILE = "kafka-jobs.properties";
    public static final String READER_FILE = "kafka-reader.properties";
    /** The consumer groups the reader may use: its own name as a prefix. */
    public static final String READER_GROUP_PREFIX = "reader";
    /** Each account and the file of its client settings. */
    static final Map<String, String> FILES =
            Map.of(ADMIN, ADMIN_FILE, COLLECTOR, COLLECTOR_FILE, JOBS, JOBS_FILE, READER, READER_FILE);

    public KafkaCredentials {
        passwords = Map.copyOf(passwords);
    }

    /**
     * The folder's credentials: read from its files, and any account's file that is missing (a new folder, or one of
     * a version with fewer accounts) made and written there.
     */
    public static KafkaCredentials loadOrCreate(Path data) {
        try {
            Files.createDirectories(data);
            Map<String, String> passwords = new LinkedHashMap<>();
            for (String user : List.of(ADMIN, COLLECTOR, JOBS, READER)) {
                Path file = data.resolve(FILES.get(user));
                if (Files.exists(file)) {
                    passwords.put(user, password(file));
                } else {
                    String p = random();
                    write(file, client(user, p));
                    passwords.put(user, p);
                }
            }
            return new KafkaCredentials(passwords);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot keep the Kafka credentials in " + data + ": " + e.getMessage(), e);
        }
    }

    public String adminPassword() {
        return passwords.get(ADMIN);
    }

    public String readerPassword() {
        return passwords.get(READER);
    }

    /** The client settings of sockflow's own account. */
    public Map<String, String> adminClient() {
        return client(ADMIN, adminPassword());
    }

    /** The client settings of {@code user}, one of the four accounts. */
    public Map<String, String> clientOf(String user) {
        String p = passwords.get(user);
        if (p == null) {
            throw new IllegalArgumentException("no Kafka account " + user + ": one of " + FILES.keySet());
        }
        return client(user, p);
    }

    /**
     * A broker's settings for these accounts: SASL/PLAIN on its client and controller listeners on {@code host} (every
     * account on the first; the broker itself logs in as the admin, to other brokers and to the controllers, which
     * accept the admin alone),
     * and the ACL authorizer with the admin as the one super user, denying what no ACL grants.
     */
    public Map<String, String> brokerSettings(String host, int port, int controllerPort) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("listeners", "SASL_PLAINTEXT://" + host + ":" + port + ",CONTROLLER://" + host + ":" + controllerPort);
        p.put("advertised.listeners", "SASL_PLAINTEXT://" + host + ":" + port);
        p.put("listener.security.protocol.map", "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT");
        p.put("inter.broker.listener.name", "SASL_PLAINTEXT");
        p.put("sasl.enabled.mechanisms", "PLAIN");
        p.put("sasl.mechanism.inter.broker.protocol", "PLAIN");
        p.put("sasl.mechanism.controller.protocol", "PLAIN");
        p.put("listener.name.sasl_plaintext.plain.sasl.jaas.config", jaas(ADMIN, adminPassword(), passwords));
        p.put(
                "listener.name.controller.plain.sasl.jaas.config",
                jaas(ADMIN, adminPassword(), Map.of(ADMIN, adminPassword())));
        p.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        p.put("super.users", "User:" + ADMIN);
        p.put("allow.everyone.if.no.acl.found", "false");
        return p;
    }

    /** The client settings of the read-only account. */
    public Map<String, String> readerClient() {
        return client(READER, readerPassword());
    }

    static Map<String, String> client(String user, String password) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("security.protocol", "SASL_PLAINTEXT");
        m.put("sasl.mechanism", "PLAIN");
        m.put("sasl.jaas.config", jaas(user, password, Map.of()));
        return m;
    }

    /** A PLAIN login line: the client's own account, and on the broker the accounts it accepts. */
    static String jaas(String user, String password, Map<String, String> accepted) {
        StringBuilder b = new StringBuilder(
                        "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"")
                .append(user)
                .append("\" password=\"")
                .append(password)
                .append('"');
        accepted.forEach(
                (u, p) -> b.append(" user_").append(u).append("=\"").append(p).append('"'));
        return b.append(';').toString();
    }

    private static String random() {
        byte[] b = new byte[24];
        new SecureRandom().nextBytes(b);
        // URL-safe base64 has no quote or backslash, so it sits in a JAAS line as it is
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    private static String password(Path file) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
        }
        String jaas = p.getProperty("sasl.jaas.config", "");
        int at = jaas.indexOf("password=\"");
        int end = at < 0 ? -1 : jaas.indexOf('"', at + 10);
        if (end < 0) {
            throw new IOException(file + " has no sasl.jaas.config password: delete it and " + data(file)
                    + "'s other kafka-*.properties to have new ones made");
        }
        return jaas.substring(at + 10, end);
    }

    private static String data(Path file) {
        return String.valueOf(file.getParent());
    }

    private static void write(Path file, Map<String, String> client) throws IOException {
        StringBuilder b = new StringBuilder(
                "# Kafka client settings for the embedded broker of sockflow up (the Kafka tools' --command-config, --consumer.config)\n");
        client.forEach((k, v) -> b.append(k).append('=').append(v).append('\n'));
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        // made owner-only before a byte is written: the password is never readable by others, even for a moment
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, b, StandardOpenOption.TRUNCATE_EXISTING);
        Files.move(
                tmp,
                file,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
}
