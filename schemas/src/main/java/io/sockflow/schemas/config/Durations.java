package io.sockflow.schemas.config;

import java.time.Duration;
import java.util.Locale;

/** The one way sockflow reads a duration: a whole number with a unit (ms, s, m or min, h, d); a bare number is seconds. */
public final class Durations {
    private Durations() {}

    /** The duration, or an {@link IllegalArgumentException} saying what is wrong with the text. */
    public static Duration parse(String text) {
        String s = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        int i = 0;
        while (i < s.length() && Character.isDigit(s.charAt(i))) {
            i++;
        }
        if (i == 0 || i > 18) {
            throw new IllegalArgumentException("no whole number in '" + text + "'");
        }
        long n = Long.parseLong(s.substring(0, i));
        return switch (s.substring(i).trim()) {
            case "ms" -> Duration.ofMillis(n);
            case "s", "" -> Duration.ofSeconds(n);
            case "m", "min" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            case "d" -> Duration.ofDays(n);
            default -> throw new IllegalArgumentException("unknown unit in '" + text + "'");
        };
    }
}
