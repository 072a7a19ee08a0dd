package io.sockflow.runner;

import io.sockflow.embedded.EmbeddedSchemaRegistry;
import java.util.concurrent.CountDownLatch;

/**
 * The schema registry of {@code sockflow cluster} as a process of its own: the embedded registry, its schemas kept in
 * the cluster's {@code _schemas} topic (replicated), bound to loopback. It runs until SIGTERM.
 */
public final class ClusterRegistry {
    private ClusterRegistry() {}

    public static void main(String[] args) throws InterruptedException {
        String bootstrap = null;
        int port = 0;
        java.util.Map<String, String> client = new java.util.HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--bootstrap" -> bootstrap = args[i + 1];
                case "--port" -> port = Integer.parseInt(args[i + 1]);
                case "--kafka-config" -> {
                    java.util.Properties p = new java.util.Properties();
                    try (java.io.Reader r = java.nio.file.Files.newBufferedReader(java.nio.file.Path.of(args[i + 1]))) {
                        p.load(r);
                    } catch (java.io.IOException e) {
                        System.err.println("sockflow cluster registry: cannot read " + args[i + 1] + ": " + e);
                        System.exit(2);
                    }
                    p.forEach((k, v) -> client.put(k.toString(), v.toString()));
                }
                default -> throw new IllegalArgumentException("sockflow cluster registry: unknown argument " + args[i]);
            }
        }
        if (bootstrap == null || port == 0) {
            System.err.println("sockflow cluster registry: --bootstrap and --port are needed");
            System.exit(2);
        }
        EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.start(
                bootstrap, client, EmbeddedSchemaRegistry.Options.defaults().withPort(port));
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            registry.close();
            stop.countDown();
        }));
        System.out.println("registry ready on " + registry.url());
        stop.await();
    }
}
