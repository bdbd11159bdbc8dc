package dev.regen.store.embedded;

import dev.regen.store.KvStore;
import dev.regen.store.tck.KvStoreContract;
import dev.regen.testing.FakeClock;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedStoreContractTest extends KvStoreContract {
    @TempDir
    Path dir;

    @Override
    protected KvStore newStore(FakeClock clock) {
        return EmbeddedStore.open(dir, clock);
    }

    @Override
    protected KvStore reopen(KvStore closed, FakeClock clock) {
        return EmbeddedStore.open(dir, clock);
    }
}
