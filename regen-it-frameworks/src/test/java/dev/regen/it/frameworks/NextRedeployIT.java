package dev.regen.it.frameworks;

import static dev.regen.it.frameworks.NextPages.awaitHydrated;
import static dev.regen.it.frameworks.NextPages.awaitInteractive;
import static org.assertj.core.api.Assertions.assertThat;

import dev.regen.testing.Ports;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;

/**
 * Issue 11, item 6 (deploys): a Next.js app redeployed behind Regen keeps hydrating. v1 runs, visitors
 * browse it (its HTML and its hashed chunks under {@code /_next/static/} get cached); v1 stops and v2 starts
 * on the same port, and its chunks have other names; the deploy command marks every page stale. Pages
 * still served from v1's HTML must find v1's chunks, and once re-rendered they are v2.
 */
class NextRedeployIT extends SiteTest {
    private static final List<String> PAGES = List.of("/nav/1", "/nav/2");

    @BeforeAll
    static void builds() {
        NextApp.build(NextApp.V1);
        NextApp.build(NextApp.V2);
    }

    @DirectAndThroughRegen
    void redeployedApp_keepsHydratingAfterTheDeployCommand(Via via) {
        int port = Ports.freePort();
        NextApp v1 = track(NextApp.start(NextApp.V1, port));
        String base = base(via, v1.url(), NextIT.CONFIG);

        Browser before = browser();
        for (String page : PAGES) {
            before.get(base + page);
            assertThat(awaitHydrated(before)).isEqualTo(NextApp.V1);
        }
        List<String> v1Chunks = before.exchanges().stream()
                .map(Browser.Exchange::url)
                .filter(u -> u.startsWith(base + "/_next/static/"))
                .distinct()
                .toList();
        assertThat(v1Chunks).as("v1's chunks").isNotEmpty();
        if (via == Via.REGEN) {
            for (String page : PAGES) {
                assertThat(Http.cacheStatus(Http.get(base + page, "Accept", "text/html")))
                        .as(page)
                        .isEqualTo("HIT");
            }
            for (String chunk : v1Chunks) {
                assertThat(Http.cacheStatus(Http.get(chunk))).as(chunk).isEqualTo("HIT");
            }
        }

        v1.close();
        NextApp v2 = track(NextApp.start(NextApp.V2, port));
        assertThat(v2.port()).isEqualTo(port);
        if (via == Via.REGEN) {
            assertThat(regen().deployCommand())
                    .as("exit code of regen revalidate --path '/**'")
                    .isZero();
        }

        // right after the deploy, each page once: through Regen it may still be v1's HTML, which must hydrate
        for (String page : PAGES) {
            Browser visitor = browser();
            visitor.get(base + page);
            awaitHydrated(visitor);
            awaitInteractive(visitor);
            assertThat(chunkErrors(visitor))
                    .as("console errors about chunks on " + page)
                    .isEmpty();
            if (via == Via.REGEN) {
                // the background renders run before the next page is visited: they must not evict v1's chunks
                regen().awaitIdle();
            }
        }
        if (via == Via.REGEN) {
            for (String chunk : v1Chunks) {
                HttpResponse<String> r = Http.get(chunk);
                assertThat(r.statusCode())
                        .as("v1's " + chunk + " after the deploy")
                        .isEqualTo(200);
            }
        }

        // after the background renders: v2, hydrated by v2's chunks
        for (String page : PAGES) {
            Browser visitor = browser();
            visitor.get(base + page);
            visitor.awaitText("#version", "build " + NextApp.V2);
            assertThat(awaitHydrated(visitor)).isEqualTo(NextApp.V2);
            awaitInteractive(visitor);
            assertThat(chunkErrors(visitor))
                    .as("console errors about chunks on " + page)
                    .isEmpty();
        }
    }

    private static List<String> chunkErrors(Browser b) {
        return b.consoleErrors().stream()
                .filter(m ->
                        m.contains("/_next/static/") || m.contains("ChunkLoadError") || m.contains("Loading chunk"))
                .toList();
    }
}
