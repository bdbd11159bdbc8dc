package dev.regen;

import dev.regen.internal.Header;
import dev.regen.internal.Origin;
import dev.regen.internal.OriginRequest;
import dev.regen.internal.OriginResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * An origin in memory: answers with what {@link #respondWith} says, counts and records requests, and
 * can hold requests open until a test releases them.
 */
public final class FakeOrigin implements Origin {
    private final AtomicInteger calls = new AtomicInteger();
    private final List<OriginRequest> seen = new CopyOnWriteArrayList<>();
    private final List<CompletableFuture<Void>> held = new CopyOnWriteArrayList<>();
    private volatile Function<OriginRequest, CompletableFuture<OriginResponse>> responder =
            r -> CompletableFuture.completedFuture(page("render " + calls.get()));
    private volatile boolean holding;

    public static OriginResponse page(String body, Header... headers) {
        return new OriginResponse(200, List.of(headers), body.getBytes(StandardCharsets.UTF_8));
    }

    public FakeOrigin respondWith(Function<OriginRequest, OriginResponse> f) {
        responder = r -> CompletableFuture.completedFuture(f.apply(r));
        return this;
    }

    public FakeOrigin failWith(RuntimeException e) {
        responder = r -> CompletableFuture.failedFuture(e);
        return this;
    }

    /** Requests from now on wait until {@link #release()}. */
    public FakeOrigin hold() {
        holding = true;
        return this;
    }

    public void release() {
        holding = false;
        held.forEach(f -> f.complete(null));
    }

    public int calls() {
        return calls.get();
    }

    /** Every request the origin received, in order. */
    public List<OriginRequest> seen() {
        return seen;
    }

    @Override
    public CompletableFuture<OriginResponse> fetch(OriginRequest request) {
        calls.incrementAndGet();
        seen.add(request);
        if (!holding) {
            return responder.apply(request);
        }
        CompletableFuture<Void> gate = new CompletableFuture<>();
        held.add(gate);
        return gate.thenCompose(v -> responder.apply(request));
    }
}
