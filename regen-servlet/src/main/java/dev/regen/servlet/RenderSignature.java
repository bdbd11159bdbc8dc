package dev.regen.servlet;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs the engine's loopback renders so the filter can tell them from client requests:
 * {@code X-Regen-Render: <epoch seconds>.<hex HMAC-SHA256(key, seconds \n method \n path-and-query)>}.
 *
 * <p>The key is random per filter instance and never leaves the process, so no client (nor another
 * node) can produce a valid header; the timestamp limits a seen header to {@link #WINDOW} either way,
 * and the method and target bind it to one page. An invalid header is simply not an internal render:
 * the request is then served like any other, from the cache. Thread-safe.
 */
final class RenderSignature {
    static final String HEADER = "X-Regen-Render";
    static final Duration WINDOW = Duration.ofSeconds(30);
    private static final String ALGORITHM = "HmacSHA256";
    /** Seconds (at most 19 digits), a dot, 64 hex digits; anything longer is not ours. */
    private static final int MAX_LENGTH = 19 + 1 + 64;

    private final SecretKeySpec key;
    private final InstantSource clock;

    RenderSignature(byte[] key, InstantSource clock) {
        if (key.length < 32) {
            throw new IllegalArgumentException("render key must have at least 32 bytes: " + key.length);
        }
        this.key = new SecretKeySpec(key.clone(), ALGORITHM);
        this.clock = clock;
    }

    /** A signer with a fresh random key, on wall time. */
    static RenderSignature random() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return new RenderSignature(key, InstantSource.system());
    }

    /** The header value for a render of {@code pathAndQuery}, made now. */
    String sign(String method, String pathAndQuery) {
        long seconds = clock.instant().getEpochSecond();
        return seconds + "." + HexFormat.of().formatHex(mac(seconds, method, pathAndQuery));
    }

    /** Whether {@code header} is a signature of this key for this request, made within {@link #WINDOW} of now. */
    boolean verify(String header, String method, String pathAndQuery) {
        if (header == null || header.length() > MAX_LENGTH) {
            return false;
        }
        int dot = header.indexOf('.');
        if (dot <= 0 || header.length() - dot - 1 != 64) {
            return false;
        }
        long seconds;
        byte[] presented;
        try {
            seconds = Long.parseLong(header.substring(0, dot));
            presented = HexFormat.of().parseHex(header, dot + 1, header.length());
        } catch (IllegalArgumentException e) {
            return false;
        }
        long now = clock.instant().getEpochSecond();
        if (Math.abs(now - seconds) > WINDOW.toSeconds()) {
            return false;
        }
        return MessageDigest.isEqual(mac(seconds, method, pathAndQuery), presented);
    }

    private byte[] mac(long seconds, String method, String pathAndQuery) {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            return mac.doFinal((seconds + "\n" + method + "\n" + pathAndQuery).getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is required of every JDK", e);
        }
    }
}
