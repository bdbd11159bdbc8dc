package dev.regen;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which query parameters are part of a page's identity (the {@code query} setting).
 * Kept parameters are sorted by name so that {@code ?b=1&a=2} and {@code ?a=2&b=1} are one page.
 */
public record QueryPolicy(Mode mode, Set<String> allowed) {

    public enum Mode {
        /** Every parameter is kept. */
        ALL,
        /** The query is dropped: every query variant is the same page. */
        NONE,
        /** Known tracking parameters are dropped (the default). */
        IGNORE_TRACKING,
        /** Only the listed parameters are kept. */
        ALLOW_LIST
    }

    public static final QueryPolicy ALL = new QueryPolicy(Mode.ALL, Set.of());
    public static final QueryPolicy NONE = new QueryPolicy(Mode.NONE, Set.of());
    public static final QueryPolicy IGNORE_TRACKING = new QueryPolicy(Mode.IGNORE_TRACKING, Set.of());

    private static final Set<String> TRACKING =
            Set.of("fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "_ga", "_gl");

    /** @throws InvalidConfigException (field {@code query}) for an empty allow-list or a name that is none */
    public QueryPolicy {
        allowed = Set.copyOf(RegenConfig.requireNames(allowed, "query", "&=#"));
        if (mode == Mode.ALLOW_LIST && allowed.isEmpty()) {
            throw new InvalidConfigException(
                    "query", "must be all, none, ignore-tracking or a list of parameter names, got an empty list");
        }
    }

    public static QueryPolicy allowOnly(List<String> names) {
        return new QueryPolicy(Mode.ALLOW_LIST, Set.copyOf(names));
    }

    /** Whether a parameter (its decoded name) stays in the key and in the URL sent to the origin. */
    public boolean keeps(String name) {
        return switch (mode) {
            case ALL -> true;
            case NONE -> false;
            case ALLOW_LIST -> allowed.contains(name);
            case IGNORE_TRACKING -> {
                String lower = name.toLowerCase(Locale.ROOT);
                yield !lower.startsWith("utm_") && !TRACKING.contains(lower);
            }
        };
    }
}
