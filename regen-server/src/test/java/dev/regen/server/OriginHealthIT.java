package dev.regen.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.regen.testing.Ports;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The origin probe of /_regen/health against a real origin on a loopback port. */
class OriginHealthIT {
    private TestOrigin origin;

    @BeforeEach
    void start() throws Exception {
        origin = new TestOrigin();
    }

    @AfterEach
    void stop() {
        origin.close();
    }

    @Test
    void connect_originListening_upWithoutAnyHttpRequest() throws Exception {
        OriginHealth probe = new OriginHealth(URI.create(origin.url()), Duration.ofSeconds(1));

        assertThat(probe.check()).startsWith("accepts connections on 127.0.0.1:");
        assertThat(origin.renders("/")).isZero();
    }

    @Test
    void connect_nothingListening_downWithReason() throws Exception {
        OriginHealth probe =
                new OriginHealth(URI.create("http://127.0.0.1:" + Ports.freePort()), Duration.ofSeconds(1));

        assertThatThrownBy(probe::check).hasMessageContaining("refused");
    }
}
