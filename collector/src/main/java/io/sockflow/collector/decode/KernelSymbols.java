package io.sockflow.collector.decode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Names the kernel gives to the numbers in tracepoint records (drop reasons, reset reasons), read from the
 * tracepoints' own print formats in tracefs, so they match this kernel rather than a copied table.
 */
public final class KernelSymbols {
    private static final Pattern PAIR = Pattern.compile("\\{\\s*(\\d+)\\s*,\\s*\"([A-Z0-9_]+)\"\\s*}");
    private static volatile KernelSymbols instance;

    private final Map<Integer, String> dropReasons;
    private final Map<Integer, String> resetReasons;

    KernelSymbols(Map<Integer, String> dropReasons, Map<Integer, String> resetReasons) {
        this.dropReasons = dropReasons;
        this.resetReasons = resetReasons;
    }

    /** Those of this kernel (empty tables where tracefs cannot be read). */
    public static KernelSymbols local() {
        KernelSymbols k = instance;
        if (k == null) {
            Path events = Path.of("/sys/kernel/tracing/events");
            k = new KernelSymbols(
                    symbolic(events.resolve("skb/kfree_skb/format"), "reason"),
                    symbolic(events.resolve("tcp/tcp_send_reset/format"), "reason"));
            instance = k;
        }
        return k;
    }

    /** The {@code __print_symbolic(REC->field, { n, "NAME" }, ...)} table of a tracepoint format. */
    static Map<Integer, String> symbolic(Path format, String field) {
        Map<Integer, String> out = new HashMap<>();
        try {
            String text = Files.readString(format);
            int at = text.indexOf("__print_symbolic(REC->" + field);
            if (at < 0) {
                return out;
            }
            int end = text.indexOf("__print_symbolic(", at + 10);
            Matcher m = PAIR.matcher(end < 0 ? text.substring(at) : text.substring(at, end));
            while (m.find()) {
                out.putIfAbsent(Integer.parseInt(m.group(1)), m.group(2));
            }
        } catch (IOException | RuntimeException e) {
            // no tracefs: numbers stay numbers
        }
        return out;
    }

    public String dropReason(int r) {
        return dropReasons.getOrDefault(r, "REASON_" + r);
    }

    public String resetReason(int r) {
        return resetReasons.getOrDefault(r, "REASON_" + r);
    }
}
