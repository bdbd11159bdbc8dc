package dev.regen.store;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A metadata map as bytes, for stores that keep it beside the value (the embedded store, Redis): a
 * version byte, then each key and value as a varint length and its UTF-8 bytes, keys sorted; an empty
 * map is no bytes at all. Any string round-trips exactly, and decoding is a few length reads and
 * string copies: no escaping, no parsing.
 *
 * <pre>
 * 0x01 (varint len, key bytes, varint len, value bytes)*
 * </pre>
 */
public final class MetadataBytes {
    private static final int VERSION = 1;
    private static final byte[] EMPTY = new byte[0];

    private MetadataBytes() {}

    /**
     * The metadata map as bytes.
     *
     * @throws IllegalArgumentException if a key or value is not well-formed Unicode ({@link WellFormed})
     */
    public static byte[] encode(Map<String, String> metadata) {
        if (metadata.isEmpty()) {
            return EMPTY;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(32 * metadata.size() + 1);
        out.write(VERSION);
        for (Map.Entry<String, String> e : new TreeMap<>(metadata).entrySet()) {
            WellFormed.require("metadata key", e.getKey());
            WellFormed.require("metadata value", e.getValue());
            write(out, e.getKey().getBytes(StandardCharsets.UTF_8));
            write(out, e.getValue().getBytes(StandardCharsets.UTF_8));
        }
        return out.toByteArray();
    }

    /**
     * The map; null or no bytes is the empty map.
     *
     * @throws IllegalArgumentException if {@code bytes} were not written by {@link #encode} (bad
     *                                  version, truncated, not UTF-8)
     */
    public static Map<String, String> decode(byte[] bytes) {
        if (bytes == null || bytes.length == 0) {
            return Map.of();
        }
        if ((bytes[0] & 0xFF) != VERSION) {
            throw new IllegalArgumentException("unknown metadata format version " + (bytes[0] & 0xFF));
        }
        int[] pos = {1};
        Map<String, String> metadata = new HashMap<>();
        while (pos[0] < bytes.length) {
            String key = string(bytes, pos);
            if (pos[0] >= bytes.length) {
                throw new IllegalArgumentException("metadata key without a value at byte " + pos[0]);
            }
            metadata.put(key, string(bytes, pos));
        }
        return Map.copyOf(metadata);
    }

    private static void write(ByteArrayOutputStream out, byte[] bytes) {
        int n = bytes.length;
        while ((n & ~0x7F) != 0) {
            out.write((n & 0x7F) | 0x80);
            n >>>= 7;
        }
        out.write(n);
        out.writeBytes(bytes);
    }

    private static String string(byte[] bytes, int[] pos) {
        int length = 0;
        for (int shift = 0; ; shift += 7) {
            if (shift >= 35 || pos[0] >= bytes.length) {
                throw new IllegalArgumentException("bad length at byte " + pos[0]);
            }
            int b = bytes[pos[0]++] & 0xFF;
            length |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                break;
            }
        }
        if (length < 0 || length > bytes.length - pos[0]) {
            throw new IllegalArgumentException("truncated string at byte " + pos[0]);
        }
        int start = pos[0];
        pos[0] += length;
        String s = new String(bytes, start, length, StandardCharsets.UTF_8);
        if (s.indexOf('\uFFFD') >= 0) {
            strictUtf8(bytes, start, length); // a replacement character: written so, or bytes that are not UTF-8
        }
        return s;
    }

    private static void strictUtf8(byte[] bytes, int start, int length) {
        try {
            StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, start, length));
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("not UTF-8: " + e.getMessage(), e);
        }
    }
}
