package io.sockflow.jobs.detect;

import io.sockflow.schemas.Severity;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Detection rules that users write in SQL: one {@code NAME.sql} file per rule in the rules folder
 * ({@code detect.rules.dir}), read at the start of the jobs. A file is a header of {@code -- key: value} comment lines
 * ({@code severity}, required; {@code summary}, required; {@code rule}, the name, by default the file's name) and one
 * SELECT over the {@code events} table. See docs/rules.md for what the query must return.
 */
public final class UserRules {
    /** The folder looked in when none is configured; its absence means no user rules. */
    public static final String DEFAULT_DIR = "/etc/sockflow/rules.d";

    private static final Pattern HEADER = Pattern.compile("--\\s*([A-Za-z-]+)\\s*:\\s*(.*?)\\s*");
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    /** a rule file is never longer: the jobs read it whole */
    static final long MAX_FILE_BYTES = 256 * 1024;

    /** One rule: where it came from, what it raises, and its query (the file's text: its lines keep their numbers). */
    public record Rule(String name, Severity severity, String summary, Path file, String sql) {}

    /** A rule file that cannot be used: the message is one line naming the file and, where known, the line. */
    public static final class RuleException extends IllegalArgumentException {
        public RuleException(String message) {
            super(message);
        }
    }

    private UserRules() {}

    /**
     * The rules of {@code dir}, by file name. A folder that does not exist is no rules when it is the default and an
     * error otherwise; every file that is not a valid rule is an error (a rule that silently does not run is worse).
     */
    public static List<Rule> load(String dir) {
        if (dir == null || dir.isBlank()) {
            return List.of();
        }
        Path d = Path.of(dir);
        if (!Files.isDirectory(d)) {
            if (dir.equals(DEFAULT_DIR)) {
                return List.of();
            }
            throw new RuleException("detect.rules.dir " + dir + ": no such folder: create it, or set the folder that "
                    + "holds your .sql rule files");
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(d)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".sql"))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new RuleException("detect.rules.dir " + dir + ": cannot list it (" + e.getMessage() + ")");
        }
        List<Rule> rules = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (Path f : files) {
            Rule r = parse(f);
            if (names.contains(r.name())) {
                throw new RuleException(f + ": rule name '" + r.name() + "' is used by another file: rename one");
            }
            names.add(r.name());
            rules.add(r);
        }
        return rules;
    }

    static Rule parse(Path f) {
        String text;
        try {
            if (Files.size(f) > MAX_FILE_BYTES) {
                throw new RuleException(f + ": larger than " + MAX_FILE_BYTES / 1024 + " KiB: one rule per file");
            }
            text = Files.readString(f, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new RuleException(f + ": cannot read it (" + e.getMessage() + ")");
        }
        return parse(f, text);
    }

    static Rule parse(Path f, String text) {
        String file = f.getFileName().toString();
        String name = file.substring(0, file.length() - ".sql".length()).toLowerCase(Locale.ROOT);
        Severity severity = null;
        String summary = null;
        boolean query = false;
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty()) {
                continue;
            }
            if (!line.startsWith("--")) {
                query = true;
                break;
            }
            Matcher m = HEADER.matcher(line);
            if (!m.matches()) {
                continue; // a comment
            }
            String key = m.group(1).toLowerCase(Locale.ROOT);
            String value = m.group(2);
            String where = f + " line " + (i + 1) + ": ";
            switch (key) {
                case "rule" -> name = value;
                case "severity" -> {
                    try {
                        severity = Severity.valueOf(value.toUpperCase(Locale.ROOT));
                    } catch (IllegalArgumentException e) {
                        throw new RuleException(
                                where + "severity '" + value + "': give one of INFO, LOW, MEDIUM, " + "HIGH, CRITICAL");
                    }
                }
                case "summary" -> summary = value;
                case "description", "false-positives", "author", "tags" -> {
                    // for people: docs of the rule
                }
                default ->
                    throw new RuleException(
                            where + "unknown header '" + key + "': use rule, severity, "
                                    + "summary, description, false-positives, author or tags (or write the comment without a colon)");
            }
        }
        if (!NAME.matcher(name).matches()) {
            throw new RuleException(f + ": rule name '" + name + "': use lower-case letters, digits and '-'");
        }
        if (severity == null) {
            throw new RuleException(f + ": no '-- severity: ...' line in the header: add one (INFO, LOW, MEDIUM, HIGH "
                    + "or CRITICAL)");
        }
        if (summary == null || summary.isEmpty()) {
            throw new RuleException(f + ": no '-- summary: ...' line in the header: add one (what the alert says)");
        }
        if (!query) {
            throw new RuleException(f + ": no query after the header: add one SELECT over the events table");
        }
        return new Rule(name, severity, summary, f, text);
    }
}
