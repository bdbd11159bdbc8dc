package dev.regen.it.frameworks;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Astro 5 SSR fixture ({@code @astrojs/node}, standalone), straight and through Regen: a cookie page, a
 * form posting to itself under Astro's default {@code checkOrigin}, an absolute redirect built from
 * {@code Astro.url}, and a page varying on {@code Accept-Language}.
 */
@ExtendWith(FrameworkApps.class)
class AstroIT extends SiteTest {
    private static final String CONFIG = "regen-astro.yaml";
    private static AstroApp app;

    @BeforeAll
    static void app(AstroApp astro) {
        app = astro;
    }

    private String base(Via via) {
        return base(via, app.url(), CONFIG);
    }

    /** Issue 11, item 1: through Regen, {@code /me} said "Hi guest" to alice. */
    @DirectAndThroughRegen
    void loggedInUser_seesOwnPageAndKeepsSession_othersNever(Via via) {
        String base = base(via);
        assertThat(Http.get(base + "/me").body())
                .as("another visitor, before alice")
                .contains("Hi guest");

        Browser alice = browser();
        alice.get(base + "/me");
        alice.awaitText("#greeting", "Hi guest");
        alice.setCookie("user", "alice");
        alice.get(base + "/me");
        alice.awaitText("#greeting", "Hi alice");
        alice.click("#settings");
        alice.awaitText("#greeting", "Settings of alice");
        alice.click("#me");
        alice.awaitText("#greeting", "Hi alice");

        assertThat(Http.get(base + "/me").body())
                .as("another visitor, after alice")
                .contains("Hi guest")
                .doesNotContain("alice");
        assertThat(Http.get(base + "/me/settings").body())
                .as("another visitor, after alice")
                .contains("Settings of guest")
                .doesNotContain("alice");
        Browser bob = browser();
        bob.get(base + "/me");
        bob.awaitText("#greeting", "Hi guest");
    }

    /** Issue 11, item 3: through Regen, Astro answered 403 "Cross-site POST form submissions are forbidden". */
    @DirectAndThroughRegen
    void formPostToItself_works(Via via) {
        String base = base(via);
        Browser visitor = browser();
        visitor.get(base + "/form");
        visitor.type("#name", "carol");
        visitor.click("#send");
        visitor.awaitTextMatches("#result", "Thanks, carol \\(submission \\d+\\)");
        assertThat(visitor.currentUrl()).isEqualTo(base + "/form");
    }

    /** Issue 11, item 5: the Location was {@code http://127.0.0.1:<astro port>/target}. */
    @DirectAndThroughRegen
    void absoluteRedirect_pointsAtThePublicHost(Via via) {
        assertAbsoluteRedirectStaysOn(base(via));
    }

    /** Issue 11, item 4: a French visitor got English. */
    @DirectAndThroughRegen
    void varyAcceptLanguage_eachVisitorGetsItsLanguage_fromCacheTheSecondTime(Via via) {
        String base = base(via);
        for (int round = 1; round <= 2; round++) {
            HttpResponse<String> french = Http.get(base + "/lang", "Accept-Language", "fr-CA,fr;q=0.9,en;q=0.5");
            HttpResponse<String> english = Http.get(base + "/lang", "Accept-Language", "en-US,en;q=0.9");
            assertThat(french.body())
                    .as("French visitor, round " + round)
                    .contains(">Bonjour<")
                    .doesNotContain(">Hello<");
            assertThat(english.body())
                    .as("English visitor, round " + round)
                    .contains(">Hello<")
                    .doesNotContain(">Bonjour<");
            if (round == 2 && via == Via.REGEN) {
                assertThat(Http.cacheStatus(french)).as("French, second round").isEqualTo("HIT");
                assertThat(Http.cacheStatus(english))
                        .as("English, second round")
                        .isEqualTo("HIT");
            }
        }
    }
}
