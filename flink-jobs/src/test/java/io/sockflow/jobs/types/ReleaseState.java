package io.sockflow.jobs.types;

import io.sockflow.jobs.lifecycle.SocketLifecycleState;
import io.sockflow.schemas.Alert;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.Severity;
import io.sockflow.schemas.SocketEvent;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeHint;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshotSerializationUtil;
import org.apache.flink.core.memory.DataOutputViewStreamWrapper;

/**
 * Writes what a release keeps in Flink state, with that release's serializers: each state type's serializer snapshot
 * and records, as a checkpoint holds them. {@code StateUpgradeTest} reads them with the current build. At a release,
 * run this with the release's jars and commit the files under src/test/resources/state/&lt;release&gt;:
 *
 * <pre>
 * java -cp RELEASE_JOBS_JAR:RELEASE_SCHEMAS_JAR:THIS_CLASS_DIR:FLINK_CLASSPATH \
 *     io.sockflow.jobs.types.ReleaseState flink-jobs/src/test/resources/state/RELEASE
 * </pre>
 *
 * It uses only what every release has (the records' setters, {@code SocketLifecycleState.apply}).
 */
public final class ReleaseState {
    static final int N = 5;

    /** The events each release writes: a connected TCP socket's life, the same whatever the release. */
    static List<SocketEvent> events() {
        List<SocketEvent> out = new ArrayList<>();
        EventKind[] kinds = {EventKind.SOCKET, EventKind.BIND, EventKind.CONNECT, EventKind.SENDTO, EventKind.CLOSE};
        for (int i = 0; i < N; i++) {
            SocketEvent e = new SocketEvent();
            e.setHost("host-a");
            e.setBootId("boot-1");
            e.setTimestamp(Instant.parse("2026-12-01T10:00:00Z").plusMillis(i));
            e.setMonotonicNs(1_000_000_000L + i * 1_000L);
            e.setKind(kinds[i]);
            e.setPid(4242);
            e.setTid(4242);
            e.setProcessStartNs(77L);
            e.setComm("curl");
            e.setUid(1000);
            e.setFd(5);
            e.setSocketInode(900_001L);
            e.setSocketCookie(12_345L);
            e.setFamily("AF_INET");
            e.setSocketType("SOCK_STREAM");
            e.setProtocol("IPPROTO_TCP");
            e.setLocalAddress("10.0.0.1");
            e.setLocalPort(40_000 + i);
            e.setRemoteAddress("10.0.0.2");
            e.setRemotePort(443);
            e.setReturnValue(0L);
            e.setBytes(i == 3 ? 512L : null);
            out.add(e);
        }
        return out;
    }

    static List<Alert> alerts() {
        List<Alert> out = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            Alert a = new Alert();
            a.setAlertId("alert-" + i);
            a.setRule("port-scan");
            a.setSeverity(Severity.HIGH);
            a.setTimestamp(Instant.parse("2026-12-01T10:00:00Z").plusSeconds(i));
            a.setHost("host-a");
            a.setPid(4242 + i);
            a.setProcessStartNs(77L);
            a.setComm("nmap");
            a.setUid(0);
            a.setSummary("scan " + i);
            a.setEvidence(List.of("port " + (20 + i)));
            a.setAttributes(Map.of("ports", String.valueOf(50 + i)));
            a.setAncestry(List.of());
            out.add(a);
        }
        return out;
    }

    static SocketLifecycleState lifecycle() {
        SocketLifecycleState s = new SocketLifecycleState();
        for (SocketEvent e : events()) {
            s.apply(e);
        }
        return s;
    }

    static TypeSerializer<SocketLifecycleState> lifecycleSerializer() {
        return TypeInformation.of(new TypeHint<SocketLifecycleState>() {}).createSerializer(new SerializerConfigImpl());
    }

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        Files.createDirectories(dir);
        write(dir.resolve("SocketEvent.bin"), new SocketEventSerializer(), events());
        write(dir.resolve("Alert.bin"), new RecordSerializer<>(Alert.class), alerts());
        write(dir.resolve("SocketLifecycleState.bin"), lifecycleSerializer(), List.of(lifecycle()));
    }

    static <T> void write(Path file, TypeSerializer<T> serializer, List<T> records) throws IOException {
        try (OutputStream o = Files.newOutputStream(file)) {
            DataOutputViewStreamWrapper out = new DataOutputViewStreamWrapper(o);
            TypeSerializerSnapshotSerializationUtil.writeSerializerSnapshot(out, serializer.snapshotConfiguration());
            out.writeInt(records.size());
            for (T r : records) {
                serializer.serialize(r, out);
            }
        }
    }

    private ReleaseState() {}
}
