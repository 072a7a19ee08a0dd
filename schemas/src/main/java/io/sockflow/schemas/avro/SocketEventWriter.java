package io.sockflow.schemas.avro;

import io.sockflow.schemas.SocketEvent;
import java.time.Instant;
import java.util.List;

/**
 * Writes a {@link SocketEvent} in Avro binary, field by field, without Avro's generic machinery (union resolution
 * by schema lookup, logical-type conversion objects, boxing): the collector's hot path. Byte for byte what
 * {@code SpecificDatumWriter} writes; SocketEventWriterTest holds the two together on varied events, and fails
 * when the schema's fields change without this writer.
 */
public final class SocketEventWriter {
    /** The fields this writer writes, in order: the schema's own, or the test fails. */
    public static final List<String> FIELDS = List.of(
            "host",
            "bootId",
            "timestamp",
            "monotonicNs",
            "durationNs",
            "kind",
            "pid",
            "tid",
            "processStartNs",
            "comm",
            "uid",
            "gid",
            "cgroupId",
            "containerId",
            "fd",
            "resultFd",
            "resultFd2",
            "socketInode",
            "socketKernelAddress",
            "relatedSocketInode",
            "relatedSocketKernelAddress",
            "family",
            "socketType",
            "protocol",
            "localAddress",
            "localPort",
            "remoteAddress",
            "remotePort",
            "sockaddrFamily",
            "sockaddrAddress",
            "sockaddrPort",
            "sockaddrBytes",
            "argFamily",
            "argType",
            "argProtocol",
            "backlog",
            "shutdownHow",
            "flags",
            "flagNames",
            "optionLevel",
            "optionName",
            "optionLength",
            "optionValue",
            "messageCount",
            "bytes",
            "name",
            "returnValue",
            "errno",
            "attribution",
            "tcpOldState",
            "tcpState",
            "reason",
            "count",
            "rttUs",
            "rttMinUs",
            "rttMaxUs",
            "cwnd",
            "interfaceName",
            "direction",
            "intervalMs",
            "eventProtocol",
            "socketCookie",
            "relatedSocketCookie",
            "netns",
            "socketState",
            "cause",
            "lastReference",
            "kernelBytesSent",
            "kernelBytesReceived",
            "closeOnExec",
            "path",
            "bytesSent",
            "bytesReceived",
            "callsSent",
            "callsReceived",
            "errorsSent",
            "errorsReceived",
            "retransmits",
            "totalsFinal",
            "ppid",
            "cmdline",
            "ancestry",
            "stdio",
            "mark",
            "ioUringOp",
            "kernelRelease",
            "kernelLacks");

    private SocketEventWriter() {}

