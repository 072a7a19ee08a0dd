package io.sockflow.collector.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** --netns: a file that names a network namespace, or one clear line and exit 2; runs as any user. */
class NetnsSettingTest {

    static CliTest.Result collect(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            String[] all = new String[args.length + 1];
            all[0] = "collect";
            System.arraycopy(args, 0, all, 1, args.length);
            int code = Main.run(all);
            return new CliTest.Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void aPathThatIsNoNetworkNamespaceFailsAtStartWithOneLineNamingItAndTheFix() throws Exception {
        String fix = "/var/run/netns/NAME";
        CliTest.assertOneLine(
                collect("--netns", "/var/run/netns/sockflow-no-such-namespace"),
                2,
                "--netns /var/run/netns/sockflow-no-such-namespace: no such file",
                fix);
        Path plain = Files.createTempFile("netns", ".txt");
        try {
            CliTest.assertOneLine(
                    collect("--netns", plain.toString()), 2, "--netns " + plain + " is not a network namespace", fix);
        } finally {
            Files.delete(plain);
        }
        // a namespace file of another kind: on the same file system, but the kernel says it is a mount namespace
        CliTest.assertOneLine(
                collect("--netns", "/proc/self/ns/mnt"),
                2,
                "--netns /proc/self/ns/mnt is not a network namespace (it is a mount namespace)",
                fix);
        CliTest.assertOneLine(collect("--netns", "/proc"), 2, "--netns /proc is not a network namespace", fix);
    }

    @Test
    void aNetworkNamespaceFileGivesItsInodeAndNoneGivesZero() throws Exception {
        long own = ((Number) Files.getAttribute(Path.of("/proc/self/ns/net"), "unix:ino")).longValue();
        assertEquals(
                own,
                Settings.parse(List.of("--netns", "/proc/self/ns/net"), Map.of())
                        .netns());
        assertEquals(
                own,
                Settings.parse(
                                List.of(),
                                Map.of(
                                        "SOCKFLOW_NETNS",
                                        "/proc/" + ProcessHandle.current().pid() + "/ns/net"))
                        .netns());
        assertEquals(0, Settings.parse(List.of(), Map.of()).netns());
        CollectCommand c = new CollectCommand(Settings.parse(List.of("--netns", "/proc/self/ns/net"), Map.of()));
        assertEquals(own, c.captureOptions().netns());
        assertEquals(java.util.Set.of("sock", "tcp"), c.captureOptions().groups(), "the host-wide groups are off");
        assertEquals(
                0,
                new CollectCommand(Settings.parse(List.of(), Map.of()))
                        .captureOptions()
                        .netns());
    }
}
