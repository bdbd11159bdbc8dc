package dev.regen.internal;

/**
 * A client request as an edge sees it.
 *
 * @param method  the request method, upper case
 * @param target  the request target as received (origin-form or absolute-form)
 * @param host    the public host the request is for (the edge checked it), part of every cache key
 * @param scheme  the public scheme the client used ({@code http} or {@code https}, as the edge knows it)
 * @param headers the request's fields
 * @param hasBody whether a body follows (a GET with a body is never answered from the cache)
 */
public record ClientRequest(
        String method, String target, String host, String scheme, RequestHeaders headers, boolean hasBody) {
    public String header(String name) {
        return headers.get(name);
    }
}
