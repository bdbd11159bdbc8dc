package dev.regen;

import java.util.concurrent.CompletableFuture;

/**
 * Where pages are rendered: an HTTP origin behind the proxy, or the web app around a servlet filter.
 * Implementations apply their own connect/read timeouts and complete exceptionally with an
 * {@link OriginException} when no response could be had.
 */
public interface Origin {
    CompletableFuture<OriginResponse> fetch(OriginRequest request);
}
