package dev.regen.store;

import dev.regen.FakeClock;
import dev.regen.store.tck.KvStoreContract;

class MemoryStoreContractTest extends KvStoreContract {
    @Override
    protected KvStore newStore(FakeClock clock) {
        return new MemoryStore(64L << 20, clock);
    }
}
