package dev.regen.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.regen.CacheStatus;
import dev.regen.EngineListener.RenderOutcome;
import dev.regen.testing.FakeClock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class TimeSeriesTest {
    private final FakeClock clock = new FakeClock(Instant.parse("2026-01-01T00:00:00Z"));
    private final TimeSeries series = new TimeSeries(clock);

    @Test
    void snapshot_ninetyBucketsEndingNow_countsInTheirBucket() {
        series.served(CacheStatus.HIT);
        clock.advance(Duration.ofSeconds(25));
        series.served(CacheStatus.MISS);
        series.served(CacheStatus.HIT);

        TimeSeries.Snapshot s = series.snapshot();

        assertThat(s.buckets()).hasSize(90);
        TimeSeries.Bucket last = s.buckets().get(89);
        assertThat(last.startMillis())
                .isEqualTo(Instant.parse("2026-01-01T00:00:20Z").toEpochMilli());
        assertThat(last.requests(CacheStatus.HIT)).isEqualTo(1);
        assertThat(last.requests(CacheStatus.MISS)).isEqualTo(1);
        assertThat(s.buckets().get(87).requests(CacheStatus.HIT)).isEqualTo(1);
    }

    @Test
    void snapshot_afterFifteenMinutes_oldBucketsForgotten_slotsReused() {
        series.served(CacheStatus.STALE);
        clock.advance(Duration.ofMinutes(15));
        series.served(CacheStatus.BYPASS); // lands in the slot the first request used

        TimeSeries.Snapshot s = series.snapshot();

        long stale = s.buckets().stream()
                .mapToLong(b -> b.requests(CacheStatus.STALE))
                .sum();
        assertThat(stale).isZero();
        assertThat(s.buckets().get(89).requests(CacheStatus.BYPASS)).isEqualTo(1);
    }

    @Test
    void renderQuantile_interpolatesWithinBuckets_nanWithoutRenders() {
        assertThat(series.snapshot().renderQuantileMs(0.5)).isNaN();
        for (int i = 0; i < 99; i++) {
            series.rendered(RenderOutcome.OK, Duration.ofMillis(80)); // bucket (60, 100]
        }
        series.rendered(RenderOutcome.TIMEOUT, Duration.ofSeconds(20)); // bucket (15000, 30000]

        TimeSeries.Snapshot s = series.snapshot();

        assertThat(s.renderQuantileMs(0.5)).isBetween(60.0, 100.0);
        assertThat(s.renderQuantileMs(0.99)).isCloseTo(100.0, within(0.001));
        assertThat(s.renderQuantileMs(0.999)).isBetween(15000.0, 30000.0);
        assertThat(s.buckets().get(89).renders(RenderOutcome.TIMEOUT)).isEqualTo(1);
    }
}
