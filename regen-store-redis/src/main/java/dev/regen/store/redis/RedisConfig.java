package dev.regen.store.redis;

import io.lettuce.core.RedisURI;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Connection settings parsed from a store URI; the syntax is documented on {@link RedisStore}.
 * Every rejection is an {@link IllegalArgumentException} naming the part of the URI at fault; no
 * message ever contains the password.
 *
 * @param nodes   one address for a standalone server, the seed nodes of a Redis Cluster
 * @param cluster whether to speak the Redis Cluster protocol
 * @param prefix  prepended to every Redis key Regen writes
 * @param timeout how long one command may take before it fails
 * @param shards  how many index shards the store spreads keys over (1 unless a cluster)
 * @param display the URI with the password masked, for messages and logs
 */
record RedisConfig(List<RedisURI> nodes, boolean cluster, String prefix, Duration timeout, int shards, String display) {

    static final String DEFAULT_PREFIX = "regen:";
    static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(500);
    static final int DEFAULT_CLUSTER_SHARDS = 16;
    static final int DEFAULT_PORT = 6379;
    static final int DEFAULT_SENTINEL_PORT = 26379;

    private static final Duration MAX_TIMEOUT = Duration.ofMinutes(1);
    /**
     * Lettuce's timeout for a new connection's handshake (HELLO, AUTH, SELECT) and for topology
     * refreshes: longer than a command's, since a cold JVM's first handshake alone can take longer
     * than 500 ms, and it runs off the serving path.
     */
    static final Duration MIN_HANDSHAKE_TIMEOUT = Duration.ofSeconds(5);

