package dev.regen.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.regen.CacheStatus;
import dev.regen.EngineListener.RenderOutcome;
import dev.regen.store.MemoryStore;
import dev.regen.testing.FakeClock;
import dev.regen.testing.PrometheusText;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RegenMetricsTest {
    private final FakeClock clock = new FakeClock();
    private final RegenMetrics metrics = new RegenMetrics(clock);
    private final SimpleMeterRegistry app = new SimpleMeterRegistry();

    @Test
    void bindTo_appRegistryCountsWhatTheScrapeCounts_underTheSameNames() {
        metrics.bindTo(app);

        metrics.served(CacheStatus.HIT);
        metrics.served(CacheStatus.HIT);
        metrics.rendered(RenderOutcome.ERROR, Duration.ofMillis(40));
        metrics.invalidated("tag", 3);

        PrometheusText.Exposition scrape = PrometheusText.parse(metrics.scrape());
        assertThat(scrape.value("regen_requests_total", "status", "hit")).isEqualTo(2);
        assertThat(app.get("regen.requests").tag("status", "hit").counter().count())
                .isEqualTo(2);
        assertThat(scrape.value("regen_render_duration_seconds_count", "outcome", "error"))
                .isEqualTo(1);
        assertThat(app.get("regen.render.duration")
                        .tag("outcome", "error")
                        .timer()
                        .count())
                .isEqualTo(1);
        assertThat(app.get("regen.origin.errors").tag("kind", "error").counter().count())
                .isEqualTo(1);
        // calls and the entries they affected: two meters, one meaning each, at every edge
        assertThat(scrape.value("regen_invalidations_total", "kind", "tag")).isEqualTo(1);
        assertThat(app.get("regen.invalidations").tag("kind", "tag").counter().count())
                .isEqualTo(1);
        assertThat(app.get("regen.invalidated.entries")
                        .tag("kind", "tag")
                        .counter()
                        .count())
                .isEqualTo(3);
    }

    @Test
    void bindTo_metersRegisteredLater_reachTheAppRegistryToo() {
        metrics.bindTo(app);

        metrics.instrument(new MemoryStore(1 << 20, clock)).get("/k");

        assertThat(app.get("regen.store.operation.duration")
                        .tag("op", "get")
                        .tag("result", "ok")
                        .timer()
                        .count())
                .isEqualTo(1);
    }

    @Test
    void bindTo_jvmMeters_stayOutOfTheAppRegistry() {
        metrics.bindTo(app);

        assertThat(PrometheusText.parse(metrics.scrape()).has("jvm_threads_live_threads"))
                .isTrue();
        assertThat(app.find("jvm.threads.live").meter()).isNull();
    }
}
