package dev.regen.store.embedded;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One bit per entry id, set when the entry is read: the "referenced" bits of a CLOCK eviction
 * (second chance), an approximation of least-recently-used that costs a read nothing but setting a
 * bit in memory, never a write to the database. The eviction hand clears the bit of an entry it
 * passes and spares it; an entry whose bit is clear when the hand comes round again has not been read
 * for a whole revolution, and goes.
 *
 * <p>Kept in memory only: after a restart every bit is clear, so the first revolution evicts in id
 * order (about the order entries were first stored) until reads set bits again. Thread-safe; grows
 * with the largest id seen (one bit per id: 125 KB per million).
 */
final class ReferenceBits {
    private static final int SEGMENT_BITS = 1 << 16;

    private volatile AtomicLongArray[] segments = new AtomicLongArray[16];

    /** Entry {@code id} was read. Never blocks. */
    void set(long id) {
        AtomicLongArray segment = segment(id, true);
        int bit = (int) (id % SEGMENT_BITS);
        long mask = 1L << (bit & 63);
        int word = bit >>> 6;
        long old = segment.get(word);
        if ((old & mask) == 0) {
            segment.getAndAccumulate(word, mask, (a, b) -> a | b);
        }
    }

    /** Whether entry {@code id} was read since its bit was last cleared; clears it. */
    boolean testAndClear(long id) {
        AtomicLongArray segment = segment(id, false);
        if (segment == null) {
            return false;
        }
        int bit = (int) (id % SEGMENT_BITS);
        long mask = 1L << (bit & 63);
        return (segment.getAndAccumulate(bit >>> 6, ~mask, (a, b) -> a & b) & mask) != 0;
    }

    private AtomicLongArray segment(long id, boolean create) {
        if (id < 0) {
            throw new IllegalArgumentException("id must not be negative: " + id);
        }
        int index = (int) Math.min(Integer.MAX_VALUE, id / SEGMENT_BITS);
        AtomicLongArray[] s = segments;
        if (index < s.length && s[index] != null) {
            return s[index];
        }
        if (!create) {
            return null;
        }
        synchronized (this) {
            s = segments;
            if (index >= s.length) {
                AtomicLongArray[] grown = new AtomicLongArray[Math.max(index + 1, s.length * 2)];
                System.arraycopy(s, 0, grown, 0, s.length);
                s = grown;
            }
            if (s[index] == null) {
                s[index] = new AtomicLongArray(SEGMENT_BITS / 64);
            }
            segments = s;
            return s[index];
        }
    }
}
