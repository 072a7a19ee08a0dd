package io.sockflow.collector.transport;

/** A one-line, fatal problem with Kafka or the registry at start-up: what is wrong and how to fix it. */
public class TransportException extends RuntimeException {
    public TransportException(String message) {
        super(message);
    }
}
