package dev.regen;

import dev.regen.internal.ClientRequest;
import dev.regen.internal.Forwarding;
import dev.regen.internal.Header;
import dev.regen.internal.Origin;
import dev.regen.internal.OriginException;
import dev.regen.internal.OriginRequest;
import dev.regen.internal.Reply;
import dev.regen.internal.RequestHeaders;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * An edge for engine tests: does what the proxy does with each reply, over a {@link FakeOrigin}
 * instead of sockets (a forward is sent whole and reported whole), and says what the client got.
 */
public final class TestEdge {
    /** What one client received. */
    @SuppressWarnings("ArrayRecordComponent") // tests read the body, never compare Served by equals
    public record Served(
            int status,
            CacheStatus cacheStatus,
            String cacheStatusField,
            byte[] body,
            List<Header> headers,
            Reply reply) {
        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        public String header(String name) {
            return dev.regen.internal.http.HttpFields.first(headers, name);
        }
    }

    private final RegenEngine engine;
    private final Origin origin;

    public TestEdge(RegenEngine engine, Origin origin) {
        this.engine = engine;
        this.origin = origin;
    }

    public static ClientRequest get(String target, String... headers) {
        return request("GET", target, headers);
    }

    public static ClientRequest request(String method, String target, String... headers) {
        List<Header> h = new ArrayList<>();
        for (int i = 0; i < headers.length; i += 2) {
            h.add(new Header(headers[i], headers[i + 1]));
        }
        return new ClientRequest(method, target, "example.com", "http", RequestHeaders.of(h), false);
    }

    public CompletableFuture<Served> serve(ClientRequest request) {
        return engine.serve(request).thenCompose(reply -> answer(request, reply));
    }

    private CompletableFuture<Served> answer(ClientRequest request, Reply reply) {
        if (reply instanceof Reply.Page p) {
            return CompletableFuture.completedFuture(new Served(
                    p.page().status(),
                    p.status(),
                    p.cacheStatus(),
                    p.page().body(),
                    p.page().headers(),
                    reply));
        }
        if (reply instanceof Reply.Rendered r) {
            return CompletableFuture.completedFuture(new Served(
                    r.response().status(),
                    CacheStatus.MISS,
                    r.cacheStatus(),
                    r.response().body(),
                    r.response().headers(),
                    reply));
        }
        if (reply instanceof Reply.Failure f) {
            return CompletableFuture.completedFuture(new Served(
                    f.status(),
                    CacheStatus.MISS,
                    Forwarding.unstoredCacheStatus(),
                    f.reason().getBytes(StandardCharsets.UTF_8),
                    List.of(),
                    reply));
        }
        Forwarding fwd = ((Reply.Forward) reply).forwarding();
        OriginRequest sent =
                new OriginRequest(fwd.method(), fwd.target(), request.host(), "http", fwd.headers(), Long.MAX_VALUE);
        return origin.fetch(sent)
                .<Served>handle((response, error) -> {
                    if (error != null) {
                        // an edge reports a failure before the head as the origin's (as the proxy's relay does)
                        OriginException oe = OriginException.from(error);
                        fwd.failed(oe);
                        int status = oe.kind() == OriginException.Kind.TIMEOUT ? 504 : 502;
                        return new Served(
                                status,
                                CacheStatus.MISS,
                                Forwarding.unstoredCacheStatus(),
                                new byte[0],
                                List.of(),
                                reply);
                    }
                    Forwarding.Head head = fwd.head(response.status(), response.headers());
                    if (head.buffer()) {
                        if (response.body().length > head.maxBytes()) {
                            fwd.tooLarge();
                        } else {
                            // not waited for: this edge does not hold back the end of its response
                            var unused = fwd.complete(response.body());
                        }
                    }
                    return new Served(
                            response.status(),
                            head.status(),
                            head.cacheStatus(),
                            response.body(),
                            response.headers(),
                            reply);
                })
                .thenCompose(served -> fwd.settled().thenApply(v -> served));
    }
}
