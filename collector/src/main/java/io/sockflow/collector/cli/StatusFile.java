package io.sockflow.collector.cli;

import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The collector's counters as a small file ({@code --status-file}), one {@code name=value} line per field of
 * {@link CollectCommand.Health}, replaced whole every second (written aside, then renamed), so that a process that
 * shows them (sockflow up's live view) needs no port and no privilege to read them.
 */
public final class StatusFile {
    private StatusFile() {}

    static void write(Path file, CollectCommand.Health h) {
        StringBuilder b = new StringBuilder();
        for (RecordComponent c : CollectCommand.Health.class.getRecordComponents()) {
            try {
                b.append(c.getName())
                        .append('=')
                        .append(c.getAccessor().invoke(h))
                        .append('\n');
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            Files.writeString(tmp, b, StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            // the view goes without for a second; the capture goes on
        }
    }

    static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // left for the next run to replace
        }
    }

    /** Reads a status file: field name to value; empty when there is none (yet). */
    public static Map<String, String> read(Path file) {
        Map<String, String> out = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    out.put(line.substring(0, eq), line.substring(eq + 1));
                }
            }
        } catch (IOException e) {
            // none yet, or between a stop and the next start
        }
        return out;
    }
}
