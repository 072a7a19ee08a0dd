package io.sockflow.collector.bench;

import io.sockflow.collector.capture.Capture;
import io.sockflow.collector.capture.CaptureOptions;
import io.sockflow.collector.decode.HostInfo;
import io.sockflow.collector.decode.SocketEventDecoder;
import io.sockflow.schemas.SocketEvent;
import java.util.concurrent.CountDownLatch;

/**
 * sockflow's kernel programs attached as the collector attaches them, with less done in user space, so that
 * {@code bench/overhead} can tell what the programs cost a workload from what the collector's own work costs it:
 * {@code AttachMain read|decode}. {@code read} consumes each record from the ring buffer and counts it; {@code decode}
 * also decodes it into a {@link SocketEvent}, as the collector does before serializing. Prints "attached" once the
 * programs are on, runs until killed, then prints the records received and dropped.
 */
public final class AttachMain {
    private AttachMain() {}

    public static void main(String[] args) throws Exception {
        boolean decode = args.length > 0 && args[0].equals("decode");
        if (args.length != 1 || !decode && !args[0].equals("read")) {
            System.err.println("usage: AttachMain read|decode");
            System.exit(2);
        }
        SocketEventDecoder decoder = new SocketEventDecoder(HostInfo.local(null));
        SocketEvent reused = new SocketEvent();
        long[] sink = {0};
        CountDownLatch stop = new CountDownLatch(1);
        try (Capture c = Capture.open(
                        CaptureOptions.defaults(),
                        decode ? rec -> sink[0] += decoder.decode(rec, reused).getPid() : rec -> sink[0]++)
                .start()) {
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
