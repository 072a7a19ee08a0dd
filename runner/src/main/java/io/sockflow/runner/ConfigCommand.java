package io.sockflow.runner;

import io.sockflow.collector.cli.Settings;
import io.sockflow.jobs.config.JobConfig;
import io.sockflow.schemas.config.Explain;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code sockflow config --explain [up|collector|jobs]}: every setting of every part, from its one declaration. */
public final class ConfigCommand {
    static final String USAGE = """
            usage: sockflow config --explain [up|collector|jobs|alerts-forward]

            Prints every setting of sockflow, grouped by the part that reads it, with its type, default, what it
            allows, its flag and environment variable, and what it does.
            """;

    private ConfigCommand() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out));
    }

    static int run(String[] args, PrintStream out) {
        List<String> a = List.of(args);
        if (a.isEmpty() || a.contains("--help") || a.contains("-h")) {
            out.print(USAGE);
            return a.isEmpty() ? 2 : 0;
        }
        Map<String, String> sections = sections();
        if (!a.getFirst().equals("--explain") || a.size() > 2 || (a.size() == 2 && !sections.containsKey(a.get(1)))) {
            System.err.println("sockflow config: unknown argument '" + String.join(" ", a)
                    + "': try --explain, or --explain " + String.join("|", sections.keySet()));
            return 2;
        }
        sections.forEach((part, text) -> {
            if (a.size() == 1 || a.get(1).equals(part)) {
                out.print(text);
                out.println();
            }
        });
        return 0;
    }

    static Map<String, String> sections() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put(
                "up",
                Explain.section(
                        "up: sudo ./sockflow up [flags]",
                        "The whole pipeline on this host. Flags only; "
                                + "job settings are passed with --set KEY=VALUE (see the jobs below).",
                        UpSettings.DEFINITION,
                        null));
        s.put(
                "collector",
                Explain.section(
                        "collector: sudo ./sockflow collect [flags]",
                        "The capture. Each setting is a "
                                + "flag, an environment variable, or a line KEY=VALUE of the --config file; a flag wins over the environment, "
                                + "which wins over the file.",
                        Settings.DEFINITION,
                        Settings.ENV_PREFIX));
        s.put(
                "jobs",
                Explain.section(
                        "jobs: the Flink jobs (io.sockflow.jobs.SockflowJob [flags]; under up: --set KEY=VALUE)",
                        "Lifecycles, flows and alerts. Flags, environment variables and --config file as for the collector.",
                        JobConfig.DEFINITION,
                        JobConfig.ENV_PREFIX));
        s.put(
                "alerts-forward",
                Explain.section(
                        "alerts-forward: ./sockflow alerts-forward [flags]",
                        "The alert outputs on their own (up takes the alerts.* settings as its own flags). Flags, "
                                + "environment variables and --config file as for the collector.",
                        io.sockflow.runner.alerts.AlertsForward.DEFINITION,
                        io.sockflow.runner.alerts.AlertsForward.ENV_PREFIX));
        return s;
    }
}
