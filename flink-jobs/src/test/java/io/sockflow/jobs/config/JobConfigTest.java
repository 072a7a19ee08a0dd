package io.sockflow.jobs.config;

import static org.junit.jupiter.api.Assertions.*;

import io.sockflow.schemas.config.Flags;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The jobs' settings read through the shared config system: both flag spellings, env, checks with one-line errors. */
class JobConfigTest {
    private static String refused(Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage();
    }

    @Test
    void flagsEnvironmentAndDefaultsReachTheAccessors() {
        JobConfig c = JobConfig.fromArgs(
                new String[] {
                    "--detect.portscan.ports",
                    "30",
                    "--topic-dead-letter=dlq2",
                    "--bounded",
                    "--detect-portscan-window",
                    "90s"
                },
                Map.of("SOCKFLOW_JOBS_LIFECYCLE_CLOSE_GRACE", "3s", "SOCKFLOW_JOBS_DETECT_PORTSCAN_PORTS", "5"));
        assertEquals(30, c.getInt(JobConfig.SCAN_PORTS), "a flag wins over the environment");
        assertEquals("dlq2", c.get(JobConfig.DEAD_LETTER_TOPIC));
        assertTrue(c.getBoolean(JobConfig.BOUNDED), "a boolean alone means true");
        assertEquals(Duration.ofSeconds(90), c.getDuration(JobConfig.SCAN_WINDOW));
        assertEquals(Duration.ofSeconds(3), c.getDuration(JobConfig.CLOSE_GRACE));
        assertEquals(JobConfig.defaults().getList(JobConfig.SHELLS), c.getList(JobConfig.SHELLS));
        assertEquals("SOCKFLOW_JOBS_TOPIC_DEAD_LETTER", JobConfig.envName(JobConfig.DEAD_LETTER_TOPIC));
    }

    @Test
    void badValuesAndUnknownNamesAreOneLineNamingTheSetting() {
        assertEquals(
                "bad value 'abc' for detect.portscan.ports: expected a whole number",
                refused(() -> JobConfig.of(Map.of("detect.portscan.ports", "abc"))));
        assertTrue(refused(() -> JobConfig.of(Map.of("detect.portscan.window", "soon")))
                .startsWith("bad value 'soon' for detect.portscan.window: expected a duration"));
        assertEquals(
                "bad value 'sometimes' for starting.offsets: allowed: [earliest, latest, committed]",
                refused(() -> JobConfig.of(Map.of("starting.offsets", "sometimes"))));
        assertTrue(refused(() -> JobConfig.of(Map.of("jobs", "lifecycle,magic")))
                .startsWith("bad value 'lifecycle,magic' for jobs"));
        assertTrue(refused(() -> JobConfig.of(Map.of("sink.max-record-bytes", "10")))
                .contains("sink.max-record-bytes"));
        assertEquals(
                "bad value '0' for parallelism: allowed: [1,...,1024]",
                refused(() -> JobConfig.of(Map.of("parallelism", "0"))));
        assertEquals(
                "unknown setting 'detect.nope': known settings are listed by --help",
                refused(() -> JobConfig.of(Map.of("detect.nope", "1"))));
        assertEquals(
                "unknown setting --nope: see --help for the settings there are",
                refused(() -> JobConfig.fromArgs(new String[] {"--nope", "1"}, Map.of())));
        assertEquals(
                "--parallelism needs a value",
                refused(() -> JobConfig.fromArgs(new String[] {"--parallelism"}, Map.of())));
    }

    @Test
    void everyOptionIsDeclaredOnceInTheDefinitionAndShownByHelp() {
        assertEquals(JobConfig.options().keySet(), JobConfig.DEFINITION.names());
        for (JobConfig.Option o : JobConfig.options().values()) {
            JobConfig.check(o.name(), o.defaultValue());
            assertTrue(JobConfig.help().contains(Flags.flagName(o.name())), o.name());
        }
    }
}
