package io.sockflow.collector.proc;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.schemas.EventKind;
import io.sockflow.schemas.SocketEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The context an exec's record gets: from this host's real /proc, and the redaction of secrets. */
class ProcessContextTest {
    @Test
    void secretsInCommandLinesAreRedacted() {
        assertEquals(
                "mysql --user root --password *** -h db",
                ProcessContext.redact(List.of("mysql", "--user", "root", "--password", "hunter2", "-h", "db")));
        assertEquals(
                "app password=*** DB_PASSWORD=*** --token=*** url=https://x/?token=***&page=2",
                ProcessContext.redact(List.of(
                        "app",
                        "password=hunter2",
                        "DB_PASSWORD=s3cret",
                        "--token=abc.def",
                        "url=https://x/?token=abc&page=2")));
        assertEquals(
                "curl -H x --api-key *** https://example.org",
                ProcessContext.redact(List.of("curl", "-H", "x", "--api-key", "K-123", "https://example.org")));
        assertEquals("ls -la /tmp", ProcessContext.redact(List.of("ls", "-la", "/tmp")));
        String longLine = ProcessContext.redact(Collections.nCopies(500, "argument"));
        assertEquals(ProcessContext.MAX_CMDLINE, longLine.length());
        assertTrue(longLine.endsWith("..."));
    }

    @Test
    void anExecGetsItsParentCommandLineAndParentChainFromProc() throws Exception {
        Process child =
                new ProcessBuilder("/usr/bin/python3", "-c", "import time; time.sleep(30)", "token=abc").start();
        try {
            SocketEvent e = new SocketEvent();
            e.setKind(EventKind.EXEC);
            e.setReturnValue(0L);
            e.setPid((int) child.pid());
            e.setPath("/usr/bin/python3");
            ProcessContext c = new ProcessContext();
            // this JVM's own exec, as the collector would have seen it
            SocketEvent self = new SocketEvent();
            self.setKind(EventKind.EXEC);
            self.setReturnValue(0L);
            self.setPid((int) ProcessHandle.current().pid());
            self.setPath("/the/java/asked/for");
            c.fill(self);
            c.fill(e);
            assertEquals((int) ProcessHandle.current().pid(), e.getPpid());
            assertEquals("/usr/bin/python3 -c import time; time.sleep(30) token=***", e.getCmdline());
            String[] chain = e.getAncestry().split("\n");
            assertTrue(chain[0].startsWith(ProcessHandle.current().pid() + " java /the/java/asked/for"), chain[0]);
            assertTrue(chain.length <= ProcessContext.MAX_ANCESTORS);
            String last = chain[chain.length - 1];
            assertTrue(last.startsWith("1 ") || chain.length == ProcessContext.MAX_ANCESTORS, e.getAncestry());
        } finally {
            child.destroy();
            child.waitFor();
        }
        // a process that is gone gets nothing, and a failed exec is left alone
        SocketEvent gone = new SocketEvent();
        gone.setKind(EventKind.EXEC);
        gone.setReturnValue(0L);
        gone.setPid((int) child.pid());
        new ProcessContext().fill(gone);
        assertNull(gone.getPpid());
        assertNull(gone.getCmdline());
    }

    @Test
    void aCommandWithParenthesesInItsNameIsReadWhole() throws Exception {
        Path proc = Files.createTempDirectory("proc");
        Files.createDirectories(proc.resolve("42"));
        Files.writeString(proc.resolve("42/stat"), "42 (a (b) c) S 7 42 42 0 -1");
        assertEquals(new ProcessContext.Stat("a (b) c", 7), new ProcessContext(proc).stat(42));
    }
}
