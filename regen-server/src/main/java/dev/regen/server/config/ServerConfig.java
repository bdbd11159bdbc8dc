package dev.regen.server.config;

import dev.regen.Regen;
import dev.regen.RegenConfig;
import dev.regen.internal.http.BaseUrl;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Everything {@code regen serve} runs with, as finished values: the file, the flags and the environment
 * already merged and checked by {@link ConfigLoader}. Immutable and thread-safe.
 *
 * @param origin         the site being cached: {@code http} or {@code https}, with a host and no path
 *                       (trailing {@code /} removed)
 * @param listenHost     address the proxy binds, default {@code 0.0.0.0}
 * @param listenPort     port the proxy binds (0..65535, 0 = any free port), default 8080
 * @param engine         the cache engine's settings
 * @param secret         webhook / admin API secret, at least {@value #MIN_SECRET_LENGTH} characters, or
 *                       null when none is configured (the webhook and admin API then answer 503)
 * @param store          the persistent store behind L1, default {@code embedded:./.regen}
 * @param memoryBytes    L1 budget in bytes, default 256 MiB
 * @param connectTimeout origin connect timeout, default 2 s
 * @param webhookPath    path of the revalidation webhook, default {@code /_regen/revalidate}
 * @param metricsPublic  whether {@code /_regen/metrics} is served without the secret
 * @param accessLog      one line per request: off (default), {@code combined} (Apache/nginx) or JSON lines
 * @param accessLogFile  where the access log goes (appended to), or null for stdout
 * @param front          public hosts, trusted proxies, connection limits and timeouts, TLS
 */
public record ServerConfig(
        URI origin,
        String listenHost,
        int listenPort,
        RegenConfig engine,
        String secret,
        StoreSpec store,
        long memoryBytes,
        Duration connectTimeout,
        String webhookPath,
        boolean metricsPublic,
        AccessLog accessLog,
        Path accessLogFile,
        Front front) {

    /** The access log's format. */
    public enum AccessLog {
        OFF,
        COMBINED,
        JSON
    }

    public static final String DEFAULT_LISTEN_HOST = "0.0.0.0";
    public static final int DEFAULT_LISTEN_PORT = 8080;
    /** A shorter webhook secret is rejected: a guessable secret lets anyone purge the cache. */
    public static final int MIN_SECRET_LENGTH = 16;

    /**
     * @throws ConfigException naming the field of the first invalid value
     */
    public ServerConfig {
        origin = origin(origin == null ? null : origin.toString());
        if (listenHost == null || listenHost.isBlank()) {
            throw new ConfigException("listen", "the host must not be empty");
        }
        if (listenPort < 0 || listenPort > 65535) {
            throw new ConfigException("listen", "the port must be 0..65535, got \"" + listenPort + "\"");
        }
        Objects.requireNonNull(engine, "engine");
        // The value is never shown: it is a secret, even a bad one.
        if (secret != null && !secret.equals(secret.strip())) {
            throw new ConfigException(
                    "secret", "must not start or end with whitespace (a trailing newline from a secret file?)");
        }
        if (secret != null && secret.length() < MIN_SECRET_LENGTH) {
            throw new ConfigException(
                    "secret",
                    "must be at least " + MIN_SECRET_LENGTH + " characters, got " + secret.length()
                            + " (generate one with: openssl rand -hex 32)");
        }
        if (store == null) {
            throw new ConfigException("store", "must not be null");
        }
        if (memoryBytes <= 0) {
            throw new ConfigException("memory", "must be a positive size, got \"" + memoryBytes + "\"");
        }
        if (connectTimeout == null || connectTimeout.isNegative() || connectTimeout.isZero()) {
            throw new ConfigException(
                    "timeouts.connect", "must be a positive duration, got \"" + connectTimeout + "\"");
        }
        Objects.requireNonNull(front, "front");
        if (webhookPath == null || !webhookPath.matches("/[^\\s?#]*")) {
            throw new ConfigException(
                    "webhook-path",
                    "must be a path starting with / (no spaces, ? or #), got "
                            + Values.quote(String.valueOf(webhookPath)));
        }
        if (webhookPath.matches("/_regen(/.*)?") && !webhookPath.equals(Regen.DEFAULT_WEBHOOK_PATH)) {
            throw new ConfigException(
                    "webhook-path",
                    "must be " + Regen.DEFAULT_WEBHOOK_PATH + " or a path outside /_regen/ (Regen's own pages), got "
                            + Values.quote(webhookPath));
        }
        Objects.requireNonNull(accessLog, "accessLog");
        if (accessLogFile != null && accessLog == AccessLog.OFF) {
            throw new ConfigException(
                    "access-log-file", "is set but access-log is off: set access-log: json or combined");
        }
    }

    /** The {@code origin} field's value, checked: an http(s) URL with a host and nothing after it. */
    static URI origin(String text) {
        if (text == null) {
            throw new ConfigException(
                    "origin", "is required: set 'origin' in the config file or pass --origin http://HOST:PORT");
        }
        try {
            return BaseUrl.parse(text);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("origin", e.getMessage());
        }
    }

    /** Whether a webhook / admin API secret is configured. */
    public boolean hasSecret() {
        return secret != null;
    }

    /** Like the record's, with the secret and the bypass token hidden (configs end up in logs). */
    @Override
    public String toString() {
        RegenConfig shownEngine = engine.bypassToken() == null
                ? engine
                : engine.toBuilder().bypassToken("***").build();
        return "ServerConfig[origin=" + origin
                + ", listenHost=" + listenHost
                + ", listenPort=" + listenPort
                + ", engine=" + shownEngine
                + ", secret=" + (secret == null ? "null" : "***")
                + ", store=" + store
                + ", memoryBytes=" + memoryBytes
                + ", connectTimeout=" + connectTimeout
                + ", webhookPath=" + webhookPath
                + ", metricsPublic=" + metricsPublic
                + ", accessLog=" + accessLog
                + ", accessLogFile=" + accessLogFile
                + ", front=" + front + "]";
    }
}
