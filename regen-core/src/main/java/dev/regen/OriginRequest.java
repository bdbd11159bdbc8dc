package dev.regen;

import java.util.List;

/**
 * A request the engine sends to the origin to render a page.
 *
 * @param method        GET for renders
 * @param pathAndQuery  the canonical target, exactly as keyed
 * @param headers       the only headers to send besides those the transport adds (Host from the origin URL)
 */
public record OriginRequest(String method, String pathAndQuery, List<Header> headers) {
    public OriginRequest {
        headers = List.copyOf(headers);
    }
}
