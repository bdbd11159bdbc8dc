package dev.regen.it.frameworks;

import static dev.regen.it.frameworks.NextPages.awaitHydrated;
import static org.assertj.core.api.Assertions.assertThat;

import dev.regen.it.frameworks.Browser.Exchange;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Next.js 16 App Router fixture (v1), straight and through Regen: {@code <Link>} navigation and
 * prefetching (React Server Components requests), {@code cookies()} and {@code headers()} pages, and a
 * Server Action.
 */
@ExtendWith(FrameworkApps.class)
class NextIT extends SiteTest {
    static final String CONFIG = "regen-next.yaml";
    private static final String SAME_DOCUMENT = "same document";
    /** Each step: the link clicked and the title it leads to. /nav/3 is reached from five different pages. */
    private static final List<String[]> WALK = List.of(
            new String[] {"#to-1", "Page 1"},
            new String[] {"#to-3", "Page 3"},
            new String[] {"#prev", "Page 2"},
            new String[] {"#to-3", "Page 3"},
            new String[] {"#next", "Page 4"},
            new String[] {"#prev", "Page 3"},
            new String[] {"#to-5", "Page 5"},
            new String[] {"#to-3", "Page 3"},
            new String[] {"#home", "Home"},
            new String[] {"#to-3", "Page 3"});
    /** What a replayed RSC request carries of the browser's: what Next keys and validates {@code _rsc} on. */
    private static final List<String> RSC_REQUEST_HEADERS = List.of(
            "accept",
            "accept-language",
            "user-agent",
            "rsc",
            "next-router-state-tree",
            "next-router-prefetch",
            "next-router-segment-prefetch",
            "next-url");
    /** What Next's responses name in {@code Vary}: two RSC requests alike in these get the same answer. */
    private static final List<String> RSC_VARY =
            List.of("rsc", "next-router-state-tree", "next-router-prefetch", "next-router-segment-prefetch");
    /** One HTML entry, and RSC variants: the navigation payload, the route-tree and page-segment prefetches. */
    private static final int MAX_ENTRIES_PER_PAGE = 4;

    private static NextApp app;

    @BeforeAll
    static void app(NextApp next) {
        app = next;
    }

    private String base(Via via) {
        return base(via, app.url(), CONFIG);
    }

    /** Issue 11, item 1: through Regen, {@code cookies()} pages said "Hello anonymous" to everyone. */
    @DirectAndThroughRegen
    void loggedInUser_seesOwnPageAndKeepsSession_othersNever(Via via) {
        String base = base(via);
        assertAnonymous(Http.get(base + "/hello"), "another visitor, before alice");

        Browser alice = browser();
        alice.get(base + "/hello");
        alice.awaitText("#greeting", "Hello anonymous");
        alice.setCookie("user", "alice");
        alice.get(base + "/hello");
        alice.awaitText("#greeting", "Hello alice");
        awaitHydrated(alice);
        alice.click("#profile");
        alice.awaitText("#greeting", "Profile of alice");
        alice.click("#hello");
        alice.awaitText("#greeting", "Hello alice");

        assertAnonymous(Http.get(base + "/hello"), "another visitor, after alice");
        assertAnonymous(Http.get(base + "/hello/profile"), "another visitor, after alice");
        Browser bob = browser();
        bob.get(base + "/hello/profile");
        bob.awaitText("#greeting", "Profile of anonymous");
    }

    private static void assertAnonymous(HttpResponse<String> r, String who) {
        assertThat(r.statusCode()).as(who).isEqualTo(200);
        assertThat(r.body()).as(who).contains("anonymous").doesNotContain("alice");
    }

    /** Issue 11, item 1: through Regen, {@code headers()} pages saw {@code User-Agent: Regen/0.1}. */
    @DirectAndThroughRegen
    void headersPage_seesTheVisitorsUserAgent(Via via) {
        String base = base(via);
        HttpResponse<String> r = Http.get(base + "/ua", "User-Agent", "RegenIT-Visitor/1.0");
        assertThat(r.body()).contains(">RegenIT-Visitor/1.0<");

        Browser visitor = browser();
        visitor.get(base + "/ua");
        assertThat(visitor.text("#ua")).contains("HeadlessChrome/");
    }

