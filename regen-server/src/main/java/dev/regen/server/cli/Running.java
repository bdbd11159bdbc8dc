package dev.regen.server.cli;

import dev.regen.server.RegenServer;
import dev.regen.server.config.ConfigException;
import dev.regen.server.config.ConfigLoader;
import dev.regen.server.config.ServerConfig;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/** Shared by the commands that run a server until SIGTERM or Ctrl-C. */
final class Running {
    private static final Logger log = LoggerFactory.getLogger("regen");

    private Running() {}

    /** A duration as a person writes it: {@code 500 ms}, {@code 90 s}, {@code 5 min}, {@code 2 h}. */
    static String words(java.time.Duration d) {
        if (d.toMillis() % 1000 != 0) {
            return d.toMillis() + " ms";
        }
        long s = d.toSeconds();
        if (s < 120 || s % 60 != 0) {
            return s + " s";
        }
        long m = s / 60;
        return m < 120 || m % 60 != 0 ? m + " min" : m / 60 + " h";
    }

    static ServerConfig load(Path file, ConfigLoader.Overrides overrides) {
        return load(file, overrides, System.getenv());
    }

    static ServerConfig load(Path file, ConfigLoader.Overrides overrides, java.util.Map<String, String> env) {
        try {
            return ConfigLoader.load(file, overrides, env);
        } catch (ConfigException e) {
            throw new Main.UsageError(e.getMessage());
        }
    }

    static RegenServer start(ServerConfig config) {
        try {
            return RegenServer.start(config);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting");
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError(e.getMessage());
        }
    }

    /**
     * Catches SIGTERM and SIGINT from now on, so a signal that arrives while the server is still
     * starting also ends in an orderly stop and exit 0. Call first thing in a command.
     */
    static CountDownLatch trapSignals() {
        CountDownLatch stop = new CountDownLatch(1);
        for (String name : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(name), s -> {
                // first: the stop must happen even if logging fails (a jar replaced under a running JVM)
                stop.countDown();
                log.info("SIG{} received, stopping", name);
            });
        }
        return stop;
    }

    /**
     * Blocks until {@code stop} opens, then closes {@code resources} in order and returns 0: stop
     * accepting, finish what is in flight, close the store (DESIGN.md: exit 0 within 15 s).
     */
    static int untilStopped(CountDownLatch stop, AutoCloseable... resources) {
        try {
            stop.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (AutoCloseable r : resources) {
            try {
                r.close();
            } catch (Exception e) {
                log.warn("while stopping {}", r, e);
            }
        }
        return 0;
    }
}
