package dev.regen.server.cli;

import dev.regen.store.embedded.EmbeddedStore;
import java.security.NoSuchAlgorithmException;
import java.util.Set;
import javax.net.ssl.SSLContext;
import org.slf4j.LoggerFactory;

/**
 * The slow first-time set-up of a server, done on a spare core while picocli reads the command line:
 * logging, the TLS context the origin's HTTP client asks for (the trust store), SQLite's native
 * library. About 0.3 s of a cold start that would otherwise be spent one after the other.
 */
final class Preload {
    private static final Set<String> SERVING = Set.of("serve", "demo", "train");

    private Preload() {}

    static void start(String[] args) {
        boolean serving = args.length > 0 && SERVING.contains(args[0]);
        Thread t = new Thread(
                () -> {
                    LoggerFactory.getILoggerFactory();
                    if (serving) {
                        try {
                            SSLContext.getDefault();
                        } catch (NoSuchAlgorithmException e) {
                            // the HTTP client reports it when it is built
                        }
                        EmbeddedStore.preload();
                    }
                },
                "regen-preload");
        t.setDaemon(true);
        t.start();
    }
}
