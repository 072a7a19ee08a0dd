package io.sockflow.schemas.config;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

/** The one config system: declaration, the flag parser, the checks and their one-line errors, the explain text. */
class ConfigSystemTest {
    static final ConfigDef DEF = new ConfigDef()
            .define(
                    "ring.buffer.bytes",
                    ConfigDef.Type.INT,
                    4096,
                    Validators.powerOfTwo(4096, 1 << 20),
                    ConfigDef.Importance.HIGH,
                    "Ring buffer size.")
            .define(
                    "detect.portscan.ports",
                    ConfigDef.Type.INT,
                    20,
                    ConfigDef.Range.atLeast(1),
                    ConfigDef.Importance.MEDIUM,
                    "Distinct ports.")
            .define("topic.dead-letter", ConfigDef.Type.STRING, "dlq", ConfigDef.Importance.LOW, "Dead letters.")
            .define("window", ConfigDef.Type.STRING, "1m", Validators.duration(), ConfigDef.Importance.LOW, "A window.")
            .define(
                    "output",
                    ConfigDef.Type.STRING,
                    "json",
                    ConfigDef.ValidString.in("json", "kafka"),
                    ConfigDef.Importance.LOW,
                    "Where.")
            .define("exclude.self", ConfigDef.Type.BOOLEAN, true, ConfigDef.Importance.LOW, "Leave oneself out.")
            .define(
                    "secret",
                    ConfigDef.Type.PASSWORD,
                    "u:p",
                    (n, v) -> {
                        if (!((org.apache.kafka.common.config.types.Password) v)
                                .value()
                                .contains(":")) {
                            throw new ConfigException(n, v, "expected user:password");
                        }
                    },
                    ConfigDef.Importance.LOW,
                    "A secret.");

