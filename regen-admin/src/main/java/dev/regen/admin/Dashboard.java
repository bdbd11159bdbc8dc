package dev.regen.admin;

import dev.regen.internal.http.Html;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * The dashboard's HTML, CSS and JavaScript, read once from this module's resources: no build step, no
 * CDN. Pages carry a strict Content-Security-Policy (scripts and styles from this server only, no
 * inline script, no framing).
 */
final class Dashboard {
    private static final String BASE = "/dev/regen/admin/dashboard/";
    private static final String INDEX = read("index.html");
    private static final String LOGIN = read("login.html");
    private static final Map<String, ApiResponse> ASSETS = Map.of(
            "app.css", new ApiResponse(200, "text/css; charset=utf-8", securityHeaders(), bytes("app.css")),
            "app.js", new ApiResponse(200, "text/javascript; charset=utf-8", securityHeaders(), bytes("app.js")),
            "icon.svg", new ApiResponse(200, "image/svg+xml", securityHeaders(), bytes("icon.svg")));

    private Dashboard() {}

    /** The dashboard for a signed-in user, with the session's CSRF token for the page's changes. */
    static ApiResponse page(String csrf, String host, boolean metricsPublic) {
        String html = INDEX.replace("{{csrf}}", Html.escape(csrf))
                .replace("{{host}}", Html.escape(host))
                .replace("{{metricsAuth}}", metricsPublic ? "public" : "secret or session");
        return html(200, html, Map.of());
    }

    /** The login page, with an error message when {@code error} is not null. */
    static ApiResponse login(int status, String error) {
        return login(status, error, Map.of());
    }

    /** The login page with an error message and extra headers (a 429's {@code Retry-After}). */
    static ApiResponse login(int status, String error, Map<String, String> headers) {
        String html = LOGIN.replace(
                "{{error}}",
                error == null
                        ? ""
                        : "<p class=\"alert\" role=\"alert\" id=\"login-error\">" + Html.escape(error) + "</p>");
        return html(status, html, headers);
    }

    /** 303 to {@code location}, setting {@code setCookie} if not null. */
    static ApiResponse redirect(String location, String setCookie) {
        Map<String, String> headers = new HashMap<>(securityHeaders());
        headers.put("Location", location);
        if (setCookie != null) {
            headers.put("Set-Cookie", setCookie);
        }
        return text(303, headers, "see " + location);
    }

    /** A static file the pages use; {@code name} as in the page, e.g. {@code app.css}. */
    static ApiResponse asset(ApiRequest request, String name) {
        if (!ApiResponse.isRead(request)) {
            return text(405, Map.of("Allow", "GET, HEAD"), "use GET");
        }
        ApiResponse r = ASSETS.get(name);
        return r != null ? r : text(404, Map.of(), "no such asset");
    }

    private static ApiResponse text(int status, Map<String, String> headers, String text) {
        return new ApiResponse(
                status, "text/plain; charset=utf-8", headers, (text + "\n").getBytes(StandardCharsets.UTF_8));
    }

    private static ApiResponse html(int status, String html, Map<String, String> extra) {
        Map<String, String> headers = new HashMap<>(securityHeaders());
        headers.putAll(extra);
        return new ApiResponse(status, "text/html; charset=utf-8", headers, html.getBytes(StandardCharsets.UTF_8));
    }

    private static Map<String, String> securityHeaders() {
        return Map.of(
                "Content-Security-Policy",
                        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                + "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
                "X-Content-Type-Options", "nosniff",
                "X-Frame-Options", "DENY",
                "Referrer-Policy", "same-origin");
    }

    private static String read(String name) {
        return new String(bytes(name), StandardCharsets.UTF_8);
    }

    private static byte[] bytes(String name) {
        try (InputStream in = Dashboard.class.getResourceAsStream(BASE + name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + BASE + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
