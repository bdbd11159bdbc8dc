package dev.regen.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class VaryTest {

    @ParameterizedTest(name = "{0}: Vary {1} -> {2}")
    @CsvSource(
            delimiter = '|',
            value = {
                "RFC 9111 §4.1 names are case-insensitive, sorted, deduplicated | Accept-Language, accept, ACCEPT | [accept, accept-language]",
                "RFC 9111 §4.1 Vary: * matches nothing | Accept, * | [*]",
                "Accept-Encoding is Regen's own | Accept-Encoding, Cookie | [cookie]",
                "empty | '' | []",
            })
    void names_table(String rule, String vary, String expected) {
        assertThat(Vary.names(List.of(vary)).toString()).as(rule).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0}: {1}={2} ~ {3}")
    @CsvSource(
            delimiter = '|',
            value = {
                "RFC 9111 §4.1 whitespace between elements is not significant | accept-language | fr-FR, fr;q=0.9 | fr-fr,fr;q=0.9 | true",
                "RFC 9110 §12.5.4 language tags compare case-insensitively | accept-language | FR | fr | true",
                "different languages are different variants | accept-language | fr | en | false",
                "RSC values compare exactly | rsc | 1 | 1 | true",
                "a present value never matches an absent one | rsc | 1 | | false",
                "Vary: Cookie keys on kept cookies only, in any order | cookie | theme=dark; _ga=1 | _gid=2; theme=dark | true",
                "Vary: Cookie with different kept cookies | cookie | theme=dark | theme=light | false",
            })
    void id_table(String rule, String name, String a, String b, boolean same) {
        String idA = Vary.id(List.of(name), Set.of(), n -> a == null ? List.of() : List.of(a), CookieRules.DEFAULT);
        String idB = Vary.id(List.of(name), Set.of(), n -> b == null ? List.of() : List.of(b), CookieRules.DEFAULT);
        assertThat(idA.equals(idB)).as(rule).isEqualTo(same);
    }

    @Test
    void id_unkeyedFieldsDoNotSplitVariants() {
        List<String> names = List.of("next-router-state-tree", "rsc");
        Map<String, String> fromA = Map.of("rsc", "1", "next-router-state-tree", "a");
        Map<String, String> fromB = Map.of("rsc", "1", "next-router-state-tree", "b");
        Set<String> unkeyed = Set.of("next-router-state-tree");
        assertThat(Vary.id(names, unkeyed, n -> List.of(fromA.get(n)), CookieRules.DEFAULT))
                .isEqualTo(Vary.id(names, unkeyed, n -> List.of(fromB.get(n)), CookieRules.DEFAULT));
        assertThat(Vary.id(names, Set.of(), n -> List.of(fromA.get(n)), CookieRules.DEFAULT))
                .isNotEqualTo(Vary.id(names, Set.of(), n -> List.of(fromB.get(n)), CookieRules.DEFAULT));
    }
}
