package dev.regen.store.redis;

import dev.regen.cluster.Cluster;
import dev.regen.store.WellFormed;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The byte formats Regen writes to Redis: a page's metadata (the {@code m} field of its hash,
 * {@link dev.regen.store.MetadataBytes}) and the change messages on the pub/sub channel. Both are length-prefixed
 * UTF-8 behind a version byte, so any string round-trips exactly and a future format can be told apart.
 *
 * <pre>
 * metadata: 0x01 (varint len, key bytes, varint len, value bytes)*     keys sorted; empty map = no bytes
 * message:  0x01 type nodeId-len nodeId [count (len key)*]             type 1 = changed, 2 = missed
 *           0x01 3 nodeId-len nodeId count (len path)* count (len tag)* type 3 = revalidated
 *           0x01 4 nodeId-len nodeId count (len key len etag ms)*     type 4 = refreshed
 * </pre>
 * {@code ms} is the render time in epoch milliseconds, a zigzag varint. A node older than type 4
 * rejects the whole message as unknown (and ignores it) rather than misreading it.
 */
final class Wire {

    static final byte[] EMPTY = new byte[0];

    static final int CHANGED = 1;
    static final int MISSED = 2;
    static final int REVALIDATED = 3;
    static final int REFRESHED = 4;

    private static final int VERSION = 1;

    private Wire() {}

    /**
     * A decoded pub/sub message: {@code keys} are the changed keys, the paths of a revalidation or the
     * refreshed keys; {@code tags} are a revalidation's tags, {@code refreshes} a refresh's pages, else
     * empty.
     */
    record Message(int type, String nodeId, List<String> keys, List<String> tags, List<Cluster.Refresh> refreshes) {}

    // --- messages ------------------------------------------------------------------------------

    static byte[] encodeChanged(String nodeId, Collection<String> keys) {
        ByteArrayOutputStream out = header(CHANGED, nodeId);
        writeVarint(out, keys.size());
        for (String key : keys) {
            writeString(out, utf8("key", key));
        }
        return out.toByteArray();
    }

    static byte[] encodeRevalidated(String nodeId, Collection<String> paths, Collection<String> tags) {
        ByteArrayOutputStream out = header(REVALIDATED, nodeId);
        writeVarint(out, paths.size());
        for (String path : paths) {
            writeString(out, utf8("path", path));
        }
        writeVarint(out, tags.size());
        for (String tag : tags) {
            writeString(out, utf8("tag", tag));
        }
        return out.toByteArray();
    }

    /** @throws IllegalArgumentException for a refresh without key, etag or time, or a time past epoch-millisecond range */
    static byte[] encodeRefreshed(String nodeId, Collection<Cluster.Refresh> refreshes) {
        ByteArrayOutputStream out = header(REFRESHED, nodeId);
        writeVarint(out, refreshes.size());
        for (Cluster.Refresh r : refreshes) {
            if (r == null || r.key() == null || r.etag() == null || r.renderedAt() == null) {
                throw new IllegalArgumentException("a refresh needs a key, an etag and a render time: " + r);
            }
            long millis;
            try {
                millis = r.renderedAt().toEpochMilli();
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("render time out of range: " + r.renderedAt(), e);
            }
            writeString(out, utf8("key", r.key()));
            writeString(out, utf8("etag", r.etag()));
            writeVarlong(out, (millis << 1) ^ (millis >> 63));
        }
        return out.toByteArray();
    }

    static byte[] encodeMissed(String nodeId) {
        return header(MISSED, nodeId).toByteArray();
    }

    /** @throws IllegalArgumentException if {@code bytes} are not a message of this format */
    static Message decodeMessage(byte[] bytes) {
        Reader in = new Reader(bytes);
        in.version();
        int type = in.varint();
        String nodeId = in.string();
        List<String> keys = List.of();
        List<String> tags = List.of();
        List<Cluster.Refresh> refreshes = List.of();
        if (type == CHANGED || type == REVALIDATED) {
            keys = strings(in);
            if (type == REVALIDATED) {
                tags = strings(in);
            }
        } else if (type == REFRESHED) {
            refreshes = refreshes(in);
            keys = refreshes.stream().map(Cluster.Refresh::key).toList();
        } else if (type != MISSED) {
            throw new IllegalArgumentException("unknown message type " + type);
        }
        if (in.more()) {
            throw new IllegalArgumentException("trailing bytes after the message");
        }
        return new Message(type, nodeId, keys, tags, refreshes);
    }

