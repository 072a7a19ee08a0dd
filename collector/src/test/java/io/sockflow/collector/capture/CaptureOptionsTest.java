package io.sockflow.collector.capture;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CaptureOptionsTest {
    @Test
    void eachWithChangesItsOwnComponentsAndNothingElse() {
        CaptureOptions d = CaptureOptions.defaults();
        CaptureOptions o = d.withPidInclude(List.of(1))
                .withPidExclude(List.of(2))
                .withCgroups(List.of(3L), List.of(4L))
                .withExcludeSelf(false)
                .withRingBufferBytes(1 << 20)
                .withBtfPath(Path.of("/b"))
                .withTracefsPath(Path.of("/t"))
                .withGroups(Set.of("tcp"))
                .withAggregate(true)
                .withNetns(42L);
        CaptureOptions expected = new CaptureOptions(
                List.of(1),
                List.of(2),
                List.of(3L),
                List.of(4L),
                false,
                1 << 20,
                Path.of("/b"),
                Path.of("/t"),
                null,
                Set.of("tcp"),
                null,
                true,
                42L);
        assertEquals(expected, o);
        // the original is untouched, and a change of one leaves the others as they were
        assertEquals(CaptureOptions.defaults(), d);
        assertEquals(d.withNetns(7L).netns(), 7L);
        assertEquals(d.groups(), d.withNetns(7L).groups());
        assertEquals(d.withAggregate(true).withAggregate(false), d);
    }
}
