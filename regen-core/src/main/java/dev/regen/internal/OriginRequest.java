package dev.regen.internal;

import java.util.List;

/**
 * A request the engine sends to the origin itself: a background render.
 *
 * @param method       GET
 * @param target       path and query, as the page's variant was first rendered
 * @param host         the public host the page is for (the origin gets it as {@code X-Forwarded-Host})
 * @param scheme       the public scheme ({@code X-Forwarded-Proto})
 * @param headers      the request fields to send besides those the transport adds (Host, forwarding)
 * @param maxBodyBytes a longer body is not read: the response comes back with {@code overflowed} set
 */
public record OriginRequest(
        String method, String target, String host, String scheme, List<Header> headers, long maxBodyBytes) {
    public OriginRequest {
        headers = List.copyOf(headers);
    }
}