    /**
     * Issue 11, item 2: through Regen every {@code <Link>} click was a full reload, because RSC requests were
     * answered with HTML; and every {@code _rsc} value made an entry of its own.
     */
    @DirectAndThroughRegen
    void linkNavigation_isSoft_answeredWithRsc_andServedFromCache(Via via) {
        String base = base(via);
        SoftAssertions soft = new SoftAssertions();

        Browser first = browser();
        Walk walk = walk(first, base);
        soft.assertThat(walk.fullLoads)
                .as("full page loads after the first, over %d clicks", WALK.size())
                .isZero();
        soft.assertThat(walk.counter)
                .as("the client component's state at the end of the walk")
                .startsWith("clicked 2 ");
        List<Exchange> rsc = first.exchanges().stream().filter(Exchange::isRsc).toList();
        soft.assertThat(rsc).as("RSC requests made by the router").isNotEmpty();
        soft.assertThat(rsc).as("RSC requests that were prefetches").anyMatch(Exchange::isPrefetch);
        assertRscAnswers(soft, rsc, "first visitor");
        assertHtmlAnswers(soft, first.exchanges(), "first visitor");

        if (via == Via.REGEN) {
            regen().awaitIdle();
        }
        // the same requests again, from a plain client: still RSC, and from Regen's cache
        List<String> notRscAgain = new ArrayList<>();
        List<String> notFromCache = new ArrayList<>();
        for (Map<String, String> request : distinct(rsc)) {
            List<String> headers = new ArrayList<>();
            request.forEach((name, value) -> {
                if (!name.equals("url")) {
                    headers.add(name);
                    headers.add(value);
                }
            });
            HttpResponse<String> again = Http.get(request.get("url"), headers.toArray(String[]::new));
            String answer = request + " -> " + again.statusCode() + " " + Http.header(again, "content-type") + " "
                    + Http.cacheStatus(again);
            String type = String.valueOf(Http.header(again, "content-type"));
            if (again.statusCode() != 200 || !type.startsWith("text/x-component")) {
                notRscAgain.add(answer);
            }
            if (via == Via.REGEN && !Http.cacheStatus(again).equals("HIT")) {
                notFromCache.add(answer);
            }
        }
        soft.assertThat(notRscAgain)
                .as("replayed RSC requests not answered 200 text/x-component")
                .isEmpty();
        soft.assertThat(notFromCache)
                .as("replayed RSC requests not served from cache")
                .isEmpty();

        // a second visitor walking the same way: soft too, and what the first one asked for comes from cache
        Browser second = browser();
        Walk again = walk(second, base);
        soft.assertThat(again.fullLoads)
                .as("second visitor: full page loads after the first")
                .isZero();
        List<Exchange> rscAgain =
                second.exchanges().stream().filter(Exchange::isRsc).toList();
        assertRscAnswers(soft, rscAgain, "second visitor");
        if (via == Via.REGEN) {
            Set<Map<String, String>> seen = rsc.stream().map(NextIT::varyKey).collect(Collectors.toSet());
            List<Exchange> repeated =
                    rscAgain.stream().filter(e -> seen.contains(varyKey(e))).toList();
            soft.assertThat(repeated)
                    .as("second visitor's RSC requests that the first visitor made too")
                    .isNotEmpty();
            soft.assertThat(repeated.stream()
                            .filter(e -> !"HIT".equals(e.responseHeader("x-cache-status")))
                            .map(Exchange::toString))
                    .as("second visitor's repeated RSC requests not served from cache")
                    .isEmpty();

            // _rsc values do not multiply entries: /nav/3 was reached from five pages, by two visitors
            HttpResponse<String> html = Http.get(base + "/nav/3", "Accept", "text/html");
            soft.assertThat(Http.header(html, "content-type"))
                    .as("/nav/3 as HTML")
                    .startsWith("text/html");
            regen().awaitIdle();
            for (int page = 1; page <= 5; page++) {
                String path = "/nav/" + page;
                List<String> entries = regen().entries(path).stream()
                        .map(e -> e.path("path").asText())
                        .filter(p -> p.equals(path) || p.startsWith(path + "?"))
                        .toList();
                soft.assertThat(entries)
                        .as("cached entries of %s", path)
                        .hasSizeLessThanOrEqualTo(MAX_ENTRIES_PER_PAGE);
                if (page == 3) {
                    soft.assertThat(entries)
                            .as("cached entries of /nav/3: its HTML and its RSC payload")
                            .hasSizeGreaterThanOrEqualTo(2);
                }
            }
        }
        soft.assertAll();
    }

