package dev.regen.internal.http;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/** The one check of an origin's or a server's base URL, wherever one is configured or given as a flag. */
public final class BaseUrl {
    private BaseUrl() {}

    /**
     * An http(s) URL with a host and an optional port, and nothing else (a trailing {@code /} aside):
     * request paths are mapped 1:1 onto it, so a base path would be silently ignored.
     *
     * @return the URL as {@code scheme://authority}, the scheme lower-cased
     * @throws IllegalArgumentException saying what is expected and what was given (credentials never shown)
     */
    public static URI parse(String text) {
        URI u;
        try {
            u = new URI(text.strip());
        } catch (URISyntaxException e) {
            u = URI.create("invalid:" + e.getIndex()); // not http(s): refused below
        }
        if (u.getRawUserInfo() != null) {
            throw new IllegalArgumentException("must not contain user:password@, got a URL with credentials");
        }
        String scheme = String.valueOf(u.getScheme()).toLowerCase(Locale.ROOT);
        String path = u.getRawPath() == null ? "" : u.getRawPath();
        if ((!scheme.equals("http") && !scheme.equals("https"))
                || u.getHost() == null
                || (!path.isEmpty() && !path.equals("/"))
                || u.getRawQuery() != null
                || u.getRawFragment() != null) {
            throw new IllegalArgumentException(
                    "must be just scheme, host and port: an http:// or https:// URL without a path, query or fragment, "
                            + "e.g. http://127.0.0.1:4321, got " + quote(text));
        }
        return URI.create(scheme + "://" + u.getRawAuthority());
    }

    /** Quoted, escaped and cut at 80 characters: the value goes into error messages and logs. */
    private static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length() && i < 80; i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20 || c == 0x7f) {
                b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append(s.length() > 80 ? "…\"" : "\"").toString();
    }
}
