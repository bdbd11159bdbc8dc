package dev.regen.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A Redis Cluster: {@link RedisServerFixture}s with {@code --cluster-enabled yes}, joined by
 * {@code redis-cli --cluster create} (three masters and no replicas by default; with replicas, the
 * first nodes are the masters). Each node's cluster bus uses its port + 10000, so ports are chosen
 * with both free.
 */
public final class RedisClusterFixture implements AutoCloseable {

    private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);

    private final List<RedisServerFixture> nodes;

    private RedisClusterFixture(List<RedisServerFixture> nodes) {
        this.nodes = List.copyOf(nodes);
    }

    /** Three masters, no replicas. */
    public static RedisClusterFixture start() {
        return start(3);
    }

    public static RedisClusterFixture start(int masters) {
        return start(masters, 0, 5000);
    }

    /**
     * {@code masters} masters with {@code replicas} replicas each; a replica takes over a master that
     * has not answered for {@code nodeTimeoutMillis}.
     */
    public static RedisClusterFixture start(int masters, int replicas, int nodeTimeoutMillis) {
        List<RedisServerFixture> nodes = new ArrayList<>();
        try {
            for (int i = 0; i < masters * (1 + replicas); i++) {
                nodes.add(RedisServerFixture.start(
                        clusterPort(),
                        List.of(
                                "--cluster-enabled", "yes",
                                "--cluster-config-file", "nodes.conf",
                                "--cluster-node-timeout", Integer.toString(nodeTimeoutMillis),
                                // what docs/proxy.md advises: the healthy masters keep serving their slots
                                // while one is down, instead of the whole cluster answering CLUSTERDOWN
                                "--cluster-require-full-coverage", "no")));
            }
            create(nodes, replicas);
            awaitReady(nodes);
            return new RedisClusterFixture(nodes);
        } catch (RuntimeException | Error e) {
            nodes.forEach(RedisServerFixture::close);
            throw e;
        }
    }

    public List<RedisServerFixture> nodes() {
        return nodes;
    }

    /** Every node as a seed: {@code redis://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3} plus {@code suffix}. */
    public URI uri(String suffix) {
        return URI.create("redis://"
                + nodes.stream().map(n -> "127.0.0.1:" + n.port()).collect(Collectors.joining(",")) + suffix);
    }

    public URI uri() {
        return uri("");
    }

    /** The slot ranges a node serves as master, from its CLUSTER NODES line ("myself"); empty for a replica. */
    public static List<int[]> slotsOf(RedisServerFixture node) throws IOException {
        List<int[]> ranges = new ArrayList<>();
        for (String line : node.call("CLUSTER", "NODES").split("\n", -1)) {
            String[] f = line.trim().split(" ", -1);
            if (f.length > 2 && f[2].contains("myself") && f[2].contains("master")) {
                for (int i = 8; i < f.length; i++) {
                    if (f[i].startsWith("[")) {
                        continue; // a slot being migrated
                    }
                    String[] r = f[i].split("-", -1);
                    ranges.add(new int[] {Integer.parseInt(r[0]), Integer.parseInt(r[r.length - 1])});
                }
            }
        }
        return ranges;
    }

    /** Until {@code node} sees all 16384 slots served again (after a failover), or the timeout. */
    public static boolean awaitSlotsServed(RedisServerFixture node, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                String info = node.call("CLUSTER", "INFO");
                if (info.contains("cluster_state:ok")
                        && info.contains("cluster_slots_fail:0")
                        && info.contains("cluster_slots_pfail:0")) {
                    return true;
                }
            } catch (IOException e) {
                // not answering
            }
            RedisServerFixture.sleep(20);
        }
        return false;
    }

    @Override
    public void close() {
        nodes.forEach(RedisServerFixture::close);
    }

    private static void create(List<RedisServerFixture> nodes, int replicas) {
        List<String> command =
                new ArrayList<>(List.of(RedisServerFixture.executable("redis-cli"), "--cluster", "create"));
        nodes.forEach(n -> command.add("127.0.0.1:" + n.port()));
        command.addAll(List.of("--cluster-replicas", Integer.toString(replicas), "--cluster-yes"));
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("redis-cli --cluster create failed:\n" + output);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Until every node sees all 16384 slots served and the same number of known nodes. */
    private static void awaitReady(List<RedisServerFixture> nodes) {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            boolean ready = true;
            for (RedisServerFixture node : nodes) {
                try {
                    last = node.call("CLUSTER", "INFO");
                } catch (IOException e) {
                    last = e.toString();
                    ready = false;
                    break;
                }
                if (!last.contains("cluster_state:ok")
                        || !last.contains("cluster_slots_ok:16384")
                        || !last.contains("cluster_known_nodes:" + nodes.size())) {
                    ready = false;
                    break;
                }
            }
            if (ready) {
                return;
            }
            RedisServerFixture.sleep(50);
        }
        throw new IllegalStateException(
                "the Redis Cluster did not become ready within " + READY_TIMEOUT + ":\n" + last);
    }

    /** A free port whose cluster bus port (+10000) is free too. */
    private static int clusterPort() {
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(20_000, 55_000);
            if (RedisServerFixture.portFree(port) && RedisServerFixture.portFree(port + 10_000)) {
                return port;
            }
        }
        throw new IllegalStateException("no free port pair for a Redis Cluster node");
    }
}
