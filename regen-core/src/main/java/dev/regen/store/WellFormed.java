package dev.regen.store;

import java.util.Objects;

/** A check for stores that turn keys and metadata into UTF-8 (a database, Redis). */
public final class WellFormed {
    private WellFormed() {}

    /**
     * Rejects a string with an unpaired surrogate: UTF-8 encoders write it as '?', so two different
     * keys could land on one stored key.
     *
     * @param what names the string in the message, e.g. "key"
     * @throws IllegalArgumentException naming {@code what} and the index of the unpaired surrogate
     */
    public static void require(String what, String s) {
        Objects.requireNonNull(s, what);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new IllegalArgumentException(what + " has an unpaired surrogate at index " + i);
            }
        }
    }
}
