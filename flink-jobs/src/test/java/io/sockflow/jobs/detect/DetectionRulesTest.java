package io.sockflow.jobs.detect;

import static io.sockflow.schemas.EventKind.*;
import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.jobs.Ev;
import io.sockflow.schemas.Alert;
import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.Severity;
import io.sockflow.schemas.SocketEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
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

/** Every detection rule, fed events that should and should not trigger it, with the exact alerts checked. */
class DetectionRulesTest {
    private static final SingleEventRules SINGLE = new SingleEventRules(Set.of("bash", "sh"));

    private static List<Alert> single(SocketEvent e) {
        List<Alert> out = new ArrayList<>();
        SINGLE.flatMap(e, new Collector<>() {
            @Override
            public void collect(Alert a) {
                out.add(a);
            }

            @Override
            public void close() {}
        });
        return out;
    }

    @Test
    void aHostnameTheKernelChangedIsAHighAlert() {
        List<Alert> a = single(Ev.of(SETHOSTNAME, 9, "evil", 0).name("db-1").get());
        assertEquals(1, a.size());
        assertEquals("hostname-change", a.get(0).getRule());
        assertEquals(Severity.HIGH, a.get(0).getSeverity());
        assertEquals("evil (pid 9) called sethostname('db-1')", a.get(0).getSummary());
        assertEquals("db-1", a.get(0).getAttributes().get("name"));
        assertEquals("OK", a.get(0).getAttributes().get("result"));
        assertEquals(1, a.get(0).getEvidence().size());
        assertEquals(
                single(Ev.of(SETHOSTNAME, 9, "evil", 0).name("db-1").get())
                        .get(0)
                        .getAlertId(),
                a.get(0).getAlertId(),
                "the same event gives the same alert id (replays do not duplicate)");
    }

    @Test
    void aCallTheKernelRefusedIsALowAttemptNamingTheErrno() {
        for (EventKind k : List.of(SETHOSTNAME, SETDOMAINNAME)) {
            List<Alert> a =
                    single(Ev.of(k, 9, "evil", 0).name("corp").ret(-1, "EPERM").get());
            assertEquals(1, a.size(), k.name());
            Alert refused = a.get(0);
            assertEquals("hostname-change", refused.getRule());
            assertEquals(Severity.LOW, refused.getSeverity(), "nothing changed: an attempt, not a change");
            assertEquals(
                    "evil (pid 9) tried " + k.name().toLowerCase() + "('corp'): attempt refused with EPERM",
                    refused.getSummary());
            assertEquals("EPERM", refused.getAttributes().get("result"));
        }
        assertTrue(
                single(Ev.of(SETHOSTNAME, 9, "evil", 0).name("x").ret(-22, null).get())
                        .get(0)
                        .getSummary()
                        .endsWith("attempt refused with error -22"));
    }

    @Test
    void aSuccessfulCallAfterARefusedOneIsStillAChangeAlertNotFoldedIntoTheAttempt() throws Exception {
        List<Alert> raised = new ArrayList<>();
        raised.addAll(single(Ev.of(SETHOSTNAME, 9, "evil", 1_000)
                .name("db-1")
                .ret(-1, "EPERM")
                .get()));
        raised.addAll(single(Ev.of(SETHOSTNAME, 9, "evil", 1_500)
                .name("db-1")
                .ret(-1, "EPERM")
                .get()));
        raised.addAll(single(Ev.of(SETHOSTNAME, 9, "evil", 2_000).name("db-1").get()));
        // through the fold the jobs run behind every rule (the same finding within 10 minutes is one more alert)
        List<Alert> out = AlertSuppressionTest.run(Duration.ofMinutes(10), raised);
        List<Severity> severities = out.stream().map(Alert::getSeverity).toList();
        assertEquals(List.of(Severity.LOW, Severity.HIGH, Severity.LOW), severities, out.toString());
        assertEquals("evil (pid 9) called sethostname('db-1')", out.get(1).getSummary());
        assertEquals(raised.get(2).getAlertId(), out.get(1).getAlertId(), "the change goes out at once, as it is");
        assertEquals("1", out.get(2).getAttributes().get(AlertSuppression.FOLDED), "the second attempt, folded");
    }

    @Test
    void rawAndPacketSocketsAreAlertedOrdinaryOnesAreNot() {
        assertEquals(
                "raw-socket",
                single(Ev.of(SOCKET, 5, "ping", 0)
                                .socket(1)
                                .args("AF_INET", "SOCK_RAW")
                                .get())
                        .get(0)
                        .getRule());
        assertEquals(
                "raw-socket",
                single(Ev.of(SOCKET, 5, "tcpdump", 0)
                                .socket(2)
                                .args("AF_PACKET", "SOCK_DGRAM")
                                .get())
                        .get(0)
                        .getRule());
        assertEquals(
                List.of(),
                single(Ev.of(SOCKET, 5, "curl", 0)
                        .socket(3)
                        .args("AF_INET", "SOCK_STREAM")
                        .get()));
        assertEquals(
                List.of(),
                single(Ev.of(SOCKET, 5, "ping", 0)
                        .args("AF_INET", "SOCK_RAW")
                        .ret(-1, "EPERM")
                        .get()),
                "a refused raw socket opened nothing");
    }

