package dev.regen.internal;

import dev.regen.CacheStatus;
import dev.regen.internal.http.CacheHeaders;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One request the edge sends to the origin on the engine's behalf, and what the edge reports back as
 * the answer arrives. The edge sends {@link #method()} {@link #target()} with {@link #headers()} plus
 * the fields only it knows ({@code Host}, {@code X-Forwarded-*}), streams the answer to its client, and
 * tells this object:
 * <ol>
 *   <li>{@link #head} once the response head is there (before anything goes to the client): it answers
 *       with the cache fields to add and whether to keep a copy of the body;</li>
 *   <li>then {@link #complete} with the whole body as received, {@link #tooLarge} when the copy went past
 *       {@link Head#maxBytes()}, or {@link #failed} at any point when the exchange broke (the origin was
 *       unreachable or timed out, the connection dropped, the client went away).</li>
 * </ol>
 * A forward that may be stored ({@link #storable()}) must hear one of these exactly once; the others
 * may, and are ignored. Methods are cheap and never block: storing happens on the engine's threads.
 */
public final class Forwarding {

    /** What the edge adds to the response, and whether it keeps a copy of the body for the engine. */
    public record Head(CacheStatus status, String cacheStatus, boolean buffer, long maxBytes) {}

    /** How the engine settles a storable forward (the engine's side of the exchange). */
    public interface Settler {
        Head head(int status, List<Header> headers);

        CompletableFuture<Void> complete(byte[] body);

        void tooLarge();

        void failed(Throwable cause, boolean beforeHead);

        /** Completes once the engine has settled the exchange (stored, or decided not to). */
        CompletableFuture<Void> settled();
    }

    private final String method;
    private final String target;
    private final List<Header> headers;
    private final CacheStatus status;
    private final String cacheStatus;
    private final Settler settler;
    private final AtomicBoolean ended = new AtomicBoolean();
    private volatile boolean headSeen;

    private Forwarding(
            String method,
            String target,
            List<Header> headers,
            CacheStatus status,
            String cacheStatus,
            Settler settler) {
        this.method = method;
        this.target = target;
        this.headers = List.copyOf(headers);
        this.status = status;
        this.cacheStatus = cacheStatus;
        this.settler = settler;
    }

    /** A request relayed as it is: nothing of the answer is stored. */
    public static Forwarding pass(
            String method, String target, List<Header> headers, CacheStatus status, String cacheStatus) {
        return new Forwarding(method, target, headers, status, cacheStatus, null);
    }

    /** A render: its answer goes to the client and, when the engine decides so, into the cache. */
    public static Forwarding render(String target, List<Header> headers, Settler settler) {
        return new Forwarding("GET", target, headers, null, null, settler);
    }

    /** The method to send: the client's, or GET for a render (a HEAD's render must get the body to store). */
    public String method() {
        return method;
    }

    /** The origin-form target to send. */
    public String target() {
        return target;
    }

    /** The client's fields to send; the edge adds {@code Host} and the forwarding fields. */
    public List<Header> headers() {
        return headers;
    }

    /** Whether the answer may be stored: the edge must then report how the exchange ended. */
    public boolean storable() {
        return settler != null;
    }

    /** The response head arrived: what to add to it, and whether to keep a copy of the body. */
    public Head head(int status, List<Header> headers) {
        headSeen = true;
        if (settler == null) {
            return new Head(this.status, cacheStatus, false, 0);
        }
        return settler.head(status, headers);
    }

    /**
     * The fields to set on the response head {@code head} was decided for: {@code X-Cache-Status},
     * {@code Cache-Status} and, for an answer that may be served from the cache later in either coding,
     * {@code Vary} with {@code Accept-Encoding} and {@code Age: 0} unless the origin sent one.
     *
     * @param vary the response's {@code Vary}, or null
     */
    public List<Header> fields(Head head, String vary, boolean hasAge) {
        List<Header> out = new ArrayList<>(4);
        out.add(new Header(
                CacheHeaders.X_CACHE_STATUS, (head.status() != null ? head.status() : CacheStatus.MISS).name()));
        out.add(new Header(CacheHeaders.CACHE_STATUS, head.cacheStatus()));
        if (storable()) {
            out.add(new Header("Vary", CacheHeaders.varyWithAcceptEncoding(vary)));
            if (!hasAge) {
                out.add(new Header("Age", "0"));
            }
        }
        return out;
    }

    /**
     * The whole body, as received (in its content coding), after a head that asked for a copy. The
     * future completes once the page can be served from this node (or it was decided not to store it):
     * an edge that holds back the end of its response until then makes sure a client that got the
     * whole MISS finds the page on its next request.
     */
    public CompletableFuture<Void> complete(byte[] body) {
        if (settler != null && ended.compareAndSet(false, true)) {
            return settler.complete(body);
        }
        return CompletableFuture.completedFuture(null);
    }

    /** The body went past {@link Head#maxBytes()}: the copy was dropped; the client still gets it all. */
    public void tooLarge() {
        if (settler != null && ended.compareAndSet(false, true)) {
            settler.tooLarge();
        }
    }

    /**
     * The exchange broke: an {@link OriginException} for an unreachable origin or a timeout before the
     * head; anything else (a dropped connection, the client leaving) otherwise.
     */
    public void failed(Throwable cause) {
        if (settler != null && ended.compareAndSet(false, true)) {
            settler.failed(cause, !headSeen);
        }
    }

    /** Completes once the engine has dealt with what the edge reported (tests wait on it). */
    public CompletableFuture<Void> settled() {
        return settler == null ? CompletableFuture.completedFuture(null) : settler.settled();
    }

    /** For a head that never reaches {@link #head} (the edge answered itself, e.g. 502): the default fields. */
    public static String unstoredCacheStatus() {
        return CacheHeaders.UNSTORED_MISS;
    }
}
