package io.sockflow.jobs.detect;

import io.sockflow.jobs.types.BinaryTypeInfo;
import io.sockflow.schemas.Alert;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Gives every alert its process's context: parent, program, command line and parent chain, from the collector's
 * record of the process's last exec. Keyed by process (host, pid, process start); an alert waits for the watermark
 * to pass its time, so that the exec before it has arrived whatever partition it came over. A process whose exec
 * was not seen (older than the capture, or forked without exec) keeps what the alert already names.
 */
public final class AlertContext extends KeyedCoProcessFunction<String, SocketEvent, Alert, Alert> {
    private static final long serialVersionUID = 1L;
    private transient ValueState<SocketEvent> exec;
    private transient ListState<Alert> waiting;

    public static boolean isExec(SocketEvent e) {
        return e.getKind() == EventKind.EXEC && e.getReturnValue() == 0;
    }

    public static String key(Alert a) {
        return a.getHost() + "|" + a.getPid() + "|" + a.getProcessStartNs();
    }

    @Override
    public void open(OpenContext ctx) {
        ValueStateDescriptor<SocketEvent> d = new ValueStateDescriptor<>("exec", BinaryTypeInfo.socketEvents());
        d.enableTimeToLive(StateTtlConfig.newBuilder(Duration.ofDays(1)).build()); // no process end is seen here
        exec = getRuntimeContext().getState(d);
        waiting = getRuntimeContext()
                .getListState(new ListStateDescriptor<>("alerts", BinaryTypeInfo.records(Alert.class)));
    }

    @Override
    public void processElement1(SocketEvent e, Context ctx, Collector<Alert> out) throws Exception {
        SocketEvent known = exec.value();
        if (known == null || known.getTimestamp().isBefore(e.getTimestamp())) {
            exec.update(e); // the last exec names the program
        }
    }

    @Override
    public void processElement2(Alert a, Context ctx, Collector<Alert> out) throws Exception {
        waiting.add(a);
        ctx.timerService().registerEventTimeTimer(a.getTimestamp().toEpochMilli());
    }

    @Override
    public void onTimer(long time, OnTimerContext ctx, Collector<Alert> out) throws Exception {
        List<Alert> later = new ArrayList<>();
        SocketEvent e = exec.value();
        for (Alert a : waiting.get()) {
            if (a.getTimestamp().toEpochMilli() > time) {
                later.add(a);
                continue;
            }
            if (e != null && !e.getTimestamp().isAfter(a.getTimestamp())) {
                with(a, e);
            }
            out.collect(a);
        }
        waiting.update(later);
    }

    static void with(Alert a, SocketEvent exec) {
        a.setPpid(exec.getPpid());
        a.setExe(exec.getPath());
        a.setCmdline(exec.getCmdline());
        a.setAncestry(
                exec.getAncestry() == null
                        ? List.of()
                        : Arrays.asList(exec.getAncestry().split("\n")));
    }
}
