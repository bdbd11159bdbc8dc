package dev.regen.store.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MetadataCodecTest {

    @Test
    void encode_specialCharacters_areEscaped() {
        assertThat(MetadataCodec.encode(Map.of("a=b", "c&d%"))).isEqualTo("a%3Db=c%26d%25");
        assertThat(MetadataCodec.encode(Map.of())).isEmpty();
        assertThat(MetadataCodec.encode(Map.of("", ""))).isEqualTo("=");
    }

    @Test
    void decode_randomMaps_roundTripExactly() {
        Random random = new Random(3);
        char[] alphabet = {'a', '=', '&', '%', '2', '5', '3', 'D', 'é', '\n', '\0'};
        for (int n = 0; n < 5_000; n++) {
            Map<String, String> metadata = new HashMap<>();
            int pairs = random.nextInt(4);
            for (int p = 0; p < pairs; p++) {
                metadata.put(randomString(random, alphabet), randomString(random, alphabet));
            }
            assertThat(MetadataCodec.decode(MetadataCodec.encode(metadata))).isEqualTo(metadata);
        }
    }

    @Test
    void decode_malformedText_throwsIllegalArgument() {
        assertThatThrownBy(() -> MetadataCodec.decode("novalue")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MetadataCodec.decode("a=b=c")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MetadataCodec.decode("a=%4")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MetadataCodec.decode("a=%41")).isInstanceOf(IllegalArgumentException.class);
    }

    private static String randomString(Random random, char[] alphabet) {
        StringBuilder sb = new StringBuilder();
        int len = random.nextInt(5);
        for (int i = 0; i < len; i++) {
            sb.append(alphabet[random.nextInt(alphabet.length)]);
        }
        return sb.toString();
    }
}
