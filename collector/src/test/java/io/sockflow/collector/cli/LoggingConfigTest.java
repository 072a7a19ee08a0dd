package io.sockflow.collector.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.AppenderRef;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * sockflow's log4j2.xml, as each process of {@code up} runs it: with a log file, everything goes to the file (0600),
 * and the console gets sockflow's own messages and only the libraries' errors; without one (the collector on its
 * own), everything goes to the console as before.
 */
class LoggingConfigTest {
    @TempDir
    Path dir;

    static LoggerContext context(String name) throws Exception {
        URI uri = LoggingConfigTest.class.getResource("/log4j2.xml").toURI();
        LoggerContext ctx = new LoggerContext(name, null, uri);
        ctx.start();
        assertNotNull(
                ctx.getConfiguration().getAppender("stderr"), "the configuration parsed: " + ctx.getConfiguration());
        return ctx;
    }

    static Map<String, Level> refs(LoggerConfig c) {
        return c.getAppenderRefs().stream()
                .collect(Collectors.toMap(AppenderRef::getRef, r -> r.getLevel() == null ? Level.ALL : r.getLevel()));
    }

    @Test
    void underUpTheLibrariesWarningsGoToThePrivateFileAndTheirErrorsAndSockflowsToTheConsoleToo() throws Exception {
        Path file = dir.resolve("pipeline.log");
        System.setProperty("sockflow.log.file", file.toString());
        System.setProperty("sockflow.console.level", "error");
        LoggerContext ctx;
        try {
            ctx = context("with-file");
        } finally {
            System.clearProperty("sockflow.log.file");
            System.clearProperty("sockflow.console.level");
        }
        try {
            assertEquals(
                    Map.of("stderr", Level.ERROR, "file", Level.ALL),
                    refs(ctx.getConfiguration().getRootLogger()));
            LoggerConfig own = ctx.getConfiguration().getLoggerConfig("io.sockflow.runner.Up");
            assertEquals("io.sockflow", own.getName());
            assertFalse(own.isAdditive());
            assertEquals(Map.of("stderr", Level.ALL, "file", Level.ALL), refs(own));
            ctx.getLogger("org.apache.kafka.clients.NetworkClient").warn("a library's warning");
            ctx.getLogger("io.sockflow.runner.Up").warn("sockflow's warning");
            ctx.getLogger("org.apache.flink.Foo").info("below the level: nowhere");
        } finally {
            ctx.stop();
        }
        String text = Files.readString(file);
        assertTrue(text.contains("WARN") && text.contains("a library's warning"), text);
        assertTrue(text.contains("sockflow's warning"), text);
        assertFalse(text.contains("nowhere"), text);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    }

    @Test
    void onItsOwnTheCollectorLogsEverythingToTheConsoleAndNoFile() throws Exception {
        LoggerContext ctx = context("console-only");
        try {
            assertEquals(
                    Map.of("stderr", Level.ALL), refs(ctx.getConfiguration().getRootLogger()));
            assertEquals(
                    Map.of("stderr", Level.ALL), refs(ctx.getConfiguration().getLoggerConfig("io.sockflow")));
            assertNull(ctx.getConfiguration().getAppender("file"));
        } finally {
            ctx.stop();
        }
    }
}
