package io.sockflow.jobs.detect;

import io.sockflow.schemas.Alert;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.Severity;
import io.sockflow.schemas.SocketEvent;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.util.Collector;

/**
 * Rules over one process's history (keyed by host, pid and process start), in event-time order:
 * <ul>
 * <li>{@code socketpair-ipc}: a socketpair made by a renamed process: its main thread's name is no longer the one its
 * exec gave it (prctl PR_SET_NAME, a name borrowed to hide), a covert channel between processes. Socketpairs are
 * ordinary IPC for runtimes and servers that keep their own name, and are not alerted.</li>
 * </ul>
 */
public final class ProcessRules extends EventTimeOrdered {
    private static final long serialVersionUID = 1L;
    private final Set<String> socketpairAllow;
    private transient ValueState<String> execName;
    private transient ValueState<String> execPath;

    public ProcessRules(Set<String> socketpairAllow) {
        this.socketpairAllow = Set.copyOf(socketpairAllow);
    }

    /** What these rules read; the job sends them nothing else. */
    public static boolean isInput(SocketEvent e) {
        return e.getKind() == EventKind.EXEC && e.getReturnValue() == 0
                || e.getKind() == EventKind.SOCKETPAIR && e.getReturnValue() >= 0;
    }

    @Override
    public void open(OpenContext ctx) throws Exception {
        super.open(ctx);
        // a process's facts are kept a day after its last exec: the job sees no process end
        StateTtlConfig ttl = StateTtlConfig.newBuilder(Duration.ofDays(1)).build();
        ValueStateDescriptor<String> name = new ValueStateDescriptor<>("execName", String.class);
        name.enableTimeToLive(ttl);
        ValueStateDescriptor<String> path = new ValueStateDescriptor<>("execPath", String.class);
        path.enableTimeToLive(ttl);
        execName = getRuntimeContext().getState(name);
        execPath = getRuntimeContext().getState(path);
    }

    @Override
    protected boolean wanted(SocketEvent e) {
        return isInput(e);
    }

    @Override
    protected void handle(SocketEvent e, Collector<Alert> out) throws Exception {
        if (e.getKind() == EventKind.EXEC) {
            execName.update(e.getComm()); // the kernel names the process after the file it executes
            execPath.update(e.getPath());
            return;
        }
        String given = execName.value();
        boolean mainThread = e.getTid() == e.getPid();
        if (given == null || !mainThread || given.equals(e.getComm()) || socketpairAllow.contains(e.getComm())) {
            return; // exec not seen (older than the capture), a thread's own name, or not renamed
        }
        out.collect(Alerts.of(
                "socketpair-ipc",
                Severity.MEDIUM,
                e.getTimestamp(),
                e,
                e.getComm() + " (pid " + e.getPid() + "), started as " + given + " (" + execPath.value()
                        + ") and renamed since, created a socketpair",
                List.of(Alerts.describe(e)),
                Map.of(
                        "inodes",
                        e.getSocketInode() + "," + e.getRelatedSocketInode(),
                        "execName",
                        given,
                        "execPath",
                        String.valueOf(execPath.value())),
                Alerts.eventId(e)));
    }
}
