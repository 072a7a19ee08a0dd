package io.sockflow.runner;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** The docs' tables of settings follow the declarations: a setting added or renamed in the code must be in them. */
class SettingsDocsTest {
    @Test
    void theCollectorSettingsTableOfTheDocsHasEveryDeclaredSettingAndNoOther() throws Exception {
        String doc = Files.readString(ReadmeTest.ROOT.resolve("docs/operations.md"));
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                        "(?m)^\\| `(--[a-z-]+)` \\| `(SOCKFLOW_[A-Z_]+)` \\|")
                .matcher(doc);
        java.util.Set<String> rows = new java.util.TreeSet<>();
        while (m.find()) {
            rows.add(m.group(1) + " " + m.group(2));
        }
        java.util.Set<String> declared = new java.util.TreeSet<>();
        for (String name : io.sockflow.collector.cli.Settings.DEFINITION.names()) {
            declared.add(io.sockflow.collector.cli.Settings.flagName(name) + " "
                    + io.sockflow.collector.cli.Settings.envName(name));
        }
        assertEquals(declared, rows, "docs/operations.md, Collector settings: one row per setting, as declared");
    }

    @Test
    void theAlertOutputsTableHasEverySettingAndItsFlag() throws Exception {
        String doc = Files.readString(ReadmeTest.ROOT.resolve("docs/alert-outputs.md"));
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                        "(?m)^\\| `(alerts\\.[a-z.-]+)` \\(`(--[a-z-]+)`\\) \\|")
                .matcher(doc);
        java.util.Set<String> rows = new java.util.TreeSet<>();
        while (m.find()) {
            rows.add(m.group(1) + " " + m.group(2));
        }
        java.util.Set<String> declared = new java.util.TreeSet<>();
        for (String name : io.sockflow.runner.alerts.AlertOutputs.defineOn(
                        new org.apache.kafka.common.config.ConfigDef())
                .names()) {
            declared.add(name + " " + io.sockflow.schemas.config.Flags.flagName(name));
            assertTrue(UpSettings.DEFINITION.names().contains(name), "up takes " + name);
        }
        assertEquals(declared, rows, "docs/alert-outputs.md: one row per setting, as declared");
    }
}
