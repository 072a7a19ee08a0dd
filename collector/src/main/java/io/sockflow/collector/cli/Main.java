package io.sockflow.collector.cli;

import io.sockflow.collector.bpf.BpfException;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.common.config.ConfigException;

/** Entry point of the collector: {@code sockflow collect [settings]}. */
public final class Main {
    private Main() {}

    public static void main(String[] argv) {
        io.sockflow.collector.sys.Privileges
                .privateFiles(); // the spool, a capture file, the status file: the owner's alone
        System.exit(run(argv));
    }

    /** Standard output's reader closed its end. */
    static boolean brokenPipe(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.io.IOException && "Broken pipe".equals(t.getMessage())) {
                return true;
            }
        }
        return false;
    }

    /** Runs a command and returns its exit code; every expected failure is one line on standard error. */
    public static int run(String[] argv) {
        List<String> args = Arrays.asList(argv);
        if (args.isEmpty()
                || args.getFirst().equals("--help")
                || args.getFirst().equals("help")) {
            System.out.print(usage());
            return args.isEmpty() ? 2 : 0;
        }
        String command = args.getFirst();
        List<String> rest = args.subList(1, args.size());
        try {
            return switch (command) {
                case "collect" -> {
                    if (rest.contains("--help") || rest.contains("-h")) {
                        System.out.print(CollectCommand.usage());
                        yield 0;
                    }
                    yield new CollectCommand(Settings.parse(rest, System.getenv())).run();
                }
                default -> {
                    System.err.println("sockflow: unknown command '" + command + "': try collect (see --help)");
                    yield 2;
                }
            };
        } catch (java.io.UncheckedIOException e) {
            if (brokenPipe(e)) {
                return 0; // whatever read the events went away (collect | head): the capture is detached, nothing to
                // say
            }
            throw e;
        } catch (ConfigException e) {
            System.err.println("sockflow: " + e.getMessage() + " (see sockflow " + command + " --help)");
            return 2;
        } catch (BpfException e) {
            System.err.println("sockflow: " + e.getMessage());
            return e.exitCode();
        } catch (io.sockflow.collector.transport.TransportException e) {
            System.err.println("sockflow: " + e.getMessage());
            return 6;
        } catch (org.apache.kafka.common.KafkaException e) {
            // a Kafka client setting it refuses (from --kafka-config): its own words, on one line
            Throwable t = e;
            while (t.getCause() != null) {
                t = t.getCause();
            }
            System.err.println("sockflow: the Kafka client refused its settings: " + t.getMessage()
                    + ": check --bootstrap-servers and --kafka-config");
            return 2;
        }
    }

    static String usage() {
        return """
                usage: sockflow COMMAND [settings]

                commands:
                  collect   capture this host's network system calls and print or send them
                  up        the whole pipeline on this host with a live view (./sockflow up --help)
                  sql       Flink SQL on the jobs' results (./sockflow sql --help)
                  config    every setting of up, the collector and the jobs (./sockflow config --explain)
                  backtest  the alerts the detection rules would raise on a recorded capture
                  cluster   a Kafka, registry and Flink cluster on this host (./sockflow cluster --help)
                  alerts-forward  send the alerts topic to a webhook and/or syslog
                  test      run the test suite (./sockflow test)

                Run `sockflow COMMAND --help` for a command's settings.
                """;
    }
}
