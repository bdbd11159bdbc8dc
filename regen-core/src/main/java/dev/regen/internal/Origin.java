package dev.regen.internal;

import java.util.concurrent.CompletableFuture;

/**
 * Where the engine renders a page by itself (background renders): an HTTP origin behind the proxy, or
 * the web app around a servlet filter. Implementations apply their own connect and response timeouts,
 * read at most {@link OriginRequest#maxBodyBytes()} of the body, and complete exceptionally with an
 * {@link OriginException} when no response could be had.
 */
public interface Origin {
    CompletableFuture<OriginResponse> fetch(OriginRequest request);
}
