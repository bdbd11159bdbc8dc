package dev.regen.server;

import dev.regen.internal.Header;
import dev.regen.server.config.Front;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Who a request is from and for, as far as Regen may believe it: the public host (from the
 * absolute-form target, else {@code Host}; checked against {@code hosts:}), the public scheme, and the
 * client's address. A load balancer listed in {@code trusted-proxies} may say all three with its
 * {@code X-Forwarded-*} fields; anyone else's are ignored.
 *
 * @param host          the public host (normalised), or null when the request must be refused
 * @param hostProblem   why {@code host} is null
 * @param scheme        {@code http} or {@code https}
 * @param clientAddress the client's IP address
 * @param forwardedFor  the {@code X-Forwarded-For} value to send the origin
 */
record Peer(String host, HostProblem hostProblem, String scheme, String clientAddress, String forwardedFor) {

    enum HostProblem {
        NONE(""),
        MISSING("the request names no host"),
        UNLISTED("this server does not serve that host");

        private final String message;

        HostProblem(String message) {
            this.message = message;
        }

        String message() {
            return message;
        }
    }

    static Peer of(HttpRequest request, SocketAddress remote, SocketAddress local, boolean secure, Front front) {
        String peer = remote instanceof InetSocketAddress a && a.getAddress() != null
                ? a.getAddress().getHostAddress()
                : "";
        HttpHeaders h = request.headers();
        boolean trusted =
                remote instanceof InetSocketAddress a && front.trustedProxies().trusts(a.getAddress());
        String scheme = front.scheme() != null ? front.scheme() : secure ? "https" : "http";
        String client = peer;
        String chain = peer;
        String forwardedHost = null;
        if (trusted) {
            String proto = first(h.get("x-forwarded-proto"));
            if (front.scheme() == null && ("https".equalsIgnoreCase(proto) || "http".equalsIgnoreCase(proto))) {
                scheme = proto.toLowerCase(java.util.Locale.ROOT);
            }
            forwardedHost = first(h.get("x-forwarded-host"));
            List<String> hops = new ArrayList<>();
            for (String v : h.getAll("x-forwarded-for")) {
                for (String hop : v.split(",", -1)) {
                    if (!hop.isBlank()) {
                        hops.add(hop.trim());
                    }
                }
            }
            // the client is the nearest address that is not one of our own proxies
            for (int i = hops.size() - 1; i >= 0; i--) {
                client = hops.get(i);
                if (!front.trustedProxies().trusts(hops.get(i))) {
                    break;
                }
            }
            if (!hops.isEmpty()) {
                chain = String.join(", ", hops) + ", " + peer;
            }
        }
        String raw = authorityOf(request.uri());
        if (raw == null) {
            raw = forwardedHost != null ? forwardedHost : h.get(HttpHeaderNames.HOST);
        }
        String host;
        HostProblem problem = HostProblem.NONE;
        if (raw == null || raw.isBlank() || !validHost(raw)) {
            if (raw == null && request.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
                // HTTP/1.0 may name no host: the site's first, or the address it came to
                host = !front.hosts().isEmpty()
                        ? front.hosts().get(0)
                        : local instanceof InetSocketAddress l ? hostPort(l) : null;
                problem = host == null ? HostProblem.MISSING : HostProblem.NONE;
            } else {
                host = null;
                problem = HostProblem.MISSING;
            }
        } else {
            host = withoutDefaultPort(Front.normaliseHost(raw), scheme);
            if (!front.hosts().isEmpty() && !front.hosts().contains(host)) {
                host = front.unlistedHost();
                if (host == null) {
                    problem = HostProblem.UNLISTED;
                }
            }
        }
        return new Peer(host, problem, scheme, client, chain);
    }

    private static String hostPort(InetSocketAddress a) {
        String h = a.getAddress().getHostAddress();
        return (h.indexOf(':') >= 0 ? "[" + h + "]" : h) + ":" + a.getPort();
    }

    /** The fields Regen itself adds to what it sends the origin for this client. */
    List<Header> forwardingFields() {
        return List.of(
                new Header("X-Forwarded-For", forwardedFor),
                new Header("X-Forwarded-Host", host),
                new Header("X-Forwarded-Proto", scheme));
    }

    private static String first(String value) {
        if (value == null) {
            return null;
        }
        int comma = value.indexOf(',');
        return (comma < 0 ? value : value.substring(0, comma)).trim();
    }

    /** The authority of an absolute-form target (RFC 9112 §3.2.2: it replaces Host), or null. */
    private static String authorityOf(String uri) {
        if (uri.startsWith("/") || uri.equals("*")) {
            return null;
        }
        int scheme = uri.indexOf("://");
        if (scheme <= 0) {
            return null;
        }
        int end = scheme + 3;
        while (end < uri.length() && "/?#".indexOf(uri.charAt(end)) < 0) {
            end++;
        }
        String authority = uri.substring(scheme + 3, end);
        int at = authority.lastIndexOf('@');
        return at >= 0 ? authority.substring(at + 1) : authority;
    }

    /** A host name or address with an optional port: nothing that could smuggle a path or a space into a key. */
    private static boolean validHost(String host) {
        if (host.length() > 255) {
            return false;
        }
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z')
                    || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9')
                    || c == '.'
                    || c == '-'
                    || c == ':'
                    || c == '['
                    || c == ']'
                    || c == '_';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static String withoutDefaultPort(String host, String scheme) {
        String suffix = "https".equals(scheme) ? ":443" : ":80";
        return host.endsWith(suffix) ? host.substring(0, host.length() - suffix.length()) : host;
    }
}
