package dev.regen.server;

import dev.regen.Header;
import dev.regen.Origin;
import dev.regen.OriginException;
import dev.regen.OriginRequest;
import dev.regen.OriginResponse;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;

/**
 * The HTTP origin behind the proxy, reached with the JDK's HTTP/1.1 client (pooled keep-alive
 * connections, no redirects followed, no content decoding: bodies stay byte-exact).
 */
public final class HttpOrigin implements Origin {
    /** Fields the JDK client sets itself or refuses; the rest of a client's request is relayed. */
    private static final Set<String> RESTRICTED = Set.of(
            "connection", "content-length", "date", "expect", "from", "host", "upgrade", "via", "warning");

    private final URI base;
    private final HttpClient client;
    private final Duration timeout;

    public HttpOrigin(URI base, Duration connectTimeout, Duration timeout, Executor executor) {
        String b = base.toString();
        this.base = URI.create(b.endsWith("/") ? b.substring(0, b.length() - 1) : b);
        this.timeout = timeout;
        HttpClient.Builder builder = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(connectTimeout);
        if (executor != null) {
            builder.executor(executor);
        }
        this.client = builder.build();
    }

    public URI base() {
        return base;
    }

    @Override
    public CompletableFuture<OriginResponse> fetch(OriginRequest request) {
        HttpRequest.Builder b = newRequest(request.method(), request.pathAndQuery(), request.headers())
                .method(request.method(), HttpRequest.BodyPublishers.noBody());
        return client.sendAsync(b.build(), HttpResponse.BodyHandlers.ofByteArray())
                .handle((r, e) -> {
                    if (e != null) {
                        throw new CompletionException(OriginException.from(e));
                    }
                    return new OriginResponse(r.statusCode(), headers(r.headers().map()), r.body());
                });
    }

    /** Relays one client request and hands back the response with its body as a stream. */
    public CompletableFuture<HttpResponse<Flow.Publisher<List<ByteBuffer>>>> relay(
            String method, String pathAndQuery, List<Header> headers, byte[] body) {
        HttpRequest.BodyPublisher publisher = body.length == 0
                ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body);
        HttpRequest request = newRequest(method, pathAndQuery, headers).method(method, publisher).build();
        return client.sendAsync(request, HttpResponse.BodyHandlers.ofPublisher())
                .handle((r, e) -> {
                    if (e != null) {
                        throw new CompletionException(OriginException.from(e));
                    }
                    return r;
                });
    }

    private HttpRequest.Builder newRequest(String method, String pathAndQuery, List<Header> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + pathAndQuery)).timeout(timeout);
        for (Header h : headers) {
            if (!RESTRICTED.contains(h.name().toLowerCase(Locale.ROOT))) {
                b.header(h.name(), h.value());
            }
        }
        return b;
    }

    static List<Header> headers(Map<String, List<String>> map) {
        List<Header> out = new ArrayList<>();
        map.forEach((name, values) -> {
            if (!name.startsWith(":")) {
                for (String v : values) {
                    out.add(new Header(name, v));
                }
            }
        });
        return out;
    }
}
