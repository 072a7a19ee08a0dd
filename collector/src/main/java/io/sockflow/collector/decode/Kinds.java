package io.sockflow.collector.decode;

import io.sockflow.collector.bpf.KernelContract;
import io.sockflow.schemas.EventKind;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The kernel's record kinds and causes (enum sf_kind, enum sf_cause of bpf/sockflow.h) as the schema's names: a kernel
 * kind SF_KIND_X is the schema's EventKind X, a cause SF_CAUSE_Y the text Y. Built from the object's BTF; a kind the
 * schema lacks fails here, at start, with its name.
 */
public final class Kinds {
    private static final EventKind[] BY_NUMBER = new EventKind[256];
    private static final String[] CAUSES = new String[64];
    private static final String[] IO_URING_OPS = new String[256];
    /** Kinds whose pid and comm are of whatever task the kernel ran in, not of anyone who acted on the socket. */
    private static final Set<EventKind> KERNEL_CONTEXT = EnumSet.noneOf(EventKind.class);

    static {
        KernelContract c = KernelContract.get();
        long firstKernel = c.value("sf_kind", "SF_KIND_FIRST_KERNEL");
        for (Map.Entry<String, Long> e : c.enumValues("sf_kind").entrySet()) {
            if (e.getKey().equals("SF_KIND_FIRST_KERNEL")) {
                continue;
            }
            EventKind k = schemaKind(e.getKey());
            BY_NUMBER[Math.toIntExact(e.getValue())] = k;
            if (e.getValue() >= firstKernel) {
                KERNEL_CONTEXT.add(k);
            }
        }
        for (Map.Entry<String, Long> e : c.enumValues("sf_cause").entrySet()) {
            if (e.getValue() != 0) {
                CAUSES[Math.toIntExact(e.getValue())] = e.getKey().substring("SF_CAUSE_".length());
            }
        }
        for (Map.Entry<String, Long> e : c.enumValues("sf_io_uring_op").entrySet()) {
            IO_URING_OPS[Math.toIntExact(e.getValue())] = e.getKey().substring("SF_IO_URING_OP_".length());
        }
        // the send and receive length tracepoints fire in the sending or receiving task itself
        KERNEL_CONTEXT.remove(EventKind.SOCK_SEND);
        KERNEL_CONTEXT.remove(EventKind.SOCK_RECV);
        // the aggregated counters the collector reads from maps are kernel context too
        KERNEL_CONTEXT.addAll(EnumSet.of(
                EventKind.TCP_RTT,
                EventKind.SKB_DROPS,
                EventKind.NETDEV_TRAFFIC,
                EventKind.XDP_ERRORS,
                EventKind.UDP_QUEUE_OVERFLOWS));
    }

    private Kinds() {}

    /** The schema's kind for a kernel kind name (SF_KIND_X is X); fails when the schema has no such symbol. */
    static EventKind schemaKind(String kernelName) {
        String name = kernelName.substring("SF_KIND_".length());
        try {
            return EventKind.valueOf(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("bpf/sockflow.h has " + kernelName + " but the schema's EventKind has no "
                    + name + ": add it to schemas/src/main/avro/SocketEvent.avsc");
        }
    }

    /** The schema's kind of a kernel record's kind number; UNKNOWN for a number the header does not define. */
    public static EventKind of(int kernelKind) {
        EventKind k = kernelKind >= 0 && kernelKind < BY_NUMBER.length ? BY_NUMBER[kernelKind] : null;
        return k == null ? EventKind.UNKNOWN : k;
    }

    /** Whether a record of this kind was made in kernel context (softirq, timers): its task is not its actor. */
    public static boolean kernelContext(EventKind k) {
        return KERNEL_CONTEXT.contains(k);
    }

    /** Whether a kernel kind number is one whose task is not its actor. */
    public static boolean kernelContext(int kernelKind) {
        return kernelContext(of(kernelKind));
    }

    /** An io_uring opcode's name as the kernel's enum io_uring_op has it less IORING_OP_ (SEND, CONNECT), or OP_n. */
    public static String ioUringOp(int op) {
        String name = op >= 0 && op < IO_URING_OPS.length ? IO_URING_OPS[op] : null;
        return name != null ? name : "OP_" + Integer.toUnsignedString(op);
    }

    /** The cause's name (CLOSE, EXIT, EXEC, DUP2, CLOSE_RANGE, OTHER), or null for none. */
    public static String cause(int c) {
        return c > 0 && c < CAUSES.length ? CAUSES[c] : null;
    }
}
