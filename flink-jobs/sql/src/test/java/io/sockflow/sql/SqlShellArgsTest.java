package io.sockflow.sql;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shell's flags go through sockflow's one flag parser: a bad one is one line and exit code 2. */
class SqlShellArgsTest {
    @TempDir
    Path dir;

    private static String refused(String... args) {
        PrintStream err = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        int rc;
        try {
            rc = SqlShell.run(args);
        } finally {
            System.setErr(err);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(2, rc, out);
        assertEquals(1, out.lines().count(), out);
        assertTrue(out.startsWith("sockflow sql: "), out);
        return out;
    }

    @Test
    void badFlagsAreOneLine() {
        assertTrue(refused("--bogus").contains("unknown setting --bogus"));
        assertTrue(refused("--bootstrap-servers", "broker")
                .contains("bad value 'broker' for bootstrap.servers: expected host:port"));
        assertTrue(refused("--registry-url", "registry:8081")
                .contains("bad value 'registry:8081' for registry.url: expected http://"));
        assertTrue(refused("--warehouse").contains("--warehouse needs a value"));
    }

    @Test
    void sqlThatBeginsWithACommentIsStillTheValueOfMinusE() {
        // no tables under dir: exit 3 means the SQL was taken as -e's value and the flags were read
        assertEquals(3, SqlShell.run(new String[] {"--warehouse", dir.toString(), "-e", "-- a comment\nSELECT 1"}));
    }
}
