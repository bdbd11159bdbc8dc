package dev.regen.server.config;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parsing of the config's value syntaxes (durations, sizes) and quoting of values in messages. */
final class Values {

    private static final Pattern DURATION = Pattern.compile("(-?\\d+)\\s*(ms|s|m|h|d)?");
    private static final Pattern SIZE = Pattern.compile("(-?\\d+)\\s*([KMGT]i?B|B)?", Pattern.CASE_INSENSITIVE);

    private Values() {}

    /**
     * A duration: a bare integer is seconds; otherwise an integer with one unit of {@code ms}, {@code s},
     * {@code m}, {@code h} or {@code d} ({@code 500ms}, {@code 2s}, {@code 5m}, {@code 1h}).
     *
     * @return the duration, possibly zero or negative (the caller decides what is allowed), or null
     *         when the text is not in this syntax or out of range
     */
    static Duration duration(String text) {
        Matcher m = DURATION.matcher(text.strip());
        if (!m.matches()) {
            return null;
        }
        try {
            long n = Long.parseLong(m.group(1));
            String unit = m.group(2) == null ? "s" : m.group(2);
            return switch (unit) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                case "d" -> Duration.ofDays(n);
                default -> null;
            };
        } catch (NumberFormatException | ArithmeticException e) {
            return null;
        }
    }

    /**
     * A size in bytes: a bare integer is bytes; otherwise an integer with a unit {@code B}, {@code KB},
     * {@code MB}, {@code GB}, {@code TB} or {@code KiB}, {@code MiB}, {@code GiB}, {@code TiB}.
     *
     * <p>Both spellings are 1024-based ({@code 1MB} = {@code 1MiB} = 1,048,576 bytes): memory budgets
     * and body limits are thought of in binary units, and two meanings for one word would only surprise.
     *
     * @return the byte count, possibly zero or negative, or null when not in this syntax or over
     *         {@link Long#MAX_VALUE}
     */
    static Long size(String text) {
        Matcher m = SIZE.matcher(text.strip());
        if (!m.matches()) {
            return null;
        }
        try {
            long n = Long.parseLong(m.group(1));
            String unit = m.group(2) == null ? "B" : m.group(2).toUpperCase(Locale.ROOT);
            int shift = switch (unit.charAt(0)) {
                case 'K' -> 10;
                case 'M' -> 20;
                case 'G' -> 30;
                case 'T' -> 40;
                default -> 0;
            };
            return Math.multiplyExact(n, 1L << shift);
        } catch (NumberFormatException | ArithmeticException e) {
            return null;
        }
    }

    /** A value for an error message: at most 80 characters, control characters escaped. */
    static String shorten(String s) {
        StringBuilder b = new StringBuilder();
        int i = 0;
        for (; i < s.length() && b.length() < 80; i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20 || c == 0x7f) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return i < s.length() ? b + "…" : b.toString();
    }

    /** {@code "value"}, shortened and escaped. */
    static String quote(String s) {
        return '"' + shorten(s) + '"';
    }
}
