package dev.regen.server;

import dev.regen.admin.HealthMonitor;
import dev.regen.store.KvStore;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The origin probe of {@code /_regen/health}, run in the background by {@link HealthMonitor} (every
 * 10 s), never per health request.
 *
 * <p>By default it opens a TCP connection to the origin's host and port and closes it: that is what
 * "reachable" means, and it costs the origin nothing. A {@code HEAD /} would do more, but on most
 * server-rendered sites a HEAD renders the page in full: every node would render {@code /} six times a
 * minute for nobody (and the demo's render counter would climb on its own). Whether pages render well
 * shows in the render metrics and the dashboard's origin error rate.
 *
 * <p>The first probe runs as the server starts: if the origin can't be reached then, one warning says
 * so (the server starts anyway: the origin may come up after it).
 */
final class OriginHealth implements HealthMonitor.Probe {
    private static final Logger log = LoggerFactory.getLogger(OriginHealth.class);

    private final URI origin;
    private final String host;
    private final int port;
    private final Duration connectTimeout;
    private final AtomicBoolean first = new AtomicBoolean(true);

    OriginHealth(URI origin, Duration connectTimeout) {
        this.origin = origin;
        this.host = origin.getHost();
        this.port = origin.getPort() != -1
                ? origin.getPort()
                : "https".equals(origin.getScheme().toLowerCase(Locale.ROOT)) ? 443 : 80;
        this.connectTimeout = connectTimeout;
    }

    /** Probes {@code store} (one read of an absent key) and the origin (a TCP connect) every 10 s. */
    static HealthMonitor monitor(KvStore store, URI origin, Duration connectTimeout) {
        return HealthMonitor.start(store, new OriginHealth(origin, connectTimeout), Duration.ofSeconds(10));
    }

    @Override
    public String check() throws Exception {
        boolean atStart = first.getAndSet(false);
        try {
            return connect();
        } catch (IOException e) {
            if (atStart) {
                log.warn(
                        "the origin {} is unreachable ({}); starting anyway: pages not cached yet get 502 until it is up",
                        origin,
                        e.getMessage());
            }
            throw e;
        }
    }

    private String connect() throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()));
            return "accepts connections on " + host + ":" + port;
        } catch (SocketTimeoutException e) {
            throw new IOException("connect to " + host + ":" + port + " timed out after " + seconds(connectTimeout));
        } catch (ConnectException e) {
            throw new IOException("connection to " + host + ":" + port + " refused");
        } catch (UnknownHostException e) {
            throw new IOException("unknown host " + host);
        }
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() / 1000.0 + " s";
    }
}
