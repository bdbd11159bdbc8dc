package dev.regen.admin;

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
}
