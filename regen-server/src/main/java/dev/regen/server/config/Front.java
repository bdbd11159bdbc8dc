package dev.regen.server.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * The front door's settings: which hosts the site answers to, whom to believe about the client, and
 * the bounds every connection lives within. Immutable.
 *
 * @param hosts            the public host names (with port when not the default); empty: the request's own
 * @param unlistedHost     with {@code hosts}: the host an unlisted {@code Host} is served as, or null for 421
 * @param trustedProxies   load balancers whose forwarding fields are believed
 * @param preserveHost     send the origin the public {@code Host} (else the origin's own authority)
 * @param scheme           the public scheme whatever the connection says (behind a TLS terminator), or null
 * @param maxConnections   open client connections; past it new ones get 503 (health still answers)
 * @param maxRequestBody   a relayed request body past this gets 413
 * @param maxRequestLine   a longer request line gets 414
 * @param maxHeaderBlock   a larger header block gets 431
 * @param headerTimeout    a request head must arrive whole within this of its first byte (else 408)
 * @param idleTimeout      a relayed exchange silent this long either way is closed
 * @param keepAliveTimeout an idle connection waits this long for its next request
 * @param tls              certificate and key to serve https (and h2), or null
 * @param h2c              accept cleartext HTTP/2 with prior knowledge
 */
public record Front(
        List<String> hosts,
        String unlistedHost,
        TrustedProxies trustedProxies,
        boolean preserveHost,
        String scheme,
        int maxConnections,
        long maxRequestBody,
        int maxRequestLine,
        int maxHeaderBlock,
        Duration headerTimeout,
        Duration idleTimeout,
        Duration keepAliveTimeout,
        Tls tls,
        boolean h2c) {

    /** A PEM certificate chain and private key, reloaded when either file changes. */
    public record Tls(Path certificate, Path key) {}

    public static final Front DEFAULTS = new Front(
            List.of(),
            null,
            TrustedProxies.NONE,
            false,
            null,
            10_000,
            4L << 30,
            8 * 1024,
            32 * 1024,
            Duration.ofSeconds(10),
            Duration.ofSeconds(60),
            Duration.ofSeconds(75),
            null,
            true);

    public Front {
        hosts = hosts.stream().map(Front::normaliseHost).toList();
        if (unlistedHost != null) {
            unlistedHost = normaliseHost(unlistedHost);
            if (!hosts.contains(unlistedHost)) {
                throw new ConfigException(
                        "unlisted-host", "must be one of hosts " + hosts + ", got \"" + unlistedHost + "\"");
            }
        }
        if (scheme != null && !scheme.equals("http") && !scheme.equals("https")) {
            throw new ConfigException("scheme", "must be http or https, got " + Values.quote(scheme));
        }
        if (maxConnections < 1) {
            throw new ConfigException("limits.connections", "must be at least 1, got \"" + maxConnections + "\"");
        }
        if (maxRequestBody < 1) {
            throw new ConfigException("limits.request-body", "must be a positive size, got \"" + maxRequestBody + "\"");
        }
        if (maxRequestLine < 256) {
            throw new ConfigException(
                    "limits.request-line", "must be at least 256 bytes, got \"" + maxRequestLine + "\"");
        }
        if (maxHeaderBlock < 1024) {
            throw new ConfigException("limits.header-block", "must be at least 1 KiB, got \"" + maxHeaderBlock + "\"");
        }
        positive(headerTimeout, "timeouts.header");
        positive(idleTimeout, "timeouts.idle");
        positive(keepAliveTimeout, "timeouts.keep-alive");
    }

    private static void positive(Duration d, String field) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new ConfigException(field, "must be a positive duration, got \"" + d + "\"");
        }
    }

    /** Lower case, no trailing dot: {@code WWW.Example.com.} and {@code www.example.com} are one host. */
    public static String normaliseHost(String host) {
        String h = host.trim().toLowerCase(Locale.ROOT);
        int colon = h.lastIndexOf(':');
        String name = colon > 0 && !h.endsWith("]") ? h.substring(0, colon) : h;
        String port = colon > 0 && !h.endsWith("]") ? h.substring(colon) : "";
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        return name + port;
    }

    public Front withTls(Tls v) {
        return new Front(
                hosts,
                unlistedHost,
                trustedProxies,
                preserveHost,
                scheme,
                maxConnections,
                maxRequestBody,
                maxRequestLine,
                maxHeaderBlock,
                headerTimeout,
                idleTimeout,
                keepAliveTimeout,
                v,
                h2c);
    }

    public Front withHosts(List<String> v, String unlisted) {
        return new Front(
                v,
                unlisted,
                trustedProxies,
                preserveHost,
                scheme,
                maxConnections,
                maxRequestBody,
                maxRequestLine,
                maxHeaderBlock,
                headerTimeout,
                idleTimeout,
                keepAliveTimeout,
                tls,
                h2c);
    }
}
