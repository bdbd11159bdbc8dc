package dev.regen.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.regen.EntryInfo;
import dev.regen.EntryList;
import dev.regen.Freshness;
import dev.regen.RegenEngine;
import dev.regen.Stats;
import dev.regen.http.RequestTarget;
import dev.regen.server.config.ServerConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Regen's own endpoints, answered before the cache: the revalidation webhook, the admin API and the
 * health check. Everything else is a page.
 */
final class Routes {
    private static final Logger log = LoggerFactory.getLogger(Routes.class);
    static final String PREFIX = "/_regen/";
    static final int MAX_WEBHOOK_BODY = 64 * 1024;
    static final int MAX_PATHS = 1000;
    private static final int DEFAULT_LIMIT = 100;
    private static final int MAX_LIMIT = 1000;

    private final ObjectMapper json = new ObjectMapper();
    private final RegenEngine engine;
    private final String webhookPath;
    /** SHA-256 of the secret: comparing digests takes the same time whatever the guess's length. */
    private final byte[] secretDigest;

    Routes(RegenEngine engine, ServerConfig config) {
        this.engine = engine;
        this.webhookPath = config.webhookPath();
        this.secretDigest = config.secret() == null ? null : sha256(config.secret());
    }

    /** Answers {@code ex} if it is for one of Regen's endpoints. */
    boolean handle(ProxyHandler.Exchange ex) {
        String uri = ex.request.uri();
        int q = uri.indexOf('?');
        String path = q < 0 ? uri : uri.substring(0, q);
        if (path.equals(webhookPath)) {
            webhook(ex);
            return true;
        }
        if (!path.startsWith(PREFIX)) {
            return false;
        }
        switch (path.substring(PREFIX.length())) {
            case "health" -> ex.send(HttpResponseStatus.OK, "application/json", "{\"status\":\"ok\"}\n");
            case "api/entries" -> admin(ex, this::entries);
            case "api/stats" -> admin(ex, this::stats);
            default -> error(ex, HttpResponseStatus.NOT_FOUND, "no such endpoint: " + path);
        }
        return true;
    }

    // ---- the webhook: checks in the order DESIGN.md gives; a rejected call changes nothing

