package dev.regen.admin;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Dashboard sessions as signed, expiring tokens: {@code <expiry epoch s>.<random id>.<HMAC-SHA256>}.
 * The HMAC key is derived from the secret (HMAC(secret, label)), so the secret itself is never in a
 * cookie, every node sharing the secret accepts the same session (no session store to share), and a
 * changed secret logs everyone out. A logout revokes its id on this node until the token expires.
 *
 * <p>The CSRF token of a session is derived from its id with the same key: nothing to store, and
 * known only to whoever holds the session (it is handed to the page, never to another origin).
 *
 * <p>Thread-safe.
 */
final class Sessions {
    static final String COOKIE = "regen_session";
    static final Duration TTL = Duration.ofHours(12);
    private static final int MAX_REVOKED = 10_000;
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

    private final byte[] key;
    private final InstantSource clock;
    private final SecureRandom random = new SecureRandom();
    /** Logged-out session ids, until they would have expired anyway. */
    private final Map<String, Long> revoked = new ConcurrentHashMap<>();

    Sessions(String secret, InstantSource clock) {
        // hashed first: an HMAC key may not be empty
        this.key = hmac(sha256(secret), "regen dashboard session v1");
        this.clock = clock;
    }

    /** A session valid for {@link #TTL} from now. */
    Session create() {
        byte[] id = new byte[18];
        random.nextBytes(id);
        long expiry = clock.instant().plus(TTL).getEpochSecond();
        String payload = expiry + "." + B64.encodeToString(id);
        return new Session(payload + "." + B64.encodeToString(hmac(key, payload)), payload, expiry);
    }

    /** The session a cookie value stands for, or null when it is forged, malformed, expired or revoked. */
    Session verify(String token) {
        if (token == null || token.length() > 200) {
            return null;
        }
        int last = token.lastIndexOf('.');
        int first = token.indexOf('.');
        if (first <= 0 || last <= first) {
            return null;
        }
        String payload = token.substring(0, last);
        byte[] mac;
        try {
            mac = Base64.getUrlDecoder().decode(token.substring(last + 1));
        } catch (IllegalArgumentException e) {
            return null;
        }
        if (!MessageDigest.isEqual(mac, hmac(key, payload))) {
            return null;
        }
        long expiry;
        try {
            expiry = Long.parseLong(token.substring(0, first));
        } catch (NumberFormatException e) {
            return null;
        }
        if (clock.instant().getEpochSecond() >= expiry || revoked.containsKey(payload)) {
            return null;
        }
        return new Session(token, payload, expiry);
    }

    /** Ends a session on this node. */
    void revoke(Session s) {
        long now = clock.instant().getEpochSecond();
        if (revoked.size() >= MAX_REVOKED) {
            for (Iterator<Long> it = revoked.values().iterator(); it.hasNext(); ) {
                if (it.next() <= now) {
                    it.remove();
                }
            }
        }
        if (revoked.size() < MAX_REVOKED) {
            revoked.put(s.payload(), s.expiry());
        }
    }

    /** The CSRF token of a session: the header {@code X-Regen-CSRF} must carry it on every change. */
    String csrf(Session s) {
        return HexFormat.of().formatHex(hmac(key, "csrf:" + s.payload()), 0, 16);
    }

    boolean csrfMatches(Session s, String presented) {
        return presented != null
                && MessageDigest.isEqual(
                        csrf(s).getBytes(StandardCharsets.UTF_8),
                        presented.trim().getBytes(StandardCharsets.UTF_8));
    }

    /** Seconds a new cookie lives. */
    long maxAgeSeconds(Session s) {
        return Math.max(0, s.expiry() - clock.instant().getEpochSecond());
    }

    /**
     * @param token   the cookie value
     * @param payload expiry and id: what the MAC covers and what a logout revokes
     */
    record Session(String token, String payload, long expiry) {
        @Override
        public String toString() {
            return "Session[expiry=" + expiry + "]";
        }
    }

    private static byte[] hmac(byte[] key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 is required of every JDK", e);
        }
    }

    static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }
}
