package dev.regen.internal.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Secondary cache keys (RFC 9111 §4.1): the request fields a response's {@code Vary} names, normalised,
 * select which stored variant of a URL a request may be given.
 *
 * <p>{@code Accept-Encoding} is never part of a variant: Regen asks the origin for an encoding it can
 * decode and gives every client one it accepts. Fields a preset declares unkeyed (e.g. Next.js's
 * router state tree, whose response is the same for every value once the page is cacheable) are
 * replayed to the origin but not keyed on.
 */
public final class Vary {
    /** Stands for an absent field: absent only matches absent (RFC 9111 §4.1). */
    private static final String ABSENT = "\u0000";
    /** Fields whose values compare case-insensitively (their grammar is case-insensitive). */
    private static final Set<String> CASE_INSENSITIVE = Set.of("accept", "accept-language", "accept-charset");

    private Vary() {}

    /**
     * The field names a {@code Vary} value lists, lower-case, sorted and without duplicates, without
     * {@code Accept-Encoding}; {@code ["*"]} for {@code Vary: *}; empty for none.
     */
    public static List<String> names(List<String> varyValues) {
        TreeSet<String> names = new TreeSet<>();
        for (String value : varyValues) {
            for (String token : value.split(",", -1)) {
                String name = token.trim().toLowerCase(Locale.ROOT);
                if (name.equals("*")) {
                    return List.of("*");
                }
                if (!name.isEmpty() && !name.equals("accept-encoding")) {
                    names.add(name);
                }
            }
        }
        return List.copyOf(names);
    }

    /**
     * The normalised value of one varying field as a request carries it, or a marker for absent.
     * {@code Cookie} keeps only the cookies that are not ignored, sorted by name.
     */
    public static String normalise(String name, List<String> values, CookieRules cookies) {
        if (values.isEmpty()) {
            return ABSENT;
        }
        String joined = String.join(",", values);
        if (name.equals("cookie")) {
            return cookies.keyed(values);
        }
        StringBuilder out = new StringBuilder(joined.length());
        boolean space = false;
        for (int i = 0; i < joined.length(); i++) {
            char c = joined.charAt(i);
            if (c == ' ' || c == '\t') {
                space = true;
                continue;
            }
            // whitespace only matters between two tokens: "a, b" and "a,b" are one value
            if (space
                    && out.length() > 0
                    && c != ','
                    && c != ';'
                    && out.charAt(out.length() - 1) != ','
                    && out.charAt(out.length() - 1) != ';') {
                out.append(' ');
            }
            space = false;
            out.append(c);
        }
        String v = out.toString();
        return CASE_INSENSITIVE.contains(name) ? v.toLowerCase(Locale.ROOT) : v;
    }

    /**
     * The variant id of a request for a URL varying on {@code names}: a short hash of the normalised
     * values of the keyed names (those not in {@code unkeyed}). Equal ids mean the request may be given
     * the variant.
     */
    public static String id(
            List<String> names, Set<String> unkeyed, Function<String, List<String>> request, CookieRules cookies) {
        StringBuilder in = new StringBuilder(64);
        for (String name : names) {
            if (!unkeyed.contains(name)) {
                in.append(name)
                        .append('=')
                        .append(normalise(name, request.apply(name), cookies))
                        .append('\n');
            }
        }
        return shortHash(in.toString());
    }

    private static String shortHash(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            StringBuilder hex = new StringBuilder(16);
            for (int i = 0; i < 8; i++) {
                hex.append(Character.forDigit((d[i] >> 4) & 0xf, 16)).append(Character.forDigit(d[i] & 0xf, 16));
            }
            return hex.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }
}
