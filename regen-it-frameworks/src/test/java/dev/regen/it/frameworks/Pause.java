package dev.regen.it.frameworks;

/** Polling waits: a short sleep that turns an interrupt into a failure, keeping the interrupt flag. */
final class Pause {
    private Pause() {}

    static void millis(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
