package dev.regen.admin;

import static dev.regen.admin.AdminApi.PREFIX;
import static dev.regen.admin.ApiResponse.error;

import dev.regen.Regen;
import dev.regen.internal.http.HttpFields;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;

/**
 * Who may call Regen's endpoints (see {@link AdminApi} for the rules): the secret, compared in
 * constant time through the wrong-secret throttle, the dashboard's sessions and their cookie, and the
 * CSRF defence of cookie-authenticated changes. Also the dashboard's doors that hand out and take back
 * sessions: login and logout. Thread-safe.
 */
final class AdminAuth {
    static final String NO_SECRET = "no secret is configured: set REGEN_SECRET (or secret: in the config)";
    private static final String CSRF_HEADER = "x-regen-csrf";
    private static final int MAX_LOGIN_BODY = 4 * 1024;

    /** SHA-256 of the secret: comparing digests takes the same time whatever the guess and its length. */
    private final byte[] secretDigest;

    private final Sessions sessions;
    private final AuthThrottle throttle;
    private final boolean secureCookie;

    /** Without a secret, every door that needs one answers 503. */
    AdminAuth(Regen regen, RegenMetrics metrics) {
        String secret = regen.secret();
        this.secretDigest = secret == null ? null : Sessions.sha256(secret);
        this.sessions = secret == null ? null : new Sessions(secret, regen.clock());
        this.throttle = new AuthThrottle(regen.clock(), metrics);
        this.secureCookie = regen.secureCookie();
    }

    /** The outcome of checking a presented secret. */
    sealed interface Verdict {
        record Right() implements Verdict {}

        record Wrong() implements Verdict {}

        /** Not even compared: the client is shut out for this long. */
        record Throttled(long retryAfterSeconds) implements Verdict {}
    }

    boolean configured() {
        return secretDigest != null;
    }

    /** Null when the request may read admin data (Bearer secret or session), else the refusal. */
    ApiResponse readAccess(ApiRequest request, AuthThrottle.Door door) {
        if (!configured()) {
            return error(503, NO_SECRET);
        }
        if (request.header("authorization") != null) {
            return bearerRefusal(request, door);
        }
        return session(request) != null ? null : unauthorized("missing secret");
    }

    /** Null when the request's {@code Authorization: Bearer} secret is right, else the refusal. */
    ApiResponse bearerRefusal(ApiRequest request, AuthThrottle.Door door) {
        return secretRefusal(request, door, bearer(request.header("authorization")));
    }

    /** Null when {@code presented} (null: a credential of the wrong form) is right, else 429 or 401. */
    ApiResponse secretRefusal(ApiRequest request, AuthThrottle.Door door, String presented) {
        Verdict v = check(request, door, presented);
        if (v instanceof Verdict.Throttled t) {
            return error(
                    429,
                    "too many wrong secrets from this address: try again in " + t.retryAfterSeconds() + " s",
                    Map.of("Retry-After", String.valueOf(t.retryAfterSeconds())));
        }
        return v instanceof Verdict.Wrong ? unauthorized("wrong secret") : null;
    }

    /**
     * Null when a change may go ahead on the strength of the session cookie alone: there is a session,
     * the request carries its CSRF token and comes from this host if the browser says where it comes
     * from. Else 401 or 403.
     */
    ApiResponse sessionChangeRefusal(ApiRequest request) {
        Sessions.Session session = session(request);
        if (session == null) {
            return unauthorized("missing secret");
        }
        if (!sameOrigin(request)) {
            return error(403, "cross-origin request refused");
        }
        if (!sessions.csrfMatches(session, request.header(CSRF_HEADER))) {
            return error(403, "missing or wrong X-Regen-CSRF header (reload the dashboard)");
        }
        return null;
    }

    /** The CSRF token of the request's valid session, for the dashboard page; null without one. */
    String csrf(ApiRequest request) {
        Sessions.Session session = session(request);
        return session == null ? null : sessions.csrf(session);
    }

