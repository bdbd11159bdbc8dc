package dev.regen.internal;

import java.util.List;

/**
 * Stands under a URL's key when its pages vary (RFC 9111 §4.1): the request fields that select the
 * variant, each of which is stored under the URL's key plus a variant id.
 */
public record VaryMarker(List<String> names) implements Cached {
    public VaryMarker {
        names = List.copyOf(names);
    }

    public long weight() {
        long w = 64;
        for (String n : names) {
            w += 48 + 2L * n.length();
        }
        return w;
    }
}
