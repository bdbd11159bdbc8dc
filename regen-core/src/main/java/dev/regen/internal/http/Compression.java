package dev.regen.internal.http;

import dev.regen.internal.Header;
import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.Locale;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * Pre-compressed variants: made once per render (and once per load from the store), never per
 * request, and never from a body the origin already encoded.
 */
public final class Compression {
    /** Below this a gzip member's own overhead eats most of the gain. */
    static final int MIN_BYTES = 512;

    private Compression() {}

    /** The gzip variant of a body worth compressing, or null. */
    public static byte[] gzipIfUseful(List<Header> headers, byte[] body) {
        if (body.length < MIN_BYTES
                || HttpFields.has(headers, "content-encoding")
                || !compressible(HttpFields.first(headers, "content-type"))) {
            return null;
        }
        byte[] gz = gzip(body);
        // keep it only if clients actually save bytes with it
        return gz.length < body.length * 9L / 10 ? gz : null;
    }

    static boolean compressible(String contentType) {
        if (contentType == null) {
            return false;
        }
        String mime = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        return mime.startsWith("text/")
                || mime.endsWith("+json")
                || mime.endsWith("+xml")
                || switch (mime) {
                    case "application/json",
                            "application/javascript",
                            "application/xml",
                            "application/ld+json",
                            "application/manifest+json",
                            "image/svg+xml",
                            "application/wasm" -> true;
                    default -> false;
                };
    }

    static byte[] gzip(byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(body.length / 3 + 64);
        try (GZIPOutputStream gz = new GZIPOutputStream(out, 8192) {
            {
                def.setLevel(Deflater.BEST_COMPRESSION);
            }
        }) {
            gz.write(body);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /**
     * Whether {@code acceptEncoding} accepts gzip (RFC 9110 §12.5.3): listed, or {@code *}, with a
     * non-zero weight.
     */
    public static boolean acceptsGzip(String acceptEncoding) {
        return ContentCoding.accepts(acceptEncoding, "gzip");
    }

    /** The ETag of the gzip variant: distinct from the identity one, as RFC 9110 §8.8.3 asks. */
    public static String gzipEtag(String etag) {
        if (etag.endsWith("\"")) {
            return etag.substring(0, etag.length() - 1) + "-gzip\"";
        }
        return etag + "-gzip";
    }
}
