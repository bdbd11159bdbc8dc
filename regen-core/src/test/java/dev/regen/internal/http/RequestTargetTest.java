package dev.regen.internal.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.regen.QueryPolicy;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class RequestTargetTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(
            delimiter = '|',
            value = {
                "/                       | /",
                "/blog/a                 | /blog/a",
                "/blog/a/                | /blog/a/",
                "//blog///a              | /blog/a",
                "/blog/./a               | /blog/a",
                "/blog/x/../a            | /blog/a",
                "/../../blog/a           | /blog/a",
                "/blog/%61               | /blog/a",
                "/blog/%2e%2e/a          | /a",
                "/blog/%c3%a9            | /blog/%C3%A9",
                "/blog/Ã©                | /blog/%C3%A9",
                "/blog/€                 | /blog/%E2%82%AC",
                "/Blog/A                 | /Blog/A",
                "/a%20b                  | /a%20b",
                "/a b                    | /a%20b",
                "http://evil.example/x?a=1 | /x?a=1",
                "/p#frag                 | /p",
                "/p?utm_source=x&b=2&a=1&fbclid=y&gclid=z | /p?a=1&b=2",
                "/p?b=2&a=1&b=1          | /p?a=1&b=2&b=1",
                "/p?&&a=1&               | /p?a=1",
                "/p?a=%7e                | /p?a=~",
                "/p?UTM_MEDIUM=x&q=1     | /p?q=1",
            })
    void parse_variousSpellings_canonicalForm(String raw, String expected) {
        assertThat(RequestTarget.parse(raw, QueryPolicy.IGNORE_TRACKING).pathAndQuery())
                .isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/a%2Fb", "/a%2fb", "/a%5cb", "/a\\b", "/a%00", "/a%zz", "/a%4", "noslash", "", "/a\u0001"})
    void parse_ambiguousOrMalformed_refused(String raw) {
        assertThatThrownBy(() -> RequestTarget.parse(raw, QueryPolicy.ALL))
                .isInstanceOf(RequestTarget.InvalidTargetException.class);
    }

    @Test
    void parse_queryNone_dropsQuery() {
        assertThat(RequestTarget.parse("/p?a=1", QueryPolicy.NONE).pathAndQuery())
                .isEqualTo("/p");
    }

    @Test
    void parse_allowList_keepsOnlyListed() {
        assertThat(RequestTarget.parse("/p?page=2&sort=x&ref=y", QueryPolicy.allowOnly(List.of("page", "sort")))
                        .pathAndQuery())
                .isEqualTo("/p?page=2&sort=x");
    }

    @Test
    void parse_all_keepsTrackingButSorts() {
        assertThat(RequestTarget.parse("/p?utm_source=x&a=1", QueryPolicy.ALL).pathAndQuery())
                .isEqualTo("/p?a=1&utm_source=x");
    }
}