    private record Walk(int fullLoads, String counter) {}

    /** Loads the home page, clicks the counter twice, then follows {@link #WALK}, counting full page loads. */
    private static Walk walk(Browser b, String base) {
        b.get(base + "/");
        awaitHydrated(b);
        b.js("window.regenWalk = arguments[0];", SAME_DOCUMENT);
        b.click("#counter");
        b.click("#counter");
        b.awaitTextMatches("#counter", "clicked 2 .*");
        int fullLoads = 0;
        for (String[] step : WALK) {
            b.click(step[0]);
            b.awaitText("#title", step[1]);
            awaitHydrated(b);
            if (!SAME_DOCUMENT.equals(b.js("return window.regenWalk;"))) {
                fullLoads++;
                b.js("window.regenWalk = arguments[0];", SAME_DOCUMENT);
            }
        }
        return new Walk(fullLoads, b.text("#counter"));
    }

    private static void assertRscAnswers(SoftAssertions soft, List<Exchange> rsc, String who) {
        soft.assertThat(rsc.stream()
                        .filter(e -> !e.mimeType().equals("text/x-component"))
                        .map(Exchange::toString))
                .as("%s: RSC requests not answered text/x-component", who)
                .isEmpty();
    }

    /** Page loads (not RSC) get HTML, never an RSC payload. */
    private static void assertHtmlAnswers(SoftAssertions soft, List<Exchange> all, String who) {
        List<Exchange> documents = all.stream()
                .filter(e -> !e.isRsc()
                        && e.method().equals("GET")
                        && String.valueOf(e.requestHeader("accept")).startsWith("text/html"))
                .toList();
        soft.assertThat(documents).as("%s: page loads", who).isNotEmpty();
        soft.assertThat(documents.stream()
                        .filter(e -> !e.mimeType().equals("text/html"))
                        .map(Exchange::toString))
                .as("%s: page loads not answered text/html", who)
                .isEmpty();
    }

    /** An RSC request as a plain client replays it: its URL and the headers Next reads. */
    private static List<Map<String, String>> distinct(List<Exchange> rsc) {
        Set<Map<String, String>> out = new LinkedHashSet<>();
        for (Exchange e : rsc) {
            Map<String, String> r = new LinkedHashMap<>();
            r.put("url", e.url());
            for (String h : RSC_REQUEST_HEADERS) {
                if (e.requestHeader(h) != null) {
                    r.put(h, e.requestHeader(h));
                }
            }
            out.add(r);
        }
        return List.copyOf(out);
    }

    /** The URL without {@code _rsc} and the request headers Next's {@code Vary} names. */
    private static Map<String, String> varyKey(Exchange e) {
        Map<String, String> key = new LinkedHashMap<>();
        key.put("url", e.url().replaceAll("[?&]_rsc=[^&]*", ""));
        for (String h : RSC_VARY) {
            key.put(h, String.valueOf(e.requestHeader(h)));
        }
        return key;
    }

    /** Issue 11, item 3: through Regen, Next answered 500 "Invalid Server Actions request". */
    @DirectAndThroughRegen
    void serverAction_updatesTheCounter(Via via) {
        String base = base(via);
        Browser visitor = browser();
        visitor.get(base + "/action");
        awaitHydrated(visitor);
        int before = Integer.parseInt(visitor.text("#count").replace("count ", ""));
        visitor.click("#increment");
        visitor.awaitText("#count", "count " + (before + 1));
        visitor.click("#increment");
        visitor.awaitText("#count", "count " + (before + 2));

        Browser other = browser();
        other.get(base + "/action");
        other.awaitText("#count", "count " + (before + 2));
    }
}
