package dev.regen.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.regen.CacheStatus;
import dev.regen.internal.CachedPage;
import dev.regen.internal.Header;
import dev.regen.internal.OriginResponse;
import dev.regen.internal.Replay;
import dev.regen.internal.Reply;
import dev.regen.internal.RequestHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ResponsePlanTest {
    private static final Instant RENDERED = Instant.parse("2026-01-01T00:00:00Z");
    private static final String MODIFIED = "Thu, 01 Jan 2026 00:00:00 GMT";
    private static final CachedPage PAGE = page(List.of(
            new Header("Content-Type", "text/html"),
            new Header("Vary", "Cookie"),
            new Header("Last-Modified", MODIFIED),
            new Header("Cache-Control", "public")));
    private static final Reply.Page HIT = new Reply.Page(PAGE, CacheStatus.HIT, RENDERED.plusSeconds(7), false);

    private static CachedPage page(List<Header> headers) {
        byte[] body = ("<p>" + "x".repeat(997)).getBytes(StandardCharsets.UTF_8);
        return new CachedPage(
                200,
                headers,
                body,
                "\"v1\"",
                RENDERED,
                Duration.ofSeconds(60),
                null,
                Set.of(),
                false,
                Replay.of("/"),
                false,
                false);
    }

    private static RequestHeaders request(String... nameValue) {
        List<Header> h = new ArrayList<>();
        for (int i = 0; i < nameValue.length; i += 2) {
            if (nameValue[i + 1] != null) {
                h.add(new Header(nameValue[i], nameValue[i + 1]));
            }
        }
        return RequestHeaders.of(h);
    }

    /** status, Content-Encoding, ETag, and which bytes: body, gzip, offset+length, or none. */
    private static String summary(ResponsePlan plan) {
        String bytes;
        if (plan.contentLength() < 0) {
            bytes = "none";
        } else if (plan.body() == PAGE.body() && plan.contentLength() == PAGE.body().length) {
            bytes = "body";
        } else if (plan.body() == PAGE.gzipBody()) {
            bytes = "gzip";
        } else {
            bytes = plan.offset() + "+" + plan.contentLength();
        }
        return plan.status() + " " + field(plan, "Content-Encoding") + " " + field(plan, "ETag") + " " + bytes;
    }

    private static String field(ResponsePlan plan, String name) {
        String v = HttpFields.first(plan.fields(), name);
        return v == null ? "-" : v;
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = ';',
            nullValues = "-",
            value = {
                "plain GET: the whole identity page; GET; -; -; -; -; -; 200 - \"v1\" body",
                "RFC 9110 §12.5.3 gzip variant when accepted; GET; gzip, br; -; -; -; -; 200 gzip \"v1-gzip\" gzip",
                "RFC 9110 §12.5.3 identity when gzip is not accepted; GET; br; -; -; -; -; 200 - \"v1\" body",
                "RFC 9110 §13.1.2 If-None-Match matches: 304; GET; -; \"v1\"; -; -; -; 304 - \"v1\" none",
                "RFC 9110 §13.1.2 weak comparison; HEAD; -; W/\"v1\", \"v0\"; -; -; -; 304 - \"v1\" none",
                "RFC 9110 §13.1.2 the gzip variant's own tag; GET; gzip; \"v1-gzip\"; -; -; -; 304 - \"v1-gzip\" none",
                "RFC 9110 §13.1.2 the identity tag does not validate gzip; GET; gzip; \"v1\"; -; -; -; 200 gzip \"v1-gzip\" gzip",
                "RFC 9110 §13.1.3 If-Modified-Since at Last-Modified: 304; GET; -; -; " + MODIFIED
                        + "; -; -; 304 - \"v1\" none",
                "RFC 9110 §13.1.3 modified since: 200; GET; -; -; Wed, 31 Dec 2025 00:00:00 GMT; -; -; 200 - \"v1\" body",
                "RFC 9110 §13.2.2 If-None-Match decides over If-Modified-Since; GET; -; \"v0\"; " + MODIFIED
                        + "; -; -; 200 - \"v1\" body",
                "RFC 9110 §14 one range of the identity body; GET; gzip; -; -; bytes=3-12; -; 206 - \"v1\" 3+10",
                "RFC 9110 §15.5.17 unsatisfiable range: 416; GET; -; -; -; bytes=5000-; -; 416 - - 0+0",
                "RFC 9110 §13.1.5 If-Range that no longer matches: all of it; GET; -; -; -; bytes=0-1; \"v0\"; 200 - \"v1\" body",
                "RFC 9110 §14.2 Range only on GET; HEAD; -; -; -; bytes=0-1; -; 200 - \"v1\" body",
                "RFC 9110 §13.2.2 a matching validator before Range; GET; -; \"v1\"; -; bytes=0-1; -; 304 - \"v1\" none",
            })
    void page_table(
            String rule,
            String method,
            String acceptEncoding,
            String ifNoneMatch,
            String ifModifiedSince,
            String range,
            String ifRange,
            String expected) {
        ResponsePlan plan = ResponsePlan.page(
                HIT,
                method,
                request(
                        "Accept-Encoding", acceptEncoding,
                        "If-None-Match", ifNoneMatch,
                        "If-Modified-Since", ifModifiedSince,
                        "Range", range,
                        "If-Range", ifRange));
        assertThat(summary(plan)).as(rule).isEqualTo(expected);
    }

    @Test
    void page_whole_fixedFieldsThenStamp_varyNamesAcceptEncoding() {
        ResponsePlan plan = ResponsePlan.page(HIT, "GET", request("Accept-Encoding", "gzip"));

        assertThat(plan.wholePage()).isTrue();
        assertThat(plan.gzip()).isTrue();
        assertThat(plan.fields())
                .containsExactly(
                        new Header("Content-Type", "text/html"),
                        new Header("Vary", "Cookie, Accept-Encoding"),
                        new Header("Last-Modified", MODIFIED),
                        new Header("Cache-Control", "public"),
                        new Header("Content-Encoding", "gzip"),
                        new Header("ETag", "\"v1-gzip\""),
                        new Header("Age", "7"),
                        new Header("X-Cache-Status", "HIT"),
                        new Header("Cache-Status", "regen; hit; ttl=53"));
    }

    @Test
    void page_notModified_keepsOnlyWhatRfc9110Section15_4_5Names() {
        ResponsePlan plan = ResponsePlan.page(HIT, "GET", request("If-None-Match", "\"v1\""));

        assertThat(plan.wholePage()).isFalse();
        assertThat(names(plan)).isEqualTo("Vary, Cache-Control, ETag, Age, X-Cache-Status, Cache-Status");
    }

    @Test
    void page_partial_identityFieldsWithContentRange() {
        ResponsePlan plan = ResponsePlan.page(HIT, "GET", request("Range", "bytes=-4"));

        assertThat(field(plan, "Content-Range")).isEqualTo("bytes 996-999/1000");
        assertThat(field(plan, "Accept-Ranges")).isEqualTo("bytes");
        assertThat(field(plan, "Content-Type")).isEqualTo("text/html");
        assertThat(field(plan, "Cache-Status")).isEqualTo("regen; hit; ttl=53");
    }

    @Test
    void pageFields_valueWithCrOrLf_dropped() {
        CachedPage page = page(List.of(new Header("X-Bad", "a\r\nSet-Cookie: x=1"), new Header("X-Ok", "b")));

        assertThat(ResponsePlan.pageFields(page, false))
                .extracting(Header::name)
                .containsExactly("X-Ok", "ETag");
    }

    @Test
    void rendered_codingTheClientRefuses_decodedAndMarkedMiss() throws Exception {
        byte[] gz = Compression.gzipIfUseful(List.of(new Header("Content-Type", "text/html")), PAGE.body());
        OriginResponse r = new OriginResponse(
                503,
                List.of(
                        new Header("Content-Encoding", "gzip"),
                        new Header("Content-Length", "12"),
                        new Header("X-Cache-Status", "HIT")),
                gz);

        ResponsePlan plain = ResponsePlan.rendered(r, "regen; fwd=uri-miss; stored=false", "identity");
        assertThat(plain.status()).isEqualTo(503);
        assertThat(new String(plain.body(), StandardCharsets.UTF_8))
                .isEqualTo(new String(PAGE.body(), StandardCharsets.UTF_8));
        assertThat(names(plain)).isEqualTo("X-Cache-Status, Cache-Status");
        assertThat(field(plain, "X-Cache-Status")).isEqualTo("MISS");

        ResponsePlan asIs = ResponsePlan.rendered(r, "regen; fwd=uri-miss; stored=false", "gzip");
        assertThat(asIs.body()).isSameAs(gz);
        assertThat(field(asIs, "Content-Encoding")).isEqualTo("gzip");
    }

    @Test
    void rendered_undecodable_is502_bodiless_hasNoLength() {
        OriginResponse broken =
                new OriginResponse(200, List.of(new Header("Content-Encoding", "gzip")), new byte[] {1, 2, 3});
        assertThat(ResponsePlan.rendered(broken, "x", null).status()).isEqualTo(502);

        OriginResponse noContent = new OriginResponse(204, List.of(), new byte[0]);
        assertThat(ResponsePlan.rendered(noContent, "x", null).contentLength()).isEqualTo(-1);
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(
            delimiter = '|',
            nullValues = "-",
            value = {
                "400 | Bad request | BYPASS | regen; fwd=bypass | -",
                "405 | Method not allowed | BYPASS | regen; fwd=bypass | Allow",
                "502 | Bad gateway | MISS | regen; fwd=uri-miss; stored=false | -",
                "503 | Service unavailable | BYPASS | regen; fwd=bypass | Retry-After",
                "504 | Gateway timeout | MISS | regen; fwd=uri-miss; stored=false | -",
            })
    void error_table(int status, String title, String xCacheStatus, String cacheStatus, String extra) {
        ResponsePlan plan = ResponsePlan.error(status, "why <here>");

        String html = new String(plan.body(), StandardCharsets.UTF_8);
        assertThat(plan.status()).isEqualTo(status);
        assertThat(html).contains("<h1>" + status + " " + title + "</h1>").contains("why &lt;here&gt;");
        assertThat(plan.contentLength()).isEqualTo(plan.body().length);
        assertThat(field(plan, "Cache-Control")).isEqualTo("no-store");
        assertThat(field(plan, "X-Cache-Status")).isEqualTo(xCacheStatus);
        assertThat(field(plan, "Cache-Status")).isEqualTo(cacheStatus);
        // a cached copy would have saved only a failed render, not a refused request
        assertThat(html.contains("no cached copy")).isEqualTo(xCacheStatus.equals("MISS"));
        if (extra != null) {
            assertThat(field(plan, extra)).isNotEqualTo("-");
        }
    }

    private static String names(ResponsePlan plan) {
        return plan.fields().stream().map(Header::name).collect(Collectors.joining(", "));
    }
}