    @Test
    void theTypeIsReadWithoutItsFlagsAndNetlinkIsNotARawIpSocket() {
        // what socket() was asked for, flags included, as the collector writes it
        Alert cloexec = single(Ev.of(SOCKET, 5, "implant", 0)
                        .socket(1)
                        .args("AF_INET", "SOCK_RAW|SOCK_CLOEXEC")
                        .get())
                .get(0);
        assertEquals("raw-socket", cloexec.getRule());
        assertEquals("SOCK_RAW", cloexec.getAttributes().get("type"));
        assertEquals("SOCK_RAW|SOCK_CLOEXEC", cloexec.getAttributes().get("requested"));
        assertEquals(
                1,
                single(Ev.of(SOCKET, 5, "implant", 0)
                                .socket(1)
                                .args("AF_INET6", "SOCK_RAW|SOCK_NONBLOCK|SOCK_CLOEXEC")
                                .get())
                        .size());
        // the kernel's own view of the socket wins over the arguments
        SocketEvent kernel = Ev.of(SOCKET, 5, "implant", 0)
                .socket(1)
                .args("AF_INET6", "SOCK_RAW|SOCK_CLOEXEC")
                .get();
        kernel.setFamily("AF_INET6");
        kernel.setSocketType("SOCK_RAW");
        assertEquals("AF_INET6", single(kernel).get(0).getAttributes().get("family"));
        // ip, ss and nft talk to the kernel through raw netlink sockets: not packets
        SocketEvent nft = Ev.of(SOCKET, 6, "nft", 0)
                .socket(4)
                .args("AF_NETLINK", "SOCK_RAW|SOCK_CLOEXEC")
                .get();
        nft.setFamily("AF_NETLINK");
        nft.setSocketType("SOCK_RAW");
        assertEquals(List.of(), single(nft));
        assertEquals(
                List.of(),
                single(Ev.of(SOCKET, 6, "ip", 0)
                        .socket(4)
                        .args("AF_NETLINK", "SOCK_RAW")
                        .get()));
        assertEquals(
                List.of(),
                single(Ev.of(SOCKET, 6, "app", 0)
                        .socket(4)
                        .args("AF_INET", "SOCK_DGRAM|SOCK_NONBLOCK")
                        .get()));
        assertEquals("SOCK_DGRAM", SocketKinds.baseType("SOCK_CLOEXEC|SOCK_DGRAM"));
    }

