package dev.regen.internal.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CookieRulesTest {

    @ParameterizedTest(name = "RFC 9111 §3.5 applied to cookies: Cookie ''{0}'' credentialed: {1}")
    @CsvSource(
            delimiter = '|',
            value = {
                "sid=alice | true",
                "_ga=GA1.1.1 | false",
                "_ga=GA1.1.1; _ga_ABC=GS1; _gid=x; _gcl_au=1; _fbp=fb.1 | false",
                "_ga=GA1; sid=alice | true",
                "OptanonConsent=x; euconsent-v2=y; cookieconsent_status=dismiss | false",
                "theme=dark | true",
            })
    void anyKept_table(String cookie, boolean credentialed) {
        assertThat(CookieRules.DEFAULT.anyKept(List.of(cookie))).isEqualTo(credentialed);
    }

    @Test
    void stripped_keepsTheSessionDropsAnalytics_orNothingAtAll() {
        assertThat(CookieRules.DEFAULT.stripped(List.of("_ga=1; sid=alice; _gid=2", "theme=dark")))
                .isEqualTo("sid=alice; theme=dark");
        assertThat(CookieRules.DEFAULT.stripped(List.of("_ga=1; _gid=2"))).isNull();
    }

    @Test
    void patterns_nameOrPrefixOnly() {
        assertThat(new CookieRules(List.of("tracker*")).ignored("tracker_id")).isTrue();
        assertThat(new CookieRules(List.of("tracker*")).ignored("session")).isFalse();
        assertThatThrownBy(() -> new CookieRules(List.of("*bad"))).hasMessageContaining("prefix ending in *");
    }
}
