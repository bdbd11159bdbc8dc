package dev.regen.admin;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Limits on wrong secrets, per client address: a client may get the secret wrong {@value #FREE_FAILURES}
 * times in a row, then each further wrong secret shuts it out for twice as long as the one before (1 s,
 * 2 s, 4 s … at most {@link #MAX_BLOCK}); while shut out, its attempts are answered 429 without being
 * checked. Other clients are never affected, so no amount of guessing locks the real admin out. A right
 * secret forgets the client's failures; so do {@link #FORGET_AFTER} without any attempt.
 *
 * <p>IPv6 clients are counted by their /64, the block one subscriber usually holds. Memory is bounded:
 * at most {@value #MAX_CLIENTS} clients are remembered. Logs at most one line per client per minute for
 * wrong secrets and one per minute while it is shut out, whatever the rate of attempts.
 *
 * <p>Thread-safe.
 */
final class AuthThrottle {
    private static final Logger log = LoggerFactory.getLogger(AuthThrottle.class);
    static final int FREE_FAILURES = 5;
    static final Duration FIRST_BLOCK = Duration.ofSeconds(1);
    static final Duration MAX_BLOCK = Duration.ofMinutes(10);
    static final Duration FORGET_AFTER = Duration.ofMinutes(30);
    static final int MAX_CLIENTS = 50_000;
    private static final long LOG_EVERY_MS = 60_000;
    private static final Pattern IPV6_LITERAL = Pattern.compile("[0-9A-Fa-f:.]+");

    /** Where a secret is checked: the metrics' label and the log's wording. */
    enum Door {
        LOGIN("login", "dashboard login"),
        WEBHOOK("webhook", "webhook"),
        API("api", "admin API"),
        METRICS("metrics", "metrics");

        final String label;
        final String words;

        Door(String label, String words) {
            this.label = label;
            this.words = words;
        }
    }

    private final InstantSource clock;
    /** Counts wrong secrets and refusals, when the edge has metrics; else null. */
    private final RegenMetrics metrics;

    private final Cache<String, Client> clients;

    AuthThrottle(InstantSource clock, RegenMetrics metrics) {
        this.clock = clock;
        this.metrics = metrics;
        // expire after access: a client that keeps knocking while shut out stays remembered
        this.clients = Caffeine.newBuilder()
                .maximumSize(MAX_CLIENTS)
                .expireAfterAccess(FORGET_AFTER)
                .ticker(() -> TimeUnit.MILLISECONDS.toNanos(clock.millis()))
                .executor(Runnable::run)
                .build();
    }

    /**
     * Whether {@code client} may present a secret now. When it may not, counts the attempt, logs it
     * (at most once a minute per client) and returns the whole seconds until it may: the 429's
     * {@code Retry-After}. Else 0.
     */
    long refusal(String client, Door door) {
        String key = key(client);
        Client c = clients.getIfPresent(key);
        if (c == null) {
            return 0;
        }
        long now = clock.millis();
        String line;
        long wait;
        synchronized (c) {
            if (now >= c.blockedUntil) {
                return 0;
            }
            wait = c.blockedUntil - now;
            c.refused++;
            line = c.throttleLine(key, door, now);
        }
        if (metrics != null) {
            metrics.authThrottled(door.label);
        }
        if (line != null) {
            log.warn(line);
        }
        return Math.max(1, (wait + 999) / 1000);
    }

    /** A wrong secret from {@code client}: counts it, and shuts the client out once it has had its free tries. */
    void wrongSecret(String client, Door door) {
        String key = key(client);
        Client c = clients.get(key, k -> new Client());
        long now = clock.millis();
        String line;
        synchronized (c) {
            c.failures++;
            c.wrong++;
            if (c.failures > FREE_FAILURES) {
                c.blockedUntil = now + block(c.failures - FREE_FAILURES).toMillis();
                line = c.throttleLine(key, door, now);
            } else if (now - c.wrongLoggedAt >= LOG_EVERY_MS) {
                c.wrongLoggedAt = now;
                line = "wrong secret from " + key + " (" + door.words + ")";
            } else {
                line = null;
            }
        }
        if (metrics != null) {
            metrics.authFailure(door.label);
        }
        if (line != null) {
            log.warn(line);
        }
    }

    /** The right secret from {@code client}: its failures are forgotten. */
    void rightSecret(String client) {
        clients.invalidate(key(client));
    }

    /** How long the {@code n}th wrong secret past the free ones shuts a client out. */
    static Duration block(int n) {
        if (n >= 31) {
            return MAX_BLOCK;
        }
        Duration d = FIRST_BLOCK.multipliedBy(1L << (n - 1));
        return d.compareTo(MAX_BLOCK) > 0 ? MAX_BLOCK : d;
    }

    /** Clients remembered now (after pending evictions). */
    long size() {
        clients.cleanUp();
        return clients.estimatedSize();
    }

    /** The address as counted: IPv6 by its /64, anything else as given. */
    static String key(String client) {
        if (client == null || client.isEmpty()) {
            return "unknown";
        }
        if (client.indexOf(':') < 0 || !IPV6_LITERAL.matcher(client).matches()) {
            return client;
        }
        try {
            // a literal: parsed, never looked up
            InetAddress a = InetAddress.getByName(client);
            if (!(a instanceof Inet6Address)) {
                return a.getHostAddress(); // ::ffff:a.b.c.d
            }
            byte[] b = a.getAddress();
            StringBuilder s = new StringBuilder();
            for (int i = 0; i < 8; i += 2) {
                s.append(Integer.toHexString(((b[i] & 0xff) << 8) | (b[i + 1] & 0xff)))
                        .append(':');
            }
            return s.append(":/64").toString();
        } catch (UnknownHostException e) {
            return client;
        }
    }

    /** One client's record; guarded by its own monitor. */
    private static final class Client {
        int failures;
        long blockedUntil;
        long wrongLoggedAt = Long.MIN_VALUE / 2;
        /** Negative until the first throttle line. */
        long throttleLoggedAt = Long.MIN_VALUE / 2;
        /** Since the last throttle line. */
        long wrong;

        long refused;

        /** The line to log now that the client is shut out, or null if one was logged in the last minute. */
        String throttleLine(String key, Door door, long now) {
            if (now - throttleLoggedAt < LOG_EVERY_MS) {
                return null;
            }
            long wait = Math.max(1, (blockedUntil - now + 999) / 1000);
            String line = throttleLoggedAt < 0
                    ? "shutting out " + key + " (" + door.words + ") after " + failures + " wrong secrets in a row: "
                            + "429 for " + wait + " s, twice as long after each further wrong secret"
                    : "still shutting out " + key + " (" + door.words + "): " + wrong + " wrong secrets and "
                            + refused + " attempts refused with 429 in the last " + (now - throttleLoggedAt) / 1000
                            + " s; it may try again in " + wait + " s";
            throttleLoggedAt = now;
            wrong = 0;
            refused = 0;
            return line;
        }
    }
}
