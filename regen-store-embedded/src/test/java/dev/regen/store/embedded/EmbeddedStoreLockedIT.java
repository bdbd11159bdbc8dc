package dev.regen.store.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.regen.store.PutOptions;
import dev.regen.store.StoreException;
import dev.regen.store.StoreHealth;
import dev.regen.testing.FakeClock;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Another process holds the database's write lock longer than the store waits for it (5 s): the put
 * fails loudly, reads go on, and the store writes again once the lock is released, without a restart.
 */
class EmbeddedStoreLockedIT {

    @TempDir
    Path dir;

    @Test
    @Timeout(60)
    void put_whileAnotherProcessHoldsTheWriteLock_throwsThenWorksOnceReleased() throws Exception {
        try (EmbeddedStore store = EmbeddedStore.open(dir, new FakeClock(), 1L << 30)) {
            store.put("/before", new byte[] {1}, PutOptions.NONE);
            try (Connection other = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(EmbeddedStore.FILE_NAME));
                    Statement s = other.createStatement()) {
                s.execute("BEGIN EXCLUSIVE");

                assertThatThrownBy(() -> store.put("/locked", new byte[] {2}, PutOptions.NONE))
                        .isInstanceOf(StoreException.class)
                        .hasMessageContaining("database locked by another process");
                assertThat(store.health().reason()).contains("writes fail: database locked by another process");
                assertThat(store.get("/before").value()).containsExactly(1); // readers do not wait in WAL mode

                s.execute("COMMIT");
            }
            store.put("/after", new byte[] {3}, PutOptions.NONE);

            assertThat(store.get("/after").value()).containsExactly(3);
            assertThat(store.health()).isEqualTo(StoreHealth.UP);
        }
    }
}
