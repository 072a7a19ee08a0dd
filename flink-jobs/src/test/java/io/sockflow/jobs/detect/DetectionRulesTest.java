package io.sockflow.jobs.detect;

import io.sockflow.jobs.Ev;
import io.sockflow.schemas.Alert;
import io.sockflow.schemas.Severity;
import io.sockflow.schemas.SocketEvent;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.transformations.OneInputTransformation;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static io.sockflow.schemas.EventKind.*;
import static org.junit.jupiter.api.Assertions.*;

/** Every detection rule, fed events that should and should not trigger it, with the exact alerts checked. */
class DetectionRulesTest {
    private static final SingleEventRules SINGLE = new SingleEventRules(Set.of("systemd"), Set.of("bash", "sh"));

    private static List<Alert> single(SocketEvent e) {
        List<Alert> out = new ArrayList<>();
        SINGLE.flatMap(e, new Collector<>() {
            @Override
            public void collect(Alert a) {
                out.add(a);
            }

            @Override
            public void close() {
            }
        });
        return out;
    }

    @Test
    void hostnameChangesAreAlertedEvenWhenRefused() {
        List<Alert> a = single(Ev.of(SETHOSTNAME, 9, "evil", 0).name("db-1").get());
        assertEquals(1, a.size());
        assertEquals("hostname-change", a.get(0).getRule());
        assertEquals(Severity.HIGH, a.get(0).getSeverity());
        assertEquals("db-1", a.get(0).getAttributes().get("name"));
        assertEquals(1, a.get(0).getEvidence().size());
        Alert refused = single(Ev.of(SETDOMAINNAME, 9, "evil", 0).name("corp").ret(-1, "EPERM").get()).get(0);
        assertEquals("EPERM", refused.getAttributes().get("result"));
        assertTrue(refused.getSummary().contains("refused with EPERM"), refused.getSummary());
        assertEquals(single(Ev.of(SETHOSTNAME, 9, "evil", 0).name("db-1").get()).get(0).getAlertId(), a.get(0).getAlertId(),
                "the same event gives the same alert id (replays do not duplicate)");
    }

    @Test
    void rawAndPacketSocketsAreAlertedOrdinaryOnesAreNot() {
        assertEquals("raw-socket", single(Ev.of(SOCKET, 5, "ping", 0).socket(1).args("AF_INET", "SOCK_RAW").get()).get(0).getRule());
        assertEquals("raw-socket", single(Ev.of(SOCKET, 5, "tcpdump", 0).socket(2).args("AF_PACKET", "SOCK_DGRAM").get()).get(0).getRule());
        assertEquals(List.of(), single(Ev.of(SOCKET, 5, "curl", 0).socket(3).args("AF_INET", "SOCK_STREAM").get()));
        assertEquals(List.of(), single(Ev.of(SOCKET, 5, "ping", 0).args("AF_INET", "SOCK_RAW").ret(-1, "EPERM").get()),
                "a refused raw socket opened nothing");
    }

    @Test
    void socketpairsOutsideTheAllowListAreAlerted() {
        assertEquals(List.of(), single(Ev.of(SOCKETPAIR, 1, "systemd", 0).socket(7).related(8).unix().get()));
        Alert a = single(Ev.of(SOCKETPAIR, 66, "implant", 0).socket(7).related(8).unix().get()).get(0);
        assertEquals("socketpair-ipc", a.getRule());
        assertEquals("7,8", a.getAttributes().get("inodes"));
        assertEquals(66, a.getPid());
    }

    @Test
    void aShellConnectingOutIsAlertedOtherProcessesAndUnixConnectsAreNot() {
        Alert a = single(Ev.of(CONNECT, 31, "bash", 0).socket(4).tcp().sockaddr("203.0.113.5", 4444).ret(-115, "EINPROGRESS").get()).get(0);
        assertEquals("shell-connect", a.getRule());
        assertEquals("203.0.113.5:4444", a.getAttributes().get("destination"));
        assertEquals(List.of(), single(Ev.of(CONNECT, 31, "curl", 0).socket(4).tcp().sockaddr("203.0.113.5", 443).get()));
        SocketEvent unix = Ev.of(CONNECT, 31, "bash", 0).socket(4).unix().get();
        unix.setSockaddrFamily("AF_UNIX");
        assertEquals(List.of(), single(unix));
        assertEquals(List.of(), single(Ev.of(CONNECT, 31, "bash", 0).socket(4).tcp().sockaddr("10.0.0.1", 22).ret(-111, "ECONNREFUSED").get()),
                "a refused connect is a scan signal, not a connection");
    }

