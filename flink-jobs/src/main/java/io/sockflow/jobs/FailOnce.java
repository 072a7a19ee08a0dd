package io.sockflow.jobs;

import io.sockflow.schemas.SocketEvent;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;

/**
 * Recovery testing only ({@code test.fail-after-records}): passes events through slowly (1 ms each, so a
 * checkpoint lands mid-stream) and, in the first attempt only, throws once it has passed the given number of
 * events and a checkpoint has completed. Flink then restores the job from that checkpoint.
 */
public final class FailOnce extends RichMapFunction<SocketEvent, SocketEvent> implements CheckpointListener {
    private static final long serialVersionUID = 1L;
    private final long after;
    private transient long seen;
    private transient boolean checkpointed;
    private transient boolean armed;

    public FailOnce(long after) {
        this.after = after;
    }

    @Override
    public void open(OpenContext ctx) {
        armed = getRuntimeContext().getTaskInfo().getAttemptNumber() == 0;
    }

    @Override
    public SocketEvent map(SocketEvent e) throws Exception {
        if (armed) {
            Thread.sleep(1);
            if (++seen >= after && checkpointed) {
                throw new IllegalStateException("injected failure after " + seen + " events (test.fail-after-records)");
            }
        }
        return e;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        if (seen > 0) {
            checkpointed = true;
        }
    }
}
