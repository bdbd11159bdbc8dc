package dev.regen.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.regen.CacheStatus;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ForwardingTest {
    /** A render whose head the engine answers with {@code head}. */
    private static Forwarding render(Forwarding.Head head) {
        return Forwarding.render("/", List.of(), new Forwarding.Settler() {
            @Override
            public Forwarding.Head head(int status, List<Header> headers) {
                return head;
            }

            @Override
            public CompletableFuture<Void> complete(byte[] body) {
                return CompletableFuture.completedFuture(null);
            }

            @Override
            public void tooLarge() {}

            @Override
            public void failed(Throwable cause, boolean beforeHead) {}

            @Override
            public CompletableFuture<Void> settled() {
                return CompletableFuture.completedFuture(null);
            }
        });
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            nullValues = "-",
            value = {
                "a render, no Vary, no Age | render | - | false"
                        + " | X-Cache-Status: MISS; Cache-Status: c; Vary: Accept-Encoding; Age: 0",
                "a render keeps the origin's Vary and Age | render | Cookie | true"
                        + " | X-Cache-Status: MISS; Cache-Status: c; Vary: Cookie, Accept-Encoding",
                "a pass-through adds only the cache status | pass | Cookie | false"
                        + " | X-Cache-Status: BYPASS; Cache-Status: c",
            })
    void fields_table(String rule, String kind, String vary, boolean hasAge, String expected) {
        Forwarding f = kind.equals("pass")
                ? Forwarding.pass("POST", "/", List.of(), CacheStatus.BYPASS, "c")
                : render(new Forwarding.Head(null, "c", true, 100));
        Forwarding.Head head = f.head(200, List.of());

        List<Header> fields = f.fields(head, vary, hasAge);

        assertThat(String.join(
                        "; ",
                        fields.stream().map(h -> h.name() + ": " + h.value()).toList()))
                .as(rule)
                .isEqualTo(expected);
    }
}
