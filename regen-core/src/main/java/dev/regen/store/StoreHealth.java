package dev.regen.store;

import java.util.Objects;

/**
 * What a store knows of its own state, from the operations it served last (see {@link KvStore#health}).
 *
 * @param state  {@link State#UP}, {@link State#DEGRADED} (serving, but something fails: writes refused,
 *               a disk full, corrupt entries found) or {@link State#DOWN} (unreachable)
 * @param reason a few words for operators when not up ("disk full: …"), else empty
 */
public record StoreHealth(State state, String reason) {

    public enum State {
        UP,
        DEGRADED,
        DOWN
    }

    /** Up, nothing to say. */
    public static final StoreHealth UP = new StoreHealth(State.UP, "");

    public StoreHealth {
        Objects.requireNonNull(state, "state");
        reason = reason == null ? "" : reason;
    }

    public static StoreHealth degraded(String reason) {
        return new StoreHealth(State.DEGRADED, reason);
    }

    public static StoreHealth down(String reason) {
        return new StoreHealth(State.DOWN, reason);
    }

    public boolean up() {
        return state == State.UP;
    }
}
