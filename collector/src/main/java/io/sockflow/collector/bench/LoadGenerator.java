package io.sockflow.collector.bench;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.ByteOrder;

/**
 * A loopback load for the benchmarks, run as its own process: each thread sends small UDP datagrams to a local
 * socket nobody reads (each sendto is one traced call), at a total rate or as fast as it can.
 *
 * <p>usage: LoadGenerator THREADS RATE_PER_SECOND(0 = unlimited) TOTAL_CALLS SECONDS
 */
public final class LoadGenerator {
    private static final Linker L = Linker.nativeLinker();
    private static final MethodHandle SOCKET = L.downcallHandle(
            L.defaultLookup().find("socket").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle BIND = L.downcallHandle(
            L.defaultLookup().find("bind").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle GETSOCKNAME = L.downcallHandle(
            L.defaultLookup().find("getsockname").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SENDTO = L.downcallHandle(
            L.defaultLookup().find("sendto").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));

    private LoadGenerator() {}

    public static void main(String[] args) throws Throwable {
        int threads = Integer.parseInt(args[0]);
        long rate = Long.parseLong(args[1]);
        long total = Long.parseLong(args[2]);
        double seconds = Double.parseDouble(args[3]);
        Arena arena = Arena.global();
        // the sink: bound, never read; the kernel drops what overflows its buffer after sendto returned
        int sink = (int) SOCKET.invokeExact(2, 2, 0);
        MemorySegment sa = arena.allocate(16, 8);
        sa.set(JAVA_SHORT, 0, (short) 2);
        sa.set(JAVA_BYTE, 4, (byte) 127);
        sa.set(JAVA_BYTE, 7, (byte) 1);
        int rc = (int) BIND.invokeExact(sink, sa, 16);
        MemorySegment len = arena.allocate(JAVA_INT);
        len.set(JAVA_INT, 0, 16);
        rc |= (int) GETSOCKNAME.invokeExact(sink, sa, len);
        if (rc != 0) {
            throw new IllegalStateException("cannot bind the sink socket");
        }
        int port = Short.toUnsignedInt(sa.get(JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN), 2));
        long perThreadTotal = total / threads;
        double perThreadRate = rate / (double) threads;
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        Thread[] ts = new Thread[threads];
        long[] sent = new long[threads];
        for (int t = 0; t < threads; t++) {
            int idx = t;
            ts[t] = Thread.ofPlatform().start(() -> {
                try (Arena a = Arena.ofConfined()) {
                    int fd = (int) SOCKET.invokeExact(2, 2, 0);
                    MemorySegment dst = a.allocate(16, 8);
                    dst.set(JAVA_SHORT, 0, (short) 2);
                    dst.set(JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN), 2, (short) port);
                    dst.set(JAVA_BYTE, 4, (byte) 127);
                    dst.set(JAVA_BYTE, 7, (byte) 1);
                    MemorySegment buf = a.allocate(16);
                    long start = System.nanoTime();
                    long n = 0;
                    while (n < perThreadTotal && System.nanoTime() < deadline) {
                        for (int i = 0; i < 256 && n < perThreadTotal; i++, n++) {
                            long r = (long) SENDTO.invokeExact(fd, buf, 16L, 0x40, dst, 16);
                        }
                        if (perThreadRate > 0) {
                            long due = start + (long) (n / perThreadRate * 1e9);
                            while (System.nanoTime() < due) {
                                Thread.onSpinWait();
                            }
                        }
                    }
                    sent[idx] = n;
                } catch (Throwable e) {
                    throw new IllegalStateException(e);
                }
            });
        }
        long t0 = System.nanoTime();
        long sum = 0;
        for (int t = 0; t < threads; t++) {
            ts[t].join();
            sum += sent[t];
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.printf("%d %.3f%n", sum, secs);
    }
}
