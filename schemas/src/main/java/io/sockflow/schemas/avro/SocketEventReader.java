package io.sockflow.schemas.avro;

import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;
import java.time.Instant;

/**
 * Reads a {@link SocketEvent} from Avro binary written with the current schema, field by field, without Avro's
 * resolving reader (schema-driven field actions, boxing through {@code put}): the counterpart of
 * {@link SocketEventWriter}, for the jobs' source and their shuffles. Records written with another version of the
 * schema go through Avro's resolving reader instead. SocketEventReaderTest reads back what Avro's writer wrote for
 * thousands of random events (a field added to the schema without this reader leaves bytes unread and fails it).
 */
public final class SocketEventReader {
    private static final EventKind[] KINDS = EventKind.values();

    private SocketEventReader() {}

    static Instant instant(long micros) {
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000L);
    }

    /** Reads one record, which must end where {@code in} ends. */
    public static SocketEvent read(AvroBinaryInput in) {
        SocketEvent e = new SocketEvent();
        e.setHost(in.readString());
        e.setBootId(in.readString());
        e.setTimestamp(instant(in.readLong()));
        e.setMonotonicNs(in.readLong());
        e.setDurationNs(in.readLong());
        e.setKind(kind(in.readInt()));
        e.setPid(in.readInt());
        e.setTid(in.readInt());
        e.setProcessStartNs(in.readLong());
        e.setComm(in.readString());
        e.setUid(in.readInt());
        e.setGid(in.readInt());
        e.setCgroupId(in.readLong());
        e.setContainerId(in.readIndex() == 0 ? null : in.readString());
        e.setFd(in.readIndex() == 0 ? null : in.readInt());
        e.setResultFd(in.readIndex() == 0 ? null : in.readInt());
        e.setResultFd2(in.readIndex() == 0 ? null : in.readInt());
        e.setSocketInode(in.readIndex() == 0 ? null : in.readLong());
        e.setSocketKernelAddress(in.readIndex() == 0 ? null : in.readLong());
        e.setRelatedSocketInode(in.readIndex() == 0 ? null : in.readLong());
        e.setRelatedSocketKernelAddress(in.readIndex() == 0 ? null : in.readLong());
        e.setFamily(in.readIndex() == 0 ? null : in.readString());
        e.setSocketType(in.readIndex() == 0 ? null : in.readString());
        e.setProtocol(in.readIndex() == 0 ? null : in.readString());
        e.setLocalAddress(in.readIndex() == 0 ? null : in.readString());
        e.setLocalPort(in.readIndex() == 0 ? null : in.readInt());
        e.setRemoteAddress(in.readIndex() == 0 ? null : in.readString());
        e.setRemotePort(in.readIndex() == 0 ? null : in.readInt());
        e.setSockaddrFamily(in.readIndex() == 0 ? null : in.readString());
        e.setSockaddrAddress(in.readIndex() == 0 ? null : in.readString());
        e.setSockaddrPort(in.readIndex() == 0 ? null : in.readInt());
        e.setSockaddrBytes(in.readIndex() == 0 ? null : in.readBytes());
        e.setArgFamily(in.readIndex() == 0 ? null : in.readString());
        e.setArgType(in.readIndex() == 0 ? null : in.readString());
        e.setArgProtocol(in.readIndex() == 0 ? null : in.readInt());
        e.setBacklog(in.readIndex() == 0 ? null : in.readInt());
        e.setShutdownHow(in.readIndex() == 0 ? null : in.readString());
        e.setFlags(in.readIndex() == 0 ? null : in.readLong());
        e.setFlagNames(in.readIndex() == 0 ? null : in.readString());
        e.setOptionLevel(in.readIndex() == 0 ? null : in.readString());
        e.setOptionName(in.readIndex() == 0 ? null : in.readString());
        e.setOptionLength(in.readIndex() == 0 ? null : in.readInt());
        e.setOptionValue(in.readIndex() == 0 ? null : in.readInt());
        e.setMessageCount(in.readIndex() == 0 ? null : in.readInt());
        e.setBytes(in.readIndex() == 0 ? null : in.readLong());
        e.setName(in.readIndex() == 0 ? null : in.readString());
        e.setReturnValue(in.readLong());
        e.setErrno(in.readIndex() == 0 ? null : in.readString());
        e.setAttribution(in.readIndex() == 0 ? null : in.readString());
        e.setTcpOldState(in.readIndex() == 0 ? null : in.readString());
        e.setTcpState(in.readIndex() == 0 ? null : in.readString());
        e.setReason(in.readIndex() == 0 ? null : in.readString());
        e.setCount(in.readIndex() == 0 ? null : in.readLong());
        e.setRttUs(in.readIndex() == 0 ? null : in.readLong());
        e.setRttMinUs(in.readIndex() == 0 ? null : in.readLong());
        e.setRttMaxUs(in.readIndex() == 0 ? null : in.readLong());
        e.setCwnd(in.readIndex() == 0 ? null : in.readLong());
        e.setInterfaceName(in.readIndex() == 0 ? null : in.readString());
        e.setDirection(in.readIndex() == 0 ? null : in.readString());
        e.setIntervalMs(in.readIndex() == 0 ? null : in.readLong());
        e.setEventProtocol(in.readIndex() == 0 ? null : in.readString());
        e.setSocketCookie(in.readIndex() == 0 ? null : in.readLong());
        e.setRelatedSocketCookie(in.readIndex() == 0 ? null : in.readLong());
        e.setNetns(in.readIndex() == 0 ? null : in.readLong());
        e.setSocketState(in.readIndex() == 0 ? null : in.readString());
        e.setCause(in.readIndex() == 0 ? null : in.readString());
        e.setLastReference(in.readIndex() == 0 ? null : in.readBoolean());
        e.setKernelBytesSent(in.readIndex() == 0 ? null : in.readLong());
        e.setKernelBytesReceived(in.readIndex() == 0 ? null : in.readLong());
        e.setCloseOnExec(in.readIndex() == 0 ? null : in.readBoolean());
        e.setPath(in.readIndex() == 0 ? null : in.readString());
        e.setBytesSent(in.readIndex() == 0 ? null : in.readLong());
        e.setBytesReceived(in.readIndex() == 0 ? null : in.readLong());
        e.setCallsSent(in.readIndex() == 0 ? null : in.readLong());
        e.setCallsReceived(in.readIndex() == 0 ? null : in.readLong());
        e.setErrorsSent(in.readIndex() == 0 ? null : in.readLong());
        e.setErrorsReceived(in.readIndex() == 0 ? null : in.readLong());
        e.setRetransmits(in.readIndex() == 0 ? null : in.readLong());
        e.setTotalsFinal(in.readIndex() == 0 ? null : in.readBoolean());
        e.setPpid(in.readIndex() == 0 ? null : in.readInt());
        e.setCmdline(in.readIndex() == 0 ? null : in.readString());
        e.setAncestry(in.readIndex() == 0 ? null : in.readString());
        e.setStdio(in.readIndex() == 0 ? null : in.readString());
        e.setMark(in.readIndex() == 0 ? null : in.readLong());
        e.setIoUringOp(in.readIndex() == 0 ? null : in.readString());
        e.setKernelRelease(in.readIndex() == 0 ? null : in.readString());
        e.setKernelLacks(in.readIndex() == 0 ? null : in.readString());
        if (!in.atEnd()) {
            throw new IllegalArgumentException(in.remaining() + " bytes after the end of the record");
        }
        return e;
    }

    private static EventKind kind(int ordinal) {
        if (ordinal < 0 || ordinal >= KINDS.length) {
            throw new IllegalArgumentException("no event kind " + ordinal);
        }
        return KINDS[ordinal];
    }
}
