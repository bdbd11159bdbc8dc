package dev.regen.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MetadataBytesTest {

    @Test
    void encodeThenDecode_awkwardStrings_roundTripExactly() {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("h", "Content-Type:text/html; charset=utf-8\nX-A:b=c&d");
        metadata.put("", "");
        metadata.put("unicode-é✓😀", "值\u0001\n\t\uFFFD");
        metadata.put("long", "x".repeat(300)); // a two-byte length

        assertThat(MetadataBytes.decode(MetadataBytes.encode(metadata))).isEqualTo(metadata);
    }

    @Test
    void encode_emptyMap_isNoBytes_andNoBytesOrNullDecodeEmpty() {
        assertThat(MetadataBytes.encode(Map.of())).isEmpty();
        assertThat(MetadataBytes.decode(new byte[0])).isEmpty();
        assertThat(MetadataBytes.decode(null)).isEmpty();
    }

    @Test
    void encode_keysSortedBehindAVersionByte() {
        assertThat(MetadataBytes.encode(Map.of("k", "v", "a", "b"))).containsExactly(1, 1, 'a', 1, 'b', 1, 'k', 1, 'v');
    }

    @Test
    void decode_bytesNotWrittenByEncode_throwIllegalArgument() {
        assertThatThrownBy(() -> MetadataBytes.decode(new byte[] {9})).hasMessageContaining("version 9");
        assertThatThrownBy(() -> MetadataBytes.decode(new byte[] {1, 5, 'a'})).hasMessageContaining("truncated");
        assertThatThrownBy(() -> MetadataBytes.decode(new byte[] {1, 1, 'a'})).hasMessageContaining("without a value");
        assertThatThrownBy(() -> MetadataBytes.decode(new byte[] {1, 1, (byte) 0xFF, 0}))
                .hasMessageContaining("not UTF-8");
    }

    @Test
    void encode_unpairedSurrogate_throwsIllegalArgument() {
        assertThatThrownBy(() -> MetadataBytes.encode(Map.of("k", "a\uD800")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("metadata value");
    }
}