    private static List<Cluster.Refresh> refreshes(Reader in) {
        int count = in.varint();
        List<Cluster.Refresh> out = new ArrayList<>(Math.min(count, 1024));
        for (int i = 0; i < count; i++) {
            String key = in.string();
            String etag = in.string();
            long zigzag = in.varlong();
            out.add(new Cluster.Refresh(key, etag, Instant.ofEpochMilli((zigzag >>> 1) ^ -(zigzag & 1))));
        }
        return List.copyOf(out);
    }

    private static List<String> strings(Reader in) {
        int count = in.varint();
        List<String> out = new ArrayList<>(Math.min(count, 1024));
        for (int i = 0; i < count; i++) {
            out.add(in.string());
        }
        return List.copyOf(out);
    }

    private static ByteArrayOutputStream header(int type, String nodeId) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64);
        out.write(VERSION);
        writeVarint(out, type);
        writeString(out, utf8("node id", nodeId));
        return out;
    }

    // --- strings -------------------------------------------------------------------------------

    /** UTF-8 bytes of {@code s}, refusing unpaired surrogates ({@link WellFormed#require}). */
    static byte[] utf8(String what, String s) {
        WellFormed.require(what, s);
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Strict decoding: bytes that are not UTF-8 are corruption, not text to patch up. */
    static String string(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("not UTF-8: " + e.getMessage(), e);
        }
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    static byte[] ascii(long n) {
        return Long.toString(n).getBytes(StandardCharsets.US_ASCII);
    }

    private static void writeString(ByteArrayOutputStream out, byte[] bytes) {
        writeVarint(out, bytes.length);
        out.writeBytes(bytes);
    }

    private static void writeVarlong(ByteArrayOutputStream out, long n) {
        while ((n & ~0x7FL) != 0) {
            out.write((int) (n & 0x7F) | 0x80);
            n >>>= 7;
        }
        out.write((int) n);
    }

    private static void writeVarint(ByteArrayOutputStream out, int n) {
        while ((n & ~0x7F) != 0) {
            out.write((n & 0x7F) | 0x80);
            n >>>= 7;
        }
        out.write(n);
    }

    private static final class Reader {
        private final byte[] bytes;
        private int pos;

        Reader(byte[] bytes) {
            this.bytes = bytes;
        }

        boolean more() {
            return pos < bytes.length;
        }

        void version() {
            if (bytes.length == 0 || bytes[pos] != VERSION) {
                throw new IllegalArgumentException("unknown format version "
                        + (bytes.length == 0 ? "(no bytes)" : Integer.toString(bytes[0] & 0xFF)));
            }
            pos++;
        }

        int varint() {
            int n = 0;
            for (int shift = 0; shift < 35; shift += 7) {
                if (pos >= bytes.length) {
                    throw new IllegalArgumentException("truncated at byte " + pos);
                }
                int b = bytes[pos++] & 0xFF;
                n |= (b & 0x7F) << shift;
                if ((b & 0x80) == 0) {
                    if (n < 0) {
                        throw new IllegalArgumentException("length out of range at byte " + pos);
                    }
                    return n;
                }
            }
            throw new IllegalArgumentException("varint too long at byte " + pos);
        }

        long varlong() {
            long n = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (pos >= bytes.length) {
                    throw new IllegalArgumentException("truncated at byte " + pos);
                }
                int b = bytes[pos++] & 0xFF;
                n |= (long) (b & 0x7F) << shift;
                if ((b & 0x80) == 0) {
                    return n;
                }
            }
            throw new IllegalArgumentException("varint too long at byte " + pos);
        }

        String string() {
            int length = varint();
            if (length > bytes.length - pos) {
                throw new IllegalArgumentException("truncated string at byte " + pos);
            }
            byte[] s = new byte[length];
            System.arraycopy(bytes, pos, s, 0, length);
            pos += length;
            return Wire.string(s);
        }
    }
}
