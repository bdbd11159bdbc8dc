package dev.regen.store.embedded;

import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a metadata map as one line of text, {@code k=v&k2=v2}, with {@code %}, {@code &} and
 * {@code =} percent-escaped inside keys and values, so any map reads back exactly. An empty map is
 * the empty string; a map holding only {@code "" -> ""} is {@code "="}. Keys are sorted.
 */
final class MetadataCodec {

    private MetadataCodec() {
    }

    static String encode(Map<String, String> metadata) {
        if (metadata.isEmpty()) {
            return "";
        }
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, String> e : new TreeMap<>(metadata).entrySet()) {
            if (sb.length() > 0) {
                sb.append('&');
            }
            escape(e.getKey(), sb);
            sb.append('=');
            escape(e.getValue(), sb);
        }
        return sb.toString();
    }

    /** @throws IllegalArgumentException if {@code text} was not written by {@link #encode} */
    static Map<String, String> decode(String text) {
        if (text.isEmpty()) {
            return Map.of();
        }
        Map<String, String> metadata = new TreeMap<>();
        for (String pair : text.split("&", -1)) {
            int eq = pair.indexOf('=');
            if (eq < 0 || pair.indexOf('=', eq + 1) >= 0) {
                throw new IllegalArgumentException("malformed metadata pair: " + pair);
            }
            metadata.put(unescape(pair.substring(0, eq)), unescape(pair.substring(eq + 1)));
        }
        return Map.copyOf(metadata);
    }

    private static void escape(String s, StringBuilder sb) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '%' -> sb.append("%25");
                case '&' -> sb.append("%26");
                case '=' -> sb.append("%3D");
                default -> sb.append(c);
            }
        }
    }

    private static String unescape(String s) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '%') {
                sb.append(c);
                continue;
            }
            String code = i + 3 <= s.length() ? s.substring(i + 1, i + 3) : "";
            switch (code) {
                case "25" -> sb.append('%');
                case "26" -> sb.append('&');
                case "3D" -> sb.append('=');
                default -> throw new IllegalArgumentException("malformed metadata escape at " + i + ": " + s);
            }
            i += 2;
        }
        return sb.toString();
    }
}
