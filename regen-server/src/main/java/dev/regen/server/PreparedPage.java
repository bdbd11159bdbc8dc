package dev.regen.server;

import com.github.benmanes.caffeine.cache.Caffeine;
import dev.regen.internal.CachedPage;
import dev.regen.internal.Header;
import dev.regen.internal.http.ResponsePlan;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.IllegalReferenceCountException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A cached page made ready to write, once per page rather than once per request: for each variant
 * (identity, gzip) every header that does not change per request followed by the body, as one
 * off-heap buffer. A hit writes the status line and the few per-request fields, then a view of that
 * buffer: the socket reads it where it is, with no copy and no allocation of the body.
 */
final class PreparedPage {
    final Variant identity;
    final Variant gzip;

    /**
     * One encoding of the page. {@code tail} holds the fixed header fields, the blank line ending the
     * header block, and the body; it is released when the page leaves {@link Cache the prepared cache}.
     */
    @SuppressWarnings("ArrayRecordComponent") // the cached body, served without a copy; never compared by equals
    record Variant(int status, String statusLine, byte[] body, List<Header> headers, ByteBuf tail, int headLength) {
        /**
         * The fixed fields and the body (or, for {@code headOnly}, the fields alone), retained for one
         * write; null if the cache released the buffer meanwhile (the caller then writes a copy).
         */
        ByteBuf retainTail(boolean headOnly) {
            try {
                return headOnly ? tail.retainedSlice(0, headLength) : tail.retainedDuplicate();
            } catch (IllegalReferenceCountException released) {
                return null;
            }
        }

        /** The same bytes as {@link #tail}, copied on the heap: for the rare write that lost a race with eviction. */
        ByteBuf copyTail(boolean headOnly) {
            byte[] fields = fields(headers, body.length).getBytes(StandardCharsets.ISO_8859_1);
            return headOnly ? Unpooled.wrappedBuffer(fields) : Unpooled.wrappedBuffer(fields, body);
        }

        long bytes() {
            return tail.capacity();
        }
    }

    /** @param alloc where the buffers go (off-heap), or null for views of the page's own arrays on the heap */
    private PreparedPage(CachedPage page, ByteBufAllocator alloc) {
        identity = variant(page, false, alloc);
        gzip = page.gzipBody() != null ? variant(page, true, alloc) : null;
    }

    /** The variant a {@link dev.regen.internal.http.ResponsePlan} chose. */
    Variant variant(boolean gzipped) {
        return gzipped ? gzip : identity;
    }

    private long bytes() {
        return identity.bytes() + (gzip == null ? 0 : gzip.bytes());
    }

    private void release() {
        identity.tail.release();
        if (gzip != null) {
            gzip.tail.release();
        }
    }

    private static Variant variant(CachedPage page, boolean gzipped, ByteBufAllocator alloc) {
        byte[] body = gzipped ? page.gzipBody() : page.body();
        List<Header> headers = ResponsePlan.pageFields(page, gzipped);
        byte[] fields = fields(headers, body.length).getBytes(StandardCharsets.ISO_8859_1);
        ByteBuf tail;
        if (alloc == null) {
            tail = Unpooled.wrappedBuffer(fields, body);
        } else {
            tail = alloc.directBuffer(fields.length + body.length);
            tail.writeBytes(fields).writeBytes(body);
        }
        return new Variant(
                page.status(),
                "HTTP/1.1 " + HttpResponseStatus.valueOf(page.status()) + "\r\n",
                body,
                headers,
                tail,
                fields.length);
    }

    /** The fixed header fields and the blank line that ends the header block. */
    private static String fields(List<Header> headers, int contentLength) {
        StringBuilder sb = new StringBuilder(512);
        for (Header h : headers) {
            sb.append(h.name()).append(": ").append(h.value()).append("\r\n");
        }
        return sb.append("Content-Length: ")
                .append(contentLength)
                .append("\r\n\r\n")
                .toString();
    }

    /**
     * Prepared pages of one server, bounded in off-heap bytes; the rest are prepared again when asked
     * for. Keyed by page identity (weak keys), so a page replaced in the engine's cache drops its
     * prepared form too, and its buffers with it.
     */
    static final class Cache implements AutoCloseable {
        private final com.github.benmanes.caffeine.cache.Cache<CachedPage, PreparedPage> pages;
        private final ByteBufAllocator alloc;
        private final long maxBytes;

        Cache(long maxBytes, ByteBufAllocator alloc) {
            this.alloc = alloc;
            this.maxBytes = maxBytes;
            this.pages = Caffeine.newBuilder()
                    .weakKeys()
                    .maximumWeight(maxBytes)
                    .weigher((CachedPage page, PreparedPage p) -> (int) Math.min(Integer.MAX_VALUE, p.bytes()))
                    .removalListener(
                            (CachedPage page,
                                    PreparedPage p,
                                    com.github.benmanes.caffeine.cache.RemovalCause cause) -> {
                                if (p != null) {
                                    p.release();
                                }
                            })
                    .executor(Runnable::run)
                    .build();
        }

        /**
         * The prepared form of {@code page}; {@code loaded}: the engine read it from the store for this
         * request, so it is not known to be hot, and unless already prepared it is written over its own
         * arrays this once (the next request finds it in memory and prepares it).
         */
        PreparedPage of(CachedPage page, boolean loaded) {
            long size = page.body().length + (page.gzipBody() == null ? 0L : page.gzipBody().length);
            if (loaded) {
                PreparedPage ready = pages.getIfPresent(page);
                return ready != null ? ready : new PreparedPage(page, null);
            }
            if (size > maxBytes / 16) {
                // a copy of a page this big would crowd out the rest: prepared for this request only,
                // over the page's own arrays (the socket write then copies them, as it must from the heap)
                return new PreparedPage(page, null);
            }
            return pages.get(page, p -> new PreparedPage(p, alloc));
        }

        long bytes() {
            return pages.policy()
                    .eviction()
                    .map(e -> e.weightedSize().orElse(0))
                    .orElse(0L);
        }

        @Override
        public void close() {
            pages.invalidateAll();
            pages.cleanUp();
        }
    }
}
