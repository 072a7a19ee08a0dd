package io.sockflow.jobs.lifecycle;

import io.sockflow.jobs.Ev;
import io.sockflow.jobs.Workload;
import io.sockflow.jobs.types.SocketEventSerializer;
import io.sockflow.schemas.SocketEvent;
import io.sockflow.schemas.SocketLifecycle;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Collectors;

import static io.sockflow.schemas.EventKind.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The byte-record sums before the lifecycle shuffle, in Flink's operator harness: what goes on, when, and that the
 * lifecycles made from the sums are exactly those made from every record.
 */
class ByteRecordCombinerTest {
    private static final String LO = Workload.LO;

    private static OneInputStreamOperatorTestHarness<SocketEvent, SocketEvent> combiner(int maxSockets, int remembered)
            throws Exception {
        var h = new OneInputStreamOperatorTestHarness<>(new ByteRecordCombiner(Duration.ofMillis(200), maxSockets, remembered));
        h.open();
        return h;
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, SocketEvent, SocketLifecycle> lifecycle() throws Exception {
        var h = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new LifecycleFunction(Duration.ofSeconds(1), Duration.ofMinutes(10), Duration.ofMinutes(1))),
                SocketKeys::key, Types.STRING);
        h.open();
        return h;
    }

    /** The lifecycle inputs of the events, each a copy of its own (the combiner changes the records it sums). */
    private static List<SocketEvent> inputs(List<SocketEvent> events) {
        List<SocketEvent> out = new ArrayList<>();
        for (SocketEvent e : events) {
            for (SocketEvent x : SocketKeys.lifecycleInputs(e)) {
                out.add(SocketEvent.newBuilder(x).build());
            }
        }
        return out;
    }

    private static void feed(OneInputStreamOperatorTestHarness<SocketEvent, SocketEvent> h, List<SocketEvent> events)
            throws Exception {
        for (SocketEvent e : events) {
            h.processElement(new StreamRecord<>(e, e.getTimestamp().toEpochMilli()));
        }
    }

    private static Map<Long, SocketLifecycle> lifecycles(List<SocketEvent> events, int n) throws Exception {
        var h = lifecycle();
        for (SocketEvent e : events) {
            h.processElement(new StreamRecord<>(e, e.getTimestamp().toEpochMilli()));
        }
        h.processWatermark(Ev.T0.toEpochMilli() + Workload.lastMillis(n) + 1001);
        Map<Long, SocketLifecycle> out = h.extractOutputValues().stream()
                .collect(Collectors.toMap(SocketLifecycle::getSocketInode, Function.identity()));
        h.close();
        return out;
    }

    private static List<SocketEvent> values(OneInputStreamOperatorTestHarness<SocketEvent, SocketEvent> h) {
        return h.extractOutputValues();
    }

    private static SocketEvent send(long inode, int tid, long atMs, long bytes) {
        return Ev.of(SOCK_SEND, 300, "curl", atMs).tid(tid).socket(inode).tcp().local(LO, 40000).remote(LO, 8080)
                .bytes(bytes).get();
    }

    @Test
    void theSumsMakeTheSameLifecyclesAsEveryRecordWithFarFewerRecords() throws Exception {
        int n = 5;
        List<SocketEvent> events = Workload.events(n, 10);
        Map<Long, SocketLifecycle> expected = lifecycles(inputs(events), n);

        var c = combiner(16_384, 1 << 16);
        List<SocketEvent> in = inputs(events);
        long byteRecordsIn = in.stream().filter(ByteRecordCombiner::summable).count();
        feed(c, in);
        c.processWatermark(Long.MAX_VALUE - 1);
        List<SocketEvent> out = values(c);
        assertEquals(expected, lifecycles(out, n));

        long byteRecordsOut = out.stream().filter(e -> e.getKind() == SOCK_SEND || e.getKind() == SOCK_RECV).count();
        assertEquals(n * 2 * 2 * 11, byteRecordsIn, "11 rounds of 4 byte records per connection");
        assertEquals(n * 2 * 2, byteRecordsOut, "one per socket and direction");
        assertEquals(in.size() - byteRecordsIn, out.size() - byteRecordsOut, "everything else went through");
        SocketEvent firstClientSend = out.stream().filter(e -> e.getKind() == SOCK_SEND && e.getSocketInode() == 100L)
                .findFirst().orElseThrow();
        assertEquals(11 * 100L, firstClientSend.getBytes(), "sum of the 11 sends of 100 bytes");
        assertEquals(11L, firstClientSend.getCount());
        assertEquals(Ev.T0.plusMillis(106), firstClientSend.getTimestamp(), "the newest record's time");
        c.close();
    }

    @Test
    void shuffledAndDuplicatedRecordsGiveTheOrderedRunsLifecycles() throws Exception {
        int n = 4;
        List<SocketEvent> events = Workload.events(n, 6);
        Map<Long, SocketLifecycle> expected = lifecycles(inputs(events), n);

        List<SocketEvent> messy = new ArrayList<>(events);
        Random rnd = new Random(11);
        for (SocketEvent e : events) {
            if (rnd.nextInt(3) == 0) {
                messy.add(e); // delivered twice
            }
        }
        Collections.shuffle(messy, rnd);
        var c = combiner(16_384, 1 << 16);
        List<SocketEvent> in = inputs(messy);
        // watermarks now and then, as the source sends them: some sums go out in several parts
        for (int i = 0; i < in.size(); i++) {
            SocketEvent e = in.get(i);
            c.processElement(new StreamRecord<>(e, e.getTimestamp().toEpochMilli()));
            if (i % 97 == 96) {
                c.processWatermark(Ev.T0.toEpochMilli());
            }
        }
        c.processWatermark(Long.MAX_VALUE - 1);
        assertEquals(expected, lifecycles(values(c), n));
        c.close();
    }

    @Test
    void pendingSumsGoOutBeforeTheWatermarkThatFollowsThem() throws Exception {
        var c = combiner(16_384, 1 << 16);
        c.processElement(new StreamRecord<>(send(100, 1, 10, 5), 10));
        c.processElement(new StreamRecord<>(send(100, 2, 12, 7), 12));
        assertTrue(c.getOutput().isEmpty(), "held while the sum is open");
        c.processWatermark(11);
        List<Object> out = new ArrayList<>(c.getOutput());
        assertEquals(2, out.size());
        @SuppressWarnings("unchecked")
        StreamRecord<SocketEvent> sum = (StreamRecord<SocketEvent>) out.get(0);
        assertEquals(12L, sum.getValue().getBytes());
        assertEquals(2L, sum.getValue().getCount());
        assertEquals(12L, sum.getTimestamp(), "the newest record's timestamp");
        assertEquals(new Watermark(11), out.get(1), "the watermark after the sum it may not overtake");
        c.close();
    }

    @Test
    void aLoneRecordGoesOnUnchangedAndOtherRecordsAreNotHeld() throws Exception {
        var c = combiner(16_384, 1 << 16);
        SocketEvent lone = send(100, 1, 10, 5);
        SocketEvent copy = SocketEvent.newBuilder(lone).build();
        c.processElement(new StreamRecord<>(lone, 10));
        SocketEvent close = Ev.of(CLOSE, 300, "curl", 11).socket(100).tcp().get();
        SocketEvent empty = send(101, 1, 11, 0);
        SocketEvent counted = send(102, 1, 11, 9);
        counted.setCount(3L);
        for (SocketEvent e : List.of(close, empty, counted)) {
            c.processElement(new StreamRecord<>(e, 11));
        }
        assertEquals(List.of(close, empty, counted), values(c), "not byte records, no bytes, already a sum: at once");
        c.processWatermark(20);
        assertEquals(copy, values(c).get(3), "one record summed is that record, count left empty");
        c.close();
    }

    @Test
    void aCheckpointSendsEverySumAndKeepsTheDuplicateWindow() throws Exception {
        var c = combiner(16_384, 1 << 16);
        SocketEvent a = send(100, 1, 10, 5);
        SocketEvent again = SocketEvent.newBuilder(a).build();
        c.processElement(new StreamRecord<>(a, 10));
        c.prepareSnapshotPreBarrier(1);
        assertEquals(1, values(c).size(), "sent before the barrier: no sum is ever state");
        OperatorSubtaskState snap = c.snapshot(1, 1);
        c.close();

        var restored = new OneInputStreamOperatorTestHarness<>(new ByteRecordCombiner(Duration.ofMillis(200), 16_384, 1 << 16));
        restored.initializeState(snap);
        restored.open();
        restored.processElement(new StreamRecord<>(again, 10));
        restored.processElement(new StreamRecord<>(send(100, 1, 11, 6), 11));
        restored.processWatermark(20);
        List<SocketEvent> out = values(restored);
        assertEquals(1, out.size(), "the resend of a record summed before the checkpoint is dropped");
        assertEquals(6L, out.get(0).getBytes());
        restored.close();
    }

    @Test
    void tooManySocketsPendingSendsThemAllAndAFlushIntervalBoundsTheWait() throws Exception {
        var c = combiner(2, 1 << 16);
        c.processElement(new StreamRecord<>(send(100, 1, 10, 5), 10));
        c.processElement(new StreamRecord<>(send(101, 1, 10, 5), 10));
        assertEquals(0, values(c).size());
        c.processElement(new StreamRecord<>(send(102, 1, 10, 5), 10));
        assertEquals(3, values(c).size(), "the third socket passes the limit of 2: all three go");

        c.processElement(new StreamRecord<>(send(103, 1, 10, 5), 10));
        c.setProcessingTime(c.getProcessingTime() + 199);
        assertEquals(3, values(c).size(), "within the flush interval");
        c.setProcessingTime(c.getProcessingTime() + 200);
        assertEquals(4, values(c).size(), "after it, without a watermark");
        c.close();
    }

    @Test
    void theDuplicateWindowHasALimit() throws Exception {
        var c = combiner(16_384, 4);
        SocketEvent first = send(100, 1, 10, 5);
        SocketEvent resend = SocketEvent.newBuilder(first).build();
        SocketEvent late = SocketEvent.newBuilder(first).build();
        c.processElement(new StreamRecord<>(first, 10));
        c.processElement(new StreamRecord<>(resend, 10));
        for (int i = 0; i < 4; i++) {
            c.processElement(new StreamRecord<>(send(100, 2 + i, 10, 1), 10));
        }
        c.processElement(new StreamRecord<>(late, 10)); // four byte records later: out of the window
        c.processWatermark(20);
        SocketEvent sum = values(c).get(0);
        assertEquals(5 + 4 + 5, sum.getBytes(), "the resend at once is dropped; the one after the window is not");
        assertEquals(6L, sum.getCount());
        c.close();
    }

    @Test
    void aSumCrossesTheShuffleAsTheSumNotAsTheRecordItWasReadAs() throws Exception {
        var serializer = new SocketEventSerializer();
        SocketEvent older = send(100, 1, 10, 5);
        SocketEvent newest = send(100, 2, 11, 7);
        // the source read the newest record last: the serializer holds its Kafka bytes, to send them as they are
        DataOutputSerializer read = new DataOutputSerializer(512);
        serializer.serialize(newest, read);
        byte[] kafka = read.getCopyOfBuffer();
        var c = combiner(16_384, 1 << 16);
        c.processElement(new StreamRecord<>(older, 10));
        SocketEventSerializer.rememberEncoding(newest, kafka, 4, kafka.length - 4);
        c.processElement(new StreamRecord<>(newest, 11));
        c.processWatermark(20);
        assertEquals(12L, values(c).get(0).getBytes());
        assertEquals(12L, newest.getBytes(), "the newest record carries the sum");
        // the harness copies what it collects; the job's shuffle would get this very object
        DataOutputSerializer shuffled = new DataOutputSerializer(512);
        serializer.serialize(newest, shuffled);
        SocketEvent received = serializer.deserialize(new DataInputDeserializer(shuffled.getCopyOfBuffer()));
        assertEquals(12L, received.getBytes());
        assertEquals(2L, received.getCount());
        c.close();
    }

    @Test
    void badSettingsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new ByteRecordCombiner(Duration.ZERO, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new ByteRecordCombiner(Duration.ofMillis(1), 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new ByteRecordCombiner(Duration.ofMillis(1), 1, 0));
    }
}
