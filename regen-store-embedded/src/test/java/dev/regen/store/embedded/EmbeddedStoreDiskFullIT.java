package dev.regen.store.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.regen.store.PutOptions;
import dev.regen.store.StoreException;
import dev.regen.store.StoreHealth;
import dev.regen.testing.FakeClock;
import dev.regen.testing.LogCapture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real, small disk: the store on a 4 MiB tmpfs. With its default size budget it never fills the
 * disk; with a budget larger than the disk it fills it until writes fail, then gets space back when a
 * file beside it is deleted. Needs the right to mount (root in CI); skipped otherwise (the store's own
 * size limit, tested in {@code EmbeddedStoreBudgetTest}, fails writes the same way, with SQLITE_FULL).
 */
class EmbeddedStoreDiskFullIT {

    private static final byte[] PAGE = new byte[20_000];

    @TempDir
    Path tmp;

    private final FakeClock clock = new FakeClock();

    @Test
    @Timeout(60)
    void put_withTheDefaultMaxSize_neverFillsTheDisk() throws Exception {
        Path mount = tmp.resolve("disk");
        try (SmallDisk disk = SmallDisk.mount(mount, 4 << 20)) {
            assumeTrue(disk != null, "this process may not mount a tmpfs");
            try (EmbeddedStore store = EmbeddedStore.open(mount.resolve("store"), clock)) {
                assertThat(store.maxBytes()).isBetween(1L << 20, 2L << 20);
                for (int i = 0; i < 500; i++) {
                    store.put("/p/" + i, PAGE, PutOptions.NONE); // never throws: old pages make room
                }
                assertThat(store.get("/p/499").value()).hasSize(PAGE.length);
                assertThat(disk.free()).isGreaterThan(1L << 20);
                assertThat(store.health()).isEqualTo(StoreHealth.UP);
            }
        }
    }

    @Test
    @Timeout(60)
    void put_onAFullDisk_throwsEveryTimeAndWorksAgainOnceSpaceIsFreed() throws Exception {
        Path mount = tmp.resolve("disk");
        try (SmallDisk disk = SmallDisk.mount(mount, 4 << 20);
                LogCapture logs = new LogCapture(EmbeddedStore.class)) {
            assumeTrue(disk != null, "this process may not mount a tmpfs");
            Path ballast = Files.write(mount.resolve("ballast"), new byte[1 << 20]);
            // a budget larger than the disk: the disk fills first
            try (EmbeddedStore store = EmbeddedStore.open(mount.resolve("store"), clock, 1L << 30)) {
                int stored = 0;
                while (stored < 1000) {
                    try {
                        store.put("/p/" + stored, PAGE, PutOptions.NONE);
                        stored++;
                    } catch (StoreException e) {
                        break;
                    }
                }
                assertThat(stored).as("pages stored before the disk filled").isBetween(10, 999);

                // full: every write fails loudly, none passes for stored; reads still work
                for (int i = 0; i < 20; i++) {
                    String key = "/full/" + i;
                    assertThatThrownBy(() -> store.put(key, PAGE, PutOptions.NONE))
                            .isInstanceOf(StoreException.class)
                            .hasMessageContaining("disk full");
                }
                assertThat(store.get("/p/0").value()).hasSize(PAGE.length);
                assertThat(store.get("/full/3")).isNull();
                // metadata that needs new pages fails the same way, and the entry keeps what it had
                PutOptions bigMetadata = PutOptions.metadata(Map.of("big", "x".repeat(200_000)));
                assertThatThrownBy(() -> store.replaceMetadata("/p/1", bigMetadata))
                        .isInstanceOf(StoreException.class)
                        .hasMessageContaining("disk full");
                assertThat(store.get("/p/1").metadata()).isEmpty();
                assertThat(store.get("/p/1").value()).hasSize(PAGE.length);
                assertThat(store.health().state()).isEqualTo(StoreHealth.State.DEGRADED);
                assertThat(store.health().reason()).contains("disk full");

                Files.delete(ballast);
                // the background probe notices without any put
                awaitHealth(store, StoreHealth.State.UP);
                for (int i = 0; i < 5; i++) {
                    store.put("/after/" + i, PAGE, PutOptions.NONE);
                }
                assertThat(store.get("/after/4").value()).hasSize(PAGE.length);
                assertThat(store.replaceMetadata("/p/1", PutOptions.metadata(Map.of("r", "2"))))
                        .isTrue();
                assertThat(store.get("/p/1").metadata()).containsEntry("r", "2");
                assertThat(store.get("/p/0").value()).hasSize(PAGE.length);
            }
            assertThat(logs.lines("writes fail (disk full)")).hasSize(1);
            assertThat(logs.lines("writes work again")).hasSize(1);
        }
    }

    private static void awaitHealth(EmbeddedStore store, StoreHealth.State state) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (store.health().state() != state && System.nanoTime() < deadline) {
            Thread.sleep(20); // waits for the store's background thread, not for time to pass
        }
        assertThat(store.health().state()).isEqualTo(state);
    }
}
