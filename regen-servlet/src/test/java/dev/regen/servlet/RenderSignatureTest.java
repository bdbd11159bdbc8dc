package dev.regen.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.regen.testing.FakeClock;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class RenderSignatureTest {
    private final FakeClock clock = new FakeClock();
    private final RenderSignature signature = new RenderSignature(key(1), clock);

    private static byte[] key(int fill) {
        byte[] k = new byte[32];
        Arrays.fill(k, (byte) fill);
        return k;
    }

    @Test
    void verify_ownSignature_accepted() {
        String header = signature.sign("GET", "/blog/a?x=1");
        assertThat(signature.verify(header, "GET", "/blog/a?x=1")).isTrue();
    }

    @Test
    void verify_withinWindowEitherWay_accepted() {
        String header = signature.sign("GET", "/p");
        clock.advance(RenderSignature.WINDOW);
        assertThat(signature.verify(header, "GET", "/p")).isTrue();
        clock.advance(RenderSignature.WINDOW.multipliedBy(-2));
        assertThat(signature.verify(header, "GET", "/p")).isTrue();
    }

    @Test
    void verify_olderThanWindow_rejected() {
        String header = signature.sign("GET", "/p");
        clock.advance(RenderSignature.WINDOW.plusSeconds(1));
        assertThat(signature.verify(header, "GET", "/p")).isFalse();
    }

    @Test
    void verify_fromTheFuture_rejected() {
        String header = signature.sign("GET", "/p");
        clock.advance(RenderSignature.WINDOW.plusSeconds(1).negated());
        assertThat(signature.verify(header, "GET", "/p")).isFalse();
    }

    @Test
    void verify_otherPathOrMethod_rejected() {
        String header = signature.sign("GET", "/p");
        assertThat(signature.verify(header, "GET", "/q")).isFalse();
        assertThat(signature.verify(header, "GET", "/p?x=1")).isFalse();
        assertThat(signature.verify(header, "HEAD", "/p")).isFalse();
    }

    @Test
    void verify_otherKey_rejected() {
        String header = new RenderSignature(key(2), clock).sign("GET", "/p");
        assertThat(signature.verify(header, "GET", "/p")).isFalse();
    }

    @Test
    void verify_malformed_rejected() {
        long now = clock.instant().getEpochSecond();
        for (String bad : new String[] {
            "",
            ".",
            "abc",
            now + ".",
            now + "." + "0".repeat(64),
            now + "." + "zz".repeat(32),
            "x." + "0".repeat(64),
            now + "." + "0".repeat(66),
            "-" + now + "." + "0".repeat(64),
            "9".repeat(30) + "." + "0".repeat(64)
        }) {
            assertThat(signature.verify(bad, "GET", "/p")).as(bad).isFalse();
        }
        assertThat(signature.verify(null, "GET", "/p")).isFalse();
    }

    @Test
    void verify_tamperedTimestamp_rejected() {
        String header = signature.sign("GET", "/p");
        long seconds = Long.parseLong(header.substring(0, header.indexOf('.')));
        String moved = (seconds + 1) + header.substring(header.indexOf('.'));
        assertThat(signature.verify(moved, "GET", "/p")).isFalse();
    }

    @Test
    void random_keysDifferPerInstance() {
        RenderSignature a = RenderSignature.random();
        RenderSignature b = RenderSignature.random();
        assertThat(b.verify(a.sign("GET", "/p"), "GET", "/p")).isFalse();
        assertThat(a.verify(a.sign("GET", "/p"), "GET", "/p")).isTrue();
    }

    @Test
    void constructor_shortKey_rejected() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new RenderSignature(new byte[16], clock))
                .hasMessageContaining("32 bytes");
        assertThat(Duration.ofSeconds(30)).isEqualTo(RenderSignature.WINDOW);
    }
}
