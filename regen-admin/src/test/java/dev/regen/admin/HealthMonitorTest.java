package dev.regen.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.regen.FakeClock;
import dev.regen.store.KvEntry;
import dev.regen.store.KvStore;
import dev.regen.store.ListPage;
import dev.regen.store.PutOptions;
import dev.regen.store.StoreException;
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
        try (HealthMonitor m = HealthMonitor.start(() -> { never.await(); return ""; }, () -> { never.await(); return ""; },
                Duration.ofHours(1), Duration.ofHours(1), clock)) {
            HealthReport r = m.report();
            assertThat(r.store().state()).isEqualTo(HealthReport.State.UNKNOWN);
            assertThat(r.status()).isEqualTo("ok");
            assertThat(r.failing()).isFalse();
            never.countDown();
        }
    }

    @Test
    void report_upThenDown_asProbesChange() throws Exception {
        AtomicReference<String> originFault = new AtomicReference<>();
        try (HealthMonitor m = HealthMonitor.start(() -> "reachable", () -> {
            String f = originFault.get();
            if (f != null) {
                throw new java.io.IOException(f);
            }
            return "accepts connections";
        }, Duration.ofMillis(20), Duration.ofSeconds(5), clock)) {
            HealthReport up = await(m, r -> r.origin().state() == HealthReport.State.UP && r.store().state() == HealthReport.State.UP);
            assertThat(up.status()).isEqualTo("ok");
            assertThat(up.origin().detail()).isEqualTo("accepts connections");
            assertThat(up.origin().checkedAt()).isEqualTo(clock.instant());

            originFault.set("connection refused");
            HealthReport down = await(m, r -> r.origin().state() == HealthReport.State.DOWN);
            assertThat(down.status()).isEqualTo("degraded");
            assertThat(down.failing()).isFalse();
            assertThat(down.origin().detail()).isEqualTo("connection refused");
        }
    }

    @Test
    void report_storeFaulty_failing() throws Exception {
        KvStore store = new FaultyStore();
        try (HealthMonitor m = HealthMonitor.start(store, () -> "ok", Duration.ofMillis(20))) {
            HealthReport r = await(m, x -> x.store().state() == HealthReport.State.DOWN);
            assertThat(r.failing()).isTrue();
            assertThat(r.store().detail()).isEqualTo("disk I/O error");
        }
    }

    @Test
    void report_probeHangingPastTimeout_down() throws Exception {
        CountDownLatch hang = new CountDownLatch(1);
        try (HealthMonitor m = HealthMonitor.start(() -> "ok", () -> { hang.await(); return "late"; },
                Duration.ofMillis(20), Duration.ofMillis(100), clock)) {
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
        public void close() {
        }
    }
}
