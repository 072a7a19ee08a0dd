package io.sockflow.jobs;

import io.sockflow.schemas.SocketEvent;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;

/**
 * Recovery testing only: passes events through slowly (1 ms each, 10 ms when stalling, so a checkpoint lands
 * mid-stream) and, once it has passed the given number of events and a checkpoint has completed, either throws in
 * the first attempt ({@code test.fail-after-records}: Flink restores the job from that checkpoint) or stops taking
 * input and prints {@link #STALLED} on stdout ({@code test.stall-after-records}: the test kills the process there
 * and starts a new job from the retained checkpoint).
 */
public final class FailOnce extends RichMapFunction<SocketEvent, SocketEvent> implements CheckpointListener {
    private static final long serialVersionUID = 1L;
    /** What a stalled job prints on stdout, on a line of its own. */
    public static final String STALLED = "sockflow-test: stalled after a checkpoint";

    private final long after;
    private final boolean stall;
    private transient long seen;
    private transient boolean checkpointed;
    private transient boolean armed;
    private transient int attempt;

    public FailOnce(long after) {
        this(after, false);
    }

    public FailOnce(long after, boolean stall) {
        this.after = after;
        this.stall = stall;
    }

    @Override
    public void open(OpenContext ctx) {
        attempt = getRuntimeContext().getTaskInfo().getAttemptNumber();
        // a failure stops once; a stall stops whichever attempt gets there (after a restart: at its first checkpoint)
        armed = stall || attempt == 0;
    }

    @Override
    public SocketEvent map(SocketEvent e) throws Exception {
        if (armed) {
            Thread.sleep(stall ? 10 : 1);
            if ((++seen >= after || attempt > 0) && checkpointed) {
                if (stall) {
                    stallForever();
                }
                throw new IllegalStateException("injected failure after " + seen + " events (test.fail-after-records)");
            }
        }
        return e;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) throws InterruptedException {
        if (seen > 0) {
            checkpointed = true;
            if (stall && armed && (seen >= after || attempt > 0)) {
                stallForever(); // the input went by before this checkpoint: stop here
            }
        }
    }

    private static void stallForever() throws InterruptedException {
        System.out.println(STALLED);
        System.out.flush();
        while (true) {
            Thread.sleep(60_000); // until the process is killed
        }
    }
}
