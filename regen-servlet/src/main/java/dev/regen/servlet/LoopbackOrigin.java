package dev.regen.servlet;

import dev.regen.Header;
import dev.regen.Origin;
import dev.regen.OriginException;
import dev.regen.OriginRequest;
import dev.regen.OriginResponse;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The web app itself as the engine's origin: each render is a GET to the app over loopback HTTP,
 * signed with {@link RenderSignature} so the filter lets it through to the app instead of answering
 * it from the cache. Renders are anonymous: only the engine's headers are sent, never a client's.
 *
 * <p>The base URL is fixed at construction or learned from the first request the filter sees
 * ({@code http://127.0.0.1:<local port>}); until then a render fails as unreachable (it cannot happen:
 * every render follows a request). Thread-safe.
 */
final class LoopbackOrigin implements Origin, AutoCloseable {
    /** Fields the JDK client sets itself or refuses. */
    private static final Set<String> RESTRICTED = Set.of(
            "connection", "content-length", "date", "expect", "from", "host", "upgrade", "via", "warning");

    private final RenderSignature signature;
    private final Duration timeout;
    private final ExecutorService executor;
    private final HttpClient client;
    private volatile URI base;

    /**
     * @param base    where the app listens, e.g. {@code http://127.0.0.1:8080} (no path), or null to
     *                learn it from the first request
     * @param timeout for one whole render; the engine applies its own render timeout as well
     */
    LoopbackOrigin(URI base, RenderSignature signature, Duration connectTimeout, Duration timeout) {
        this.base = base == null ? null : checkBase(base);
        this.signature = signature;
        this.timeout = timeout;
        AtomicInteger n = new AtomicInteger();
        this.executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "regen-loopback-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(connectTimeout)
                .executor(executor)
                .build();
    }

    static URI checkBase(URI base) {
        String scheme = base.getScheme();
        if (!"http".equals(scheme) && !"https".equals(scheme) || base.getHost() == null) {
            throw new IllegalArgumentException("render-url must be http://HOST:PORT or https://HOST:PORT: " + base);
        }
        String path = base.getRawPath();
        if (path != null && !path.isEmpty() && !path.equals("/") || base.getRawQuery() != null) {
            throw new IllegalArgumentException(
                    "render-url must have no path (the context path is part of every page's path): " + base);
        }
        return URI.create(scheme + "://" + base.getRawAuthority());
    }

    /** Learns where the app listens from a request the container handed over, unless already known. */
    void learn(int localPort) {
        if (base == null && localPort > 0) {
            base = URI.create("http://127.0.0.1:" + localPort);
        }
    }

    URI base() {
        return base;
    }

    @Override
    public CompletableFuture<OriginResponse> fetch(OriginRequest request) {
        URI b = base;
        if (b == null) {
            return CompletableFuture.failedFuture(new OriginException(OriginException.Kind.UNREACHABLE,
                    "the app's port is not known yet"));
        }
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(b + request.pathAndQuery()))
                .timeout(timeout)
                .method(request.method(), HttpRequest.BodyPublishers.noBody());
        for (Header h : request.headers()) {
            if (!RESTRICTED.contains(h.name().toLowerCase(Locale.ROOT))) {
                r.header(h.name(), h.value());
            }
        }
        r.header(RenderSignature.HEADER, signature.sign(request.method(), request.pathAndQuery()));
        return client.sendAsync(r.build(), HttpResponse.BodyHandlers.ofByteArray()).handle((response, e) -> {
            if (e != null) {
                throw new CompletionException(OriginException.from(e));
            }
            List<Header> headers = new ArrayList<>();
            response.headers().map().forEach((name, values) -> {
                if (!name.startsWith(":")) {
                    values.forEach(v -> headers.add(new Header(name, v)));
                }
            });
            return new OriginResponse(response.statusCode(), headers, response.body());
        });
    }

    @Override
    public void close() {
        executor.shutdownNow();
        try {
            executor.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
