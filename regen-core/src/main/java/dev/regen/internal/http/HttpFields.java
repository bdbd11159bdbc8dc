package dev.regen.internal.http;

import dev.regen.internal.Header;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** Header rules shared by every edge: which fields are hop-by-hop, which are never replayed from the cache. */
public final class HttpFields {
    private HttpFields() {}

    /** Hop-by-hop fields (RFC 9110 §7.6.1), plus the legacy ones proxies still see. */
    public static final Set<String> HOP_BY_HOP = Set.of(
            "connection",
            "keep-alive",
            "proxy-connection",
            "proxy-authenticate",
            "proxy-authorization",
            "te",
            "trailer",
            "transfer-encoding",
            "upgrade");

    /** Forwarding fields a client may send to spoof its origin; Regen rebuilds them itself. */
    public static final Set<String> CLIENT_FORWARDING = Set.of(
            "x-forwarded-for",
            "x-forwarded-host",
            "x-forwarded-proto",
            "x-forwarded-port",
            "x-forwarded-prefix",
            "forwarded",
            "x-original-url",
            "x-rewrite-url",
            "x-real-ip",
            "x-host");

    /** Conditional and range fields (RFC 9110 §13.1, §14.2): a render must get the whole representation. */
    public static final Set<String> CONDITIONAL_AND_RANGE =
            Set.of("if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "if-range", "range");

    /** Fields that describe one message or one cache and so are regenerated on each replay. */
    private static final Set<String> NOT_STORED = Set.of(
            "date",
            "age",
            "content-length",
            "set-cookie",
            "set-cookie2",
            "cache-tag",
            "surrogate-key",
            "x-cache-status",
            "cache-status",
            "etag");

    /** Whether a response with {@code status} has no body whatever its fields say (RFC 9110 §6.4.1). */
    public static boolean bodiless(int status) {
        return status == 204 || status == 304 || (status >= 100 && status < 200);
    }

    /** The first value of {@code name}, or null. */
    public static String first(List<Header> headers, String name) {
        for (Header h : headers) {
            if (h.is(name)) {
                return h.value();
            }
        }
        return null;
    }

    public static boolean has(List<Header> headers, String name) {
        return first(headers, name) != null;
    }

    /** The names a {@code Connection} field lists: hop-by-hop for this message too (RFC 9110 §7.6.1). */
    public static Set<String> connectionOptions(List<Header> headers) {
        Set<String> names = new LinkedHashSet<>();
        for (Header h : headers) {
            if (h.is("connection")) {
                for (String token : h.value().split(",", -1)) {
                    if (!token.isBlank()) {
                        names.add(token.trim().toLowerCase(Locale.ROOT));
                    }
                }
            }
        }
        return names;
    }

    /** The origin's headers worth replaying from the cache to every client. */
    public static List<Header> replayable(List<Header> origin) {
        Set<String> connection = connectionOptions(origin);
        List<Header> kept = new ArrayList<>(origin.size());
        for (Header h : origin) {
            String name = h.name().toLowerCase(Locale.ROOT);
            if (!HOP_BY_HOP.contains(name) && !NOT_STORED.contains(name) && !connection.contains(name)) {
                kept.add(h);
            }
        }
        return kept;
    }

    /**
     * Headers of one response relayed to the one client it is for (pass-through, uncached render): all
     * but hop-by-hop fields and the framing the edge recomputes.
     */
    public static List<Header> relayable(List<Header> origin) {
        Set<String> connection = connectionOptions(origin);
        List<Header> kept = new ArrayList<>(origin.size());
        for (Header h : origin) {
            String name = h.name().toLowerCase(Locale.ROOT);
            if (!HOP_BY_HOP.contains(name)
                    && !connection.contains(name)
                    && !name.equals("content-length")
                    && !name.equals("date")) {
                kept.add(h);
            }
        }
        return kept;
    }

    /**
     * The client's request fields to send the origin: all but hop-by-hop fields (and those its
     * {@code Connection} names), client-sent forwarding fields (Regen rebuilds them) and {@code Host}
     * (the edge sets it). For a render, also without conditional and range fields (the render must get
     * the whole representation), with Regen's own {@code Accept-Encoding}, and without ignored cookies.
     * {@code Upgrade} is kept, with {@code Connection: upgrade}, when {@code upgrade} is set (a tunnel).
     */
    public static List<Header> forwardable(List<Header> client, boolean render, CookieRules cookies, boolean upgrade) {
        Set<String> connection = connectionOptions(client);
        List<Header> kept = new ArrayList<>(client.size() + 2);
        List<String> cookieFields = new ArrayList<>(1);
        for (Header h : client) {
            String name = h.name().toLowerCase(Locale.ROOT);
            if (upgrade && name.equals("upgrade")) {
                kept.add(h);
                continue;
            }
            if (HOP_BY_HOP.contains(name)
                    || connection.contains(name)
                    || CLIENT_FORWARDING.contains(name)
                    || name.equals("host")) {
                continue;
            }
            if (render && (CONDITIONAL_AND_RANGE.contains(name) || name.equals("accept-encoding"))) {
                continue;
            }
            if (render && name.equals("cookie")) {
                cookieFields.add(h.value());
                continue;
            }
            kept.add(h);
        }
        if (upgrade) {
            kept.add(new Header("Connection", "upgrade"));
        }
        if (render) {
            String cookie = cookies.stripped(cookieFields);
            if (cookie != null) {
                kept.add(new Header("Cookie", cookie));
            }
            kept.add(new Header("Accept-Encoding", ContentCoding.RENDER_ACCEPT_ENCODING));
        }
        return kept;
    }

    /** Every value of {@code name}, in order. */
    public static List<String> all(List<Header> headers, String name) {
        List<String> out = new ArrayList<>(1);
        for (Header h : headers) {
            if (h.is(name)) {
                out.add(h.value());
            }
        }
        return out;
    }

    /** A cookie's value from a {@code Cookie} header, or null. */
    public static String cookie(String header, String name) {
        if (header == null) {
            return null;
        }
        for (String pair : header.split(";", -1)) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).trim().equals(name)) {
                return pair.substring(eq + 1).trim();
            }
        }
        return null;
    }

    /** Tags from {@code Cache-Tag} and {@code Surrogate-Key}: comma or space separated, deduplicated. */
    public static Set<String> tags(List<Header> headers) {
        Set<String> tags = new LinkedHashSet<>();
        for (Header h : headers) {
            if (h.is("cache-tag") || h.is("surrogate-key")) {
                for (String t : h.value().split("[,\\s]+", -1)) {
                    if (!t.isEmpty()) {
                        tags.add(t);
                    }
                }
            }
        }
        return tags;
    }
}
