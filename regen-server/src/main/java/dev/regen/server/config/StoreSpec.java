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
 *   <li>{@code embedded:DIR} — the embedded persistent store in {@code DIR} (relative paths are
 *       kept relative; the caller resolves them against the working directory).</li>
 *   <li>{@code redis://host[:port][/db]} or {@code rediss://…} (TLS) — a shared Redis/Valkey.</li>
 * </ul>
 */
public sealed interface StoreSpec {

    /** The default: {@code embedded:./.regen}. */
    StoreSpec DEFAULT = new Embedded(Path.of("./.regen"));

    /** L1 only; nothing survives a restart. */
    record Memory() implements StoreSpec {
        @Override
        public String toString() {
            return "memory";
        }
    }

    /** The embedded persistent store in {@code dir}. */
    record Embedded(Path dir) implements StoreSpec {
        public Embedded {
            Objects.requireNonNull(dir, "dir");
        }

        @Override
        public String toString() {
            return "embedded:" + dir;
        }
    }

    /**
     * A Redis or Valkey server; the URI is kept as given ({@code redis} or {@code rediss} scheme, host,
     * optional port, optional {@code /db} number, optional password in the user-info part).
     * {@link #toString()} hides the password.
     */
    record Redis(URI uri) implements StoreSpec {
        public Redis {
            Objects.requireNonNull(uri, "uri");
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
            String dir = v.substring("embedded:".length());
            if (dir.isBlank()) {
                throw new ConfigException("store", "embedded: needs a directory, e.g. embedded:./.regen");
            }
            try {
                return new Embedded(Path.of(dir));
            } catch (InvalidPathException e) {
                throw new ConfigException("store", "not a valid directory: \"" + dir + "\" (" + e.getReason() + ")");
            }
        }
        String lower = v.toLowerCase(Locale.ROOT);
        if (lower.startsWith("redis://") || lower.startsWith("rediss://")) {
            return new Redis(parseRedis(v));
        }
        throw new ConfigException("store",
                "must be memory, embedded:DIR or redis://HOST:PORT, got \"" + Values.shorten(v) + "\"");
    }

    private static URI parseRedis(String v) {
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
            throw new ConfigException("store", "Redis URI needs a host, e.g. redis://127.0.0.1:6379, got \"" + shown + "\"");
        }
        String hostPort = authority.substring(authority.lastIndexOf('@') + 1);
        Matcher m = Pattern.compile("(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9._-]+)(?::(\\d{1,5}))?")
                .matcher(hostPort);
        if (!m.matches()) {
            throw new ConfigException("store", "Redis URI needs HOST or HOST:PORT after //, got \"" + shown + "\"");
        }
        if (m.group(2) != null) {
            int port = Integer.parseInt(m.group(2));
            if (port < 1 || port > 65535) {
                throw new ConfigException("store", "Redis port must be 1..65535, got \"" + shown + "\"");
            }
        }
        String path = uri.getPath();
        if (path != null && !path.isEmpty() && !path.equals("/") && !path.matches("/\\d{1,5}")) {
            throw new ConfigException("store", "the path of a Redis URI is a database number (/0, /1, …), got \"" + shown + "\"");
        }
        if (uri.getFragment() != null) {
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
