package dev.regen.internal.http;

import dev.regen.CacheStatus;
import dev.regen.internal.CachedPage;
import dev.regen.internal.Header;
import dev.regen.internal.OriginResponse;
import dev.regen.internal.Reply;
import dev.regen.internal.RequestHeaders;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * What an edge sends for a cached page, for a response another request's render received, or for one
 * of Regen's own errors: status, fields and body, decided here for every edge so that the proxy and
 * the servlet filter only write it out. The edge adds its transport's fields ({@code Date},
 * {@code Connection}) and {@code Content-Length} from {@link #contentLength()}, and sends no body to a
 * HEAD.
 *
 * <p>A whole cached page ({@link #wholePage()}) is its variant's {@linkplain #pageFields fixed fields}
 * followed by {@code Age}, {@code X-Cache-Status} and {@code Cache-Status}: an edge may write a copy of
 * the former prepared once per page, and then {@link #fields()} is never built. For one request's
 * thread.
 */
public final class ResponsePlan {
    private static final byte[] EMPTY = {};

    private final int status;
    /** The cached page a whole-page plan stands for, else null. */
    private final Reply.Page page;

    private final boolean gzip;
    private List<Header> fields;
    private final byte[] body;
    private final int offset;
    private final int length;

    private ResponsePlan(
            int status, Reply.Page page, boolean gzip, List<Header> fields, byte[] body, int offset, int length) {
        this.status = status;
        this.page = page;
        this.gzip = gzip;
        this.fields = fields;
        this.body = body;
        this.offset = offset;
        this.length = length;
    }

    /**
     * A cached page for a GET or HEAD: 304 when a validator matches (RFC 9110 §13.1.2, §13.1.3, checked
     * before {@code Range} as §13.2.2 orders it), one range of the identity body (206) or 416 (§14),
     * else the whole page, gzip when the client takes it and the page has that variant.
     */
    public static ResponsePlan page(Reply.Page reply, String method, RequestHeaders request) {
        CachedPage page = reply.page();
        boolean gzip = page.gzipBody() != null && Compression.acceptsGzip(request.get("Accept-Encoding"));
        String ifNoneMatch = request.get("If-None-Match");
        String ifModifiedSince = ifNoneMatch == null ? request.get("If-Modified-Since") : null;
        if ((ifNoneMatch != null || ifModifiedSince != null)
                && CacheHeaders.notModified(
                        ifNoneMatch,
                        ifModifiedSince,
                        gzip ? Compression.gzipEtag(page.etag()) : page.etag(),
                        HttpFields.first(page.headers(), "last-modified"))) {
            List<Header> kept = pageFields(page, gzip);
            kept.removeIf(h -> !CacheHeaders.keptOn304(h.name()) && !h.is("etag"));
            return new ResponsePlan(304, null, gzip, stamped(kept, reply), EMPTY, 0, -1);
        }
        String range = "GET".equals(method) && page.status() == 200 ? request.get("Range") : null;
        if (range != null) {
            Ranges.Outcome outcome = Ranges.evaluate(
                    range,
                    request.get("If-Range"),
                    page.etag(),
                    HttpFields.first(page.headers(), "last-modified"),
                    page.body().length);
            if (outcome instanceof Ranges.Outcome.Partial p) {
                List<Header> f = pageFields(page, false);
                f.add(new Header("Content-Range", p.contentRange()));
                f.add(new Header("Accept-Ranges", "bytes"));
                return new ResponsePlan(
                        206, null, false, stamped(f, reply), page.body(), (int) p.first(), (int) p.size());
            }
            if (outcome instanceof Ranges.Outcome.Unsatisfiable u) {
                List<Header> f = new ArrayList<>(5);
                f.add(new Header("Content-Range", u.contentRange()));
                f.add(new Header("Accept-Ranges", "bytes"));
                return new ResponsePlan(416, null, false, stamped(f, reply), EMPTY, 0, 0);
            }
        }
        byte[] body = gzip ? page.gzipBody() : page.body();
        return new ResponsePlan(page.status(), reply, gzip, null, body, 0, body.length);
    }

    /**
     * A whole response another request's render received (not stored), decoded when this client does
     * not take its coding; 502 when it can't be decoded.
     */
    public static ResponsePlan rendered(OriginResponse r, String cacheStatus, String acceptEncoding) {
        byte[] body = r.body();
        String coding = ContentCoding.of(r.header("content-encoding"));
        boolean decode = !coding.equals("identity") && !ContentCoding.accepts(acceptEncoding, coding);
        if (decode) {
            try {
                body = ContentCoding.decode(coding, body, Long.MAX_VALUE);
            } catch (IOException e) {
                return error(502, "the origin sent a body that is not valid " + coding);
            }
        }
        List<Header> f = HttpFields.relayable(r.headers());
        f.removeIf(h -> h.is(CacheHeaders.X_CACHE_STATUS)
                || h.is(CacheHeaders.CACHE_STATUS)
                || (decode && h.is("content-encoding")));
        f.add(new Header(CacheHeaders.X_CACHE_STATUS, CacheStatus.MISS.name()));
        f.add(new Header(CacheHeaders.CACHE_STATUS, cacheStatus));
        return new ResponsePlan(
                r.status(), null, false, f, body, 0, HttpFields.bodiless(r.status()) ? -1 : body.length);
    }

    /**
     * Regen's own error page (400, 405, 502, 504…): short, saying what happened, never stored. A 502 or
     * 504 is a MISS whose render failed; anything else is Regen refusing the request (BYPASS).
     */
    public static ResponsePlan error(int status, String reason) {
        String title = switch (status) {
            case 400 -> "Bad request";
            case 405 -> "Method not allowed";
            case 408 -> "Request timeout";
            case 413 -> "Request body too large";
            case 414 -> "Request line too long";
            case 421 -> "Misdirected request";
            case 431 -> "Request header fields too large";
            case 502 -> "Bad gateway";
            case 503 -> "Service unavailable";
            case 504 -> "Gateway timeout";
            default -> "Error";
        };
        boolean failedRender = status == 502 || status == 504;
        byte[] html = ("<!doctype html><html><head><meta charset=\"utf-8\"><title>" + status + " " + title
                        + "</title></head><body style=\"font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto\">"
                        + "<h1>" + status + " " + title + "</h1><p>" + Html.escape(reason) + "</p>"
                        // only a failed render could have been saved by a cached copy
                        + (failedRender
                                ? "<p><small>Regen had no cached copy of this page to serve instead.</small></p>"
                                : "")
                        + "</body></html>\n")
                .getBytes(StandardCharsets.UTF_8);
        List<Header> f = new ArrayList<>(6);
        f.add(new Header("Content-Type", "text/html; charset=utf-8"));
        f.add(new Header("Cache-Control", "no-store"));
        f.add(new Header(CacheHeaders.X_CACHE_STATUS, (failedRender ? CacheStatus.MISS : CacheStatus.BYPASS).name()));
        f.add(new Header(CacheHeaders.CACHE_STATUS, failedRender ? CacheHeaders.UNSTORED_MISS : "regen; fwd=bypass"));
        if (status == 405) {
            f.add(new Header("Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"));
        } else if (status == 503) {
            f.add(new Header("Retry-After", "1"));
        }
        return new ResponsePlan(status, null, false, f, html, 0, html.length);
    }

    /**
     * The fields of a cached page's variant that are the same for every request: the stored ones (a
     * value holding CR or LF dropped: it would split the header block), {@code Vary} with
     * {@code Accept-Encoding} when the page has a gzip variant, {@code Content-Encoding} and
     * {@code ETag}. A new list.
     */
    public static List<Header> pageFields(CachedPage page, boolean gzip) {
        List<Header> out = new ArrayList<>(page.headers().size() + 6);
        boolean varies = page.gzipBody() != null;
        boolean varyDone = !varies;
        for (Header h : page.headers()) {
            if (h.value().indexOf('\r') >= 0 || h.value().indexOf('\n') >= 0) {
                continue;
            }
            if (h.is("vary") && !varyDone) {
                out.add(new Header(h.name(), CacheHeaders.varyWithAcceptEncoding(h.value())));
                varyDone = true;
            } else {
                out.add(h);
            }
        }
        if (!varyDone) {
            out.add(new Header("Vary", "Accept-Encoding"));
        }
        if (gzip) {
            out.add(new Header("Content-Encoding", "gzip"));
        }
        out.add(new Header("ETag", gzip ? Compression.gzipEtag(page.etag()) : page.etag()));
        return out;
    }

    private static List<Header> stamped(List<Header> fields, Reply.Page reply) {
        fields.add(new Header("Age", String.valueOf(reply.age())));
        fields.add(new Header(CacheHeaders.X_CACHE_STATUS, reply.status().name()));
        fields.add(new Header(CacheHeaders.CACHE_STATUS, reply.cacheStatus()));
        return fields;
    }

    public int status() {
        return status;
    }

    /** Every field but the transport's and {@code Content-Length}. */
    public List<Header> fields() {
        if (fields == null) {
            fields = stamped(pageFields(page.page(), gzip), page);
        }
        return fields;
    }

    /** Whether this is the whole of a cached page's variant ({@link #gzip()}), as {@link #pageFields} and the stamp. */
    public boolean wholePage() {
        return page != null;
    }

    /** Whether the body is the page's gzip variant. */
    public boolean gzip() {
        return gzip;
    }

    /** The array the body is a slice of ({@link #offset()}, {@link #contentLength()} bytes). */
    public byte[] body() {
        return body;
    }

    public int offset() {
        return offset;
    }

    /** The body's length, for {@code Content-Length}; -1 for a response that has no body and no such field (304). */
    public int contentLength() {
        return length;
    }
}