    ApiResponse login(ApiRequest request) {
        String method = request.method();
        if (method.equals("GET") || method.equals("HEAD")) {
            if (sessions == null) {
                return Dashboard.login(503, NO_SECRET);
            }
            if (session(request) != null) {
                return Dashboard.redirect(PREFIX, null);
            }
            return Dashboard.login(200, null);
        }
        if (!method.equals("POST")) {
            return error(405, "use GET or POST", Map.of("Allow", "GET, HEAD, POST"));
        }
        if (sessions == null) {
            return Dashboard.login(503, NO_SECRET);
        }
        if (!sameOrigin(request)) {
            return Dashboard.login(403, "This sign-in came from another site and was refused.");
        }
        if (request.body().length > MAX_LOGIN_BODY) {
            return Dashboard.login(413, "The form is too large.");
        }
        String secret = formField(request, "secret");
        if (secret == null || secret.isEmpty()) {
            return Dashboard.login(400, "Enter the secret.");
        }
        Verdict v = check(request, AuthThrottle.Door.LOGIN, secret.strip());
        if (v instanceof Verdict.Throttled t) {
            return Dashboard.login(
                    429,
                    "Too many wrong secrets from your address. Try again in " + t.retryAfterSeconds() + " s.",
                    Map.of("Retry-After", String.valueOf(t.retryAfterSeconds())));
        }
        if (v instanceof Verdict.Wrong) {
            return Dashboard.login(401, "Wrong secret. Use the value of REGEN_SECRET (or secret: in the config).");
        }
        Sessions.Session session = sessions.create();
        return Dashboard.redirect(PREFIX, cookie(session.token(), sessions.maxAgeSeconds(session)));
    }

    ApiResponse logout(ApiRequest request) {
        if (!request.method().equals("POST")) {
            return error(405, "use POST", Map.of("Allow", "POST"));
        }
        Sessions.Session session = session(request);
        if (session != null) {
            String token = request.header(CSRF_HEADER);
            if (token == null) {
                token = formField(request, "csrf");
            }
            if (!sameOrigin(request) || !sessions.csrfMatches(session, token)) {
                return error(403, "missing or wrong CSRF token (reload the dashboard)");
            }
            sessions.revoke(session);
        }
        return Dashboard.redirect(PREFIX + "login", cookie("", 0));
    }

    static ApiResponse unauthorized(String reason) {
        return error(401, reason, Map.of("WWW-Authenticate", "Bearer realm=\"regen\""));
    }

    /** The valid session the request's cookie carries, or null. */
    private Sessions.Session session(ApiRequest request) {
        if (sessions == null) {
            return null;
        }
        return sessions.verify(HttpFields.cookie(request.header("cookie"), Sessions.COOKIE));
    }

    /**
     * Checks a presented secret (null: a credential of the wrong form) through the client's throttle:
     * a shut-out client's secret is not even compared.
     */
    private Verdict check(ApiRequest request, AuthThrottle.Door door, String presented) {
        long wait = throttle.refusal(request.client(), door);
        if (wait > 0) {
            return new Verdict.Throttled(wait);
        }
        if (presented != null && MessageDigest.isEqual(Sessions.sha256(presented), secretDigest)) {
            throttle.rightSecret(request.client());
            return new Verdict.Right();
        }
        throttle.wrongSecret(request.client(), door);
        return new Verdict.Wrong();
    }

    /**
     * Whether a browser says the request comes from this site. {@code Sec-Fetch-Site}, which only the
     * browser can set, decides when present; else {@code Origin}, when present, must name this host.
     * Neither present: not a browser form or script (curl, a scraper), so no CSRF concern.
     */
    private static boolean sameOrigin(ApiRequest request) {
        String site = request.header("sec-fetch-site");
        if (site != null) {
            return site.trim().equals("same-origin") || site.trim().equals("none");
        }
        String origin = request.header("origin");
        if (origin == null) {
            return true;
        }
        String host = request.header("host");
        if (host == null) {
            return false;
        }
        try {
            URI o = new URI(origin.trim());
            if (o.getHost() == null) {
                return false; // "null": a sandboxed frame, a file, a redirect from elsewhere
            }
            return o.getRawAuthority().equalsIgnoreCase(host.trim());
        } catch (URISyntaxException e) {
            return false;
        }
    }

    private String cookie(String value, long maxAgeSeconds) {
        return Sessions.COOKIE + "=" + value + "; Path=" + PREFIX + "; Max-Age=" + maxAgeSeconds
                + "; HttpOnly; SameSite=Strict" + (secureCookie ? "; Secure" : "");
    }

    /** A field of an {@code application/x-www-form-urlencoded} body, or null. */
    private static String formField(ApiRequest request, String name) {
        String type = request.header("content-type");
        if (type == null || !type.split(";", 2)[0].trim().equalsIgnoreCase("application/x-www-form-urlencoded")) {
            return null;
        }
        try {
            return ApiRequest.form(new String(request.body(), StandardCharsets.UTF_8))
                    .get(name);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** The secret of a {@code Bearer} Authorization value, or null for another scheme. */
    private static String bearer(String authorization) {
        String a = authorization.trim();
        if (a.length() < 7 || !a.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        return a.substring(7).trim();
    }

    boolean secureCookie() {
        return secureCookie;
    }
}
