package dev.regen.store.embedded;

import dev.regen.store.PutOptions;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.InstantSource;
import java.util.HexFormat;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The child process of {@link EmbeddedStoreCrashTest}: puts pages in a loop, from sequence number
 * {@code args[1]} on, into the store in {@code args[0]}, printing {@code ack <seq>} after each put
 * returns, until it is killed.
 */
public final class CrashWriter {

    /** Distinct keys; fewer than the writes of a run, so later writes overwrite earlier ones. */
    static final int KEYS = 40;

    private CrashWriter() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        long seq = Long.parseLong(args[1]);
        EmbeddedStore store = EmbeddedStore.open(dir, InstantSource.system()); // never closed: we get killed
        System.out.println("ready");
        System.out.flush();
        while (true) {
            byte[] value = value(seq);
            store.put(key(seq), value, PutOptions.metadata(Map.of("seq", Long.toString(seq), "sha256", sha256(value))));
            System.out.println("ack " + seq);
            System.out.flush();
            seq++;
        }
    }

    static String key(long seq) {
        return "/page/" + (seq % KEYS);
    }

    /** 4 to 200 KiB whose length and content follow from {@code seq}. */
    static byte[] value(long seq) {
        SplittableRandom random = new SplittableRandom(seq);
        byte[] value = new byte[random.nextInt(4 * 1024, 200 * 1024 + 1)];
        random.nextBytes(value);
        return value;
    }

    static String sha256(byte[] value) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(value));
    }
}
