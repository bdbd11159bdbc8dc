package dev.regen.internal;

/**
 * The render budget now (see {@code RenderBudget}).
 *
 * @param limit             renders allowed at once
 * @param backgroundLimit   background renders allowed at once (at most {@code limit})
 * @param inUse             renders under way
 * @param visitorsWaiting   visitors' misses waiting for a slot
 * @param backgroundWaiting background renders waiting for a slot
 * @param shed              background renders dropped because the queue was full, ever
 * @param overBudget        visitors that waited the longest wait out and went over the budget, ever
 * @param usualHeadNanos    the origin's usual time to answer (0 before the first render)
 */
public record BudgetSnapshot(
        int limit,
        int backgroundLimit,
        int inUse,
        int visitorsWaiting,
        int backgroundWaiting,
        long shed,
        long overBudget,
        long usualHeadNanos) {}
