package dev.regen.store.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.RedisURI;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RedisConfigTest {

    private static RedisConfig parse(String uri) {
        return RedisConfig.parse(URI.create(uri));
    }

    @Test
    void parse_hostOnly_usesDefaults() {
        RedisConfig config = parse("redis://cache.internal");

        assertThat(config.cluster()).isFalse();
        assertThat(config.prefix()).isEqualTo("regen:");
        assertThat(config.timeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(config.shards()).isEqualTo(1);
        RedisURI node = config.nodes().get(0);
        assertThat(node.getHost()).isEqualTo("cache.internal");
        assertThat(node.getPort()).isEqualTo(6379);
        assertThat(node.getDatabase()).isZero();
        assertThat(node.isSsl()).isFalse();
        assertThat(node.getCredentialsProvider().resolveCredentials().block().hasPassword())
                .isFalse();
        assertThat(config.display()).isEqualTo("redis://cache.internal");
    }

    @Test
    void parse_passwordPortAndDatabase_areUsedAndPasswordIsMasked() {
        RedisConfig config = parse("rediss://:p%40ss%2Fw0rd+x@10.0.0.5:6380/3?timeout=2s&prefix=site-a:");

        RedisURI node = config.nodes().get(0);
        assertThat(node.isSsl()).isTrue();
        assertThat(node.getPort()).isEqualTo(6380);
        assertThat(node.getDatabase()).isEqualTo(3);
        assertThat(new String(node.getCredentialsProvider()
                        .resolveCredentials()
                        .block()
                        .getPassword()))
                .isEqualTo("p@ss/w0rd+x");
        assertThat(config.timeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(config.prefix()).isEqualTo("site-a:");
        assertThat(config.display()).isEqualTo("rediss://***@10.0.0.5:6380/3").doesNotContain("p@ss");
        assertThat(config.toString()).doesNotContain("w0rd");
    }

    @Test
    void parse_userAndPassword_usesAclUser() {
        RedisConfig config = parse("redis://regen:secret@h:1");

        var credentials = config.nodes()
                .get(0)
                .getCredentialsProvider()
                .resolveCredentials()
                .block();
        assertThat(credentials.getUsername()).isEqualTo("regen");
        assertThat(new String(credentials.getPassword())).isEqualTo("secret");
        assertThat(config.display()).isEqualTo("redis://regen:***@h:1");
    }

    @Test
    void parse_severalHosts_isAClusterWithEverySeed() {
        // (java.net.URI refuses IPv6 brackets in such a list: seeds there are names or IPv4.)
        RedisConfig config = parse("redis://a:7000,b:7001,10.0.0.3:7002,c");

        assertThat(config.cluster()).isTrue();
        assertThat(config.shards()).isEqualTo(16);
        assertThat(config.nodes()).extracting(RedisURI::getHost).containsExactly("a", "b", "10.0.0.3", "c");
        assertThat(config.nodes()).extracting(RedisURI::getPort).containsExactly(7000, 7001, 7002, 6379);
        assertThat(config.display()).isEqualTo("redis://a:7000,b:7001,10.0.0.3:7002,c?cluster=true");
    }

    @Test
    void parse_clusterParameter_makesOneSeedACluster() {
        RedisConfig config = parse("redis://seed:7000?cluster=true&shards=4");

        assertThat(config.cluster()).isTrue();
        assertThat(config.shards()).isEqualTo(4);
    }

    @Test
    void parse_ipv6Host_inBrackets() {
        RedisURI node = parse("redis://[::1]:6390").nodes().get(0);

        assertThat(node.getHost()).isEqualTo("::1");
        assertThat(node.getPort()).isEqualTo(6390);
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "http://h:6379                        | must start with redis://, rediss:// or redis-sentinel://",
                "h:6379                               | must start with redis://, rediss:// or redis-sentinel://",
                "redis:h                              | must be redis://host:port",
                "redis://h:0                          | port must be 1-65535: '0'",
                "redis://h:99999                      | port must be 1-65535",
                "redis://h:x                          | port must be 1-65535: 'x'",
                "redis://h/db1                        | path must be a database number like /0: /db1",
                "redis://h?timeout=0                  | timeout must be like 500ms or 2s",
                "redis://h?timeout=5m                 | timeout must be like 500ms or 2s",
                "redis://h?timeout=61s                | at most 60s",
                "redis://h?cluster=yes                | cluster must be true or false: 'yes'",
                "redis://h?prefix=%7Bx%7D             | prefix must be at most 64 characters without braces",
                "redis://h?shards=4                   | shards applies to Redis Cluster only",
                "redis://h?cluster=true&shards=0      | shards must be 1-1024: '0'",
                "redis://h?pool=8                     | unknown parameter 'pool'",
                "redis://a,b/2                        | database must be 0 with Redis Cluster",
                "redis://a,b?cluster=false            | lists 2 hosts but cluster=false",
                "redis://a,,b                         | empty host",
                "redis://:@h                          | empty password",
            })
    void parse_badUri_namesTheFaultyPart(String uri, String message) {
        assertThatThrownBy(() -> parse(uri))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }

    @Test
    void parse_badUriWithPassword_neverShowsThePassword() {
        assertThatThrownBy(() -> parse("redis://:hunter2@h:0"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageNotContaining("hunter2");
    }

    @Test
    void parse_sentinel_sentinelsWithDefaultPortAndTheMastersName() {
        RedisConfig config = parse("redis-sentinel://:pw@10.0.0.1,10.0.0.2:26380/2?sentinelMasterId=main&prefix=a:");

        assertThat(config.cluster()).isFalse();
        assertThat(config.shards()).isEqualTo(1);
        RedisURI node = config.nodes().get(0);
        assertThat(node.getSentinelMasterId()).isEqualTo("main");
        assertThat(node.getSentinels())
                .extracting(RedisURI::getHost, RedisURI::getPort)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("10.0.0.1", 26379),
                        org.assertj.core.groups.Tuple.tuple("10.0.0.2", 26380));
        assertThat(node.getDatabase()).isEqualTo(2);
        assertThat(config.display()).isEqualTo("redis-sentinel://***@10.0.0.1,10.0.0.2:26380/2?sentinelMasterId=main");
        assertThat(parse("redis-sentinel://10.0.0.1#main").nodes().get(0).getSentinelMasterId())
                .isEqualTo("main");
    }

    @Test
    void parse_sentinelWithoutMasterName_rejectedWithAnExample() {
        assertThatThrownBy(() -> parse("redis-sentinel://10.0.0.1:26379"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sentinelMasterId=mymaster");
        assertThatThrownBy(() -> parse("redis-sentinel://10.0.0.1?sentinelMasterId=m&cluster=true"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Sentinel watches one master");
    }
}
