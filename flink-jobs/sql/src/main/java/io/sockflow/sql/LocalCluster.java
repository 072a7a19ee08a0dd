package io.sockflow.sql;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.Configuration;

/**
 * The settings of the MiniCluster that runs the shell's queries, as {@code sockflow up} sets its own (the runner's
 * LocalFlink): every endpoint on 127.0.0.1, no web submission, and mutual TLS on the REST endpoint and the internal
 * connections, so that no other local user can hand it a job to run as the user of the shell. The key store is the
 * data folder's (made by {@code up} beside the warehouse) when there is one of this user's, else one made for this
 * run in a private temporary folder and deleted at exit.
 */
final class LocalCluster {
    private LocalCluster() {}

    static Configuration secured(Path warehouse) {
        Path store;
        String password;
        try {
            Path tls = warehouse == null
                    ? null
                    : warehouse.toAbsolutePath().normalize().resolveSibling("tls");
            if (tls != null
                    && Files.isReadable(tls.resolve("flink.p12"))
                    && Files.isReadable(tls.resolve("flink.password"))) {
                store = tls.resolve("flink.p12");
                password = Files.readString(tls.resolve("flink.password"), StandardCharsets.US_ASCII)
                        .strip();
            } else {
                Path dir = Files.createTempDirectory(
                        "sockflow-sql-tls",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                store = dir.resolve("flink.p12");
                password = make(store);
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try {
                        Files.deleteIfExists(dir.resolve("flink.p12"));
                        Files.deleteIfExists(dir);
                    } catch (IOException ignored) {
                        // a temporary folder
                    }
                }));
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot set up TLS for the query cluster: " + e.getMessage(), e);
        }
        Configuration conf = new Configuration();
        conf.setString("rest.address", "127.0.0.1");
        conf.setString("rest.bind-address", "127.0.0.1");
        conf.setString("rest.bind-port", "0");
        conf.setString("jobmanager.rpc.address", "127.0.0.1");
        conf.setString("jobmanager.bind-host", "127.0.0.1");
        conf.setString("taskmanager.bind-host", "127.0.0.1");
        conf.setString("taskmanager.host", "127.0.0.1");
        conf.setString("web.submit.enable", "false");
        conf.setString("web.cancel.enable", "false");
        conf.setString("web.rescale.enable", "false");
        for (String scope : List.of("rest", "internal")) {
            String k = "security.ssl." + scope + ".";
            conf.setString(k + "enabled", "true");
            conf.setString(k + "keystore", store.toString());
            conf.setString(k + "keystore-password", password);
            conf.setString(k + "key-password", password);
            conf.setString(k + "truststore", store.toString());
            conf.setString(k + "truststore-password", password);
        }
        conf.setString("security.ssl.rest.authentication-enabled", "true");
        conf.setString("security.ssl.protocol", "TLSv1.3");
        conf.setString("security.ssl.algorithms", "TLS_AES_256_GCM_SHA384,TLS_AES_128_GCM_SHA256");
        return conf;
    }

    /** A PKCS12 store with one self-signed EC key pair, made by the JDK's keytool; returns its password. */
    private static String make(Path store) throws IOException {
        byte[] raw = new byte[24];
        new SecureRandom().nextBytes(raw);
        String password = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        ProcessBuilder pb = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "keytool")
                                .toString(),
                        "-genkeypair",
                        "-noprompt",
                        "-alias",
                        "sockflow",
                        "-keyalg",
                        "EC",
                        "-groupname",
                        "secp256r1",
                        "-validity",
                        "2",
                        "-dname",
                        "CN=sockflow-sql",
                        "-storetype",
                        "PKCS12",
                        "-keystore",
                        store.toString(),
                        "-storepass:env",
                        "SOCKFLOW_STOREPASS",
                        "-keypass:env",
                        "SOCKFLOW_STOREPASS")
                .redirectErrorStream(true);
        pb.environment().put("SOCKFLOW_STOREPASS", password);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("keytool: " + out.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while making a key store");
        }
        Files.setPosixFilePermissions(store, PosixFilePermissions.fromString("rw-------"));
        return password;
    }
}
