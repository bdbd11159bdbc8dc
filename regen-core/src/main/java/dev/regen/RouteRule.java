package dev.regen;

import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A route rule of the config: pages whose path matches {@code match} get this revalidate time and
 * these tags, or are not cached at all.
 *
 * <p>Globs: {@code *} matches within one path segment, {@code **} across segments, {@code ?} one
 * character. {@code /blog/**} also matches {@code /blog} itself.
 *
 * @param revalidate null to fall back to the origin header or the default
 * @param cache      false: matching requests pass through uncached
 */
public record RouteRule(String match, Duration revalidate, List<String> tags, boolean cache) {

    /** @throws InvalidConfigException naming the field ({@code match}, {@code revalidate}, {@code tags}) */
    public RouteRule {
        if (match == null) {
            throw new InvalidConfigException("match", "is required: the path glob this rule applies to, e.g. /blog/**");
        }
        if (!match.startsWith("/")) {
            throw new InvalidConfigException("match", "must start with /, got \"" + match + "\"");
        }
        if (revalidate != null && (revalidate.isNegative() || revalidate.isZero())) {
            throw new InvalidConfigException(
                    "revalidate", "must be positive, got " + InvalidConfigException.show(revalidate));
        }
        // Tags arrive comma/space separated in Cache-Tag: such a tag could never match.
        tags = tags == null ? List.of() : List.copyOf(RegenConfig.requireNames(tags, "tags", ","));
    }

    /** Compiled once per rule; records can't hold it as a component, hence the cache below. */
    public boolean matches(String path) {
        return Globs.compile(match).matcher(path).matches();
    }

    static final class Globs {
        private static final java.util.concurrent.ConcurrentHashMap<String, Pattern> COMPILED =
                new java.util.concurrent.ConcurrentHashMap<>();

        static Pattern compile(String glob) {
            return COMPILED.computeIfAbsent(glob, Globs::toRegex);
        }

        private static Pattern toRegex(String glob) {
            StringBuilder re = new StringBuilder();
            for (int i = 0; i < glob.length(); i++) {
                char c = glob.charAt(i);
                if (c == '/' && glob.startsWith("/**", i) && i + 3 == glob.length()) {
                    re.append("(?:/.*)?");
                    i += 2;
                } else if (c == '*' && i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
                    re.append(".*");
                    i++;
                } else if (c == '*') {
                    re.append("[^/]*");
                } else if (c == '?') {
                    re.append("[^/]");
                } else {
                    re.append(Pattern.quote(String.valueOf(c)));
                }
            }
            return Pattern.compile(re.toString());
        }
    }
}
