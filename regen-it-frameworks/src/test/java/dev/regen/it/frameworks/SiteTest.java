package dev.regen.it.frameworks;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every scenario class shares: the base URL of a run (the app's own, or Regen's in front of it),
 * visitors (each a fresh Chromium profile), and closing them all after each test.
 */
abstract class SiteTest {
    private final Deque<AutoCloseable> open = new ArrayDeque<>();
    private RegenFront regen;

    @TempDir
    Path tmp;

    /**
     * The base URL a run talks to: {@code appUrl} itself, or a Regen started with {@code config} in front of
     * it (closed after the test).
     */
    String base(Via via, String appUrl, String config) {
        if (via == Via.DIRECT) {
            return appUrl;
        }
        regen = track(RegenFront.start(config, appUrl));
        return regen.url();
    }

    /** The Regen of this run; only for {@link Via#REGEN}. */
    RegenFront regen() {
        if (regen == null) {
            throw new IllegalStateException("no Regen in this run: it goes straight to the app");
        }
        return regen;
    }

    /** A new visitor: Chromium with a fresh profile. */
    Browser browser() {
        try {
            return track(Browser.open(Files.createTempDirectory(tmp, "profile")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The app's {@code /go} answers a 302 to its {@code /target}, with an absolute {@code Location} built from
     * the address it believes it was reached on: a visitor must land on {@code base}, never on the app's own
     * address (issue 11, item 5). Regen rewrites it to the path alone, which keeps the visitor's host and
     * scheme whichever it was cached under.
     */
    void assertAbsoluteRedirectStaysOn(String base) {
        HttpResponse<String> r = Http.get(base + "/go");
        assertThat(r.statusCode()).isEqualTo(302);
        assertThat(URI.create(base + "/go").resolve(Http.header(r, "location")).toString())
                .isEqualTo(base + "/target");

        Browser visitor = browser();
        visitor.get(base + "/go");
        visitor.awaitText("#target", "target");
        assertThat(visitor.currentUrl()).isEqualTo(base + "/target");
    }

    /** Closes {@code resource} after the test (last opened, first closed). */
    <T extends AutoCloseable> T track(T resource) {
        open.push(resource);
        return resource;
    }

    @AfterEach
    void closeAll() throws Exception {
        Exception first = null;
        while (!open.isEmpty()) {
            try {
                open.pop().close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        regen = null;
        if (first != null) {
            throw first;
        }
    }
}
