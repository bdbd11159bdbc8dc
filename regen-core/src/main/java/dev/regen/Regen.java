package dev.regen;

import dev.regen.cluster.Cluster;
import dev.regen.internal.Origin;
import dev.regen.internal.http.BaseUrl;
import dev.regen.store.KvStore;
import java.net.URI;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * Regen's one entry point: every setting of an embedding, with its default, in one place. The edges
 * take what this builds — {@code RegenFilter.create(regen)} in a servlet container, the proxy from its
 * config file — and the engine is {@link #newEngine(Origin)}.
 *
 * <pre>{@code
 * Regen regen = Regen.newBuilder()
 *         .config(RegenConfig.builder().revalidate(Duration.ofMinutes(5)).build())
 *         .store(EmbeddedStore.open(dir, InstantSource.system()))
 *         .secret(System.getenv("REGEN_SECRET"))
 *         .build();
 * }</pre>
 *
 * <p>Immutable; the store, cluster and executor it holds are the caller's to close.
 */
public final class Regen {
    /** Where the revalidation webhook listens unless set. */
    public static final String DEFAULT_WEBHOOK_PATH = "/_regen/revalidate";
    /** Budget of the in-memory layer (L1) unless set: 256 MiB. */
    public static final long DEFAULT_MEMORY_BYTES = 256L * 1024 * 1024;
    /** {@link #DEFAULT_MEMORY_BYTES} in the size syntax of config files and Spring properties. */
    public static final String DEFAULT_MEMORY = "256MB";
    /** Connect timeout of renders unless set. */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(2);

    private final RegenConfig config;
    private final KvStore store;
    private final InstantSource clock;
    private final long memoryBytes;
    private final Cluster cluster;
    private final Executor executor;
    private final EngineListener listener;
    private final String secret;
    private final String webhookPath;
    private final String siteName;
    private final boolean secureCookie;
    private final boolean metricsPublic;
    private final URI origin;
    private final Duration connectTimeout;

    private Regen(Builder b) {
        this.config = b.config;
        this.store = Objects.requireNonNull(b.store, "store");
        this.clock = b.clock;
        this.memoryBytes = b.memoryBytes;
        this.cluster = b.cluster;
        this.executor = b.executor;
        this.listener = b.listener;
        this.secret = b.secret;
        this.webhookPath = b.webhookPath;
        this.siteName = b.siteName;
        this.secureCookie = b.secureCookie;
        this.metricsPublic = b.metricsPublic;
        this.origin = b.origin;
        this.connectTimeout = b.connectTimeout;
    }

    public static Builder newBuilder() {
        return new Builder();
    }

    /** An engine with these settings, rendering through {@code origin}; close it when done. */
    public RegenEngine newEngine(Origin origin) {
        return new RegenEngine(this, Objects.requireNonNull(origin, "origin"));
    }

    /** A builder holding these settings, to change some. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    public RegenConfig config() {
        return config;
    }

    public KvStore store() {
        return store;
    }

    public InstantSource clock() {
        return clock;
    }

    public long memoryBytes() {
        return memoryBytes;
    }

    public Cluster cluster() {
        return cluster;
    }

    /** The embedder's executor for the engine's blocking work, or null: the engine runs a pool of its own. */
    public Executor executor() {
        return executor;
    }

    public EngineListener listener() {
        return listener;
    }

    /** The webhook and admin secret, or null: those endpoints answer 503. */
    public String secret() {
        return secret;
    }

    public String webhookPath() {
        return webhookPath;
    }

    public String siteName() {
        return siteName;
    }

    public boolean secureCookie() {
        return secureCookie;
    }

    public boolean metricsPublic() {
        return metricsPublic;
    }

    /** Where renders are sent (scheme, host, port), or null: the servlet filter's own address. */
    public URI origin() {
        return origin;
    }

    public Duration connectTimeout() {
        return connectTimeout;
    }

    /** The settings of a {@link Regen}. Only the store is required. */
    public static final class Builder {
        private RegenConfig config = RegenConfig.builder().build();
        private KvStore store;
        private InstantSource clock = InstantSource.system();
        private long memoryBytes = DEFAULT_MEMORY_BYTES;
        private Cluster cluster = Cluster.LOCAL;
        private Executor executor;
        private EngineListener listener = EngineListener.NONE;
        private String secret;
        private String webhookPath = DEFAULT_WEBHOOK_PATH;
        private String siteName = "";
        private boolean secureCookie;
        private boolean metricsPublic;
        private URI origin;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;

        private Builder() {}

        private Builder(Regen r) {
            config = r.config;
            store = r.store;
            clock = r.clock;
            memoryBytes = r.memoryBytes;
            cluster = r.cluster;
            executor = r.executor;
            listener = r.listener;
            secret = r.secret;
            webhookPath = r.webhookPath;
            siteName = r.siteName;
            secureCookie = r.secureCookie;
            metricsPublic = r.metricsPublic;
            origin = r.origin;
            connectTimeout = r.connectTimeout;
        }

        /** The caching rules: freshness, keys, routes, renders (default: {@link RegenConfig}'s defaults). */
        public Builder config(RegenConfig v) {
            config = Objects.requireNonNull(v, "config");
            return this;
        }

        /** Where pages are kept (L2); the caller closes it after the engine. */
        public Builder store(KvStore v) {
            store = Objects.requireNonNull(v, "store");
            return this;
        }

        /** Wall time for freshness, {@code Age} and store expirations (default: the system clock). */
        public Builder clock(InstantSource v) {
            clock = Objects.requireNonNull(v, "clock");
            return this;
        }

        /** Budget of the in-memory layer (L1) in bytes (default 256 MiB). */
        public Builder memoryBytes(long v) {
            if (v <= 0) {
                throw new InvalidConfigException("memory", "must be positive, got " + v);
            }
            memoryBytes = v;
            return this;
        }

        /** Other nodes sharing the store (default: none); not closed by the engine. */
        public Builder cluster(Cluster v) {
            cluster = Objects.requireNonNull(v, "cluster");
            return this;
        }

        /**
         * Where the engine runs blocking work: store reads and writes, settling renders, background
         * renders (default: a pool of its own, shut down with the engine). Tests pass
         * {@code Runnable::run} so that all of it happens before the call that caused it returns.
         */
        public Builder executor(Executor v) {
            executor = Objects.requireNonNull(v, "executor");
            return this;
        }

        /** Told about requests, renders and invalidations (metrics). */
        public Builder listener(EngineListener v) {
            listener = Objects.requireNonNull(v, "listener");
            return this;
        }

        /** The webhook, admin and dashboard secret; without one those endpoints answer 503. */
        public Builder secret(String v) {
            secret = v == null || v.isBlank() ? null : v;
            return this;
        }

        /** Where the revalidation webhook listens (default {@value #DEFAULT_WEBHOOK_PATH}). */
        public Builder webhookPath(String v) {
            if (v == null || !v.startsWith("/")) {
                throw new InvalidConfigException("webhook-path", "must start with /, got " + v);
            }
            webhookPath = v;
            return this;
        }

        /** What the dashboard calls the site (default: nothing; the keys name each page's host). */
        public Builder siteName(String v) {
            siteName = Objects.requireNonNull(v, "siteName").strip();
            return this;
        }

        /** Whether the dashboard's session cookie is marked {@code Secure}: the site is served over https. */
        public Builder secureCookie(boolean v) {
            secureCookie = v;
            return this;
        }

        /** Whether {@code /_regen/metrics} answers without the secret (default false). */
        public Builder metricsPublic(boolean v) {
            metricsPublic = v;
            return this;
        }

        /**
         * Where renders are sent: the origin's base URL ({@code http(s)://host[:port]}). The proxy needs
         * one; the servlet filter defaults to its own address as the first request shows it.
         */
        public Builder origin(URI v) {
            try {
                origin = v == null ? null : BaseUrl.parse(v.toString());
            } catch (IllegalArgumentException e) {
                throw new InvalidConfigException("origin", e.getMessage());
            }
            return this;
        }

        /** Connect timeout of renders (default 2 s). */
        public Builder connectTimeout(Duration v) {
            if (v == null || v.isNegative() || v.isZero()) {
                throw new InvalidConfigException(
                        "timeouts.connect", "must be positive, got " + InvalidConfigException.show(v));
            }
            connectTimeout = v;
            return this;
        }

        public Regen build() {
            return new Regen(this);
        }
    }
}
