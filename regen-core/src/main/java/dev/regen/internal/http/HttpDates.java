package dev.regen.internal.http;

import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/** HTTP-date (RFC 9110 §5.6.7) as a recipient reads it. */
public final class HttpDates {
    private HttpDates() {}

    /**
     * The instant of an HTTP-date in its preferred form (IMF-fixdate, which RFC 1123's format reads), or
     * null when it is not one. Callers treat an invalid {@code Expires} as already past (RFC 9111 §5.3).
     */
    public static Instant parse(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        try {
            return ZonedDateTime.parse(value.trim(), DateTimeFormatter.RFC_1123_DATE_TIME)
                    .toInstant();
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    /** The IMF-fixdate form of {@code instant}. */
    public static String format(Instant instant) {
        return DateTimeFormatter.RFC_1123_DATE_TIME.format(instant.atZone(java.time.ZoneOffset.UTC));
    }
}
