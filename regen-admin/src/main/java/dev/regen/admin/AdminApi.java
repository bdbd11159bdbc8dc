package dev.regen.admin;

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
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Regen's own endpoints, the same for every edge (proxy, servlet filter): the revalidation webhook,
 * the admin API under {@code /_regen/api/} and the health check. Edges ask {@link #owns} first and
 * hand over the whole request; everything else is a page.
 *
 * <p>Thread-safe. Answers never block the caller: store work runs on the engine's executors.
 */
public final class AdminApi {
    private static final Logger log = LoggerFactory.getLogger(AdminApi.class);
    public static final String PREFIX = "/_regen/";
    public static final int MAX_WEBHOOK_BODY = 64 * 1024;
    static final int MAX_PATHS = 1000;
    private static final int DEFAULT_LIMIT = 100;
    private static final int MAX_LIMIT = 1000;
    private static final String NO_SECRET = "no secret is configured: set REGEN_SECRET (or secret: in the config)";

    private final ObjectMapper json = new ObjectMapper();
    private final RegenEngine engine;
    private final String webhookPath;
    /** SHA-256 of the secret: comparing digests takes the same time whatever the guess and its length. */
    private final byte[] secretDigest;

    /**
     * @param secret      the webhook and admin secret, or null: those endpoints then answer 503
     * @param webhookPath where the webhook listens, e.g. {@code /api/revalidate}
     */
    public AdminApi(RegenEngine engine, String secret, String webhookPath) {
        this.engine = engine;
        this.webhookPath = webhookPath;
        this.secretDigest = secret == null ? null : sha256(secret);
    }

    /** Whether a request for {@code path} is Regen's to answer. */
    public boolean owns(String path) {
        return path.equals(webhookPath) || path.startsWith(PREFIX);
    }

    /** Whether {@code authorization} (a whole Authorization header value) carries the secret. */
    public boolean authorized(String authorization) {
        return secretDigest != null && authorization != null && bearerMatches(authorization);
    }

    public CompletableFuture<ApiResponse> handle(ApiRequest request) {
        String path = request.path();
        if (path.equals(webhookPath)) {
            return webhook(request);
        }
        return switch (path.substring(PREFIX.length())) {
            case "health" -> done(ApiResponse.json(200, "{\"status\":\"ok\"}", Map.of()));
            case "api/entries" -> admin(request, this::entries);
            case "api/stats" -> admin(request, this::stats);
            default -> done(error(404, "no such endpoint: " + path));
        };
    }

    // ---- the webhook: checks in DESIGN.md's order; a rejected call changes nothing

    private CompletableFuture<ApiResponse> webhook(ApiRequest request) {
        if (!request.method().equals("POST")) {
            return done(error(405, "use POST", Map.of("Allow", "POST")));
        }
        if (secretDigest == null) {
            return done(error(503, NO_SECRET));
        }
        String authorization = request.header("authorization");
        if (authorization != null && !bearerMatches(authorization)) {
            return done(unauthorized("wrong secret"));
        }
        if (!isJson(request.header("content-type"))) {
            return done(error(415, "Content-Type must be application/json"));
        }
        if (request.body().length > MAX_WEBHOOK_BODY) {
            return done(error(413, "body is over " + MAX_WEBHOOK_BODY / 1024 + " KiB"));
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
        if (authorization == null) {
            JsonNode secret = body.get("secret");
            if (secret == null || !secret.isTextual() || !secretMatches(secret.asText())) {
                return done(unauthorized(secret == null ? "missing secret" : "wrong secret"));
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
            checkFields(paths, tags);
        } catch (IllegalArgumentException e) {
            return done(error(400, e.getMessage()));
        }
        CompletableFuture<Integer> invalidated;
        try {
            invalidated = engine.invalidate(paths, tags, hard);
        } catch (RequestTarget.InvalidTargetException e) {
            return done(error(400, e.getMessage()));
        }
        return answer(invalidated, n -> {
            ObjectNode out = json.createObjectNode().put("success", true).put("invalidated", n);
            paths.forEach(out.putArray("paths")::add);
            tags.forEach(out.putArray("tags")::add);
            return out.put("mode", hard ? "hard" : "soft");
        });
    }

    private static void checkFields(List<String> paths, List<String> tags) {
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

    // ---- the admin API: Bearer auth only

    private CompletableFuture<ApiResponse> admin(ApiRequest request,
                                                 Function<Map<String, String>, CompletableFuture<JsonNode>> endpoint) {
        if (!request.method().equals("GET") && !request.method().equals("HEAD")) {
            return done(error(405, "use GET", Map.of("Allow", "GET, HEAD")));
        }
        if (secretDigest == null) {
            return done(error(503, NO_SECRET));
        }
        String authorization = request.header("authorization");
        if (authorization == null || !bearerMatches(authorization)) {
            return done(unauthorized(authorization == null ? "missing secret" : "wrong secret"));
        }
        try {
            return answer(endpoint.apply(query(request.uri())), Function.identity());
        } catch (IllegalArgumentException e) {
            return done(error(400, e.getMessage()));
        }
    }

    private CompletableFuture<JsonNode> entries(Map<String, String> query) {
        String prefix = query.getOrDefault("prefix", "/");
        if (!prefix.startsWith("/")) {
            throw new IllegalArgumentException("prefix must start with /");
        }
        int limit;
        try {
            limit = Integer.parseInt(query.getOrDefault("limit", String.valueOf(DEFAULT_LIMIT)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("limit must be a number");
        }
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit must be 1.." + MAX_LIMIT);
        }
        return engine.entries(prefix, query.get("cursor"), limit).thenApply(this::entriesJson);
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

    private CompletableFuture<JsonNode> stats(Map<String, String> query) {
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

    private static Map<String, String> query(String uri) {
        Map<String, String> out = new HashMap<>();
        int q = uri.indexOf('?');
        if (q < 0) {
            return out;
        }
        for (String pair : uri.substring(q + 1).split("&")) {
            int eq = pair.indexOf('=');
            String name = decode(eq < 0 ? pair : pair.substring(0, eq));
            out.putIfAbsent(name, eq < 0 ? "" : decode(pair.substring(eq + 1)));
        }
        return out;
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("malformed query string");
        }
    }

    // ---- shared

    private <T> CompletableFuture<ApiResponse> answer(CompletableFuture<T> result, Function<T, JsonNode> toJson) {
        return result.handle((value, e) -> {
            if (e != null) {
                log.error("admin request failed: {}", e.toString());
                return error(500, "internal error");
            }
            return ApiResponse.json(200, toJson.apply(value).toString(), Map.of());
        });
    }

    private static CompletableFuture<ApiResponse> done(ApiResponse r) {
        return CompletableFuture.completedFuture(r);
    }

    private ApiResponse unauthorized(String reason) {
        return error(401, reason, Map.of("WWW-Authenticate", "Bearer realm=\"regen\""));
    }

    private ApiResponse error(int status, String reason) {
        return error(status, reason, Map.of());
    }

    private ApiResponse error(int status, String reason, Map<String, String> headers) {
        ObjectNode out = json.createObjectNode().put("success", false).put("error", reason);
        return ApiResponse.json(status, out.toString(), headers);
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
