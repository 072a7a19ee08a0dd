package io.sockflow.collector.cli;

import io.sockflow.collector.capture.Capture;
import io.sockflow.collector.capture.CaptureOptions;
import io.sockflow.collector.decode.ContainerResolver;
import io.sockflow.collector.decode.HostInfo;
import io.sockflow.collector.decode.SocketEventDecoder;
import io.sockflow.collector.output.JsonEventWriter;
import io.sockflow.schemas.SocketEvent;

import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.FileDescriptor;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** {@code sockflow collect}: live capture to an output until interrupted or for --duration. */
public final class CollectCommand {
    private final Settings settings;

    CollectCommand(Settings settings) {
        this.settings = settings;
        System.setProperty("sockflow.log.level", settings.getString(Settings.LOG_LEVEL));
    }

    static String usage() {
        return "usage: sockflow collect [settings]\n\n"
                + "Captures every network system call of this host and writes one event per call.\n"
                + "Needs root, or CAP_BPF + CAP_PERFMON + CAP_DAC_READ_SEARCH.\n\nsettings:\n" + Settings.help();
    }

    CaptureOptions captureOptions() {
        return CaptureOptions.defaults()
                .withPidInclude(settings.ints(Settings.PID_INCLUDE))
                .withPidExclude(settings.ints(Settings.PID_EXCLUDE))
                .withCgroups(settings.longs(Settings.CGROUP_INCLUDE), settings.longs(Settings.CGROUP_EXCLUDE))
                .withExcludeSelf(settings.getBoolean(Settings.EXCLUDE_SELF))
                .withRingBufferBytes(settings.getInt(Settings.RING_BUFFER_BYTES))
                .withBtfPath(Path.of(settings.getString(Settings.BTF_PATH)))
                .withTracefsPath(Path.of(settings.getString(Settings.TRACEFS_PATH)));
    }

    int run() {
        Duration duration = settings.duration(Settings.DURATION);
        Duration statsEvery = settings.duration(Settings.STATS_INTERVAL);
        HostInfo host = HostInfo.local(settings.getString(Settings.HOST_NAME));
        SocketEventDecoder decoder = new SocketEventDecoder(host,
                ContainerResolver.fromCgroupFs(Path.of("/sys/fs/cgroup")));
        OutputStream stdout = new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16);
        JsonEventWriter json = new JsonEventWriter(stdout);
        SocketEvent reused = new SocketEvent();
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);

        // on SIGINT/SIGTERM: ask the loop to stop, and hold the JVM until it has detached and drained. Registered
        // before the programs are attached, so a signal during start-up still ends in a clean stop and a report.
        Thread hook = new Thread(() -> {
            stop.countDown();
            try {
                done.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }, "sockflow-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try (Capture capture = Capture.open(captureOptions(), rec -> json.write(decoder.decode(rec, reused)))) {
            long deadline = duration.isZero() ? Long.MAX_VALUE : System.nanoTime() + duration.toNanos();
            long nextStats = statsEvery.isZero() ? Long.MAX_VALUE : System.nanoTime() + statsEvery.toNanos();
            long nextClock = System.nanoTime() + 60_000_000_000L;
            // polls on this thread: the decoder and the JSON writer are single-threaded
            while (stop.getCount() > 0 && System.nanoTime() < deadline) {
                capture.poll(io.sockflow.collector.bpf.RingBufferReader.POLL_TIMEOUT_MS);
                json.flush();
                long now = System.nanoTime();
                if (now >= nextStats) {
                    System.err.println("sockflow: " + describe(capture.stats()));
                    nextStats = now + statsEvery.toNanos();
                }
                if (now >= nextClock) {
                    host.refreshClock();
                    nextClock = now + 60_000_000_000L;
                }
            }
            capture.close();
            json.flush();
            Capture.Stats s = capture.stats();
            System.err.println("sockflow: " + describe(s));
            return 0;
        } finally {
            done.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // stopped by a signal: the hook is running
            }
        }
    }

    static String describe(Capture.Stats s) {
        return String.format("%d events received, %d dropped in the kernel (ring buffer full)%s%s",
                s.received(), s.dropped(),
                s.sinkErrors() > 0 ? ", " + s.sinkErrors() + " failed to decode" : "",
                s.inFlight() > 0 ? ", " + s.inFlight() + " still queued" : "");
    }
}
