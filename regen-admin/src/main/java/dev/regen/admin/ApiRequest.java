package dev.regen.admin;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * A request to one of Regen's endpoints, as any edge sees it.
 *
 * @param method  upper case
 * @param uri     path and query as received
 * @param headers first value of a header by case-insensitive name, or null
 * @param body    the request body, possibly empty
 * @param client  the client's address as the edge resolved it (behind trusted proxies, the address
 *                they forwarded): wrong secrets are counted and throttled per client address
 */
// the body is handed over without a copy; requests are never compared by equals
@SuppressWarnings("ArrayRecordComponent")
public record ApiRequest(String method, String uri, Function<String, String> headers, byte[] body, String client) {
    public ApiRequest {
        body = body == null ? new byte[0] : body;
    }

    public String header(String name) {
        return headers.apply(name);
    }

    public String path() {
        int q = uri.indexOf('?');
        return q < 0 ? uri : uri.substring(0, q);
    }

    /** The query's parameters, the first value of each; empty without a query. */
    Map<String, String> query() {
        int q = uri.indexOf('?');
        return q < 0 ? new HashMap<>() : form(uri.substring(q + 1));
    }

    /**
     * The fields of {@code a=1&b=2} (a query, an {@code application/x-www-form-urlencoded} body), the
     * first value of each.
     *
     * @throws IllegalArgumentException "malformed query string" for a bad %-escape
     */
    static Map<String, String> form(String encoded) {
        Map<String, String> out = new HashMap<>();
        for (String pair : encoded.split("&", -1)) {
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
}
