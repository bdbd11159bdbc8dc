package dev.regen.server;

import dev.regen.server.config.Front;
import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's TLS: a PEM certificate chain and key, offered with ALPN (h2, http/1.1), and read again
 * when either file changes (a renewed certificate needs no restart; connections open keep theirs).
 * BoringSSL through netty-tcnative when its native library loads, else the JDK's engine.
 */
final class TlsContext implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TlsContext.class);
    /** How often the files are checked for a change. */
    static final long CHECK_SECONDS = 5;

    private final Front.Tls files;
    private final SslProvider provider;
    private volatile SslContext context;
    private volatile String stamp;
    private final ScheduledFuture<?> watch;

    TlsContext(Front.Tls files, ScheduledExecutorService scheduler) {
        this.files = files;
        // -Dregen.tls.engine=jdk forces the JDK's engine (to compare, or where BoringSSL misbehaves)
        boolean jdk = "jdk".equalsIgnoreCase(System.getProperty("regen.tls.engine"));
        this.provider =
                !jdk && SslProvider.isAlpnSupported(SslProvider.OPENSSL) ? SslProvider.OPENSSL : SslProvider.JDK;
        this.stamp = stamp();
        try {
            this.context = build();
        } catch (IOException e) {
            throw new IllegalStateException(
                    "tls: cannot use " + files.certificate() + " and " + files.key() + ": " + e.getMessage(), e);
        }
        log.info(
                "TLS with {} ({}), ALPN h2 and http/1.1",
                files.certificate(),
                provider == SslProvider.OPENSSL ? "BoringSSL" : "the JDK's engine");
        this.watch =
                scheduler.scheduleWithFixedDelay(this::reloadIfChanged, CHECK_SECONDS, CHECK_SECONDS, TimeUnit.SECONDS);
    }

    SslContext context() {
        return context;
    }

    String engine() {
        return provider.name();
    }

    private SslContext build() throws IOException {
        try {
            return SslContextBuilder.forServer(
                            files.certificate().toFile(), files.key().toFile())
                    .sslProvider(provider)
                    .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                    .applicationProtocolConfig(new ApplicationProtocolConfig(
                            ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                            ApplicationProtocolNames.HTTP_2,
                            ApplicationProtocolNames.HTTP_1_1))
                    .build();
        } catch (IllegalArgumentException | javax.net.ssl.SSLException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private String stamp() {
        return stamp(files.certificate()) + "|" + stamp(files.key());
    }

    private static String stamp(Path p) {
        try {
            return Files.getLastModifiedTime(p).toMillis() + ":" + Files.size(p);
        } catch (IOException e) {
            return "unreadable";
        }
    }

    private void reloadIfChanged() {
        String now = stamp();
        if (now.equals(stamp)) {
            return;
        }
        try {
            context = build();
            stamp = now;
            log.info("TLS certificate reloaded from {}", files.certificate());
        } catch (IOException | RuntimeException e) {
            // e.g. half-written files during a renewal: keep the old one until the files change again
            stamp = now;
            log.warn("TLS certificate not reloaded ({}); keeping the previous one", e.getMessage());
        }
    }

    @Override
    public void close() {
        watch.cancel(false);
    }
}
