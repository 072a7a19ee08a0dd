package io.sockflow.runner;

import io.sockflow.collector.sys.Libc;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Every bad value given to {@code up} gets one line naming it and the fix, and exit code 2; nothing starts. */
class UpOptionsTest {
    @TempDir
    Path dir;
    private PrintStream err;
    private int umask;

    @BeforeEach
    void captureStandardError() {
        err = System.err;
        umask = Libc.umask(022);
        Libc.umask(umask);
    }

    @AfterEach
    void restore() {
        System.setErr(err);
        Libc.umask(umask); // up sets 077 for its own process
    }

    /** Runs up in-process; returns its exit code and what it wrote to standard error. */
    private Object[] up(String... args) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        int rc = Up.run(args, new PrintStream(new ByteArrayOutputStream()));
        System.setErr(err);
        return new Object[] {rc, buf.toString(StandardCharsets.UTF_8)};
    }

    private void refused(String expected, String... args) {
        Object[] r = up(args);
        String out = (String) r[1];
        assertEquals(2, r[0], String.join(" ", args) + ": " + out);
        assertEquals(1, out.lines().count(), "one line: " + out);
        assertTrue(out.startsWith("sockflow up: ") && out.contains(expected), out);
        assertFalse(out.contains("Exception") || out.contains("\tat "), "no stack trace: " + out);
    }

    @Test
    void badFlagsAreOneLineAndExitCode2() {
        refused("--kafka-port needs a port number from 0 to 65534, not 'abc'", "--kafka-port", "abc");
        refused("--registry-port needs a port number from 0 to 65535, not '70000'", "--registry-port", "70000");
        refused("--metrics-port needs a port number", "--metrics-port", "-1");
        refused("--duration needs a duration such as 60s", "--duration", "soon");
        refused("--data needs a value", "--data");
        refused("unknown argument '--bogus'", "--bogus");
        refused("--user", "--user", "no-such-user-here");
        refused("--user 0 is root", "--user", "0");
        refused("--replay /nonexistent/capture.avro is not a readable file", "--replay", "/nonexistent/capture.avro");
        if (System.getenv(Up.REGISTRY_AUTH_ENV) == null) {
            refused("--registry-address 0.0.0.0 opens it beyond this host: set SOCKFLOW_REGISTRY_BASIC_AUTH_USER_INFO",
                    "--registry-address", "0.0.0.0");
        }
        if (System.getenv(Up.METRICS_AUTH_ENV) == null) {
            refused("--metrics-address 10.0.0.1 opens it beyond this host", "--metrics-address", "10.0.0.1");
        }
        refused("--kafka-address: the embedded broker has no authentication yet", "--kafka-address", "0.0.0.0");
        Up.Options opened = Up.Options.parse(new String[] {"--registry-address", "0.0.0.0"},
                java.util.Map.of(Up.REGISTRY_AUTH_ENV, "sockflow:secret"));
        assertEquals("0.0.0.0", opened.registryAddress(), "opened on purpose, with credentials");
    }

    @Test
    void aDataFolderThatIsASymlinkOrSomeoneElsesIsRefused() throws Exception {
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Path real = Files.createDirectory(dir.resolve("real"));
        Path link = Files.createSymbolicLink(dir.resolve("link"), real);
        refused("--data " + link + " is a symbolic link", "--replay", "sample", "--data", link.toString());
        Path other = Files.createDirectory(dir.resolve("other"));
        Files.setAttribute(other, "unix:uid", 12345);
        refused("--data " + other + " belongs to uid 12345, not to uid 65534", "--replay", "sample", "--data", other.toString());
        Path closed = Files.createDirectories(dir.resolve("closed/inner"));
        Files.setPosixFilePermissions(dir.resolve("closed"), java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        refused("uid 65534, who runs the pipeline, cannot enter " + dir.resolve("closed"), "--replay", "sample", "--data",
                closed.resolve("data").toString());
        assertEquals(List.of(), List.of(real.toFile().list()), "nothing was made in the folder a link points to");
    }
}