    @SuppressWarnings("unchecked")
    private static KeyedOneInputStreamOperatorTestHarness<String, SocketEvent, Alert> windowHarness(
            ProcessWindowFunction<SocketEvent, Alert, String, TimeWindow> fn, Duration window, KeySelector<SocketEvent, String> key)
            throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        var stream = env.fromData(Ev.of(CONNECT, 1, "x", 0).get())
                .keyBy(key).window(TumblingEventTimeWindows.of(window)).process(fn);
        var op = ((OneInputTransformation<SocketEvent, Alert>) stream.getTransformation()).getOperator();
        var h = new KeyedOneInputStreamOperatorTestHarness<>(op, key, Types.STRING);
        h.open();
        return h;
    }

    private static final KeySelector<SocketEvent, String> SCAN_KEY =
            e -> e.getHost() + "|" + e.getPid() + "|" + e.getProcessStartNs() + "|" + BurstRules.scanTarget(e);

    private static List<SocketEvent> refused(int ports, int pid) {
        List<SocketEvent> out = new ArrayList<>();
        for (int p = 0; p < ports; p++) {
            out.add(Ev.of(CONNECT, pid, "nmap", 100 + p * 10).tid(pid * 1000 + p).socket(900 + p).tcp()
                    .sockaddr("10.1.1.1", 1000 + p).ret(-111, "ECONNREFUSED").get());
        }
        return out;
    }

    private static List<Alert> scan(List<SocketEvent> events) throws Exception {
        var h = windowHarness(new BurstRules.PortScan(20), Duration.ofMinutes(1), SCAN_KEY);
        for (SocketEvent e : events) {
            if (BurstRules.failedConnectPort(e) != null) {
                h.processElement(new StreamRecord<>(e, e.getTimestamp().toEpochMilli()));
            }
        }
        h.processWatermark(Long.MAX_VALUE);
        List<Alert> out = h.extractOutputValues();
        h.close();
        return out;
    }

    @Test
    void twentyRefusedPortsInAMinuteAreAPortScanNineteenAreNot() throws Exception {
        List<Alert> a = scan(refused(20, 7));
        assertEquals(1, a.size());
        Alert alert = a.get(0);
        assertEquals("port-scan", alert.getRule());
        assertEquals("20", alert.getAttributes().get("ports"));
        assertEquals("10.1.1.1", alert.getAttributes().get("target"));
        assertEquals(20, alert.getEvidence().size());
        assertEquals(7, alert.getPid());
        assertEquals(List.of(), scan(refused(19, 7)));
        // repeated attempts at the same ports do not make a scan
        List<SocketEvent> repeated = new ArrayList<>(refused(10, 7));
        repeated.addAll(refused(10, 7));
        assertEquals(List.of(), scan(repeated));
        // arrival order and duplicates change nothing
        List<SocketEvent> messy = new ArrayList<>(refused(20, 7));
        messy.addAll(refused(20, 7).subList(0, 5));
        Collections.shuffle(messy, new Random(3));
        assertEquals(a, scan(messy));
        // a reset answering a non-blocking connect counts like a refusal
        SocketEvent reset = Ev.of(TCP_RECEIVE_RESET, 7, "nmap", 50).socket(950).tcp().remote("10.1.1.1", 5555).state(null, "SYN_SENT").get();
        List<SocketEvent> withReset = new ArrayList<>(refused(19, 7));
        withReset.add(reset);
        assertEquals(1, scan(withReset).size());
    }

    @Test
    void aBurstOfNameCallsIsReconnaissance() throws Exception {
        KeySelector<SocketEvent, String> key = e -> e.getHost() + "|" + e.getPid() + "|" + e.getProcessStartNs();
        for (int calls : new int[] {49, 50}) {
            var h = windowHarness(new BurstRules.Recon(50), Duration.ofSeconds(10), key);
            for (int i = 0; i < calls; i++) {
                SocketEvent e = Ev.of(i % 2 == 0 ? GETSOCKNAME : GETPEERNAME, 12, "probe", i).tid(5000 + i).socket(i % 7).get();
                h.processElement(new StreamRecord<>(e, e.getTimestamp().toEpochMilli()));
            }
            h.processWatermark(Long.MAX_VALUE);
            List<Alert> out = h.extractOutputValues();
            if (calls == 49) {
                assertEquals(List.of(), out);
            } else {
                assertEquals(1, out.size());
                assertEquals("socket-recon", out.get(0).getRule());
                assertEquals("25", out.get(0).getAttributes().get("getsockname"));
                assertEquals("7", out.get(0).getAttributes().get("sockets"));
            }
            h.close();
        }
    }

    @Test
    void aListenerOnANewPortAfterLearningIsAlertedOnce() throws Exception {
        var h = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new NewListenerRule(Duration.ofMinutes(5), Set.of(9090))), SocketEvent::getHost, Types.STRING);
        h.open();
        long min = 60_000;
        h.processElement(new StreamRecord<>(Ev.of(LISTEN, 1, "sshd", 0).socket(1).tcp().local("0.0.0.0", 22).get()));
        h.processElement(new StreamRecord<>(Ev.of(LISTEN, 2, "nginx", 2 * min).socket(2).tcp().local("0.0.0.0", 80).get()));
        h.processElement(new StreamRecord<>(Ev.of(LISTEN, 3, "nc", 10 * min).socket(3).tcp().local("0.0.0.0", 31337).get()));
        h.processElement(new StreamRecord<>(Ev.of(LISTEN, 4, "nc", 11 * min).socket(4).tcp().local("0.0.0.0", 31337).get()));
        h.processElement(new StreamRecord<>(Ev.of(LISTEN, 5, "nginx", 12 * min).socket(5).tcp().local("0.0.0.0", 80).get()));
        h.processElement(new StreamRecord<>(Ev.of(LISTEN, 6, "app", 13 * min).socket(6).tcp().local("0.0.0.0", 9090).get()));
        List<Alert> out = h.extractOutputValues();
        assertEquals(1, out.size(), "learned ports, a repeated port and an allowed port are quiet");
        assertEquals("new-listener", out.get(0).getRule());
        assertEquals("31337", out.get(0).getAttributes().get("port"));
        assertEquals(3, out.get(0).getPid());
        h.close();
    }
}
