package dev.regen.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.regen.store.KvEntry;
import dev.regen.store.KvStore;
import dev.regen.store.ListPage;
import dev.regen.store.PutOptions;
import dev.regen.store.StoreException;
import dev.regen.store.StoreHealth;
import dev.regen.testing.FakeClock;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

class HealthMonitorTest {
    private final FakeClock clock = new FakeClock();

    /** Waits (bounded) for the monitor's background thread to report what the test expects. */
    private static HealthReport await(HealthMonitor m, Predicate<HealthReport> done) throws InterruptedException {
        HealthReport r = m.report();
        for (int i = 0; i < 400 && !done.test(r); i++) {
            TimeUnit.MILLISECONDS.sleep(5);
            r = m.report();
        }
        return r;
    }

    @Test
    void report_beforeFirstCheck_unknownAndOk() {
        CountDownLatch never = new CountDownLatch(1);
        try (HealthMonitor m = HealthMonitor.start(
                () -> {
                    never.await();
                    return "";
                },
                () -> {
                    never.await();
                    return "";
                },
                Duration.ofHours(1),
                Duration.ofHours(1),
                clock)) {
            HealthReport r = m.report();
            assertThat(r.store().state()).isEqualTo(HealthReport.State.UNKNOWN);
            assertThat(r.status()).isEqualTo("ok");
            assertThat(r.canServe(0)).isTrue();
            never.countDown();
        }
    }

    @Test
    void report_upThenDown_asProbesChange() throws Exception {
        AtomicReference<String> originFault = new AtomicReference<>();
        try (HealthMonitor m = HealthMonitor.start(
                () -> "reachable",
                () -> {
                    String f = originFault.get();
                    if (f != null) {
                        throw new java.io.IOException(f);
                    }
                    return "accepts connections";
                },
                Duration.ofMillis(20),
                Duration.ofSeconds(5),
                clock)) {
            HealthReport up = await(
                    m,
                    r -> r.origin().state() == HealthReport.State.UP
                            && r.store().state() == HealthReport.State.UP);
            assertThat(up.status()).isEqualTo("ok");
            assertThat(up.origin().detail()).isEqualTo("accepts connections");
            assertThat(up.origin().checkedAt()).isEqualTo(clock.instant());

            originFault.set("connection refused");
            HealthReport down = await(m, r -> r.origin().state() == HealthReport.State.DOWN);
            assertThat(down.status()).isEqualTo("degraded");
            assertThat(down.canServe(0))
                    .as("the store can still serve what it holds")
                    .isTrue();
            assertThat(down.origin().detail()).isEqualTo("connection refused");
        }
    }

    @Test
    void report_storeFaulty_downButPagesStillServedFromTheOrigin() throws Exception {
        KvStore store = new FaultyStore();
        try (HealthMonitor m = HealthMonitor.start(store, () -> "ok", Duration.ofMillis(20))) {
            HealthReport r = await(m, x -> x.store().state() == HealthReport.State.DOWN);
            assertThat(r.store().detail()).isEqualTo("disk I/O error");
            assertThat(r.canServe(0)).isTrue();
        }
    }

    @Test
    void report_storeSaysItIsDegraded_degradedWithItsReasonBetweenProbes() throws Exception {
        AtomicReference<StoreHealth> says = new AtomicReference<>(StoreHealth.UP);
        try (HealthMonitor m = HealthMonitor.start(
                () -> "reachable", says::get, () -> "ok", Duration.ofHours(1), Duration.ofSeconds(5), clock)) {
            await(m, r -> r.store().state() == HealthReport.State.UP);

            says.set(StoreHealth.degraded("writes fail: disk full"));
            HealthReport r = m.report();

            assertThat(r.store().state()).isEqualTo(HealthReport.State.DEGRADED);
            assertThat(r.store().detail()).isEqualTo("writes fail: disk full");
            assertThat(r.status()).isEqualTo("degraded");
            says.set(StoreHealth.UP);
            assertThat(m.report().store().state()).isEqualTo(HealthReport.State.UP);
        }
    }

    @Test
    void report_storeBackAfterAFailedProbe_probesAgainAtOnce() throws Exception {
        AtomicReference<String> fault = new AtomicReference<>("connection refused");
        try (HealthMonitor m = HealthMonitor.start(
                () -> {
                    String f = fault.get();
                    if (f != null) {
                        throw new StoreException(f);
                    }
                    return "reachable";
                },
                () -> fault.get() == null ? StoreHealth.UP : StoreHealth.down(fault.get()),
                () -> "ok",
                Duration.ofHours(1),
                Duration.ofSeconds(5),
                clock)) {
            await(m, r -> r.store().state() == HealthReport.State.DOWN);

            fault.set(null); // the next probe is an hour away: the store's word brings it forward
            HealthReport r = await(m, x -> x.store().state() == HealthReport.State.UP);

            assertThat(r.store().state()).isEqualTo(HealthReport.State.UP);
        }
    }

    @Test
    void report_probeHangingPastTimeout_down() throws Exception {
        CountDownLatch hang = new CountDownLatch(1);
        try (HealthMonitor m = HealthMonitor.start(
                () -> "ok",
                () -> {
                    hang.await();
                    return "late";
                },
                Duration.ofMillis(20),
                Duration.ofMillis(100),
                clock)) {
            HealthReport r = await(m, x -> x.origin().state() == HealthReport.State.DOWN);
            assertThat(r.origin().detail()).startsWith("no answer for");
        } finally {
            hang.countDown();
        }
    }

    /** A store whose every operation fails, as a broken disk or a lost connection would. */
    private static final class FaultyStore implements KvStore {
        @Override
        public KvEntry get(String key) {
            throw new StoreException("disk I/O error");
        }

        @Override
        public void put(String key, byte[] value, PutOptions options) {
            throw new StoreException("disk I/O error");
        }

        @Override
        public boolean delete(String key) {
            throw new StoreException("disk I/O error");
        }

        @Override
        public ListPage list(String prefix, String cursor, int limit) {
            throw new StoreException("disk I/O error");
        }

        @Override
        public void close() {}
    }
}
