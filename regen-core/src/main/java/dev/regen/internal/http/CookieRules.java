package dev.regen.internal.http;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * Which request cookies matter. Analytics and consent cookies (the ignore list) never identify a user
 * to the origin's pages: they are stripped from renders, never part of a key, and never make a request
 * credentialed. Any other cookie does (RFC 9111 §3.5 applied to cookies): such a request is served a
 * cached page only if the origin marked it shareable explicitly.
 *
 * <p>Patterns are cookie names, or prefixes ending in {@code *}. Immutable and thread-safe.
 */
public final class CookieRules {
    /** Google Analytics/Ads, Meta, Hotjar, Clarity, and the common consent managers' cookies. */
    public static final List<String> DEFAULT_IGNORED = List.of(
            "_ga",
            "_ga_*",
            "_gid",
            "_gat*",
            "_gcl_*",
            "_fbp",
            "_fbc",
            "_hj*",
            "_clck",
            "_clsk",
            "_uetsid",
            "_uetvid",
            "cookieconsent_status",
            "CookieConsent",
            "OptanonConsent",
            "OptanonAlertBoxClosed",
            "euconsent-v2");

    public static final CookieRules DEFAULT = new CookieRules(DEFAULT_IGNORED);

    private final List<String> exact = new ArrayList<>();
    private final List<String> prefixes = new ArrayList<>();
    private final List<String> patterns;

    public CookieRules(List<String> ignored) {
        this.patterns = List.copyOf(ignored);
        for (String p : patterns) {
            if (p.isEmpty() || (p.indexOf('*') >= 0 && p.indexOf('*') != p.length() - 1)) {
                throw new dev.regen.InvalidConfigException(
                        "ignore-cookies",
                        "must be cookie names, each a name or a prefix ending in *, got \"" + p + "\"");
            }
            if (p.endsWith("*")) {
                prefixes.add(p.substring(0, p.length() - 1));
            } else {
                exact.add(p);
            }
        }
    }

    public List<String> patterns() {
        return patterns;
    }

    public boolean ignored(String name) {
        if (exact.contains(name)) {
            return true;
        }
        for (String p : prefixes) {
            if (name.startsWith(p)) {
                return true;
            }
        }
        return false;
    }

    /** Whether any {@code Cookie} field value carries a cookie that is not ignored. */
    public boolean anyKept(List<String> cookieFields) {
        for (String field : cookieFields) {
            for (String pair : field.split(";", -1)) {
                String name = name(pair);
                if (!name.isEmpty() && !ignored(name)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The {@code Cookie} field to send the origin: the kept cookies in their order, or null if none. */
    public String stripped(List<String> cookieFields) {
        StringBuilder out = new StringBuilder();
        for (String field : cookieFields) {
            for (String pair : field.split(";", -1)) {
                String trimmed = pair.trim();
                String name = name(trimmed);
                if (!name.isEmpty() && !ignored(name)) {
                    if (out.length() > 0) {
                        out.append("; ");
                    }
                    out.append(trimmed);
                }
            }
        }
        return out.length() == 0 ? null : out.toString();
    }

    /** The kept cookies sorted by name (then value), as a variant's key part for {@code Vary: Cookie}. */
    String keyed(List<String> cookieFields) {
        TreeMap<String, List<String>> byName = new TreeMap<>();
        for (String field : cookieFields) {
            for (String pair : field.split(";", -1)) {
                String trimmed = pair.trim();
                String name = name(trimmed);
                if (!name.isEmpty() && !ignored(name)) {
                    byName.computeIfAbsent(name, n -> new ArrayList<>()).add(trimmed);
                }
            }
        }
        StringBuilder out = new StringBuilder();
        byName.forEach((name, pairs) ->
                pairs.stream().sorted().forEach(p -> out.append(p).append(';')));
        return out.toString();
    }

    private static String name(String pair) {
        int eq = pair.indexOf('=');
        return (eq < 0 ? pair : pair.substring(0, eq)).trim();
    }
}
