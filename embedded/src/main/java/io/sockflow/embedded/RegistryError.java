package io.sockflow.embedded;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A refused request, answered as Confluent Schema Registry answers: the HTTP status and its JSON body
 * {@code {"error_code": code, "message": message}}, where the code is the status itself or a finer one
 * (40401 subject not found, 42201 invalid schema, ...), and any header the answer needs (Allow, WWW-Authenticate).
 */
final class RegistryError extends RuntimeException {
    final int status;
    final int code;
    final Map<String, String> headers;

    RegistryError(int status, int code, String message) {
        this(status, code, message, Map.of());
    }

    private RegistryError(int status, int code, String message, Map<String, String> headers) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.headers = headers;
    }

    /** An error whose code is its HTTP status, as Confluent's own 400, 404, 405, 406, 413 and 415 are. */
    static RegistryError of(int status, String message) {
        return new RegistryError(status, status, message);
    }

    RegistryError withHeader(String name, String value) {
        Map<String, String> h = new LinkedHashMap<>(headers);
        h.put(name, value);
        return new RegistryError(status, code, getMessage(), Map.copyOf(h));
    }
}
