package dev.regen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.regen.internal.CachedPage;
import dev.regen.internal.Replay;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The cache decision as a table: one row per rule, the RFC section where one applies. */
class DecisionTest {
    private static final Instant RENDERED = Instant.parse("2026-12-01T10:00:00Z");
    private static final Duration REVALIDATE = Duration.ofSeconds(100);

    /** A page rendered at RENDERED, fresh for 100 s, then servable stale for {@code window}. */
    private static CachedPage page(Duration window, boolean shared, boolean immutable, boolean invalidated) {
        return new CachedPage(
                200,
                List.of(),
                new byte[] {'x'},
                "\"e\"",
                RENDERED,
                REVALIDATE,
                window,
                Set.of(),
                invalidated,
                null,
                new Replay("/p", "http", List.of()),
                shared,
                immutable);
    }

    private static final CachedPage PAGE = page(Duration.ofHours(1), false, false, false);
    private static final CachedPage SHARED = page(Duration.ofHours(1), true, false, false);
    private static final CachedPage IMMUTABLE = page(Duration.ofHours(1), false, true, false);
    private static final CachedPage MARKED = page(Duration.ofHours(1), false, false, true);
    private static final CachedPage MUST_REVALIDATE = page(Duration.ZERO, false, false, false);

    private static Arguments row(
            String rule,
            int ageSeconds,
            CachedPage page,
            boolean varies,
            boolean credentialed,
            boolean range,
            String hitForPass,
            String expected) {
        return Arguments.of(rule, ageSeconds, page, varies, credentialed, range, hitForPass, expected);
    }

    static Stream<Arguments> table() {
        return Stream.of(
                row("RFC 9111 §4.2: fresh, served", 10, PAGE, false, false, false, null, "Fresh[ahead=false]"),
                row(
                        "refresh-ahead: in the last 20 % of the fresh window",
                        85, PAGE, false, false, false, null, "Fresh[ahead=true]"),
                row("refresh-ahead: just before that part", 79, PAGE, false, false, false, null, "Fresh[ahead=false]"),
                row(
                        "RFC 8246: immutable, never stale by age, never refreshed ahead",
                        5000,
                        IMMUTABLE,
                        false,
                        false,
                        false,
                        null,
                        "Fresh[ahead=false]"),
                row(
                        "RFC 5861 §3: stale within stale-while-revalidate, served and refreshed",
                        150,
                        PAGE,
                        false,
                        false,
                        false,
                        null,
                        "Stale"),
                row("soft revalidation: marked stale before its time", 10, MARKED, false, false, false, null, "Stale"),
                row(
                        "RFC 9111 §4.2.4: past the stale window, not served",
                        100 + 3600,
                        PAGE,
                        false,
                        false,
                        false,
                        null,
                        "Render[uri-miss]"),
                row(
                        "RFC 9111 §5.2.2.2: must-revalidate, stale means a render",
                        101,
                        MUST_REVALIDATE,
                        false,
                        false,
                        false,
                        null,
                        "Render[uri-miss]"),
                row("nothing cached", 0, null, false, false, false, null, "Render[uri-miss]"),
                row(
                        "RFC 9111 §4.1: nothing cached for this variant",
                        0,
                        null,
                        true,
                        false,
                        false,
                        null,
                        "Render[vary-miss]"),
                row(
                        "RFC 9111 §3.5: credentials, page not stored for anyone",
                        10,
                        PAGE,
                        false,
                        true,
                        false,
                        null,
                        "Alone[credentials]"),
                row(
                        "RFC 9111 §3.5: credentials, page the origin made public",
                        10,
                        SHARED,
                        false,
                        true,
                        false,
                        null,
                        "Fresh[ahead=false]"),
                row(
                        "RFC 9111 §3.5: credentials, nothing cached",
                        0,
                        null,
                        false,
                        true,
                        false,
                        null,
                        "Alone[credentials]"),
                row(
                        "RFC 9110 §14.2: a range of an uncached page goes to the origin untouched",
                        0,
                        null,
                        false,
                        false,
                        true,
                        null,
                        "Range[uri-miss]"),
                row(
                        "RFC 9110 §14.2: a range of a cached page is served from it",
                        10,
                        PAGE,
                        false,
                        false,
                        true,
                        null,
                        "Fresh[ahead=false]"),
                row(
                        "hit-for-pass: the last answer could not be stored",
                        0,
                        null,
                        false,
                        false,
                        false,
                        "private",
                        "Alone[hit-for-pass]"),
                row(
                        "hit-for-pass does not hide a page cached since",
                        10,
                        PAGE,
                        false,
                        false,
                        false,
                        "private",
                        "Fresh[ahead=false]"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("table")
    void decide(
            String rule,
            int ageSeconds,
            CachedPage page,
            boolean varies,
            boolean credentialed,
            boolean range,
            String hitForPass,
            String expected) {
        Decision d = Decision.of(
                RENDERED.plusSeconds(ageSeconds), page, varies, credentialed, () -> range, () -> hitForPass, 0.2);
        assertThat(describe(d)).as(rule).isEqualTo(expected);
    }

    private static String describe(Decision d) {
        if (d instanceof Decision.Fresh f) {
            return "Fresh[ahead=" + f.refreshAhead() + "]";
        }
        if (d instanceof Decision.Stale) {
            return "Stale";
        }
        if (d instanceof Decision.Alone a) {
            return "Alone[" + a.why() + "]";
        }
        if (d instanceof Decision.Range r) {
            return "Range[" + r.fwd() + "]";
        }
        return "Render[" + ((Decision.Render) d).fwd() + "]";
    }
}
