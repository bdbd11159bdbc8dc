package dev.regen.testing;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicReference;

/** A clock that only moves when a test says so. Thread-safe. */
public final class FakeClock implements InstantSource {
    private final AtomicReference<Instant> now;

    public FakeClock() {
        this(Instant.parse("2026-01-01T00:00:00Z"));
    }

    public FakeClock(Instant start) {
        now = new AtomicReference<>(start);
    }

    @Override
    public Instant instant() {
        return now.get();
    }

    public FakeClock advance(Duration d) {
        now.updateAndGet(t -> t.plus(d));
        return this;
    }

    public void set(Instant t) {
        now.set(t);
    }
}