    private void webhook(ProxyHandler.Exchange ex) {
        if (ex.request.method() != HttpMethod.POST) {
            ex.allow = "POST";
            error(ex, HttpResponseStatus.METHOD_NOT_ALLOWED, "use POST");
            return;
        }
        if (secretDigest == null) {
            error(ex, HttpResponseStatus.SERVICE_UNAVAILABLE, "no secret is configured: set REGEN_SECRET (or secret: in the config)");
            return;
        }
        String authorization = ex.request.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (authorization != null && !bearerMatches(authorization)) {
            unauthorized(ex, "wrong secret");
            return;
        }
        String type = ex.request.headers().get(HttpHeaderNames.CONTENT_TYPE);
        if (!isJson(type)) {
            error(ex, HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json");
            return;
        }
        if (ex.request.content().readableBytes() > MAX_WEBHOOK_BODY) {
            error(ex, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "body is over " + MAX_WEBHOOK_BODY / 1024 + " KiB");
            return;
        }
        JsonNode body;
        try {
            body = json.readTree(ex.request.content().toString(StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            error(ex, HttpResponseStatus.BAD_REQUEST, "malformed JSON: " + e.getOriginalMessage());
            return;
        }
        if (body == null || !body.isObject()) {
            error(ex, HttpResponseStatus.BAD_REQUEST, "malformed JSON: the body must be an object");
            return;
        }
        if (authorization == null) {
            JsonNode secret = body.get("secret");
            if (secret == null || !secret.isTextual() || !secretMatches(secret.asText())) {
                unauthorized(ex, secret == null ? "missing secret" : "wrong secret");
                return;
            }
        }
        List<String> paths;
        List<String> tags;
        boolean hard;
        try {
            paths = strings(body, "paths");
            for (String prefix : strings(body, "prefix")) {
                paths.add(prefix.endsWith("/") ? prefix + "**" : prefix + "/**");
            }
            tags = strings(body, "tags");
            hard = mode(body.get("mode"));
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
            }
            for (String t : tags) {
                if (t.isEmpty() || t.chars().anyMatch(c -> c == ',' || Character.isWhitespace(c))) {
                    throw new IllegalArgumentException("a tag must be non-empty, without spaces or commas: \"" + t + "\"");
                }
            }
        } catch (IllegalArgumentException e) {
            error(ex, HttpResponseStatus.BAD_REQUEST, e.getMessage());
            return;
        }
        CompletableFuture<Integer> done;
        try {
            done = engine.invalidate(paths, tags, hard);
        } catch (RequestTarget.InvalidTargetException e) {
            error(ex, HttpResponseStatus.BAD_REQUEST, e.getMessage());
            return;
        }
        reply(ex, done, n -> {
            ObjectNode out = json.createObjectNode().put("success", true).put("invalidated", n);
            paths.forEach(out.putArray("paths")::add);
            tags.forEach(out.putArray("tags")::add);
            out.put("mode", hard ? "hard" : "soft");
            return out;
        });
    }

    private static boolean isJson(String contentType) {
        if (contentType == null) {
            return false;
        }
        String mime = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        return mime.equals("application/json") || (mime.startsWith("application/") && mime.endsWith("+json"));
    }

    /** A list of strings, a single string, or absent (empty); anything else is a bad field. */
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
        if (node == null || node.isNull()) {
            return false;
        }
        if (node.isTextual() && node.asText().equals("soft")) {
            return false;
        }
        if (node.isTextual() && node.asText().equals("hard")) {
            return true;
        }
        throw new IllegalArgumentException("\"mode\" must be \"soft\" or \"hard\"");
    }

    // ---- the admin API: Bearer auth only

    private void admin(ProxyHandler.Exchange ex, Function<ProxyHandler.Exchange, CompletableFuture<JsonNode>> endpoint) {
        if (ex.request.method() != HttpMethod.GET && ex.request.method() != HttpMethod.HEAD) {
            ex.allow = "GET, HEAD";
            error(ex, HttpResponseStatus.METHOD_NOT_ALLOWED, "use GET");
            return;
        }
        if (secretDigest == null) {
            error(ex, HttpResponseStatus.SERVICE_UNAVAILABLE, "no secret is configured: set REGEN_SECRET (or secret: in the config)");
            return;
        }
        String authorization = ex.request.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (authorization == null || !bearerMatches(authorization)) {
            unauthorized(ex, authorization == null ? "missing secret" : "wrong secret");
            return;
        }
        CompletableFuture<JsonNode> result;
        try {
            result = endpoint.apply(ex);
        } catch (IllegalArgumentException e) {
            error(ex, HttpResponseStatus.BAD_REQUEST, e.getMessage());
            return;
        }
        reply(ex, result, Function.identity());
    }

    private CompletableFuture<JsonNode> entries(ProxyHandler.Exchange ex) {
        QueryStringDecoder q = new QueryStringDecoder(ex.request.uri());
        String prefix = first(q, "prefix", "/");
        if (!prefix.startsWith("/")) {
            throw new IllegalArgumentException("prefix must start with /");
        }
        int limit;
        try {
            limit = Integer.parseInt(first(q, "limit", String.valueOf(DEFAULT_LIMIT)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("limit must be a number");
        }
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit must be 1.." + MAX_LIMIT);
        }
        String cursor = first(q, "cursor", null);
        return engine.entries(prefix, cursor, limit).thenApply(this::entriesJson);
    }

    private JsonNode entriesJson(EntryList list) {
        ObjectNode out = json.createObjectNode();
        ArrayNode entries = out.putArray("entries");
        for (EntryInfo e : list.entries()) {
            ObjectNode n = entries.addObject()
                    .put("key", e.key())
                    .put("path", e.path())
                    .put("status", e.status())
                    .put("age", e.ageSeconds())
                    .put("revalidate", e.revalidateSeconds())
                    .put("size", e.size())
                    .put("state", e.freshness() == Freshness.FRESH ? "fresh" : "stale");
            if (e.expiresAt() == null) {
                n.putNull("expiresAt");
            } else {
                n.put("expiresAt", e.expiresAt().toString());
            }
            e.tags().forEach(n.putArray("tags")::add);
        }
        out.put("cursor", list.cursor());
        return out;
    }

    private CompletableFuture<JsonNode> stats(ProxyHandler.Exchange ex) {
        Stats s = engine.stats();
        ObjectNode out = json.createObjectNode()
                .put("hits", s.hits())
                .put("staleHits", s.staleHits())
                .put("misses", s.misses())
                .put("bypasses", s.bypasses())
                .put("renders", s.renders())
                .put("renderErrors", s.renderErrors())
                .put("backgroundSkipped", s.backgroundSkipped())
                .put("invalidations", s.invalidations())
                .put("memoryEntries", engine.memoryEntries())
                .put("memoryBytes", engine.memoryBytes());
        return CompletableFuture.completedFuture(out);
    }

    private static String first(QueryStringDecoder q, String name, String fallback) {
        List<String> v = q.parameters().get(name);
        return v == null || v.isEmpty() ? fallback : v.get(0);
    }

    // ---- shared

    private <T> void reply(ProxyHandler.Exchange ex, CompletableFuture<T> result, Function<T, JsonNode> toJson) {
        result.whenComplete((value, error) -> ex.ctx.executor().execute(() -> {
            if (error != null) {
                log.error("{} failed: {}", ex.request.uri(), error.toString());
                error(ex, HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error");
            } else {
                ex.send(HttpResponseStatus.OK, "application/json", toJson.apply(value).toString() + "\n");
            }
        }));
    }

    private void unauthorized(ProxyHandler.Exchange ex, String reason) {
        ex.wwwAuthenticate = "Bearer realm=\"regen\"";
        error(ex, HttpResponseStatus.UNAUTHORIZED, reason);
    }

    private void error(ProxyHandler.Exchange ex, HttpResponseStatus status, String reason) {
        ObjectNode out = json.createObjectNode().put("success", false).put("error", reason);
        ex.send(status, "application/json", out.toString() + "\n");
    }

    private boolean bearerMatches(String authorization) {
        String a = authorization.trim();
        if (a.length() < 7 || !a.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        return secretMatches(a.substring(7).trim());
    }

    private boolean secretMatches(String presented) {
        return MessageDigest.isEqual(sha256(presented), secretDigest);
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }
}
