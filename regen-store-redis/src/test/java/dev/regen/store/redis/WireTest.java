package dev.regen.store.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.regen.cluster.Cluster;
import java.time.Instant;
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
    void message_refreshed_roundTripsKeyEtagAndRenderTimeToTheMillisecond() {
        List<Cluster.Refresh> refreshes = List.of(
                new Cluster.Refresh(
                        "page:/ü 😀?a=1 @host ~v", "\"abc-123\"", Instant.parse("2026-03-01T12:34:56.789Z")),
                new Cluster.Refresh("", "W/\"x\"", Instant.EPOCH),
                new Cluster.Refresh("/old", "e", Instant.parse("1969-12-31T23:59:59.999Z")),
                new Cluster.Refresh("/far", "f", Instant.ofEpochMilli(Long.MAX_VALUE)));

        Wire.Message message = Wire.decodeMessage(Wire.encodeRefreshed("node-1", refreshes));

        assertThat(message.type()).isEqualTo(Wire.REFRESHED);
        assertThat(message.nodeId()).isEqualTo("node-1");
        assertThat(message.refreshes()).isEqualTo(refreshes);
        assertThat(message.keys()).containsExactly("page:/ü 😀?a=1 @host ~v", "", "/old", "/far");
    }

    @Test
    void message_refreshed_isCompact() {
        byte[] bytes = Wire.encodeRefreshed(
                "n",
                List.of(new Cluster.Refresh(
                        "page:/blog/a", "\"0123456789abcdef\"", Instant.parse("2026-03-01T12:34:56.789Z"))));

        // version, type, node id, count, key and etag: 37 bytes; the render time 6, not 8 nor 13 digits
        assertThat(bytes).hasSize(43);
    }

    @Test
    void encodeRefreshed_refreshWithoutEtag_throwsIllegalArgument() {
        List<Cluster.Refresh> refreshes = List.of(new Cluster.Refresh("/k", null, Instant.EPOCH));

        assertThatThrownBy(() -> Wire.encodeRefreshed("n", refreshes))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("etag");
    }

    @Test
    void message_foreignBytes_throwIllegalArgument() {
        assertThatThrownBy(() -> Wire.decodeMessage("hello".getBytes())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Wire.decodeMessage(new byte[] {1, 7, 0}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("type 7");
        byte[] valid = Wire.encodeMissed("n");
        byte[] trailing = java.util.Arrays.copyOf(valid, valid.length + 1);
        assertThatThrownBy(() -> Wire.decodeMessage(trailing)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void utf8_unpairedSurrogate_isRejectedNotReplaced() {
        assertThatThrownBy(() -> Wire.utf8("key", "/a\uD800b"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("key has an unpaired surrogate at index 2");
        assertThat(Wire.utf8("key", "/😀")).hasSize(5);
    }
}