    private static final int MAX_SHARDS = 1024;
    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s)?");
    private static final Pattern PREFIX = Pattern.compile("[^{}\\s]{0,64}");

    RedisConfig {
        nodes = List.copyOf(nodes);
    }

    static RedisConfig parse(URI uri) {
        Objects.requireNonNull(uri, "uri");
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        boolean tls = switch (scheme) {
            case "redis", "redis-sentinel" -> false;
            case "rediss", "rediss-sentinel" -> true;
            default ->
                throw new IllegalArgumentException(
                        "store URI must start with redis://, rediss:// or redis-sentinel://, not '"
                                + (scheme.isEmpty() ? uri : scheme + ":") + "'");
        };
        boolean sentinel = scheme.endsWith("-sentinel");
        if (uri.isOpaque()) {
            throw new IllegalArgumentException("store URI must be " + scheme + "://host:port, not " + scheme + ":...");
        }
        String authority = uri.getRawAuthority();
        if (authority == null || authority.isEmpty()) {
            throw new IllegalArgumentException("store URI has no host: " + scheme + "://");
        }

        String user = null;
        String password = null;
        String hostList = authority;
        int at = authority.lastIndexOf('@');
        if (at >= 0) {
            String info = authority.substring(0, at);
            hostList = authority.substring(at + 1);
            int colon = info.indexOf(':');
            if (colon < 0) {
                password = decode(info, "password");
            } else {
                user = decode(info.substring(0, colon), "user");
                password = decode(info.substring(colon + 1), "password");
            }
            if (user != null && user.isEmpty()) {
                user = null;
            }
            if (password.isEmpty()) {
                throw new IllegalArgumentException(
                        "store URI has an empty password (leave out the user info for none)");
            }
        }

        Query query = Query.parse(uri.getRawQuery());
        String credentials = password == null ? "" : (user == null ? "" : user + ":") + "***@";
        String display = scheme + "://" + credentials + hostList;

        int db = database(uri.getRawPath());
        if (db != 0) {
            display += "/" + db;
        }
        List<String[]> hosts = hosts(hostList, sentinel ? DEFAULT_SENTINEL_PORT : DEFAULT_PORT);
        if (sentinel) {
            String master = uri.getFragment() != null && !uri.getFragment().isEmpty()
                    ? uri.getFragment()
                    : query.sentinelMasterId;
            if (master == null || master.isBlank()) {
                throw new IllegalArgumentException("a " + scheme + ":// store URI needs the master's name, e.g. "
                        + scheme + "://10.0.0.1:26379,10.0.0.2:26379?sentinelMasterId=mymaster (or #mymaster)");
            }
            if ((query.cluster != null && query.cluster) || (query.shards != null && query.shards != 1)) {
                throw new IllegalArgumentException(
                        "store URI: Sentinel watches one master; cluster and shards do not apply");
            }
            display += (display.contains("?") ? "&" : "?") + "sentinelMasterId=" + master;
            Duration handshake = max(query.timeout, MIN_HANDSHAKE_TIMEOUT);
            RedisURI.Builder b = RedisURI.Builder.sentinel(hosts.get(0)[0], Integer.parseInt(hosts.get(0)[1]), master);
            for (String[] host : hosts.subList(1, hosts.size())) {
                b.withSentinel(host[0], Integer.parseInt(host[1]));
            }
            b.withSsl(tls).withDatabase(db).withTimeout(handshake).withClientName("regen");
            if (tls) {
                b.withVerifyPeer(query.verifyPeer);
            }
            credentials(b, user, password);
            return new RedisConfig(List.of(b.build()), false, query.prefix, query.timeout, 1, display);
        }
        boolean cluster = query.cluster == null ? hosts.size() > 1 : query.cluster;
        if (!cluster && hosts.size() > 1) {
            throw new IllegalArgumentException("store URI lists " + hosts.size() + " hosts but cluster=false: "
                    + "several hosts are the seed nodes of a Redis Cluster");
        }
        if (cluster && db != 0) {
            throw new IllegalArgumentException(
                    "store URI database must be 0 with Redis Cluster (it has no other): " + db);
        }
        if (!cluster && query.shards != null && query.shards != 1) {
            throw new IllegalArgumentException(
                    "store URI shards applies to Redis Cluster only (add cluster=true): " + query.shards);
        }
        int shards = cluster ? (query.shards == null ? DEFAULT_CLUSTER_SHARDS : query.shards) : 1;
        if (cluster) {
            display += "?cluster=true";
        }

        Duration handshake = max(query.timeout, MIN_HANDSHAKE_TIMEOUT);
        List<RedisURI> nodes = new ArrayList<>();
        for (String[] host : hosts) {
            RedisURI.Builder b = RedisURI.builder()
                    .withHost(host[0])
                    .withPort(Integer.parseInt(host[1]))
                    .withSsl(tls)
                    .withDatabase(db)
                    .withTimeout(handshake)
                    .withClientName("regen");
            if (tls) {
                b.withVerifyPeer(query.verifyPeer);
            }
            credentials(b, user, password);
            nodes.add(b.build());
        }
        return new RedisConfig(nodes, cluster, query.prefix, query.timeout, shards, display);
    }

    /** The password (and user) of the Redis data nodes; Sentinels are reached without. */
    private static void credentials(RedisURI.Builder b, String user, String password) {
        if (password != null) {
            if (user != null) {
                b.withAuthentication(user, password);
            } else {
                b.withPassword(password.toCharArray());
            }
        }
    }

    @Override
    public String toString() {
        return display;
    }

    static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    private static int database(String path) {
        if (path == null || path.isEmpty() || path.equals("/")) {
            return 0;
        }
        String db = path.substring(1);
        if (!db.matches("\\d{1,5}")) {
            throw new IllegalArgumentException("store URI path must be a database number like /0: " + path);
        }
        return Integer.parseInt(db);
    }

    /** {host, port} pairs from {@code h1[:p1],h2[:p2]}; IPv6 addresses in brackets. */
    private static List<String[]> hosts(String hostList, int defaultPort) {
        List<String[]> hosts = new ArrayList<>();
        for (String part : hostList.split(",", -1)) {
            String host;
            String port = null;
            if (part.startsWith("[")) {
                int close = part.indexOf(']');
                if (close < 0) {
                    throw new IllegalArgumentException("store URI host has an unclosed '[': " + part);
                }
                host = part.substring(1, close);
                String rest = part.substring(close + 1);
                if (!rest.isEmpty()) {
                    if (!rest.startsWith(":")) {
                        throw new IllegalArgumentException("store URI host must be [ipv6]:port: " + part);
                    }
                    port = rest.substring(1);
                }
            } else {
                int colon = part.indexOf(':');
                host = colon < 0 ? part : part.substring(0, colon);
                port = colon < 0 ? null : part.substring(colon + 1);
            }
            if (host.isEmpty()) {
                throw new IllegalArgumentException("store URI has an empty host: '" + hostList + "'");
            }
            hosts.add(new String[] {host, Integer.toString(port == null ? defaultPort : port(port))});
        }
        return hosts;
    }

    private static int port(String port) {
        if (port == null) {
            return DEFAULT_PORT;
        }
        if (!port.matches("\\d{1,5}") || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
            throw new IllegalArgumentException("store URI port must be 1-65535: '" + port + "'");
        }
        return Integer.parseInt(port);
    }

    private static String decode(String s, String what) {
        try {
            return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("store URI " + what + " has a malformed %-escape");
        }
    }

    /** The query parameters, each validated. */
    private static final class Query {
        Boolean cluster;
        String sentinelMasterId;
        String prefix = DEFAULT_PREFIX;
        Duration timeout = DEFAULT_TIMEOUT;
        Integer shards;
        boolean verifyPeer = true;

        static Query parse(String raw) {
            Query q = new Query();
            if (raw == null || raw.isEmpty()) {
                return q;
            }
            for (String pair : raw.split("&", -1)) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                String name = decode(eq < 0 ? pair : pair.substring(0, eq), "parameter");
                String value = eq < 0 ? "" : decode(pair.substring(eq + 1), "parameter " + name);
                switch (name) {
                    case "cluster" -> q.cluster = bool(name, value);
                    case "verifyPeer" -> q.verifyPeer = bool(name, value);
                    case "sentinelMasterId" -> q.sentinelMasterId = value;
                    case "prefix" -> {
                        if (!PREFIX.matcher(value).matches()) {
                            throw new IllegalArgumentException("store URI prefix must be at most 64 characters "
                                    + "without braces or spaces: '" + value + "'");
                        }
                        q.prefix = value;
                    }
                    case "timeout" -> q.timeout = duration(name, value);
                    case "shards" -> {
                        if (!value.matches("\\d{1,4}")
                                || Integer.parseInt(value) < 1
                                || Integer.parseInt(value) > MAX_SHARDS) {
                            throw new IllegalArgumentException(
                                    "store URI shards must be 1-" + MAX_SHARDS + ": '" + value + "'");
                        }
                        q.shards = Integer.parseInt(value);
                    }
                    default ->
                        throw new IllegalArgumentException("store URI has an unknown parameter '" + name
                                + "' (known: cluster, prefix, timeout, shards, verifyPeer, sentinelMasterId)");
                }
            }
            return q;
        }

        private static boolean bool(String name, String value) {
            return switch (value) {
                case "true" -> true;
                case "false" -> false;
                default ->
                    throw new IllegalArgumentException("store URI " + name + " must be true or false: '" + value + "'");
            };
        }

        private static Duration duration(String name, String value) {
            Matcher m = DURATION.matcher(value);
            Duration d = null;
            if (m.matches()) {
                long n = Long.parseLong(m.group(1));
                d = "s".equals(m.group(2)) ? Duration.ofSeconds(n) : Duration.ofMillis(n);
            }
            if (d == null || d.isZero() || d.compareTo(MAX_TIMEOUT) > 0) {
                throw new IllegalArgumentException("store URI " + name + " must be like 500ms or 2s, "
                        + "positive and at most 60s: '" + value + "'");
            }
            return d;
        }
    }
}
