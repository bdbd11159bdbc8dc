package dev.regen.it.frameworks;

/**
 * Where a scenario's requests go. Every scenario runs both ways: {@link #DIRECT} is the control that proves
 * the scenario itself is right, {@link #REGEN} is the claim that Regen in front changes nothing a visitor
 * can tell, but speed.
 */
enum Via {
    /** Straight to the app. */
    DIRECT,
    /** Through Regen in front of the app. */
    REGEN
}
