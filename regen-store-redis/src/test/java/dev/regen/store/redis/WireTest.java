package dev.regen.store.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class WireTest {

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
