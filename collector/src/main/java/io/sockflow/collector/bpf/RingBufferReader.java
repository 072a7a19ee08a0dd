package io.sockflow.collector.bpf;

import io.sockflow.collector.sys.Errno;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads a BPF ring buffer. Each record is handed to the sink in place (the segment is only valid during the
 * call), on the thread that polls: either the reader's own thread ({@link #start()}) or a caller of
 * {@link #poll(int)}.
 */
public final class RingBufferReader implements AutoCloseable {
    /** Receives one record; the segment must not be kept after the call returns. */
    @FunctionalInterface
    public interface RecordSink {
        void onRecord(MemorySegment record);
    }

    /** Longest a record waits in the ring when the kernel does not wake the reader. */
    public static final int POLL_TIMEOUT_MS = 10;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment rb;
    private final RecordSink sink;
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong sinkErrors = new AtomicLong();
    private volatile boolean running;
    private volatile boolean stopping;
    private volatile Thread thread;
    private volatile Throwable lastSinkError;

    public RingBufferReader(int mapFd, RecordSink sink) {
        this.sink = sink;
        try {
            MethodHandle cb = MethodHandles.lookup()
                    .findVirtual(
                            RingBufferReader.class,
                            "onSample",
                            MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class, long.class))
                    .bindTo(this);
            MemorySegment stub = Libbpf.upcall(cb, Libbpf.RING_BUFFER_SAMPLE_FN, arena);
            MemorySegment r = Libbpf.ringBufferNew(mapFd, stub, MemorySegment.NULL);
            if (r.equals(MemorySegment.NULL)) {
                throw new BpfException("cannot open the ring buffer: " + Errno.describe(Libbpf.lastErrno()));
            }
            this.rb = r;
        } catch (ReflectiveOperationException e) {
            arena.close();
            throw new IllegalStateException(e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    @SuppressWarnings("unused")
    private int onSample(MemorySegment ctx, MemorySegment data, long size) {
        if (stopping && Thread.currentThread() == thread) {
            return -1; // the polling thread is asked to stop: leave this record for the final drain
        }
        received.incrementAndGet();
        try {
            sink.onRecord(data.reinterpret(size));
        } catch (Throwable t) {
            // an exception escaping an upcall kills the JVM: count it and go on
            sinkErrors.incrementAndGet();
            lastSinkError = t;
        }
        return 0;
    }

    /**
     * Consumes what is available, waiting at most timeoutMs for a wakeup; returns records consumed. The kernel
     * side wakes the reader only when enough data waits, so a poll that times out still reads what is there.
     */
    public int poll(int timeoutMs) {
        int n = Libbpf.ringBufferPoll(rb, timeoutMs);
        if (n < 0 && n != -Errno.EINTR) {
            throw new BpfException("ring buffer poll failed: " + Errno.describe(-n));
        }
        return n > 0 ? n : consume();
    }

    /** Consumes what is available without waiting. */
    public int consume() {
        int n = Libbpf.ringBufferConsume(rb);
        return Math.max(n, 0);
    }

    /** Starts a daemon thread that polls until {@link #close()}. */
    public synchronized void start(String name) {
        if (thread != null) {
            return;
        }
        running = true;
        thread = Thread.ofPlatform().name(name).daemon().start(() -> {
            while (running) {
                poll(POLL_TIMEOUT_MS);
            }
        });
    }

    public long received() {
        return received.get();
    }

    public long sinkErrors() {
        return sinkErrors.get();
    }

    public Throwable lastSinkError() {
        return lastSinkError;
    }

    /**
     * Stops the polling thread (if any): it returns from the record it is handling, and what is still queued
     * stays for {@link #consume()}. Waits for the thread, however long its last record takes: libbpf's ring buffer
     * must never be read by two threads, nor freed while one reads it.
     */
    public synchronized void stop() {
        running = false;
        stopping = true;
        if (thread != null) {
            boolean interrupted = false;
            while (thread.isAlive()) {
                try {
                    thread.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            thread = null;
        }
    }

    @Override
    public synchronized void close() {
        stop();
        Libbpf.ringBufferFree(rb);
        arena.close();
    }
}
