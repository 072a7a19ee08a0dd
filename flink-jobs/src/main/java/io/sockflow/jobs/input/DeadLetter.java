package io.sockflow.jobs.input;

/** An input record that could not be decoded, and why. Written to the dead-letter topic as it came. */
public class DeadLetter {
    public RawRecord record;
    public String reason;

    public DeadLetter() {}

    public DeadLetter(RawRecord record, String reason) {
        this.record = record;
        this.reason = reason;
    }
}
