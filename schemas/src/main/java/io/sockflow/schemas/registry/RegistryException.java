package io.sockflow.schemas.registry;

/** An answer of the schema registry that is not a success, with Confluent's error code (e.g. 40401, 409). */
public class RegistryException extends RuntimeException {
    private final int status;
    private final int errorCode;

    public RegistryException(int status, int errorCode, String message) {
        super(message);
        this.status = status;
        this.errorCode = errorCode;
    }

    public int status() {
        return status;
    }

    public int errorCode() {
        return errorCode;
    }
}
