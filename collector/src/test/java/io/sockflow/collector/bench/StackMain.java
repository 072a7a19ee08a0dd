package io.sockflow.collector.bench;

import io.sockflow.embedded.LocalStack;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An embedded Kafka broker and schema registry for the benchmarks, in a JVM of their own so that what they cost is
 * not counted as the collector's: {@code StackMain KAFKA_PORT REGISTRY_PORT}. Prints "ready" and runs until killed.
 */
public final class StackMain {
    private StackMain() {}

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("sockflow-bench-stack");
        LocalStack stack = LocalStack.start(dir, Integer.parseInt(args[0]), Integer.parseInt(args[1]));
        Runtime.getRuntime().addShutdownHook(new Thread(stack::close));
        System.out.println("ready " + stack.bootstrapServers() + " " + stack.registryUrl());
        System.out.flush();
        Thread.currentThread().join();
    }
}
