package dev.regen.server.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where pages are kept behind the in-memory L1: the {@code store} setting ({@code --store} flag).
 *
 * <ul>
 *   <li>{@code memory} — nothing persisted; L1 only.</li>
 *   <li>{@code embedded:DIR} or {@code embedded:DIR?max-size=10GB} — the embedded persistent store in
 *       {@code DIR} (relative paths are kept relative; the caller resolves them against the working
 *       directory), kept under {@code max-size} (default: half of the free space at start).</li>
 *   <li>{@code redis://host[:port][/db]} or {@code rediss://…} (TLS) — a shared Redis/Valkey;
 *       {@code redis://h1:p1,h2:p2,h3:p3} — a Redis Cluster by its seed nodes;
 *       {@code redis-sentinel://s1:26379,s2:26379?sentinelMasterId=NAME} — the master a Sentinel set
 *       watches, followed across failovers.</li>
 * </ul>
 */
public sealed interface StoreSpec {

    /**
     * This store, required at start ({@code store-strict: true}, {@code --strict-store}): Regen does
     * not start when it cannot be reached. Only a Redis store is ever started without; the others are
     * opened or fail either way.
     */
    default StoreSpec requiredAtStart() {
        return this;
    }

    /** L1 only; nothing survives a restart. */
    record Memory() implements StoreSpec {
        @Override
        public String toString() {
            return "memory";
        }
    }

    /**
     * The embedded persistent store in {@code dir}.
     *
     * @param maxSize its size budget in bytes, or null for the store's default (half of the free space
     *                of its filesystem at start, plus what it already holds)
     */
    record Embedded(Path dir, Long maxSize) implements StoreSpec {
        /**
         * The default: {@code embedded:./.regen}. Kept here, not on StoreSpec: an interface constant of a
         * subclass's type can deadlock two threads initializing the two classes.
         */
        public static final Embedded DEFAULT = new Embedded(Path.of("./.regen"));

        /** The smallest budget accepted: below it, a few pages would fill the store. */
        public static final long MIN_MAX_SIZE = 1L << 20;

        public Embedded {
            Objects.requireNonNull(dir, "dir");
            if (maxSize != null && maxSize < MIN_MAX_SIZE) {
                throw new ConfigException("store", "max-size must be at least 1MB, got " + maxSize + " bytes");
            }
        }

        /** With the default budget. */
        public Embedded(Path dir) {
            this(dir, null);
        }

        @Override
        public String toString() {
            return "embedded:" + dir + (maxSize == null ? "" : "?max-size=" + maxSize);
        }
    }

    /**
     * A Redis or Valkey server; the URI is kept as given ({@code redis} or {@code rediss} scheme, host,
     * optional port, optional {@code /db} number, optional password in the user-info part).
     * {@link #toString()} hides the password.
     *
     * @param strict whether Regen refuses to start while it is unreachable; by default it starts,
     *               serving from memory and rendering locally, and joins when Redis answers
     */
    record Redis(URI uri, boolean strict) implements StoreSpec {
        public Redis {
            Objects.requireNonNull(uri, "uri");
        }

        /** Not strict. */
        public Redis(URI uri) {
            this(uri, false);
        }

        @Override
        public StoreSpec requiredAtStart() {
            return new Redis(uri, true);
        }

        @Override
        public String toString() {
            return redacted(uri);
        }
    }

    /**
     * Parses a {@code store} value.
     *
     * @throws ConfigException naming field {@code store} when the value is none of the accepted forms
     */
    static StoreSpec parse(String value) {
        if (value == null || value.isBlank()) {
            throw new ConfigException("store", "must be memory, embedded:DIR or redis://HOST:PORT, got \"\"");
        }
        String v = value.strip();
        if (v.equals("memory")) {
            return new Memory();
        }
        if (v.startsWith("embedded:")) {
            String rest = v.substring("embedded:".length());
            int q = rest.indexOf('?');
            String dir = q < 0 ? rest : rest.substring(0, q);
            if (dir.isBlank()) {
                throw new ConfigException("store", "embedded: needs a directory, e.g. embedded:./.regen");
            }
            Long maxSize = q < 0 ? null : embeddedOptions(rest.substring(q + 1));
            try {
                return new Embedded(Path.of(dir), maxSize);
            } catch (InvalidPathException e) {
                throw new ConfigException("store", "not a valid directory: \"" + dir + "\" (" + e.getReason() + ")");
            }
        }
        String lower = v.toLowerCase(Locale.ROOT);
        if (lower.startsWith("redis://")
                || lower.startsWith("rediss://")
                || lower.startsWith("redis-sentinel://")
                || lower.startsWith("rediss-sentinel://")) {
            return new Redis(
                    parseRedis(v, lower.startsWith("redis-sentinel://") || lower.startsWith("rediss-sentinel://")));
        }
        throw new ConfigException(
                "store", "must be memory, embedded:DIR or redis://HOST:PORT, got \"" + Values.shorten(v) + "\"");
    }

    /** The options after {@code embedded:DIR?}: {@code max-size=SIZE} is the only one. Returns the size. */
    private static Long embeddedOptions(String query) {
        Long maxSize = null;
        for (String option : query.split("&", -1)) {
            if (option.isEmpty()) {
                continue; // as in a query string: "?max-size=10GB&" has one option
            }
            int eq = option.indexOf('=');
            String name = eq < 0 ? option : option.substring(0, eq);
            if (!name.equals("max-size")) {
                throw new ConfigException(
                        "store",
                        "unknown option \"" + Values.shorten(name)
                                + "\" of embedded:DIR?…, the one known is max-size (e.g. embedded:./.regen?max-size=10GB)");
            }
            String value = eq < 0 ? "" : option.substring(eq + 1);
            maxSize = Values.size(value);
            if (maxSize == null) {
                throw new ConfigException(
                        "store", "max-size must be a size like 500MB or 10GB, got \"" + Values.shorten(value) + "\"");
            }
        }
        return maxSize;
    }

    private static URI parseRedis(String v, boolean sentinel) {
        URI uri;
        try {
            uri = new URI(v);
        } catch (URISyntaxException e) {
            throw new ConfigException("store", "not a valid Redis URI: \"" + Values.shorten(redactedText(v)) + "\"");
        }
        String shown = redacted(uri);
        // Host names with '_' (common for docker-compose services) make java.net.URI fall back to a
        // registry-based authority without host/port, so host and port are read from the authority.
        String authority = uri.getRawAuthority();
        if (authority == null || authority.isEmpty()) {
            throw new ConfigException(
                    "store", "Redis URI needs a host, e.g. redis://127.0.0.1:6379, got \"" + shown + "\"");
        }
        // one HOST[:PORT], or several, comma-separated: a Redis Cluster's seed nodes, or the Sentinels
        Pattern hostAndPort = Pattern.compile("(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9._-]+)(?::(\\d{1,5}))?");
        for (String hostPort :
                authority.substring(authority.lastIndexOf('@') + 1).split(",", -1)) {
            Matcher m = hostAndPort.matcher(hostPort);
            if (!m.matches()) {
                throw new ConfigException(
                        "store",
                        "Redis URI needs HOST, HOST:PORT or HOST1:PORT1,HOST2:PORT2,… after //, got \"" + shown + "\"");
            }
            if (m.group(2) != null) {
                int port = Integer.parseInt(m.group(2));
                if (port < 1 || port > 65535) {
                    throw new ConfigException("store", "Redis port must be 1..65535, got \"" + shown + "\"");
                }
            }
        }
        String path = uri.getPath();
        if (path != null && !path.isEmpty() && !path.equals("/") && !path.matches("/\\d{1,5}")) {
            throw new ConfigException(
                    "store", "the path of a Redis URI is a database number (/0, /1, …), got \"" + shown + "\"");
        }
        if (uri.getFragment() != null && !sentinel) {
            throw new ConfigException("store", "a Redis URI has no #fragment, got \"" + shown + "\"");
        }
        return uri;
    }

    /** The URI with any password replaced by {@code ***}. */
    private static String redacted(URI uri) {
        String authority = uri.getRawAuthority();
        if (authority == null || !authority.contains("@")) {
            return uri.toString();
        }
        return redactedText(uri.toString());
    }

    private static String redactedText(String s) {
        int scheme = s.indexOf("://");
        int at = s.lastIndexOf('@');
        if (scheme < 0 || at < scheme) {
            return s;
        }
        return s.substring(0, scheme + 3) + "***" + s.substring(at);
    }
}
