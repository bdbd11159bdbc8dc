package dev.regen.internal;

import java.util.List;

/**
 * The request that rendered a stored variant, as background renders send it again: the target as it
 * went to the origin, the public scheme it was asked over, and the request fields the variant's
 * {@code Vary} names (never a client's credentials unless the variant is keyed on them).
 */
public record Replay(String target, String scheme, List<Header> headers) {
    public Replay {
        headers = List.copyOf(headers);
        if (!"http".equals(scheme) && !"https".equals(scheme)) {
            throw new IllegalArgumentException("scheme must be http or https: " + scheme);
        }
    }

    /** A plain GET of {@code target} over http, keyed on nothing. */
    public static Replay of(String target) {
        return new Replay(target, "http", List.of());
    }
}
