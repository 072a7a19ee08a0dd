package io.sockflow.jobs.flow;

import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;

/**
 * Passes records and watermarks on, and keeps the idle status of its input from the operators downstream: their
 * channels from here never count as idle, so each holds their watermark back until it has delivered what comes
 * before that watermark on it.
 *
 * <p>For the flow function's inputs, which are the lifecycle function's two outputs (its records and its early
 * notices) from each of its subtasks. All of them carry the same event time: every lifecycle subtask reads every
 * source subtask, so when the sources go quiet every lifecycle subtask goes idle with the same watermark, and when
 * they speak again every one of them moves on. Left idle, these channels let the flow function's watermark jump
 * ahead on whichever of them woke up first, and the lifecycle ends still on their way on the others arrived behind
 * it: their flow's end timer was then already in the past, and fired only at the next step of the watermark, which
 * one burst of input followed by silence never brings (the flow's END did not come out, its lifecycles' did).
 *
 * <p>Not for the source's own outputs: a source subtask whose partitions are all quiet must be idle, or it would
 * hold every other one back.
 */
public final class NeverIdle<T> extends AbstractStreamOperator<T> implements OneInputStreamOperator<T, T> {
    private static final long serialVersionUID = 1L;

    @Override
    public void processElement(StreamRecord<T> element) {
        output.collect(element);
    }

    @Override
    public void processWatermarkStatus(WatermarkStatus status) {
        // neither IDLE nor the ACTIVE after it goes on: downstream, this input stays active
    }
}
