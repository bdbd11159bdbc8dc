package dev.regen.store.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WireTest {

    @Test
    void metadata_awkwardStrings_roundTripExactly() {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("etag", "\"abc\"");
        metadata.put("a=b&c", "%20%%=&;,\"\\");
        metadata.put("unicode-é✓😀", "值\u0001\n\t");
        metadata.put("", "empty key");
        metadata.put("empty value", "");
        metadata.put("long", "x".repeat(100_000));

        assertThat(Wire.decodeMetadata(Wire.encodeMetadata(metadata))).isEqualTo(metadata);
    }

    @Test
    void metadata_empty_isNoBytesAtAll() {
        assertThat(Wire.encodeMetadata(Map.of())).isEmpty();
        assertThat(Wire.decodeMetadata(new byte[0])).isEmpty();
        assertThat(Wire.decodeMetadata(null)).isEmpty();
    }

    @Test
    void metadata_isCompact_oneVersionByteAndALengthBeforeEachString() {
        assertThat(Wire.encodeMetadata(Map.of("k", "v"))).containsExactly(1, 1, 'k', 1, 'v');
    }

    @Test
    void metadata_corruptBytes_throwIllegalArgument() {
        assertThatThrownBy(() -> Wire.decodeMetadata(new byte[] {9})).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("version 9");
        assertThatThrownBy(() -> Wire.decodeMetadata(new byte[] {1, 5, 'a'})).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("truncated");
        assertThatThrownBy(() -> Wire.decodeMetadata(new byte[] {1, 1, (byte) 0xFF, 0})).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not UTF-8");
    }

    @Test
    void message_changedKeys_roundTripsWithNodeId() {
        List<String> keys = List.of("/a", "", "/ü 😀\nnext", "page:/x?a=1");

        Wire.Message message = Wire.decodeMessage(Wire.encodeChanged("node-1", keys));

        assertThat(message.type()).isEqualTo(Wire.CHANGED);
        assertThat(message.nodeId()).isEqualTo("node-1");
        assertThat(message.keys()).isEqualTo(keys);
    }

    @Test
    void message_missed_hasNodeIdAndNoKeys() {
        Wire.Message message = Wire.decodeMessage(Wire.encodeMissed("n"));

        assertThat(message.type()).isEqualTo(Wire.MISSED);
        assertThat(message.nodeId()).isEqualTo("n");
        assertThat(message.keys()).isEmpty();
    }

    @Test
    void message_foreignBytes_throwIllegalArgument() {
        assertThatThrownBy(() -> Wire.decodeMessage("hello".getBytes())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Wire.decodeMessage(new byte[] {1, 7, 0})).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("type 7");
        byte[] valid = Wire.encodeMissed("n");
        byte[] trailing = java.util.Arrays.copyOf(valid, valid.length + 1);
        assertThatThrownBy(() -> Wire.decodeMessage(trailing)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void utf8_unpairedSurrogate_isRejectedNotReplaced() {
        assertThatThrownBy(() -> Wire.utf8("key", "/a\uD800b")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("key has an unpaired surrogate at index 2");
        assertThat(Wire.utf8("key", "/😀")).hasSize(5);
    }
}
