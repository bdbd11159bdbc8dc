package dev.regen.servlet;

import dev.regen.internal.Header;
import dev.regen.internal.Origin;
import dev.regen.internal.OriginException;
import dev.regen.internal.OriginRequest;
import dev.regen.internal.OriginResponse;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The web app itself, called over loopback HTTP with a signed {@link RenderSignature} header so the
 * filter lets the request through to the app instead of answering it from the cache. Two uses:
 * <ul>
 *   <li>the engine's background renders ({@link #fetch}): the stored variant's request replayed;</li>
 *   <li>a forward decided after the client's request went asynchronous ({@link #open}): its own
 *       dispatch can no longer run the app, so the app answers it over loopback, through every filter.</li>
 * </ul>
 * The public host and scheme go as {@code X-Forwarded-Host} / {@code -Proto}: the filter shows them to
 * the app as the request's own, as a render in place sees them.
 *
 * <p>The base URL is fixed at construction or learned from the first request the filter sees
 * ({@code http://127.0.0.1:<local port>}); until then a render fails as unreachable (it cannot happen:
 * every render follows a request). Thread-safe.
 */
final class LoopbackOrigin implements Origin, AutoCloseable {
    /** Fields the JDK client sets itself or refuses. */
    private static final Set<String> RESTRICTED =
            Set.of("connection", "content-length", "date", "expect", "from", "host", "upgrade", "via", "warning");

    private final RenderSignature signature;
    private final Duration timeout;
    private final ExecutorService executor;
    private final HttpClient client;
    private volatile URI base;

    /**
     * @param base    where the app listens, e.g. {@code http://127.0.0.1:8080} (no path), or null to
     *                learn it from the first request
     * @param timeout until the response head; the engine applies its own render timeout as well
     */
    LoopbackOrigin(URI base, RenderSignature signature, Duration connectTimeout, Duration timeout) {
        this.base = base;
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

    /** Learns where the app listens from a request the container handed over, unless already known. */
    void learn(int localPort) {
        if (base == null && localPort > 0) {
            base = URI.create("http://127.0.0.1:" + localPort);
        }
    }

    URI base() {
        return base;
    }

    /** A background render: at most {@link OriginRequest#maxBodyBytes()} of the body is read. */
    @Override
    public CompletableFuture<OriginResponse> fetch(OriginRequest request) {
        HttpRequest r;
        try {
            r = request(
                    request.method(),
                    request.target(),
                    request.headers(),
                    AppRequest.forwardingFields(request.host(), request.scheme(), null));
        } catch (OriginException e) {
            return CompletableFuture.failedFuture(e);
        }
        long limit = request.maxBodyBytes();
        return client.sendAsync(r, info -> new LimitedBody(limit)).handle((response, e) -> {
            if (e != null) {
                throw new CompletionException(OriginException.from(e));
            }
            byte[] body = response.body();
            return new OriginResponse(
                    response.statusCode(), headersOf(response), body == null ? new byte[0] : body, body == null);
        });
    }

    /**
     * A forward sent over loopback: completes with the response head, its body to be read from the
     * stream (closing it early drops the connection).
     *
     * @param forwardedFor the client's address, for the app
     */
    CompletableFuture<HttpResponse<InputStream>> open(
            String method, String target, List<Header> headers, String host, String scheme, String forwardedFor) {
        HttpRequest r;
        try {
            r = request(method, target, headers, AppRequest.forwardingFields(host, scheme, forwardedFor));
        } catch (OriginException e) {
            return CompletableFuture.failedFuture(e);
        }
        return client.sendAsync(r, HttpResponse.BodyHandlers.ofInputStream());
    }

    private HttpRequest request(String method, String target, List<Header> headers, List<Header> forwarding) {
        URI b = base;
        if (b == null) {
            throw new OriginException(OriginException.Kind.UNREACHABLE, "the app's port is not known yet");
        }
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(b + target))
                .timeout(timeout)
                .method(method, HttpRequest.BodyPublishers.noBody());
        for (Header h : headers) {
            String name = h.name().toLowerCase(Locale.ROOT);
            if (!RESTRICTED.contains(name) && !name.equals(RenderSignature.HEADER.toLowerCase(Locale.ROOT))) {
                r.header(h.name(), h.value());
            }
        }
        for (Header h : forwarding) {
            r.header(h.name(), h.value());
        }
        r.header(RenderSignature.HEADER, signature.sign(method, target));
        return r.build();
    }

    /** A JDK client response's fields, pseudo-headers aside. */
    static List<Header> headersOf(HttpResponse<?> response) {
        List<Header> headers = new ArrayList<>();
        response.headers().map().forEach((name, values) -> {
            if (!name.startsWith(":")) {
                values.forEach(v -> headers.add(new Header(name, v)));
            }
        });
        return headers;
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

    /** Reads a body up to a limit; past it, stops reading (dropping the connection) and completes with null. */
    private static final class LimitedBody implements HttpResponse.BodySubscriber<byte[]> {
        private final long limit;
        private final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();
        private Flow.Subscription subscription;

        LimitedBody(long limit) {
            this.limit = limit;
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            for (ByteBuffer b : items) {
                if (body.size() + (long) b.remaining() > limit) {
                    subscription.cancel();
                    result.complete(null);
                    return;
                }
                byte[] chunk = new byte[b.remaining()];
                b.get(chunk);
                body.writeBytes(chunk);
            }
            subscription.request(1);
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            result.complete(body.toByteArray());
        }
    }
}