    static long micros(Instant t) {
        return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L), t.getNano() / 1_000);
    }

    /** Appends the record's Avro binary encoding to {@code out}. */
    public static void write(SocketEvent e, AvroBinaryBuffer out) {
        out.writeString(e.getHost());
        out.writeString(e.getBootId());
        out.writeLong(micros(e.getTimestamp()));
        out.writeLong(e.getMonotonicNs());
        out.writeLong(e.getDurationNs());
        out.writeInt(e.getKind().ordinal());
        out.writeInt(e.getPid());
        out.writeInt(e.getTid());
        out.writeLong(e.getProcessStartNs());
        out.writeString(e.getComm());
        out.writeInt(e.getUid());
        out.writeInt(e.getGid());
        out.writeLong(e.getCgroupId());
        String v13 = e.getContainerId();
        if (v13 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeString(v13);
        }
        Integer v14 = e.getFd();
        if (v14 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeInt(v14);
        }
        Integer v15 = e.getResultFd();
        if (v15 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeInt(v15);
        }
        Integer v16 = e.getResultFd2();
        if (v16 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeInt(v16);
        }
        Long v17 = e.getSocketInode();
        if (v17 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeLong(v17);
        }
        Long v18 = e.getSocketKernelAddress();
        if (v18 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeLong(v18);
        }
        Long v19 = e.getRelatedSocketInode();
        if (v19 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeLong(v19);
        }
        Long v20 = e.getRelatedSocketKernelAddress();
        if (v20 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeLong(v20);
        }
        String v21 = e.getFamily();
        if (v21 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeString(v21);
        }
        String v22 = e.getSocketType();
        if (v22 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeString(v22);
        }
        String v23 = e.getProtocol();
        if (v23 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeString(v23);
        }
        String v24 = e.getLocalAddress();
        if (v24 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeString(v24);
        }
        Integer v25 = e.getLocalPort();
        if (v25 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeInt(v25);
        }
        String v26 = e.getRemoteAddress();
        if (v26 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeString(v26);
        }
        Integer v27 = e.getRemotePort();
        if (v27 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeInt(v27);
        }
        String v28 = e.getSockaddrFamily();
        if (v28 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeString(v28);
        }
        String v29 = e.getSockaddrAddress();
        if (v29 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeString(v29);
        }
        Integer v30 = e.getSockaddrPort();
        if (v30 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeInt(v30);
        }
        java.nio.ByteBuffer v31 = e.getSockaddrBytes();
        if (v31 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeBytes(v31);
        }
        String v32 = e.getArgFamily();
        if (v32 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeString(v32);
        }
        String v33 = e.getArgType();
        if (v33 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeString(v33);
        }
        Integer v34 = e.getArgProtocol();
        if (v34 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeInt(v34);
        }
        Integer v35 = e.getBacklog();
        if (v35 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeInt(v35);
        }
        String v36 = e.getShutdownHow();
        if (v36 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeString(v36);
        }
        Long v37 = e.getFlags();
        if (v37 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeLong(v37);
        }
        String v38 = e.getFlagNames();
        if (v38 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeString(v38);
        }
        String v39 = e.getOptionLevel();
        if (v39 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeString(v39);
        }
        String v40 = e.getOptionName();
        if (v40 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeString(v40);
        }
        Integer v41 = e.getOptionLength();
        if (v41 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeInt(v41);
        }
        Integer v42 = e.getOptionValue();
        if (v42 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeInt(v42);
        }
        Integer v43 = e.getMessageCount();
        if (v43 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeInt(v43);
        }
        Long v44 = e.getBytes();
        if (v44 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeLong(v44);
        }
        String v45 = e.getName();
        if (v45 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeString(v45);
        }
        out.writeLong(e.getReturnValue());
        String v47 = e.getErrno();
        if (v47 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeString(v47);
        }
        String v48 = e.getAttribution();
        if (v48 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeString(v48);
        }
        String v49 = e.getTcpOldState();
        if (v49 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeString(v49);
        }
        String v50 = e.getTcpState();
        if (v50 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeString(v50);
        }
        String v51 = e.getReason();
        if (v51 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeString(v51);
        }
        Long v52 = e.getCount();
        if (v52 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeLong(v52);
        }
        Long v53 = e.getRttUs();
        if (v53 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeLong(v53);
        }
        Long v54 = e.getRttMinUs();
        if (v54 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeLong(v54);
        }
        Long v55 = e.getRttMaxUs();
        if (v55 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeLong(v55);
        }
        Long v56 = e.getCwnd();
        if (v56 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeLong(v56);
        }
        String v57 = e.getInterfaceName();
        if (v57 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeString(v57);
        }
        String v58 = e.getDirection();
        if (v58 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeString(v58);
        }
        Long v59 = e.getIntervalMs();
        if (v59 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeLong(v59);
        }
        String v60 = e.getEventProtocol();
        if (v60 == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeString(v60);
        }
        optionalLong(out, e.getSocketCookie());
        optionalLong(out, e.getRelatedSocketCookie());
        optionalLong(out, e.getNetns());
        optionalString(out, e.getSocketState());
        optionalString(out, e.getCause());
        optionalBoolean(out, e.getLastReference());
        optionalLong(out, e.getKernelBytesSent());
        optionalLong(out, e.getKernelBytesReceived());
        optionalBoolean(out, e.getCloseOnExec());
        optionalString(out, e.getPath());
        optionalLong(out, e.getBytesSent());
        optionalLong(out, e.getBytesReceived());
        optionalLong(out, e.getCallsSent());
        optionalLong(out, e.getCallsReceived());
        optionalLong(out, e.getErrorsSent());
        optionalLong(out, e.getErrorsReceived());
        optionalLong(out, e.getRetransmits());
        optionalBoolean(out, e.getTotalsFinal());
        Integer ppid = e.getPpid();
        if (ppid == null) {
            out.writeRawByte(0);
        } else {
            out.writeRawByte(2);
            out.writeInt(ppid);
        }
        optionalString(out, e.getCmdline());
        optionalString(out, e.getAncestry());
        optionalString(out, e.getStdio());
        optionalLong(out, e.getMark());
        optionalString(out, e.getIoUringOp());
        optionalString(out, e.getKernelRelease());
        optionalString(out, e.getKernelLacks());
    }

    private static void optionalLong(AvroBinaryBuffer out, Long v) {
        if (v == null) {
            out.writeRawByte(0); // union branch 0: null
        } else {
            out.writeRawByte(2); // union branch 1, zig-zag encoded
            out.writeLong(v);
        }
    }

    private static void optionalString(AvroBinaryBuffer out, String v) {
        if (v == null) {
            out.writeRawByte(0);
        } else {
            out.writeRawByte(2);
            out.writeString(v);
        }
    }

    private static void optionalBoolean(AvroBinaryBuffer out, Boolean v) {
        if (v == null) {
            out.writeRawByte(0);
        } else {
            out.writeRawByte(2);
            out.writeRawByte(v ? 1 : 0);
        }
    }
}