    private static List<Alert> processRules(SocketEvent... events) throws Exception {
        var h = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new ProcessRules(Set.of("renamed-ok"))),
                BurstRules::processKey,
                Types.STRING);
        h.open();
        for (SocketEvent e : events) {
            h.processElement(new StreamRecord<>(e, e.getTimestamp().toEpochMilli()));
        }
        h.processWatermark(Long.MAX_VALUE);
        List<Alert> out = h.extractOutputValues();
        h.close();
        return out;
    }

    private static SocketEvent exec(int pid, String comm, String path, long at) {
        SocketEvent e = Ev.of(EXEC, pid, comm, at).get();
        e.setPath(path);
        return e;
    }

    @Test
    void aSocketpairIsAlertedOnlyFromARenamedProcess() throws Exception {
        SocketEvent pair = Ev.of(SOCKETPAIR, 66, "kworker/0:2", 100)
                .socket(7)
                .related(8)
                .unix()
                .get();
        // arrival order is not event order: the exec comes later over another partition
        List<Alert> a = processRules(pair, exec(66, "python3", "/usr/bin/python3", 0));
        assertEquals(1, a.size(), a.toString());
        assertEquals("socketpair-ipc", a.get(0).getRule());
        assertEquals("7,8", a.get(0).getAttributes().get("inodes"));
        assertEquals("python3", a.get(0).getAttributes().get("execName"));
        assertEquals("/usr/bin/python3", a.get(0).getAttributes().get("execPath"));
        assertEquals(66, a.get(0).getPid());
        // a JVM keeps its name; its threads have their own names, which is no renaming
        SocketEvent jvmThread = Ev.of(SOCKETPAIR, 70, "kafka-producer-", 100)
                .tid(71)
                .socket(9)
                .related(10)
                .unix()
                .get();
        SocketEvent jvm =
                Ev.of(SOCKETPAIR, 70, "java", 100).socket(11).related(12).unix().get();
        assertEquals(List.of(), processRules(exec(70, "java", "/usr/lib/jvm/bin/java", 0), jvmThread, jvm));
        // no exec seen (older than the capture): nothing known, nothing alerted; a name on the allow-list is quiet
        assertEquals(List.of(), processRules(pair));
        assertEquals(
                List.of(),
                processRules(
                        exec(67, "python3", "/usr/bin/python3", 0),
                        Ev.of(SOCKETPAIR, 67, "renamed-ok", 100)
                                .socket(7)
                                .related(8)
                                .unix()
                                .get()));
        // renamed, then exec'd again: the new program's name is its own
        assertEquals(
                List.of(),
                processRules(
                        exec(68, "python3", "/usr/bin/python3", 0),
                        exec(68, "sh", "/bin/sh", 50),
                        Ev.of(SOCKETPAIR, 68, "sh", 100)
                                .socket(7)
                                .related(8)
                                .unix()
                                .get()));
    }

    @Test
    void aShellConnectingOutIsAlertedOtherProcessesAndUnixConnectsAreNot() {
        Alert a = single(Ev.of(CONNECT, 31, "bash", 0)
                        .socket(4)
                        .tcp()
                        .sockaddr("203.0.113.5", 4444)
                        .ret(-115, "EINPROGRESS")
                        .get())
                .get(0);
        assertEquals("shell-connect", a.getRule());
        assertEquals("203.0.113.5:4444", a.getAttributes().get("destination"));
        assertEquals(
                List.of(),
                single(Ev.of(CONNECT, 31, "curl", 0)
                        .socket(4)
                        .tcp()
                        .sockaddr("203.0.113.5", 443)
                        .get()));
        SocketEvent unix = Ev.of(CONNECT, 31, "bash", 0).socket(4).unix().get();
        unix.setSockaddrFamily("AF_UNIX");
        assertEquals(List.of(), single(unix));
        assertEquals(
                List.of(),
                single(Ev.of(CONNECT, 31, "bash", 0)
                        .socket(4)
                        .tcp()
                        .sockaddr("10.0.0.1", 22)
                        .ret(-111, "ECONNREFUSED")
                        .get()),
                "a refused connect is a scan signal, not a connection");
    }

    @SuppressWarnings("unchecked")
    private static KeyedOneInputStreamOperatorTestHarness<String, SocketEvent, Alert> windowHarness(
            ProcessWindowFunction<SocketEvent, Alert, String, TimeWindow> fn,
            Duration window,
            KeySelector<SocketEvent, String> key)
            throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        var stream = env.fromData(Ev.of(CONNECT, 1, "x", 0).get())
                .keyBy(key)
                .window(TumblingEventTimeWindows.of(window))
                .process(fn);
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
            out.add(Ev.of(CONNECT, pid, "nmap", 100 + p * 10)
                    .tid(pid * 1000 + p)
                    .socket(900 + p)
                    .tcp()
                    .sockaddr("10.1.1.1", 1000 + p)
                    .ret(-111, "ECONNREFUSED")
                    .get());
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
        SocketEvent reset = Ev.of(TCP_RECEIVE_RESET, 7, "nmap", 50)
                .socket(950)
                .tcp()
                .remote("10.1.1.1", 5555)
                .state(null, "SYN_SENT")
                .get();
        List<SocketEvent> withReset = new ArrayList<>(refused(19, 7));
        withReset.add(reset);
        assertEquals(1, scan(withReset).size());
    }

    @Test
    void nonBlockingConnectsCountByTheKernelsOutcome() throws Exception {
        // what the collector writes for a non-blocking connect to a closed loopback port: EINPROGRESS from the
        // call, then the kernel's view: SYN_SENT to CLOSE, the socket's error
        List<SocketEvent> events = new ArrayList<>();
        for (int p = 0; p < 50; p++) {
            int sock = 2000 + p;
            int port = 40000 + p;
            events.add(Ev.of(CONNECT, 8, "python3", p)
                    .socket(sock)
                    .tcp()
                    .sockaddr("127.0.0.1", port)
                    .ret(-115, "EINPROGRESS")
                    .get());
            events.add(Ev.of(TCP_STATE, 8, "python3", p)
                    .socket(sock)
                    .tcp()
                    .remote("127.0.0.1", port)
                    .state("SYN_SENT", "CLOSE")
                    .get());
            events.add(Ev.of(SOCK_ERROR, 8, "python3", p)
                    .socket(sock)
                    .tcp()
                    .remote("127.0.0.1", port)
                    .ret(0, "ECONNREFUSED")
                    .get());
        }
        List<Alert> a = scan(events);
        assertEquals(1, a.size());
        assertEquals("50", a.get(0).getAttributes().get("ports"));
        assertEquals(
                "50", a.get(0).getAttributes().get("attempts"), "one attempt per socket, however many records tell it");
        assertEquals("127.0.0.1", a.get(0).getAttributes().get("target"));
        // each kind of kernel record is enough on its own
        assertEquals(
                1,
                scan(events.stream().filter(e -> e.getKind() == SOCK_ERROR).toList())
                        .size());
        assertEquals(
                1,
                scan(events.stream().filter(e -> e.getKind() == TCP_STATE).toList())
                        .size());
        // EINPROGRESS alone says nothing; a record whose owner is unknown carries a stranger's pid
        assertEquals(
                List.of(),
                scan(events.stream().filter(e -> e.getKind() == CONNECT).toList()));
        List<SocketEvent> unknown = events.stream()
                .filter(e -> e.getKind() == SOCK_ERROR)
                .map(e -> {
                    SocketEvent u = SocketEvent.newBuilder(e).build();
                    u.setAttribution("UNKNOWN");
                    return u;
                })
                .toList();
        assertEquals(List.of(), scan(unknown));
        // records without an error name (an errno the collector has no name for, a socket error of 0) are no attempt
        SocketEvent noName = Ev.of(SOCK_ERROR, 8, "python3", 1)
                .socket(1)
                .tcp()
                .remote("127.0.0.1", 1)
                .get();
        assertNull(BurstRules.failedConnectPort(noName));
        assertNull(BurstRules.failedConnectPort(Ev.of(CONNECT, 8, "python3", 1)
                .socket(1)
                .tcp()
                .sockaddr("127.0.0.1", 1)
                .ret(-999, null)
                .get()));
        // connections that succeeded are no scan
        List<SocketEvent> ok = new ArrayList<>();
        for (int p = 0; p < 50; p++) {
            ok.add(Ev.of(TCP_STATE, 9, "app", p)
                    .socket(3000 + p)
                    .tcp()
                    .remote("127.0.0.1", 40000 + p)
                    .state("SYN_SENT", "ESTABLISHED")
                    .get());
        }
        assertEquals(List.of(), scan(ok));
    }

    @Test
    void clientsAskingTheirOwnNewConnectionsAreNotReconnaissance() throws Exception {
        var h = windowHarness(new BurstRules.Recon(50), Duration.ofSeconds(10), BurstRules::processKey);
        // a Kafka client: 40 connections, each asked its two addresses twice
        for (int c = 0; c < 40; c++) {
            List<SocketEvent> one = List.of(
                    Ev.of(CONNECT, 13, "java", c * 10)
                            .tid(13_000 + c)
                            .socket(500 + c)
                            .tcp()
                            .sockaddr("127.0.0.1", 9092)
                            .ret(-115, "EINPROGRESS")
                            .get(),
                    Ev.of(GETSOCKNAME, 13, "java", c * 10 + 1)
                            .tid(13_100 + c)
                            .socket(500 + c)
                            .get(),
                    Ev.of(GETPEERNAME, 13, "java", c * 10 + 2)
                            .tid(13_200 + c)
                            .socket(500 + c)
                            .get(),
                    Ev.of(GETSOCKNAME, 13, "java", c * 10 + 3)
                            .tid(13_300 + c)
                            .socket(500 + c)
                            .get(),
                    Ev.of(GETPEERNAME, 13, "java", c * 10 + 4)
                            .tid(13_400 + c)
                            .socket(500 + c)
                            .get());
            for (SocketEvent e : one) {
                if (BurstRules.reconInput(e)) {
                    h.processElement(new StreamRecord<>(e, e.getTimestamp().toEpochMilli()));
                }
            }
        }
        // a prober asking the same few sockets over and over, one of them its own connection
        for (int i = 0; i < 60; i++) {
            SocketEvent e = Ev.of(i % 2 == 0 ? GETSOCKNAME : GETPEERNAME, 14, "probe", i)
                    .tid(14_000 + i)
                    .socket(i % 3)
                    .get();
            h.processElement(new StreamRecord<>(e, e.getTimestamp().toEpochMilli()));
        }
        SocketEvent own = Ev.of(CONNECT, 14, "probe", 0)
                .socket(0)
                .tcp()
                .sockaddr("127.0.0.1", 80)
                .get();
        h.processElement(new StreamRecord<>(own, own.getTimestamp().toEpochMilli()));
        h.processWatermark(Long.MAX_VALUE);
        List<Alert> out = h.extractOutputValues();
        assertEquals(1, out.size(), out.toString());
        assertEquals(14, out.get(0).getPid());
        assertEquals("56", out.get(0).getAttributes().get("calls"));
        assertEquals("4", out.get(0).getAttributes().get("routine"));
        h.close();
    }

    @Test
    void aBurstOfNameCallsIsReconnaissance() throws Exception {
        KeySelector<SocketEvent, String> key = e -> e.getHost() + "|" + e.getPid() + "|" + e.getProcessStartNs();
        for (int calls : new int[] {49, 50}) {
            var h = windowHarness(new BurstRules.Recon(50), Duration.ofSeconds(10), key);
            for (int i = 0; i < calls; i++) {
                SocketEvent e = Ev.of(i % 2 == 0 ? GETSOCKNAME : GETPEERNAME, 12, "probe", i)
                        .tid(5000 + i)
                        .socket(i % 7)
                        .get();
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

    private static SocketEvent uring(String op, int pid, String comm, long atMs) {
        SocketEvent e = Ev.of(IO_URING_SUBMIT, pid, comm, atMs).get();
        e.setAttribution("CALLER");
        e.setIoUringOp(op);
        if (!op.equals("SOCKET")) {
            e.setFd(4);
            e.setSocketCookie(Ev.cookie(77));
            e.setSocketInode(77L);
            e.setFamily("AF_INET");
            e.setSocketType("SOCK_STREAM");
            e.setProtocol("TCP");
        }
        if (op.equals("CONNECT")) {
            e.setSockaddrFamily("AF_INET");
            e.setSockaddrAddress("203.0.113.9");
            e.setSockaddrPort(443);
        }
        return e;
    }

    private static List<Alert> ioUring(Set<String> allow, List<SocketEvent> events) throws Exception {
        var h = windowHarness(new IoUringRule(allow), Duration.ofMinutes(1), BurstRules::processKey);
        for (SocketEvent e : events) {
            if (IoUringRule.isInput(e)) {
                h.processElement(new StreamRecord<>(e, e.getTimestamp().toEpochMilli()));
            }
        }
        h.processWatermark(Long.MAX_VALUE);
        List<Alert> out = h.extractOutputValues();
        h.close();
        return out;
    }

    @Test
    void networkRequestsThroughIoUringAreAlertedOncePerProcessAndWindowNamingTheOpcodes() throws Exception {
        List<SocketEvent> events = List.of(
                uring("SOCKET", 21, "implant", 1000),
                uring("CONNECT", 21, "implant", 1001),
                uring("SEND", 21, "implant", 1002),
                uring("SEND", 21, "implant", 1003),
                Ev.of(CONNECT, 21, "implant", 1004).socket(78).tcp().get()); // a system call: not this rule's
        List<Alert> out = ioUring(Set.of(), events);
        assertEquals(1, out.size(), out.toString());
        Alert a = out.get(0);
        assertEquals("io-uring-network", a.getRule());
        assertEquals(Severity.MEDIUM, a.getSeverity());
        assertEquals(21, a.getPid());
        assertEquals("CONNECT,SEND,SOCKET", a.getAttributes().get("opcodes"));
        assertEquals("4", a.getAttributes().get("requests"));
        assertEquals("1", a.getAttributes().get("sockets"));
        assertEquals("203.0.113.9:443", a.getAttributes().get("connectTo"));
        assertEquals(3, a.getEvidence().size(), a.getEvidence().toString());
        assertTrue(
                a.getEvidence().get(0).startsWith("CONNECT x1: "),
                a.getEvidence().get(0));
        assertTrue(
                a.getEvidence().get(0).contains("IO_URING_SUBMIT CONNECT pid 21 (implant)"),
                a.getEvidence().get(0));
        assertTrue(
                a.getEvidence().get(1).startsWith("SEND x2: "), a.getEvidence().get(1));
        assertTrue(
                a.getEvidence().get(2).startsWith("SOCKET x1: "),
                a.getEvidence().get(2));

        // the next window's alert is the same finding for folding: the summary names the process, not the opcodes
        List<Alert> later = ioUring(Set.of(), List.of(uring("RECV", 21, "implant", 90_000)));
        assertEquals(1, later.size());
        assertEquals(AlertSuppression.key(a), AlertSuppression.key(later.get(0)));
        assertNotEquals(a.getAlertId(), later.get(0).getAlertId());
    }

    @Test
    void ioUringServersOnTheAllowListAndPlainSystemCallsAreNotAlerted() throws Exception {
        assertEquals(
                List.of(),
                ioUring(
                        Set.of("proxy"),
                        List.of(
                                uring("ACCEPT", 30, "proxy", 0),
                                uring("RECV", 30, "proxy", 5),
                                uring("SEND", 30, "proxy", 9))));
        assertEquals(
                List.of(),
                ioUring(
                        Set.of(),
                        List.of(
                                Ev.of(SOCKET, 31, "curl", 0)
                                        .args("AF_INET", "SOCK_STREAM")
                                        .get(),
                                Ev.of(CONNECT, 31, "curl", 1)
                                        .socket(5)
                                        .tcp()
                                        .sockaddr("203.0.113.9", 443)
                                        .get(),
                                Ev.of(SENDTO, 31, "curl", 2)
                                        .socket(5)
                                        .tcp()
                                        .bytes(100)
                                        .get())));
    }

    private static List<Alert> listeners(SocketEvent... events) throws Exception {
        var h = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new NewListenerRule(Duration.ofMinutes(5), Set.of(9090))),
                SocketEvent::getHost,
                Types.STRING);
        h.open();
        for (SocketEvent e : events) {
            if (NewListenerRule.isInput(e)) {
                h.processElement(new StreamRecord<>(e, e.getTimestamp().toEpochMilli()));
            }
        }
        h.processWatermark(Long.MAX_VALUE);
        List<Alert> out = h.extractOutputValues();
        h.close();
        return out;
    }

    @Test
    void aListenerOnANewPortAfterLearningIsAlertedOnce() throws Exception {
        long min = 60_000;
        List<Alert> out = listeners(
                Ev.of(LISTEN, 1, "sshd", 0).socket(1).tcp().local("0.0.0.0", 22).get(),
                Ev.of(LISTEN, 2, "nginx", 2 * min)
                        .socket(2)
                        .tcp()
                        .local("0.0.0.0", 80)
                        .get(),
                Ev.of(LISTEN, 3, "nc", 10 * min)
                        .socket(3)
                        .tcp()
                        .local("0.0.0.0", 31337)
                        .get(),
                Ev.of(LISTEN, 4, "nc", 11 * min)
                        .socket(4)
                        .tcp()
                        .local("0.0.0.0", 31337)
                        .get(),
                Ev.of(LISTEN, 5, "nginx", 12 * min)
                        .socket(5)
                        .tcp()
                        .local("0.0.0.0", 80)
                        .get(),
                Ev.of(LISTEN, 6, "app", 13 * min)
                        .socket(6)
                        .tcp()
                        .local("0.0.0.0", 9090)
                        .get());
        assertEquals(1, out.size(), "learned ports, a repeated port and an allowed port are quiet");
        assertEquals("new-listener", out.get(0).getRule());
        assertEquals("31337", out.get(0).getAttributes().get("port"));
        assertEquals(3, out.get(0).getPid());
    }

    @Test
    void learningCountsFromTheCaptureNotFromTheFirstListenAndFollowsEventTime() throws Exception {
        long min = 60_000;
        SocketEvent inventory = Ev.of(INVENTORY, 1, "sshd", 0)
                .socket(1)
                .tcp()
                .local("0.0.0.0", 22)
                .get();
        inventory.setSocketState("LISTEN");
        SocketEvent held = Ev.of(INVENTORY, 2, "bash", 100).socket(2).unix().get();
        // a quiet host: its first listen comes 20 s after the learning period
        SocketEvent late = Ev.of(LISTEN, 3, "nc", 5 * min + 20_000)
                .socket(3)
                .tcp()
                .local("0.0.0.0", 4444)
                .get();
        List<Alert> out = listeners(late, held, inventory); // the newest arrives first (another partition)
        assertEquals(1, out.size(), out.toString());
        assertEquals("4444", out.get(0).getAttributes().get("port"));
        // the inventoried listener's port is known, whenever it restarts
        assertEquals(
                List.of(),
                listeners(
                        inventory,
                        Ev.of(LISTEN, 4, "sshd", 30 * min)
                                .socket(4)
                                .tcp()
                                .local("0.0.0.0", 22)
                                .get()));
        // within the learning period: learned, not alerted, also when it arrives after a later record
        assertEquals(
                List.of(),
                listeners(
                        Ev.of(LISTEN, 5, "app", 6 * min)
                                .socket(5)
                                .tcp()
                                .local("0.0.0.0", 8080)
                                .get(),
                        held,
                        Ev.of(LISTEN, 5, "app", 4 * min)
                                .socket(6)
                                .tcp()
                                .local("0.0.0.0", 8080)
                                .get()));
    }

    @Test
    void onAHostWithNoSocketToInventoryLearningCountsFromTheCapturesStart() throws Exception {
        long min = 60_000;
        SocketEvent start = Ev.of(io.sockflow.schemas.EventKind.CAPTURE_START, 1, "sockflow", 0)
                .get();
        // the host's first listen: 20 s after the learning period that began with the capture
        SocketEvent first = Ev.of(LISTEN, 3, "nc", 5 * min + 20_000)
                .socket(3)
                .tcp()
                .local("0.0.0.0", 4444)
                .get();
        List<Alert> out = listeners(first, start);
        assertEquals(1, out.size(), out.toString());
        assertEquals("4444", out.get(0).getAttributes().get("port"));
        // without the start, that listen would be the first record and learned: the start is what makes it news
        assertEquals(List.of(), listeners(first));
        // a collector restarted later sends another start: the learning does not begin again
        assertEquals(
                1,
                listeners(
                                start,
                                Ev.of(io.sockflow.schemas.EventKind.CAPTURE_START, 9, "sockflow", 20 * min)
                                        .get(),
                                Ev.of(LISTEN, 4, "nc", 21 * min)
                                        .socket(4)
                                        .tcp()
                                        .local("0.0.0.0", 5555)
                                        .get())
                        .size());
    }

    @Test
    void ephemeralLoopbackPortsOfRuntimesAreNotNewServices() throws Exception {
        long min = 60_000;
        SocketEvent start = Ev.of(INVENTORY, 2, "bash", 0).socket(2).unix().get();
        assertEquals(
                List.of(),
                listeners(
                        start,
                        Ev.of(LISTEN, 7, "java", 10 * min)
                                .socket(7)
                                .tcp()
                                .local("127.0.0.1", 41234)
                                .get(),
                        Ev.of(LISTEN, 7, "java", 10 * min)
                                .socket(8)
                                .tcp()
                                .local("::1", 45001)
                                .get()));
        // the same range on every address, or loopback below it, is a service
        assertEquals(
                2,
                listeners(
                                start,
                                Ev.of(LISTEN, 7, "java", 10 * min)
                                        .socket(7)
                                        .tcp()
                                        .local("0.0.0.0", 41234)
                                        .get(),
                                Ev.of(LISTEN, 8, "nc", 10 * min)
                                        .socket(8)
                                        .tcp()
                                        .local("127.0.0.1", 4444)
                                        .get())
                        .size());
    }

    @Test
    void alertsGetTheirProcesssContextFromItsExecWhateverTheArrivalOrder() throws Exception {
        var op = new org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator<>(new AlertContext());
        var h = new org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness<
                String, SocketEvent, Alert, Alert>(op, BurstRules::processKey, AlertContext::key, Types.STRING);
        h.open();
        SocketEvent exec = Ev.of(EXEC, 66, "python3", 0).get();
        exec.setPath("/usr/bin/python3");
        exec.setPpid(10);
        exec.setCmdline("python3 implant.py --token ***");
        exec.setAncestry("10 bash /bin/bash\n1 systemd /sbin/init");
        Alert a = single(Ev.of(SOCKET, 66, "python3", 500)
                        .socket(1)
                        .args("AF_INET", "SOCK_RAW")
                        .get())
                .get(0);
        Alert stranger = single(Ev.of(SOCKET, 67, "ping", 500)
                        .socket(2)
                        .args("AF_INET", "SOCK_RAW")
                        .get())
                .get(0);
        h.processElement2(new StreamRecord<>(a, a.getTimestamp().toEpochMilli())); // the alert arrives first
        h.processElement2(new StreamRecord<>(stranger, stranger.getTimestamp().toEpochMilli()));
        h.processElement1(new StreamRecord<>(exec, 0L));
        h.processBothWatermarks(new org.apache.flink.streaming.api.watermark.Watermark(Long.MAX_VALUE));
        List<Alert> out = h.extractOutputValues();
        h.close();
        assertEquals(2, out.size());
        Alert withContext =
                out.stream().filter(x -> x.getPid() == 66).findFirst().orElseThrow();
        assertEquals(10, withContext.getPpid());
        assertEquals("/usr/bin/python3", withContext.getExe());
        assertEquals("python3 implant.py --token ***", withContext.getCmdline());
        assertEquals(List.of("10 bash /bin/bash", "1 systemd /sbin/init"), withContext.getAncestry());
        Alert without = out.stream().filter(x -> x.getPid() == 67).findFirst().orElseThrow();
        assertNull(without.getExe(), "no exec seen: nothing made up");
        assertEquals(List.of(), without.getAncestry());
    }

    @Test
    void aShellOrInterpreterStartedOnATcpConnectionIsAReverseShell() {
        SocketEvent bash = Ev.of(EXEC, 90, "bash", 0).get();
        bash.setPath("/bin/bash");
        bash.setStdio("0,1,2 127.0.0.1:40312->127.0.0.1:4444 socket:[81234]");
        Alert a = single(bash).get(0);
        assertEquals("reverse-shell", a.getRule());
        assertEquals(Severity.CRITICAL, a.getSeverity());
        assertEquals(
                "0,1,2 127.0.0.1:40312->127.0.0.1:4444 socket:[81234]",
                a.getAttributes().get("stdio"));
        SocketEvent python = Ev.of(EXEC, 91, "python3.11", 0).get();
        python.setStdio("0 127.0.0.1:40313->127.0.0.1:4444 socket:[81235]");
        assertEquals("reverse-shell", single(python).get(0).getRule());
        // the same streams for another program (an inetd-style service), or a shell on a terminal, are not
        SocketEvent service = Ev.of(EXEC, 92, "in.tftpd", 0).get();
        service.setStdio("0,1,2 10.0.0.1:69->10.0.0.2:5000 socket:[9]");
        assertEquals(List.of(), single(service));
        assertEquals(List.of(), single(Ev.of(EXEC, 93, "bash", 0).get()));
        SocketEvent failed = Ev.of(EXEC, 94, "bash", 0).ret(-2, "ENOENT").get();
        failed.setStdio(bash.getStdio());
        assertEquals(List.of(), single(failed));
    }

    private static SocketEvent sockopt(
            EventKind kind, int pid, String comm, long at, String level, String name, Integer value) {
        SocketEvent e = Ev.of(kind, pid, comm, at)
                .tid(pid * 100 + (int) at)
                .socket(at + 1)
                .tcp()
                .get();
        e.setOptionLevel(level);
        e.setOptionName(name);
        e.setOptionValue(value);
        e.setOptionLength(4);
        return e;
    }

    private static List<Alert> sockopts(SockoptRules rules, SocketEvent e) {
        List<Alert> out = new ArrayList<>();
        rules.flatMap(e, new Collector<>() {
            @Override
            public void collect(Alert a) {
                out.add(a);
            }

            @Override
            public void close() {}
        });
        return out;
    }

    @Test
    void controlPlaneSocketOptionsAreAlertedEachAsConfigured() throws Exception {
        SockoptRules all = new SockoptRules(SockoptRules.ALL, Set.of("haproxy"));
        assertEquals(
                "sockopt-control",
                sockopts(all, sockopt(SETSOCKOPT, 5, "implant", 0, "SOL_SOCKET", "SO_BINDTODEVICE", null))
                        .get(0)
                        .getRule());
        Alert transparent = sockopts(all, sockopt(SETSOCKOPT, 5, "implant", 0, "SOL_IP", "IP_TRANSPARENT", 1))
                .get(0);
        assertEquals(Severity.HIGH, transparent.getSeverity());
        assertEquals("IP_TRANSPARENT", transparent.getAttributes().get("option"));
        assertEquals(
                List.of(),
                sockopts(all, sockopt(SETSOCKOPT, 6, "haproxy", 0, "SOL_IP", "IP_TRANSPARENT", 1)),
                "expected process");
        assertEquals(
                List.of(),
                sockopts(all, sockopt(SETSOCKOPT, 5, "implant", 0, "SOL_IP", "IP_TRANSPARENT", 0)),
                "switched off");
        assertEquals(
                "ip-hdrincl",
                sockopts(all, sockopt(SETSOCKOPT, 5, "implant", 0, "SOL_IP", "IP_HDRINCL", 1))
                        .get(0)
                        .getRule());
        assertEquals(
                "so-debug",
                sockopts(all, sockopt(SETSOCKOPT, 5, "implant", 0, "SOL_SOCKET", "SO_DEBUG", 1))
                        .get(0)
                        .getRule());
        assertEquals(List.of(), sockopts(all, sockopt(SETSOCKOPT, 5, "app", 0, "SOL_SOCKET", "SO_REUSEADDR", 1)));
        SocketEvent refused = sockopt(SETSOCKOPT, 5, "implant", 0, "SOL_IP", "IP_HDRINCL", 1);
        refused.setReturnValue(-1L);
        assertEquals(List.of(), sockopts(all, refused));
        SockoptRules onlyHdrincl = new SockoptRules(Set.of("ip-hdrincl"), Set.of());
        assertEquals(
                List.of(), sockopts(onlyHdrincl, sockopt(SETSOCKOPT, 5, "implant", 0, "SOL_SOCKET", "SO_DEBUG", 1)));
        assertEquals(
                1,
                sockopts(onlyHdrincl, sockopt(SETSOCKOPT, 5, "implant", 0, "SOL_IP", "IP_HDRINCL", 1))
                        .size());
        IllegalArgumentException bad =
                assertThrows(IllegalArgumentException.class, () -> new SockoptRules(Set.of("so-debugg"), Set.of()));
        assertTrue(bad.getMessage().contains("so-debugg"), bad.getMessage());
    }

    @Test
    void readingManyDistinctOptionsIsProbingReadingOneOftenIsNot() throws Exception {
        String[] names = {
            "SO_RCVBUF",
            "SO_SNDBUF",
            "SO_KEEPALIVE",
            "SO_TYPE",
            "SO_ERROR",
            "SO_LINGER",
            "SO_REUSEADDR",
            "SO_REUSEPORT",
            "SO_PRIORITY",
            "SO_RCVLOWAT",
            "SO_SNDLOWAT",
            "SO_RCVTIMEO",
            "SO_SNDTIMEO",
            "SO_BROADCAST",
            "SO_DONTROUTE",
            "SO_OOBINLINE",
            "SO_MARK",
            "SO_PROTOCOL",
            "SO_DOMAIN",
            "SO_ACCEPTCONN",
            "SO_COOKIE"
        };
        var h = windowHarness(new SockoptRules.Probe(20), Duration.ofSeconds(10), BurstRules::processKey);
        for (int i = 0; i < names.length; i++) {
            SocketEvent e = sockopt(GETSOCKOPT, 21, "surveyor", i, "SOL_SOCKET", names[i], 0);
            h.processElement(new StreamRecord<>(e, e.getTimestamp().toEpochMilli()));
        }
        for (int i = 0; i < 200; i++) { // a client polling its connect's outcome
            SocketEvent e = sockopt(GETSOCKOPT, 22, "java", i, "SOL_SOCKET", "SO_ERROR", 0);
            h.processElement(new StreamRecord<>(e, e.getTimestamp().toEpochMilli()));
        }
        h.processWatermark(Long.MAX_VALUE);
        List<Alert> out = h.extractOutputValues();
        h.close();
        assertEquals(1, out.size(), out.toString());
        assertEquals("sockopt-probe", out.get(0).getRule());
        assertEquals(21, out.get(0).getPid());
        assertEquals("21", out.get(0).getAttributes().get("options"));
    }
}
