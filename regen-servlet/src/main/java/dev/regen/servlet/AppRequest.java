package dev.regen.servlet;

import dev.regen.internal.Forwarding;
import dev.regen.internal.Header;
import dev.regen.internal.RequestHeaders;
import dev.regen.internal.http.CookieRules;
import dev.regen.internal.http.HttpDates;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The request the app answers when it renders a page, whichever way the render reached it:
 * <ul>
 *   <li>{@link #render} — the client's own request, rendered in place: the app sees what the engine
 *       forwards (the client's fields less hop-by-hop, conditional and range fields and ignored
 *       cookies, the forwarding fields rebuilt by Regen, the method and query of the render), so that
 *       the page it stores is the one a background render would get;</li>
 *   <li>{@link #loopback} — a request the filter itself sent over loopback and signed: the public host
 *       and scheme are the {@code X-Forwarded-Host} / {@code -Proto} it sent (the connection is to
 *       127.0.0.1), and the client's address its {@code X-Forwarded-For}.</li>
 * </ul>
 * Either way the app sees the public host in {@code Host}, {@link #getServerName()}, {@link #getScheme()}
 * and {@link #getRequestURL()}, as it would without Regen.
 */
final class AppRequest extends HttpServletRequestWrapper {
    private final String method;
    private final RequestHeaders headers;
    private final String host;
    private final String scheme;
    /** The query the app sees, or null when it is the request's own. */
    private final String query;

    private final String remoteAddr;
    private final CookieRules cookies;
    private final RenderResponse render;
    private Map<String, String[]> parameters;

    private AppRequest(
            HttpServletRequest request,
            String method,
            List<Header> headers,
            String host,
            String scheme,
            String query,
            String remoteAddr,
            CookieRules cookies,
            RenderResponse render) {
        super(request);
        this.method = method;
        this.headers = RequestHeaders.of(headers);
        this.host = host;
        this.scheme = scheme;
        this.query = query;
        this.remoteAddr = remoteAddr;
        this.cookies = cookies;
        this.render = render;
    }

    /**
     * The client's own request as the render of {@code forwarding}, its answer written to {@code render}.
     *
     * @param host   the public host (in the cache key)
     * @param scheme the public scheme
     */
    static AppRequest render(
            HttpServletRequest request,
            Forwarding forwarding,
            String host,
            String scheme,
            CookieRules cookies,
            RenderResponse render) {
        List<Header> fields = new ArrayList<>(forwarding.headers().size() + 4);
        String hostField = request.getHeader("Host");
        fields.add(new Header("Host", hostField != null ? hostField : host));
        for (Header h : forwarding.headers()) {
            if (!h.is(RenderSignature.HEADER)) {
                fields.add(h); // a client's forged one means nothing to the app
            }
        }
        fields.addAll(forwardingFields(host, scheme, request.getRemoteAddr()));
        String target = forwarding.target();
        int q = target.indexOf('?');
        return new AppRequest(
                request,
                forwarding.method(),
                fields,
                host,
                scheme,
                q < 0 ? "" : target.substring(q + 1),
                null,
                cookies,
                render);
    }

    /** A signed loopback request: the public host, scheme and client address from the forwarding fields it carries. */
    static AppRequest loopback(HttpServletRequest request, String fallbackHost) {
        String host = request.getHeader("X-Forwarded-Host");
        String proto = request.getHeader("X-Forwarded-Proto");
        String scheme = "https".equalsIgnoreCase(proto)
                ? "https"
                : "http".equalsIgnoreCase(proto) ? "http" : request.getScheme();
        String publicHost = host != null && !host.isBlank() ? host.trim() : fallbackHost;
        List<Header> fields = new ArrayList<>();
        fields.add(new Header("Host", publicHost));
        for (Header h : ServletHeaders.read(request)) {
            if (!h.is("host") && !h.is(RenderSignature.HEADER)) {
                fields.add(h);
            }
        }
        String forwardedFor = request.getHeader("X-Forwarded-For");
        String client = forwardedFor == null ? null : forwardedFor.split(",", 2)[0].trim();
        return new AppRequest(
                request,
                request.getMethod(),
                fields,
                publicHost,
                scheme,
                null,
                client == null || client.isEmpty() ? null : client,
                null,
                null);
    }

    /** What Regen tells the app about the client's request, in place and over loopback alike. */
    static List<Header> forwardingFields(String host, String scheme, String forwardedFor) {
        List<Header> out = new ArrayList<>(3);
        out.add(new Header("X-Forwarded-Host", host));
        out.add(new Header("X-Forwarded-Proto", scheme));
        if (forwardedFor != null) {
            out.add(new Header("X-Forwarded-For", forwardedFor));
        }
        return out;
    }

    @Override
    public String getMethod() {
        return method;
    }

    @Override
    public String getHeader(String name) {
        return headers.get(name);
    }

    @Override
    public Enumeration<String> getHeaders(String name) {
        return Collections.enumeration(headers.getAll(name));
    }

    @Override
    public Enumeration<String> getHeaderNames() {
        Map<String, String> names = new LinkedHashMap<>();
        for (Header h : headers.all()) {
            names.putIfAbsent(h.name().toLowerCase(Locale.ROOT), h.name());
        }
        return Collections.enumeration(names.values());
    }

    @Override
    public int getIntHeader(String name) {
        String v = getHeader(name);
        return v == null ? -1 : Integer.parseInt(v.trim());
    }

    @Override
    public long getDateHeader(String name) {
        String v = getHeader(name);
        if (v == null) {
            return -1;
        }
        Instant at = HttpDates.parse(v);
        if (at == null) {
            throw new IllegalArgumentException(name + " is not an HTTP date: " + v);
        }
        return at.toEpochMilli();
    }

    @Override
    public String getServerName() {
        int colon = portColon(host);
        return colon < 0 ? host : host.substring(0, colon);
    }

    @Override
    public int getServerPort() {
        int colon = portColon(host);
        if (colon >= 0) {
            try {
                return Integer.parseInt(host.substring(colon + 1));
            } catch (NumberFormatException e) {
                // not a port: the default below
            }
        }
        return "https".equals(scheme) ? 443 : 80;
    }

    /** Where the port starts in {@code host[:port]} ({@code [v6]:port} too), or -1. */
    private static int portColon(String host) {
        int colon = host.lastIndexOf(':');
        return colon > host.lastIndexOf(']') ? colon : -1;
    }

    @Override
    public String getScheme() {
        return scheme;
    }

    @Override
    public boolean isSecure() {
        return "https".equals(scheme);
    }

    @Override
    public StringBuffer getRequestURL() {
        return new StringBuffer(scheme).append("://").append(host).append(getRequestURI());
    }

    @Override
    public String getRemoteAddr() {
        return remoteAddr != null ? remoteAddr : super.getRemoteAddr();
    }

    @Override
    public String getRemoteHost() {
        return remoteAddr != null ? remoteAddr : super.getRemoteHost();
    }

    @Override
    public Cookie[] getCookies() {
        Cookie[] all = super.getCookies();
        if (cookies == null || all == null) {
            return all;
        }
        List<Cookie> kept = new ArrayList<>(all.length);
        for (Cookie c : all) {
            if (!cookies.ignored(c.getName())) {
                kept.add(c);
            }
        }
        return kept.isEmpty() ? null : kept.toArray(new Cookie[0]);
    }

    @Override
    public String getQueryString() {
        if (query == null) {
            return super.getQueryString();
        }
        return query.isEmpty() ? null : query;
    }

    @Override
    public String getParameter(String name) {
        String[] values = getParameterMap().get(name);
        return values == null ? null : values[0];
    }

    @Override
    public Enumeration<String> getParameterNames() {
        return Collections.enumeration(getParameterMap().keySet());
    }

    @Override
    public String[] getParameterValues(String name) {
        String[] values = getParameterMap().get(name);
        return values == null ? null : values.clone();
    }

    @Override
    public Map<String, String[]> getParameterMap() {
        if (query == null) {
            return super.getParameterMap();
        }
        if (parameters == null) {
            parameters = parse(query);
        }
        return parameters;
    }

    /** The parameters of a query string (a render has no body), decoded as UTF-8 as the containers do. */
    private static Map<String, String[]> parse(String query) {
        Map<String, List<String>> values = new LinkedHashMap<>();
        for (String pair : query.split("&", -1)) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = decode(eq < 0 ? pair : pair.substring(0, eq));
            String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
            values.computeIfAbsent(name, k -> new ArrayList<>(1)).add(value);
        }
        Map<String, String[]> out = new LinkedHashMap<>();
        values.forEach((k, v) -> out.put(k, v.toArray(new String[0])));
        return Collections.unmodifiableMap(out);
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return s; // a stray %: as sent
        }
    }

    // An app that goes asynchronous keeps writing to the render's response, and its complete() ends the render.

    @Override
    public AsyncContext startAsync() {
        if (render == null) {
            return super.startAsync();
        }
        return render.async(super.startAsync(this, render));
    }

    @Override
    public AsyncContext startAsync(ServletRequest request, ServletResponse response) {
        AsyncContext ctx = super.startAsync(request, response);
        return render == null ? ctx : render.async(ctx);
    }

    @Override
    public AsyncContext getAsyncContext() {
        AsyncContext ctx = super.getAsyncContext();
        return render == null || ctx == null ? ctx : render.async(ctx);
    }
}
