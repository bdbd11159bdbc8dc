package dev.regen.server;

import java.util.Locale;
import java.util.Set;

/** Conditional request rules (RFC 9110 §13). */
final class Conditional {
    private Conditional() {
    }

    /** Fields a 304 carries over from the 200 it stands for (RFC 9110 §15.4.5). */
    private static final Set<String> ON_304 = Set.of("cache-control", "content-location", "expires", "vary");

    static boolean keptOn304(String name) {
        return ON_304.contains(name.toLowerCase(Locale.ROOT));
    }

    /** Whether {@code If-None-Match} matches {@code etag}, using the weak comparison it calls for. */
    static boolean noneMatch(String ifNoneMatch, String etag) {
        if (ifNoneMatch == null) {
            return false;
        }
        if (ifNoneMatch.trim().equals("*")) {
            return true;
        }
        String ours = opaque(etag);
        for (String candidate : ifNoneMatch.split(",")) {
            if (opaque(candidate.trim()).equals(ours)) {
                return true;
            }
        }
        return false;
    }

    private static String opaque(String tag) {
        return tag.startsWith("W/") ? tag.substring(2) : tag;
    }
}
