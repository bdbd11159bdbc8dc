package dev.regen.internal.http;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.InflaterInputStream;
import org.brotli.dec.BrotliInputStream;

/**
 * Content codings (RFC 9110 §8.4) as far as a cache needs them: which ones a client accepts, and
 * decoding an origin's body so that every client can be given one it accepts, whatever the origin sent.
 */
public final class ContentCoding {
    /** What renders ask the origin for: a coding Regen decodes, and the one it serves pre-compressed. */
    public static final String RENDER_ACCEPT_ENCODING = "gzip";

    private ContentCoding() {}

    /** The single coding of a {@code Content-Encoding} value, lower-case; "identity" for none. */
    public static String of(String contentEncoding) {
        if (contentEncoding == null || contentEncoding.isBlank()) {
            return "identity";
        }
        return contentEncoding.trim().toLowerCase(Locale.ROOT);
    }

    /** Whether Regen can decode a body sent with this coding. */
    public static boolean decodable(String coding) {
        return switch (coding) {
            case "identity", "gzip", "x-gzip", "deflate", "br" -> true;
            default -> false;
        };
    }

    /**
     * Whether {@code acceptEncoding} accepts {@code coding} (RFC 9110 §12.5.3): identity unless refused,
     * others when listed or covered by {@code *} with a non-zero weight.
     */
    public static boolean accepts(String acceptEncoding, String coding) {
        if (acceptEncoding == null) {
            return coding.equals("identity");
        }
        Boolean listed = null;
        Boolean star = null;
        for (String part : acceptEncoding.split(",", -1)) {
            int semi = part.indexOf(';');
            String c = (semi < 0 ? part : part.substring(0, semi)).trim();
            boolean accepted = semi < 0 || !zeroWeight(part.substring(semi + 1));
            if (c.equalsIgnoreCase(coding) || (coding.equals("gzip") && c.equalsIgnoreCase("x-gzip"))) {
                listed = accepted;
            } else if (c.equals("*")) {
                star = accepted;
            }
        }
        if (listed != null) {
            return listed;
        }
        if (star != null) {
            return star;
        }
        return coding.equals("identity");
    }

    private static boolean zeroWeight(String params) {
        for (String p : params.split(";", -1)) {
            String t = p.trim();
            if (t.startsWith("q=") || t.startsWith("Q=")) {
                try {
                    return Double.parseDouble(t.substring(2).trim()) <= 0;
                } catch (NumberFormatException e) {
                    return false;
                }
            }
        }
        return false;
    }

    /**
     * Decodes a whole body sent with {@code coding}, reading at most {@code maxBytes} of output.
     *
     * @throws IOException when the body is not valid for its coding, or decodes to more than {@code maxBytes}
     */
    public static byte[] decode(String coding, byte[] body, long maxBytes) throws IOException {
        if (coding.equals("identity")) {
            return body;
        }
        try (InputStream in = decoder(coding, new ByteArrayInputStream(body))) {
            ByteArrayOutputStream out =
                    new ByteArrayOutputStream((int) Math.min(Math.max(64L, body.length * 4L), 1 << 20));
            byte[] buf = new byte[16384];
            long total = 0;
            for (int n; (n = in.read(buf)) > 0; ) {
                total += n;
                if (total > maxBytes) {
                    throw new IOException("decodes to more than " + maxBytes + " bytes");
                }
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        } catch (RuntimeException e) {
            // the brotli decoder reports corrupt input unchecked
            throw new IOException("not valid " + coding + ": " + e.getMessage(), e);
        }
    }

    /** A stream decoding {@code coding} from {@code in}. */
    public static InputStream decoder(String coding, InputStream in) throws IOException {
        return switch (coding) {
            case "gzip", "x-gzip" -> new GZIPInputStream(in, 8192);
            // "deflate" is the zlib format (RFC 9110 §8.4.1.2)
            case "deflate" -> new InflaterInputStream(in);
            case "br" -> new BrotliInputStream(in);
            default -> throw new IOException("unsupported content coding " + coding);
        };
    }
}
