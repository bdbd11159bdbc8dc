package dev.regen.store;

import dev.regen.store.tck.KvStoreContract;
import dev.regen.testing.FakeClock;

class MemoryStoreContractTest extends KvStoreContract {
    @Override
    protected KvStore newStore(FakeClock clock) {
        return new MemoryStore(64L << 20, clock);
    }
}
