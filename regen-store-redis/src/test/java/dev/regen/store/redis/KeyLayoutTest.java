package dev.regen.store.redis;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.cluster.SlotHash;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class KeyLayoutTest {

    @Test
    void standalone_keysArePrefixedAndUntagged() {
        KeyLayout layout = new KeyLayout("regen:", 1, false);
        byte[] key = "/blog/a".getBytes(UTF_8);

        assertThat(layout.shard(key)).isZero();
        assertThat(text(layout.hash(0, key))).isEqualTo("regen:k:/blog/a");
        assertThat(text(layout.index(0))).isEqualTo("regen:idx");
        assertThat(text(layout.expiries(0))).isEqualTo("regen:exp");
        assertThat(text(layout.lock(key))).isEqualTo("regen:lock:/blog/a");
        assertThat(text(layout.channel())).isEqualTo("regen:changes");
    }

    @Test
    void cluster_entryAndItsShardIndexes_shareOneSlot() {
        KeyLayout layout = new KeyLayout("regen:", 16, true);
        for (String k : new String[] {"/", "/blog/a", "page:/x?a=1", "tag:posts /a", "/{odd}braces"}) {
            byte[] key = k.getBytes(UTF_8);
            int shard = layout.shard(key);
            int slot = SlotHash.getSlot(layout.hash(shard, key));

            assertThat(SlotHash.getSlot(layout.index(shard))).as(k).isEqualTo(slot);
            assertThat(SlotHash.getSlot(layout.expiries(shard))).as(k).isEqualTo(slot);
            assertThat(text(layout.hash(shard, key))).startsWith("regen:{g" + shard + "}:k:");
        }
    }

    @Test
    void cluster_shards_spreadKeysAndLandOnDifferentSlots() {
        KeyLayout layout = new KeyLayout("regen:", 16, true);
        Set<Integer> shards = new HashSet<>();
        Set<Integer> slots = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            shards.add(layout.shard(("/p/" + i).getBytes(UTF_8)));
        }
        for (int s = 0; s < 16; s++) {
            slots.add(SlotHash.getSlot(layout.index(s)));
        }

        assertThat(shards).hasSize(16);
        assertThat(slots).hasSize(16);
    }

    @Test
    void shard_isStableAcrossVersions() {
        // Written data is found by this function: changing it orphans every stored entry.
        KeyLayout layout = new KeyLayout("regen:", 16, true);

        assertThat(layout.shard("/blog/a".getBytes(UTF_8))).isEqualTo(crc32Mod("/blog/a", 16));
        assertThat(layout.shard("page:/blog/a?x=1 @h ~v".getBytes(UTF_8))).isEqualTo(crc32Mod("page:/blog/a", 16));
        assertThat(layout.shard("tag:posts /blog/a @h".getBytes(UTF_8))).isEqualTo(crc32Mod("tag:posts", 16));
    }

    @Test
    void shardOfPrefix_pastItsGroup_oneShard_elseEvery() {
        KeyLayout layout = new KeyLayout("regen:", 16, true);

        assertThat(layout.shardOfPrefix("page:/blog/a ".getBytes(UTF_8))).isEqualTo(crc32Mod("page:/blog/a", 16));
        assertThat(layout.shardOfPrefix("page:/blog/a?".getBytes(UTF_8))).isEqualTo(crc32Mod("page:/blog/a", 16));
        assertThat(layout.shardOfPrefix("tag:posts ".getBytes(UTF_8))).isEqualTo(crc32Mod("tag:posts", 16));
        assertThat(layout.shardOfPrefix("page:/blog/".getBytes(UTF_8))).isEqualTo(-1);
        assertThat(layout.shardOfPrefix("".getBytes(UTF_8))).isEqualTo(-1);
        assertThat(new KeyLayout("regen:", 1, false).shardOfPrefix("page:/".getBytes(UTF_8)))
                .isZero();
    }

    @Test
    void constructor_shardsWithoutCluster_rejected() {
        assertThatThrownBy(() -> new KeyLayout("regen:", 4, false)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void prefixEnd_incrementsLastByteBelow0xFF() {
        assertThat(RedisStore.prefixEnd("/ab".getBytes(UTF_8))).isEqualTo("/ac".getBytes(UTF_8));
        assertThat(RedisStore.prefixEnd(new byte[] {'a', (byte) 0xFF, (byte) 0xFF}))
                .containsExactly('b');
        assertThat(RedisStore.prefixEnd(new byte[] {(byte) 0xFF})).isNull();
        assertThat(RedisStore.prefixEnd(new byte[0])).isNull();
    }

    private static int crc32Mod(String s, int n) {
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(s.getBytes(UTF_8));
        return (int) (crc.getValue() % n);
    }

    private static String text(byte[] b) {
        return new String(b, UTF_8);
    }
}
