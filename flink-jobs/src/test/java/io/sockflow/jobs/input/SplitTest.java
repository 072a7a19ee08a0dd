package io.sockflow.jobs.input;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.jobs.Ev;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** What leaves the source's split: events on, dead letters to their side output, clock records nowhere. */
class SplitTest {
    @Test
    void aClockRecordGoesNeitherOnNorToTheDeadLettersWhileTheEventsAroundItDo() throws Exception {
        try (var h = new OneInputStreamOperatorTestHarness<>(new ProcessOperator<>(new EventDecoder.Split()))) {
            h.open();
            SocketEvent before =
                    Ev.of(EventKind.SOCKET, 7, "curl", 0).socket(5).tcp().get();
            SocketEvent clock = Ev.of(EventKind.CLOCK, 0, "", 1000).get();
            SocketEvent after =
                    Ev.of(EventKind.CLOSE, 7, "curl", 2000).socket(5).tcp().get();
            h.processElement(Decoded.of(before), 0);
            h.processElement(Decoded.of(clock), 1000);
            h.processElement(Decoded.of(after), 2000);
            assertEquals(
                    java.util.List.of(before, after),
                    h.extractOutputValues(),
                    "the events on either side of the clock record, and not it");
            assertNull(h.getSideOutput(EventDecoder.Split.DEAD_LETTERS), "no dead letter");
        }
    }
}
