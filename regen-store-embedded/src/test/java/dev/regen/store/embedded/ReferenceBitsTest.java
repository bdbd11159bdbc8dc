package dev.regen.store.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ReferenceBitsTest {
    private final ReferenceBits bits = new ReferenceBits();

    @Test
    void testAndClear_afterSet_trueOnceThenFalse() {
        bits.set(42);

        assertThat(bits.testAndClear(42)).isTrue();
        assertThat(bits.testAndClear(42)).isFalse();
    }

    @Test
    void testAndClear_neverSet_isFalse_evenBeyondAnyBitSetSoFar() {
        bits.set(3);

        assertThat(bits.testAndClear(4)).isFalse();
        assertThat(bits.testAndClear(10_000_000)).isFalse();
    }

    @Test
    void set_idsFarApart_keepTheirOwnBits() {
        long[] ids = {0, 63, 128, 65_535, 65_537, 1_000_003, 7_777_777}; // none next to another
        for (long id : ids) {
            bits.set(id);
        }

        for (long id : ids) {
            assertThat(bits.testAndClear(id)).as("id %d", id).isTrue();
            assertThat(bits.testAndClear(id + 1)).as("id %d", id + 1).isFalse();
        }
    }
}
