package dev.regen;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RenderBudgetTest {
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    private long now;

    private RenderBudget budget(int size, int queue) {
        return new RenderBudget(size, queue, Duration.ofSeconds(30), Runnable::run, () -> now);
    }

    private static List<RenderBudget.Permit> takeBackground(RenderBudget b, int n) {
        List<RenderBudget.Permit> taken = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            b.background(taken::add);
        }
        return taken;
    }

    @Test
    void failures_halveTheBackgroundLimit_oncePerCooldown_andSuccessesBringItBack() {
        RenderBudget b = budget(8, 100);
        assertThat(b.snapshot().backgroundLimit()).isEqualTo(8);
        List<RenderBudget.Permit> permits = takeBackground(b, 8);
        permits.get(0).release(50 * MS, false); // learns the usual time
        permits.get(1).release(-1, true);
        permits.get(2).release(-1, true); // same moment: one decrease per cooldown
        assertThat(b.snapshot().backgroundLimit()).isEqualTo(4);
        now += 100 * MS;
        permits.get(3).release(-1, true);
        assertThat(b.snapshot().backgroundLimit()).isEqualTo(2);
        now += 100 * MS;
        permits.get(4).release(500 * MS, false); // ten times slower than usual: a slowdown
        assertThat(b.snapshot().backgroundLimit()).isEqualTo(1);
        assertThat(b.snapshot().limit()).as("visitors keep the whole budget").isEqualTo(8);

        permits.subList(5, 8).forEach(p -> p.release(50 * MS, false));
        // additive increase: about one more slot per limit's worth of good renders
        for (int i = 0; i < 40; i++) {
            List<RenderBudget.Permit> p = takeBackground(b, 1);
            p.get(0).release(50 * MS, false);
        }
        assertThat(b.snapshot().backgroundLimit()).isEqualTo(8);
    }

    @Test
    void visitors_takeFreedSlotsBeforeQueuedBackgroundWork() {
        RenderBudget b = budget(1, 10);
        CompletableFuture<RenderBudget.Permit> first = b.visitor();
        assertThat(first).isDone();
        List<RenderBudget.Permit> background = new ArrayList<>();
        assertThat(b.background(background::add)).isTrue();
        CompletableFuture<RenderBudget.Permit> second = b.visitor();
        assertThat(background).isEmpty();
        assertThat(second).isNotDone();

        first.join().release(10 * MS, false);
        assertThat(second).isDone();
        assertThat(background).isEmpty();
        second.join().release(10 * MS, false);
        assertThat(background).hasSize(1);
        assertThat(b.snapshot().inUse()).isEqualTo(1);
    }

    @Test
    void auto_followsTheOrigin_withinItsBounds() {
        RenderBudget b = budget(0, 10);
        assertThat(b.snapshot().limit()).isEqualTo(RenderBudget.AUTO_START);
        CompletableFuture<RenderBudget.Permit> v = b.visitor();
        v.join().release(-1, true);
        assertThat(b.snapshot().limit()).isEqualTo(RenderBudget.AUTO_START / 2);
        for (int i = 0; i < 10; i++) {
            now += 100 * MS;
            b.visitor().join().release(-1, true);
        }
        assertThat(b.snapshot().limit()).isEqualTo(RenderBudget.AUTO_MIN);
    }

    @Test
    void releasingTwice_freesOneSlot() {
        RenderBudget b = budget(2, 10);
        RenderBudget.Permit p = b.visitor().join();
        b.visitor().join();
        p.release(MS, false);
        p.release(MS, false);
        assertThat(b.snapshot().inUse()).isEqualTo(1);
    }
}
