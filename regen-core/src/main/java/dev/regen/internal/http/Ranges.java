package dev.regen.internal.http;

/**
 * Range requests on a cached representation (RFC 9110 §14): one byte range gives 206 with
 * {@code Content-Range}, a range wholly past the end gives 416, and anything else — another unit,
 * several ranges, a syntax error, an {@code If-Range} that no longer matches — the whole 200.
 */
public final class Ranges {
    private Ranges() {}

    /** What to send for a {@code Range} field against a representation of {@code length} bytes. */
    public sealed interface Outcome {
        /** Send the whole representation. */
        record Whole() implements Outcome {}

        /** 206 with bytes {@code first..last} (inclusive). */
        record Partial(long first, long last, long length) implements Outcome {
            public long size() {
                return last - first + 1;
            }

            public String contentRange() {
                return "bytes " + first + "-" + last + "/" + length;
            }
        }

        /** 416 with {@code Content-Range: bytes *}{@code /length}. */
        record Unsatisfiable(long length) implements Outcome {
            public String contentRange() {
                return "bytes */" + length;
            }
        }
    }

    private static final Outcome WHOLE = new Outcome.Whole();

    /**
     * What to send for a request on a whole cached representation of {@code length} bytes: the whole,
     * one part (206), or "not satisfiable" (416), per RFC 9110 §14.
     *
     * @param range    the request's {@code Range}, or null
     * @param ifRange  the request's {@code If-Range}, or null
     * @param etag     the representation's entity tag
     * @param lastModified the representation's {@code Last-Modified}, or null
     */
    public static Outcome evaluate(String range, String ifRange, String etag, String lastModified, long length) {
        if (range == null || !ifRangeMatches(ifRange, etag, lastModified)) {
            return WHOLE;
        }
        String r = range.trim();
        if (r.length() < 6 || !r.regionMatches(true, 0, "bytes=", 0, 6)) {
            return WHOLE;
        }
        String spec = r.substring(6).trim();
        if (spec.indexOf(',') >= 0) {
            // several ranges: a multipart answer is allowed to fall back to the whole representation
            return WHOLE;
        }
        int dash = spec.indexOf('-');
        if (dash < 0) {
            return WHOLE;
        }
        String a = spec.substring(0, dash).trim();
        String b = spec.substring(dash + 1).trim();
        try {
            if (a.isEmpty()) {
                // suffix range: the last N bytes
                long n = digits(b);
                if (n == 0) {
                    return new Outcome.Unsatisfiable(length);
                }
                return length == 0
                        ? new Outcome.Unsatisfiable(length)
                        : new Outcome.Partial(Math.max(0, length - n), length - 1, length);
            }
            long first = digits(a);
            long last = b.isEmpty() ? Long.MAX_VALUE : digits(b);
            if (last < first) {
                return WHOLE; // invalid: ignored (RFC 9110 §14.1.1)
            }
            if (first >= length) {
                return new Outcome.Unsatisfiable(length);
            }
            return new Outcome.Partial(first, Math.min(last, length - 1), length);
        } catch (NumberFormatException e) {
            return WHOLE;
        }
    }

    /** If-Range (RFC 9110 §13.1.5): a strong entity-tag match or the exact Last-Modified date. */
    private static boolean ifRangeMatches(String ifRange, String etag, String lastModified) {
        if (ifRange == null) {
            return true;
        }
        String v = ifRange.trim();
        if (v.startsWith("\"")) {
            return etag != null && !etag.startsWith("W/") && v.equals(etag);
        }
        if (v.startsWith("W/")) {
            return false;
        }
        return lastModified != null && v.equals(lastModified.trim());
    }

    private static long digits(String s) {
        if (s.isEmpty() || s.length() > 18) {
            throw new NumberFormatException(s);
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                throw new NumberFormatException(s);
            }
        }
        return Long.parseLong(s);
    }
}
