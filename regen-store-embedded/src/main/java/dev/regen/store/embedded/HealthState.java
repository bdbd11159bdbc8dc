package dev.regen.store.embedded;

import dev.regen.store.StoreHealth;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded store's health, from the outcome of its operations: degraded from the first failed
 * read or write until an operation of the same kind succeeds again. Logs one line when the store
 * turns degraded (with the reason) and one when it recovers, never one per request.
 */
final class HealthState {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedStore.class);

    private final String name;
    private final AtomicReference<String> writeFault = new AtomicReference<>();
    private final AtomicReference<String> readFault = new AtomicReference<>();

    HealthState(String name) {
        this.name = name;
    }

    void writeFailed(String reason) {
        failed(writeFault, "writes", reason, "new renders are served but not stored");
    }

    void readFailed(String reason) {
        failed(readFault, "reads", reason, "pages not held in memory are rendered again");
    }

    void writeSucceeded() {
        succeeded(writeFault, "writes");
    }

    void readSucceeded() {
        succeeded(readFault, "reads");
    }

    boolean writesFailing() {
        return writeFault.get() != null;
    }

    StoreHealth current() {
        String w = writeFault.get();
        String r = readFault.get();
        if (w == null && r == null) {
            return StoreHealth.UP;
        }
        if (w != null && r != null && !w.equals(r)) {
            return StoreHealth.degraded("writes fail: " + w + "; reads fail: " + r);
        }
        return StoreHealth.degraded((w != null && r != null ? "reads and writes" : w != null ? "writes" : "reads")
                + " fail: " + (w != null ? w : r));
    }

    private void failed(AtomicReference<String> fault, String what, String reason, String meanwhile) {
        String before = fault.getAndSet(reason);
        if (before == null) {
            log.warn("embedded store {}: {} fail ({}); {} until it recovers", name, what, reason, meanwhile);
        } else if (!before.equals(reason)) {
            log.warn("embedded store {}: {} still fail, now: {}", name, what, reason);
        }
    }

    private void succeeded(AtomicReference<String> fault, String what) {
        if (fault.get() != null && fault.getAndSet(null) != null) {
            log.info("embedded store {}: {} work again", name, what);
        }
    }
}
