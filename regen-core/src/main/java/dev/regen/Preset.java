package dev.regen;

import java.util.Locale;
import java.util.Set;

/**
 * What Regen needs to know of a framework, as generic settings: the one place that knowledge lives.
 * A preset only adds to the settings ({@code preset: nextjs} in the config file); the engine knows no
 * framework.
 */
public enum Preset {
    /**
     * Next.js App Router. Client navigations and prefetches ask for RSC payloads with {@code RSC: 1}
     * and the {@code Next-Router-*} fields, and answer {@code Vary: rsc, next-router-state-tree,
     * next-router-prefetch, next-router-segment-prefetch}, so HTML and RSC payloads are distinct variants
     * by the generic Vary rules. For a cacheable page Next.js itself serves one RSC payload whatever the
     * client's router state tree (its own cache keys on the path), so the tree (and {@code Next-Url}) is
     * replayed but not keyed on; and {@code _rsc}, a hash of those fields and {@code Next-Url} that
     * Next.js checks (307 on a mismatch), is forwarded as the client sent it but not keyed on, so it does
     * not multiply entries. A background render replays the first client's {@code _rsc} with the fields
     * it was computed from, {@code Next-Url} included.
     */
    NEXTJS(Set.of("_rsc"), Set.of("next-router-state-tree", "next-url"));

    // Set.of: unmodifiable
    @SuppressWarnings("ImmutableEnumChecker")
    private final Set<String> unkeyedParams;

    @SuppressWarnings("ImmutableEnumChecker")
    private final Set<String> unkeyedVary;

    Preset(Set<String> unkeyedParams, Set<String> unkeyedVary) {
        this.unkeyedParams = unkeyedParams;
        this.unkeyedVary = unkeyedVary;
    }

    public Set<String> unkeyedParams() {
        return unkeyedParams;
    }

    public Set<String> unkeyedVary() {
        return unkeyedVary;
    }

    /** The config spelling, e.g. {@code nextjs}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The preset of a config name, or null. */
    public static Preset of(String name) {
        for (Preset p : values()) {
            if (p.configName().equals(name)) {
                return p;
            }
        }
        return null;
    }
}
