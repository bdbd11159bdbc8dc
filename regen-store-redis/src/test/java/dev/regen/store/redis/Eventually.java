package dev.regen.store.redis;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Polls a condition that another thread or process makes true; for integration tests only. */
final class Eventually {

    private Eventually() {}

    /** Waits until {@code condition} holds; returns how long it took. Fails after {@code within}. */
    static Duration await(Duration within, String what, BooleanSupplier condition) {
        return await(within, () -> what, condition);
    }

    static Duration await(Duration within, Supplier<String> what, BooleanSupplier condition) {
        long start = System.nanoTime();
        long deadline = start + within.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + within.toMillis() + " ms: " + what.get());
            }
            sleep(10);
        }
        return Duration.ofNanos(System.nanoTime() - start);
    }

    /** For the waits an integration test cannot avoid (a TTL lapsing on a real server). */
    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
