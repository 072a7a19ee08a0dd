package io.sockflow.collector.bpf;

/**
 * A failure of the kernel side whose message is one line that names what is wrong and how to fix it; the CLI
 * prints it as it is and exits with {@link #exitCode()}.
 */
public class BpfException extends RuntimeException {
    private final int exitCode;

    public BpfException(String message) {
        this(message, 3);
    }

    public BpfException(String message, int exitCode) {
        super(message);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
