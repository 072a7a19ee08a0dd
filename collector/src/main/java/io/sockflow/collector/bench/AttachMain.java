package io.sockflow.collector.bench;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import io.sockflow.collector.bpf.EventLayout;
import io.sockflow.collector.capture.Capture;
import io.sockflow.collector.capture.CaptureOptions;
import io.sockflow.collector.capture.SocketTotals;
import io.sockflow.collector.decode.HostInfo;
import io.sockflow.collector.decode.SocketEventDecoder;
import io.sockflow.schemas.SocketEvent;
import java.util.concurrent.CountDownLatch;

/**
 * sockflow's kernel programs attached as the collector attaches them, with less done in user space, so that
 * {@code bench/overhead} can tell what the programs cost a workload from what the collector's own work costs it:
 * {@code AttachMain read|decode [aggregate|per-call]}. {@code read} consumes each record from the ring buffer and
 * counts it; {@code decode} also decodes it into a {@link SocketEvent}, as the collector does before serializing. The
 * data path is the collector's default (aggregate: sends and receives of inet stream sockets summed in the kernel)
 * unless per-call is given. Prints "attached" once the programs are on, runs until killed, then prints the records
 * received and dropped.
 */
public final class AttachMain {
    private AttachMain() {}

    public static void main(String[] args) throws Exception {
        boolean decode = args.length > 0 && args[0].equals("decode");
        if (args.length < 1
                || args.length > 2
                || !decode && !args[0].equals("read")
                || args.length == 2 && !args[1].equals("aggregate") && !args[1].equals("per-call")) {
            System.err.println("usage: AttachMain read|decode [aggregate|per-call]");
            System.exit(2);
        }
        boolean aggregate = args.length < 2 || args[1].equals("aggregate");
        SocketEventDecoder decoder = new SocketEventDecoder(HostInfo.local(null));
        SocketEvent reused = new SocketEvent();
        long[] sink = {0};
        CountDownLatch stop = new CountDownLatch(1);
        SocketTotals[] totals = {null};
        try (Capture c = Capture.open(CaptureOptions.defaults().withAggregate(aggregate), rec -> {
            sink[0] += decode ? decoder.decode(rec, reused).getPid() : 1;
            // as the collector does: a released socket's totals are read and its entry deleted (the map
            // would fill otherwise, and every later send and receive take the per-call path)
            SocketTotals t = totals[0];
            if (t != null && rec.get(JAVA_SHORT_UNALIGNED, EventLayout.KIND) == EventLayout.KIND_SOCK_RELEASE) {
                t.ended(rec.get(JAVA_LONG_UNALIGNED, EventLayout.COOKIE), e -> sink[0]++);
            }
        })) {
            totals[0] = aggregate ? new SocketTotals(c, decoder.host()) : null;
            c.start(); // after the line above: the polling thread starts here
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                Capture.Stats s = c.stats();
                System.out.println("received " + s.received() + " dropped " + s.dropped());
                System.out.flush();
                c.close(); // detach before the JVM goes
                stop.countDown();
            }));
            System.out.println("attached");
            System.out.flush();
            stop.await();
        }
    }
}
