package dev.regen.server;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.regen.CachedPage;
import dev.regen.Header;
import dev.regen.http.CacheHeaders;
import dev.regen.http.Compression;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A cached page made ready to write, once per page rather than once per request: for each variant
 * (identity, gzip) the status line and every header that does not change per request, already
 * encoded as bytes. A hit then writes that block, the few per-request fields, and the body array
 * itself, without copying it.
 */
final class PreparedPage {
    /** Keyed by page identity (weak keys), so a page replaced in the cache drops its prepared form too. */
    private static final Cache<CachedPage, PreparedPage> CACHE = Caffeine.newBuilder()
            .weakKeys().maximumSize(100_000).executor(Runnable::run).build();

    final Variant identity;
    final Variant gzip;

    /** One encoding of the page. */
    record Variant(byte[] body, String etag, List<Header> headers, ByteBuf head) {
        /** A view of the pre-encoded block for one write; the block itself is never released. */
        ByteBuf headForWrite() {
            return head.duplicate();
        }
    }

    private PreparedPage(CachedPage page) {
        boolean compressed = page.gzipBody() != null;
        identity = variant(page, page.body(), page.etag(), null, compressed);
        gzip = compressed
                ? variant(page, page.gzipBody(), Compression.gzipEtag(page.etag()), "gzip", true) : null;
    }

    static PreparedPage of(CachedPage page) {
        return CACHE.get(page, PreparedPage::new);
    }

    /** The variant to send for a request's {@code Accept-Encoding}. */
    Variant select(String acceptEncoding) {
        return gzip != null && Compression.acceptsGzip(acceptEncoding) ? gzip : identity;
    }

    private static Variant variant(CachedPage page, byte[] body, String etag, String encoding, boolean varies) {
        List<Header> headers = new ArrayList<>(page.headers().size() + 4);
        boolean varyDone = !varies;
        for (Header h : page.headers()) {
            if (h.value().indexOf('\r') >= 0 || h.value().indexOf('\n') >= 0) {
                continue;
            }
            if (h.is("vary") && !varyDone) {
                headers.add(new Header(h.name(), CacheHeaders.varyWithAcceptEncoding(h.value())));
                varyDone = true;
            } else {
                headers.add(h);
            }
        }
        if (!varyDone) {
            headers.add(new Header("Vary", "Accept-Encoding"));
        }
        if (encoding != null) {
            headers.add(new Header("Content-Encoding", encoding));
        }
        headers.add(new Header("ETag", etag));
        StringBuilder sb = new StringBuilder(512);
        sb.append("HTTP/1.1 ").append(HttpResponseStatus.valueOf(page.status())).append("\r\n");
        for (Header h : headers) {
            sb.append(h.name()).append(": ").append(h.value()).append("\r\n");
        }
        sb.append("Content-Length: ").append(body.length).append("\r\n");
        byte[] bytes = sb.toString().getBytes(StandardCharsets.ISO_8859_1);
        // a heap buffer, never released, freed with its page: the socket write copies it to direct memory
        ByteBuf head = Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(bytes).asReadOnly());
        return new Variant(body, etag, headers, head);
    }
}
