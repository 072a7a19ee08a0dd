package io.sockflow.jobs.detect;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.schemas.Severity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** User rules in SQL planned by Flink: what a good rule gives, and the one line a broken query is refused with. */
@org.junit.jupiter.api.Tag("slow") // plans with Flink's SQL planner
class SqlRulesTest {
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
        UserRules.RuleException e =
                assertThrows(UserRules.RuleException.class, () -> SqlRules.check(UserRules.load(dir.toString())));
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void aGoodRuleIsReadWithItsHeaderAndPlans() throws IOException {
        write("metadata.sql", GOOD);
        write("README.md", "not a rule");
        List<UserRules.Rule> rules = UserRules.load(dir.toString());
        assertEquals(1, rules.size());
        UserRules.Rule r = rules.get(0);
        assertEquals("metadata-service", r.name());
        assertEquals(Severity.HIGH, r.severity());
        assertEquals("a process reached the cloud metadata service", r.summary());
        assertEquals(1, SqlRules.check(rules));
    }

    @Test
    void aWindowedAggregationIsARule() throws IOException {
        write("many-connects.sql", """
                -- severity: medium
                -- summary: many connects in a minute
                SELECT host, pid, comm, window_end, COUNT(*) AS connects
                FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(rowtime), INTERVAL '1' MINUTE))
                WHERE kind = 'CONNECT'
                GROUP BY host, pid, comm, window_start, window_end
                HAVING COUNT(*) >= 100
                """);
        List<UserRules.Rule> rules = UserRules.load(dir.toString());
        assertEquals("many-connects", rules.get(0).name(), "named after its file");
        assertEquals(1, SqlRules.check(rules));
    }

    @Test
    void aSyntaxErrorNamesTheFileAndItsLine() throws IOException {
        String m = refusal("typo.sql", """
                -- severity: low
                -- summary: typo

                SELECT host, pid, comm, rowtime
                FORM events
                """);
        assertTrue(m.startsWith(dir.resolve("typo.sql") + " line 5"), m);
    }

    @Test
    void anUnknownColumnNamesTheFileAndItsLine() throws IOException {
        String m = refusal("column.sql", """
                -- severity: low
                -- summary: unknown column
                SELECT host, pid, comm, rowtime
                FROM events
                WHERE remote_port = 22
                """);
        assertTrue(m.startsWith(dir.resolve("column.sql") + " line 5"), m);
        assertTrue(m.contains("remote_port"), m);
    }

    @Test
    void aQueryWithoutTheColumnsAnAlertNeedsIsRefused() throws IOException {
        String m = refusal("cols.sql", "-- severity: low\n-- summary: x\nSELECT host, rowtime FROM events\n");
        assertTrue(m.contains("must return columns host, pid and comm; it lacks comm, pid"), m);
        Files.delete(dir.resolve("cols.sql"));
        m = refusal("time.sql", "-- severity: low\n-- summary: x\nSELECT host, pid, comm FROM events\n");
        assertTrue(m.contains("the alert's time"), m);
    }

    @Test
    void aQueryWhoseResultsChangeIsRefused() throws IOException {
        String m = refusal("count.sql", """
                -- severity: low
                -- summary: counts for ever
                SELECT host, pid, comm, MAX(rowtime) AS rowtime, COUNT(*) AS n FROM events GROUP BY host, pid, comm
                """);
        assertTrue(m.contains("aggregate in a window"), m);
    }

    @Test
    void aRuleMayReadTheLifecyclesAndFlowsTablesWhereTheJobMakesThem() throws IOException {
        write("flows.sql", """
                -- severity: low
                -- summary: a long flow
                SELECT f.host, f.sourcePid AS pid, f.sourceComm AS comm, f.rowtime, f.durationMs
                FROM flows f WHERE f.recordType = 'END' AND f.durationMs > 600000
                """);
        write("lifecycles.sql", """
                -- severity: low
                -- summary: a refused socket
                SELECT host, pid, comm, rowtime FROM lifecycles WHERE connectOutcome = 'ECONNREFUSED'
                """);
        List<UserRules.Rule> rules = UserRules.load(dir.toString());
        assertEquals(2, SqlRules.check(rules));
        assertEquals(java.util.Set.of("flows"), SqlRules.resultTables(rules.get(0)));
        // a job that does not make the flows cannot run a rule that reads them
        var env = org.apache.flink.streaming.api.environment.StreamExecutionEnvironment.createLocalEnvironment(1);
        var events = env.fromSequence(0, 0)
                .map(i -> new io.sockflow.schemas.SocketEvent())
                .returns(io.sockflow.jobs.types.BinaryTypeInfo.socketEvents());
        UserRules.RuleException e = assertThrows(
                UserRules.RuleException.class,
                () -> SqlRules.build(env, events, java.util.Map.of(), List.of(rules.get(0))));
        assertTrue(
                e.getMessage().contains("flows.sql: the query reads flows, which this job does not make"),
                e.getMessage());
    }
}