    private static String error(Runnable r) {
        ConfigException e = assertThrows(ConfigException.class, r::run);
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void flagsTakeBothSpellingsAndWinOverEnvironmentWhichWinsOverTheFile() throws Exception {
        Path f = Files.createTempFile("settings", ".properties");
        Files.writeString(f, "window=5m\noutput=kafka\ndetect.portscan.ports=7\n");
        Map<String, String> v = Flags.collect(
                DEF,
                List.of(
                        "--config",
                        f.toString(),
                        "--detect-portscan-ports",
                        "30",
                        "--topic.dead-letter=x",
                        "--exclude-self"),
                Map.of("T_WINDOW", "2s", "T_OUTPUT", "json"),
                "T_");
        assertEquals(
                Map.of(
                        "window",
                        "2s",
                        "output",
                        "json",
                        "detect.portscan.ports",
                        "30",
                        "topic.dead-letter",
                        "x",
                        "exclude.self",
                        "true"),
                v);
        assertEquals(
                Map.of("window", "9s"),
                Flags.collect(
                                DEF,
                                List.of(),
                                Map.of("T_CONFIG", f.toString(), "T_WINDOW", "9s", "T_OUTPUT", "json"),
                                "T_")
                        .entrySet()
                        .stream()
                        .filter(e -> e.getKey().equals("window"))
                        .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)));
        Files.delete(f);
    }

    @Test
    void unknownNamesStrayWordsAndMissingValuesAreOneLine() {
        assertEquals(
                "unknown setting --bogus: see --help for the settings there are",
                error(() -> Flags.collect(DEF, List.of("--bogus", "1"), Map.of(), "T_")));
        assertTrue(error(() -> Flags.collect(DEF, List.of("stray"), Map.of(), "T_"))
                .startsWith("unexpected argument 'stray'"));
        assertEquals("--window needs a value", error(() -> Flags.collect(DEF, List.of("--window"), Map.of(), "T_")));
        assertTrue(error(() -> Flags.collect(DEF, List.of("--config", "/nonexistent.properties"), Map.of(), "T_"))
                .contains("/nonexistent.properties"));
    }

    @Test
    void repeatedPairsAreTakenOutInOrderAndRenderedValuesReadBack() {
        List<String> rest = new java.util.ArrayList<>();
        Map<String, String> pairs =
                Flags.takePairs(List.of("--set", "a.b=1,2", "--window", "5s", "--set=c=x=y"), "--set", rest);
        assertEquals(List.of("a.b", "c"), List.copyOf(pairs.keySet()));
        assertEquals("1,2", pairs.get("a.b"));
        assertEquals("x=y", pairs.get("c"));
        assertEquals(List.of("--window", "5s"), rest);
        assertEquals(
                "--set a.b: needs key=value, e.g. --set detect.portscan.ports=30",
                error(() -> Flags.takePairs(List.of("--set", "a.b"), "--set", new java.util.ArrayList<>())));
        assertEquals(
                "--set needs key=value, e.g. --set detect.portscan.ports=30",
                error(() -> Flags.takePairs(List.of("--set"), "--set", new java.util.ArrayList<>())));
        Map<String, String> values = Map.of("topic.dead-letter", "a b", "exclude.self", "false", "window", "3s");
        assertEquals(values, Flags.collect(DEF, Flags.render(values), Map.of(), null));
    }

    @Test
    void badValuesNameTheSettingAndWhatItAllows() {
        assertEquals(
                "bad value 'abc' for detect.portscan.ports: expected a whole number",
                error(() -> Check.value(DEF, "detect.portscan.ports", "abc")));
        assertEquals(
                "bad value '0' for detect.portscan.ports: allowed: [1,...]",
                error(() -> Check.value(DEF, "detect.portscan.ports", "0")));
        assertEquals(
                "bad value '1000' for ring.buffer.bytes: expected a power of two from 4096 to 1048576",
                error(() -> Check.value(DEF, "ring.buffer.bytes", "1000")));
        assertTrue(error(() -> Check.value(DEF, "window", "soon"))
                .startsWith("bad value 'soon' for window: expected a duration"));
        assertEquals(
                "bad value 'xml' for output: allowed: [json, kafka]", error(() -> Check.value(DEF, "output", "xml")));
        assertEquals(
                "bad value 'maybe' for exclude.self: expected true or false",
                error(() -> Check.value(DEF, "exclude.self", "maybe")));
        assertEquals(
                "unknown setting 'nope': see --help for the settings there are",
                error(() -> Check.value(DEF, "nope", "1")));
        String secret = error(() -> Check.value(DEF, "secret", "hunter2"));
        assertFalse(secret.contains("hunter2"), "a password is never echoed: " + secret);
        assertEquals(30, Check.value(DEF, "detect.portscan.ports", " 30 "));
    }

    @Test
    void durationsHaveOneSpelling() {
        assertEquals(Duration.ofMillis(500), Durations.parse("500ms"));
        assertEquals(Duration.ofSeconds(30), Durations.parse("30s"));
        assertEquals(Duration.ofSeconds(30), Durations.parse("30"));
        assertEquals(Duration.ofMinutes(2), Durations.parse("2min"));
        assertEquals(Duration.ofDays(1), Durations.parse("1d"));
        assertThrows(IllegalArgumentException.class, () -> Durations.parse("5 fortnights"));
        assertThrows(IllegalArgumentException.class, () -> Durations.parse("-1s"));
    }

    @Test
    void explainShowsEverySettingWithTypeDefaultAllowedFlagEnvironmentAndDoc() {
        String text = Explain.section("Test", "What it is.", DEF, "T_");
        assertTrue(text.startsWith("== Test ==\nWhat it is.\n"), text);
        assertTrue(text.contains("window  (duration, default 1m)\n"), text);
        assertTrue(text.contains("flag --topic-dead-letter, env T_TOPIC_DEAD_LETTER\n"), text);
        assertTrue(
                text.contains("detect.portscan.ports  (int, default 20)\n    flag --detect-portscan-ports, env "
                        + "T_DETECT_PORTSCAN_PORTS; allowed: [1,...]\n    Distinct ports.\n"),
                text);
        assertTrue(text.contains("secret  (password, default [hidden])"), text);
        for (String name : DEF.names()) {
            assertTrue(text.contains("\n" + name + "  ("), name);
            assertTrue(Explain.help(DEF, "T_").contains(Flags.flagName(name)), name);
        }
    }
}
