package io.sockflow.runner;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.Configuration;

/**
 * The Flink settings of sockflow's local MiniCluster: every endpoint on loopback, no web submission, and mutual
 * TLS on the REST endpoint and on the internal connections (blob server, data exchange), with a key pair that only
 * this data folder holds. A MiniCluster always starts its REST endpoint, and POST /jobs is always on there; without
 * the key nobody gets past the TLS handshake, so no other process, not even one of the same host, can hand it a job.
 * sockflow itself submits in-process and needs no endpoint.
 */
final class LocalFlink {
    static final String LOOPBACK = "127.0.0.1";

    private LocalFlink() {}

    /** The key store (PKCS12, one self-signed key pair) and its password, made on first use: both 0600. */
    record Tls(Path store, String password) {}

    /** The data folder's key store, made with the JDK's keytool the first time. */
    static Tls tls(Path dir) throws IOException {
        Path store = dir.resolve("flink.p12");
        Path secret = dir.resolve("flink.password");
        if (Files.isRegularFile(store) && Files.isRegularFile(secret)) {
            return new Tls(
                    store, Files.readString(secret, StandardCharsets.US_ASCII).strip());
        }
        Files.createDirectories(dir);
        Files.deleteIfExists(store);
        byte[] raw = new byte[24];
        new SecureRandom().nextBytes(raw);
        String password = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        ProcessBuilder pb = new ProcessBuilder(List.of(
                        keytool.toString(),
                        "-genkeypair",
                        "-noprompt",
                        "-alias",
                        "sockflow",
                        "-keyalg",
                        "EC",
                        "-groupname",
                        "secp256r1",
                        "-validity",
                        "3650",
                        "-dname",
                        "CN=sockflow-local",
                        "-ext",
                        "SAN=ip:127.0.0.1",
                        "-storetype",
                        "PKCS12",
                        "-keystore",
                        store.toString(),
                        "-storepass:env",
                        "SOCKFLOW_STOREPASS",
                        "-keypass:env",
                        "SOCKFLOW_STOREPASS"))
                .redirectErrorStream(true);
        pb.environment().put("SOCKFLOW_STOREPASS", password); // not on a command line others can read
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("keytool could not make " + store + ": " + out.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while making " + store);
        }
        // private whatever the umask of the caller (a test's JVM has none of its own)
        java.util.Set<java.nio.file.attribute.PosixFilePermission> owner =
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-------");
        Files.setPosixFilePermissions(store, owner);
        Files.deleteIfExists(secret);
        Files.createFile(secret, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(owner));
        Files.writeString(secret, password, StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        return new Tls(store, password);
    }

    /** Loopback binding, submission off, mutual TLS everywhere it applies. */
    static void secure(Configuration conf, Tls tls) {
        conf.setString("rest.address", LOOPBACK);
        conf.setString("rest.bind-address", LOOPBACK);
        conf.setString("rest.bind-port", "0");
        conf.setString("jobmanager.rpc.address", LOOPBACK);
        conf.setString("jobmanager.bind-host", LOOPBACK); // the blob server binds here too
        conf.setString("taskmanager.bind-host", LOOPBACK);
        conf.setString("taskmanager.host", LOOPBACK);
        conf.setString("web.submit.enable", "false");
        conf.setString("web.cancel.enable", "false");
        conf.setString("web.rescale.enable", "false");
        for (String scope : List.of("rest", "internal")) {
            String k = "security.ssl." + scope + ".";
            conf.setString(k + "enabled", "true");
            conf.setString(k + "keystore", tls.store().toString());
            conf.setString(k + "keystore-password", tls.password());
            conf.setString(k + "key-password", tls.password());
            conf.setString(k + "truststore", tls.store().toString());
            conf.setString(k + "truststore-password", tls.password());
        }
        conf.setString("security.ssl.rest.authentication-enabled", "true");
        // Flink's default suite is RSA key exchange over CBC, which an EC key cannot serve: TLS 1.3 with AEAD suites
        conf.setString("security.ssl.protocol", "TLSv1.3");
        conf.setString("security.ssl.algorithms", "TLS_AES_256_GCM_SHA384,TLS_AES_128_GCM_SHA256");
    }
}
