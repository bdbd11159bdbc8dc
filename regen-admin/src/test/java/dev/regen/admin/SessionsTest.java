package dev.regen.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.regen.testing.FakeClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class SessionsTest {
    private static final String SECRET = "sessions-secret-0123456789";
    private final FakeClock clock = new FakeClock();
    private final Sessions sessions = new Sessions(SECRET, clock);

    @Test
    void create_tokenVerifies_andCarriesNeitherTheSecretNorItsHash() {
        Sessions.Session s = sessions.create();

        assertThat(sessions.verify(s.token())).isNotNull();
        assertThat(s.token()).doesNotContain(SECRET);
        assertThat(s.token()).matches("[0-9]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+");
        assertThat(sessions.create().token()).isNotEqualTo(s.token());
    }

    @Test
    void verify_tamperedExpiredOrOtherKey_null() {
        Sessions.Session s = sessions.create();
        String[] parts = s.token().split("\\.", -1);

        assertThat(sessions.verify((Long.parseLong(parts[0]) + 3600) + "." + parts[1] + "." + parts[2]))
                .isNull();
        assertThat(sessions.verify(parts[0] + "." + parts[1] + "." + parts[2].substring(1)))
                .isNull();
        assertThat(sessions.verify("garbage")).isNull();
        assertThat(sessions.verify(null)).isNull();
        assertThat(new Sessions("another-secret-0123456789", clock).verify(s.token()))
                .isNull();

        clock.advance(Sessions.TTL.minusSeconds(1));
        assertThat(sessions.verify(s.token())).isNotNull();
        clock.advance(Duration.ofSeconds(1));
        assertThat(sessions.verify(s.token())).isNull();
    }

    @Test
    void revoke_endsOnlyThatSession() {
        Sessions.Session a = sessions.create();
        Sessions.Session b = sessions.create();

        sessions.revoke(a);

        assertThat(sessions.verify(a.token())).isNull();
        assertThat(sessions.verify(b.token())).isNotNull();
    }

    @Test
    void csrf_perSession_constantForASession() {
        Sessions.Session a = sessions.create();
        Sessions.Session b = sessions.create();

        assertThat(sessions.csrf(a)).hasSize(32).isEqualTo(sessions.csrf(sessions.verify(a.token())));
        assertThat(sessions.csrf(a)).isNotEqualTo(sessions.csrf(b));
        assertThat(sessions.csrfMatches(a, sessions.csrf(a))).isTrue();
        assertThat(sessions.csrfMatches(a, sessions.csrf(b))).isFalse();
        assertThat(sessions.csrfMatches(a, null)).isFalse();
    }

    @Test
    void cookie_findsByExactName() {
        assertThat(dev.regen.internal.http.HttpFields.cookie("a=1; regen_session=x.y.z; b=2", "regen_session"))
                .isEqualTo("x.y.z");
        assertThat(dev.regen.internal.http.HttpFields.cookie("xregen_session=1", "regen_session"))
                .isNull();
        assertThat(dev.regen.internal.http.HttpFields.cookie(null, "regen_session"))
                .isNull();
    }
}
