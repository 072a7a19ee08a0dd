package io.sockflow.jobs.detect;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** User rule files: the header, and the one line a broken one is refused with (the query: SqlRulesTest). */
class UserRulesTest {
    @TempDir
    Path dir;

    static final String GOOD = """
            -- rule: metadata-service
            -- severity: high
            -- summary: a process reached the cloud metadata service
            -- description: credentials are one request away there
            SELECT host, pid, comm, rowtime, CONCAT('connect to ', sockaddrAddress) AS evidence
            FROM events
            WHERE kind = 'CONNECT' AND sockaddrAddress = '169.254.169.254';
            """;

    Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    String refusal(String name, String text) throws IOException {
        write(name, text);
        UserRules.RuleException e = assertThrows(UserRules.RuleException.class, () -> UserRules.load(dir.toString()));
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void aHeaderMistakeNamesItsLine() throws IOException {
        String m = refusal("sev.sql", "-- summary: x\n-- severity: severe\nSELECT 1\n");
        assertEquals(
                dir.resolve("sev.sql") + " line 2: severity 'severe': give one of INFO, LOW, MEDIUM, HIGH, CRITICAL",
                m);
        Files.delete(dir.resolve("sev.sql"));
        m = refusal("key.sql", "-- severity: low\n-- sumary: x\nSELECT 1\n");
        assertTrue(m.startsWith(dir.resolve("key.sql") + " line 2: unknown header 'sumary'"), m);
        Files.delete(dir.resolve("key.sql"));
        m = refusal("nosummary.sql", "-- severity: low\nSELECT 1\n");
        assertTrue(m.contains("no '-- summary: ...' line"), m);
    }

    @Test
    void theDefaultFolderMayBeAbsentAFolderSetMustExist() {
        assertEquals(
                List.of(),
                UserRules.load(
                        UserRules.DEFAULT_DIR.equals("/etc/sockflow/rules.d")
                                        && !Files.exists(Path.of(UserRules.DEFAULT_DIR))
                                ? UserRules.DEFAULT_DIR
                                : ""));
        UserRules.RuleException e = assertThrows(
                UserRules.RuleException.class,
                () -> UserRules.load(dir.resolve("nope").toString()));
        assertTrue(e.getMessage().contains("no such folder"), e.getMessage());
    }

    @Test
    void twoFilesWithOneRuleNameAreRefused() throws IOException {
        write("a.sql", GOOD);
        write("b.sql", GOOD);
        UserRules.RuleException e = assertThrows(UserRules.RuleException.class, () -> UserRules.load(dir.toString()));
        assertTrue(e.getMessage().contains("is used by another file"), e.getMessage());
    }
}
