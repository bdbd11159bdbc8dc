package dev.regen.admin;

import static dev.regen.admin.AdminApi.done;
import static dev.regen.admin.ApiResponse.error;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.regen.RegenEngine;
import dev.regen.RevalidationException;
import dev.regen.internal.http.RequestTarget;
import dev.regen.store.WellFormed;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The revalidation webhook: {@code POST {"paths":[…],"prefix":…,"tags":[…],"mode":"soft"|"hard"}}.
 * Checks in DESIGN.md's order; a rejected call changes nothing. Thread-safe.
 */
final class Webhook {
    private static final int MAX_PATHS = 1000;

    private final ObjectMapper json = new ObjectMapper();
    private final RegenEngine engine;
    private final AdminAuth auth;

    Webhook(RegenEngine engine, AdminAuth auth) {
        this.engine = engine;
        this.auth = auth;
    }

    /** A valid call: what to revalidate and how. */
    private record Call(List<String> paths, List<String> tags, boolean hard) {
        /** The call, echoed at the end of every answer to it. */
        ObjectNode echo(ObjectNode out) {
            paths.forEach(out.putArray("paths")::add);
            tags.forEach(out.putArray("tags")::add);
            return out.put("mode", hard ? "hard" : "soft");
        }
    }

    CompletableFuture<ApiResponse> handle(ApiRequest request) {
        if (!request.method().equals("POST")) {
            return done(error(405, "use POST", Map.of("Allow", "POST")));
        }
        if (!auth.configured()) {
            return done(error(503, AdminAuth.NO_SECRET));
        }
        boolean bearer = request.header("authorization") != null;
        if (bearer) {
            ApiResponse refused = auth.bearerRefusal(request, AuthThrottle.Door.WEBHOOK);
            if (refused != null) {
                return done(refused);
            }
        }
        if (!isJson(request.header("content-type"))) {
            return done(error(415, "Content-Type must be application/json"));
        }
        if (request.body().length > AdminApi.MAX_WEBHOOK_BODY) {
            return done(error(413, "body is over " + AdminApi.MAX_WEBHOOK_BODY / 1024 + " KiB"));
        }
        JsonNode body;
        try {
            body = json.readTree(new String(request.body(), StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            return done(error(400, "malformed JSON: " + e.getOriginalMessage()));
        }
        if (body == null || !body.isObject()) {
            return done(error(400, "malformed JSON: the body must be an object"));
        }
        if (!bearer) {
            JsonNode secret = body.get("secret");
            ApiResponse refused = secret != null
                    ? auth.secretRefusal(
                            request, AuthThrottle.Door.WEBHOOK, secret.isTextual() ? secret.asText() : null)
                    : auth.sessionChangeRefusal(request);
            if (refused != null) {
                return done(refused);
            }
        }
        Call call;
        try {
            call = parse(body);
        } catch (IllegalArgumentException e) {
            return done(error(400, e.getMessage()));
        }
        CompletableFuture<RegenEngine.Revalidation> invalidated;
        try {
            invalidated = engine.revalidate(call.paths(), call.tags(), call.hard());
        } catch (RequestTarget.InvalidTargetException e) {
            return done(error(400, e.getMessage()));
        }
        return invalidated.handle((n, e) -> {
            Throwable cause = AdminApi.cause(e);
            if (cause instanceof RevalidationException r) {
                return notApplied(r, call);
            }
            return AdminApi.reply(
                    n,
                    cause,
                    applied -> call.echo(json.createObjectNode()
                            .put("success", true)
                            .put("invalidated", applied.invalidated())
                            .put("queued", applied.queued())));
        });
    }

    /**
     * 503 for a revalidation the store or the other nodes did not fully take: the caller (a CMS) must
     * retry; what was done is counted, what was not is listed.
     */
    private ApiResponse notApplied(RevalidationException r, Call call) {
        ObjectNode out = json.createObjectNode()
                .put("success", false)
                .put("error", "not fully applied: retry the call (revalidating twice is harmless)")
                .put("invalidated", r.applied());
        r.notApplied().forEach(out.putArray("notApplied")::add);
        return ApiResponse.json(503, call.echo(out).toString(), Map.of("Retry-After", "1"));
    }

    private static Call parse(JsonNode body) {
        List<String> paths = strings(body, "paths");
        for (String prefix : strings(body, "prefix")) {
            paths.add(prefix.endsWith("/") ? prefix + "**" : prefix + "/**");
        }
        List<String> tags = strings(body, "tags");
        boolean hard = mode(body.get("mode"));
        if (paths.size() > MAX_PATHS || tags.size() > MAX_PATHS) {
            throw new IllegalArgumentException("at most " + MAX_PATHS + " paths and " + MAX_PATHS + " tags per call");
        }
        if (paths.isEmpty() && tags.isEmpty()) {
            throw new IllegalArgumentException("give paths, tags or both");
        }
        for (String p : paths) {
            if (!p.startsWith("/")) {
                throw new IllegalArgumentException("a path must start with /: " + p);
            }
            // JSON can carry "\ud800", which no store can keep (UTF-8 has no encoding for it)
            WellFormed.require("a path", p);
        }
        for (String t : tags) {
            if (t.isEmpty() || t.chars().anyMatch(c -> c == ',' || Character.isWhitespace(c))) {
                throw new IllegalArgumentException("a tag must be non-empty, without spaces or commas: \"" + t + "\"");
            }
            WellFormed.require("a tag", t);
        }
        return new Call(paths, tags, hard);
    }

    private static boolean isJson(String contentType) {
        if (contentType == null) {
            return false;
        }
        String mime = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        return mime.equals("application/json") || (mime.startsWith("application/") && mime.endsWith("+json"));
    }

    /** A list of strings (or, for {@code prefix}, one string); absent or null is empty; anything else is a bad field. */
    private static List<String> strings(JsonNode body, String field) {
        JsonNode node = body.get(field);
        List<String> out = new ArrayList<>();
        if (node == null || node.isNull()) {
            return out;
        }
        if (node.isTextual() && field.equals("prefix")) {
            out.add(node.asText());
            return out;
        }
        if (!node.isArray()) {
            throw new IllegalArgumentException("\"" + field + "\" must be a list of strings");
        }
        for (Iterator<JsonNode> it = node.elements(); it.hasNext(); ) {
            JsonNode e = it.next();
            if (!e.isTextual()) {
                throw new IllegalArgumentException("\"" + field + "\" must be a list of strings");
            }
            out.add(e.asText());
        }
        return out;
    }

    private static boolean mode(JsonNode node) {
        if (node == null || node.isNull() || (node.isTextual() && node.asText().equals("soft"))) {
            return false;
        }
        if (node.isTextual() && node.asText().equals("hard")) {
            return true;
        }
        throw new IllegalArgumentException("\"mode\" must be \"soft\" or \"hard\"");
    }
}
