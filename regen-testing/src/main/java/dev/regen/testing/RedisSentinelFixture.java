package dev.regen.testing;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A Sentinel set: a master, one replica and three Sentinels (quorum 2), every one a real
 * {@code redis-server} process on loopback ({@code redis-server conf --sentinel} for the Sentinels:
 * the {@code redis-server} package is enough).
 */
public final class RedisSentinelFixture implements AutoCloseable {
    public static final String MASTER_NAME = "regen-main";

    private final RedisServerFixture master;
    private final RedisServerFixture replica;
    private final List<RedisServerFixture> sentinels;

    private RedisSentinelFixture(
            RedisServerFixture master, RedisServerFixture replica, List<RedisServerFixture> sentinels) {
        this.master = master;
        this.replica = replica;
        this.sentinels = sentinels;
    }

    /** Starts the set; the Sentinels call the master down after {@code downAfterMillis}. */
    public static RedisSentinelFixture start(int downAfterMillis) {
        RedisServerFixture master = RedisServerFixture.start();
        RedisServerFixture replica = null;
        List<RedisServerFixture> sentinels = new ArrayList<>();
        try {
            replica = RedisServerFixture.start(
                    Ports.freePort(), List.of("--replicaof", "127.0.0.1", Integer.toString(master.port())));
            for (int i = 0; i < 3; i++) {
                sentinels.add(RedisServerFixture.startSentinel(MASTER_NAME, master.port(), downAfterMillis));
            }
            RedisSentinelFixture set = new RedisSentinelFixture(master, replica, sentinels);
            set.awaitReady(Duration.ofSeconds(20));
            return set;
        } catch (RuntimeException | Error e) {
            master.close();
            if (replica != null) {
                replica.close();
            }
            sentinels.forEach(RedisServerFixture::close);
            throw e;
        }
    }

    /** {@code redis-sentinel://127.0.0.1:s1,...?sentinelMasterId=regen-main} plus {@code &suffix}. */
    public URI uri(String parameters) {
        return URI.create("redis-sentinel://"
                + sentinels.stream().map(s -> "127.0.0.1:" + s.port()).collect(Collectors.joining(","))
                + "?sentinelMasterId=" + MASTER_NAME
                + (parameters.isEmpty() ? "" : "&" + parameters));
    }

    public RedisServerFixture master() {
        return master;
    }

    public RedisServerFixture replica() {
        return replica;
    }

    /** The port of the master the Sentinels name now, or -1 when the first one does not answer. */
    public int masterPort() {
        try {
            String reply = sentinels.get(0).call("SENTINEL", "get-master-addr-by-name", MASTER_NAME);
            String[] hostPort = reply.split("\n", -1);
            return hostPort.length == 2 ? Integer.parseInt(hostPort[1]) : -1;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Until the replica is in sync and every Sentinel knows the replica and the other Sentinels. */
    private void awaitReady(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            try {
                last = replica.call("INFO", "replication");
                boolean synced = last.contains("master_link_status:up");
                boolean known = true;
                for (RedisServerFixture s : sentinels) {
                    String info = s.call("SENTINEL", "master", MASTER_NAME);
                    last = info;
                    known &= info.contains("num-slaves\n1") && info.contains("num-other-sentinels\n2");
                }
                if (synced && known) {
                    return;
                }
            } catch (IOException e) {
                last = e.toString();
            }
            RedisServerFixture.sleep(50);
        }
        throw new IllegalStateException("the Sentinel set was not ready within " + timeout + ":\n" + last);
    }

    @Override
    public void close() {
        sentinels.forEach(RedisServerFixture::close);
        replica.close();
        master.close();
    }
}
