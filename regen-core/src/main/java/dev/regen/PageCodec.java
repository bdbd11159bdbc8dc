package dev.regen;

import dev.regen.internal.Cached;
import dev.regen.internal.CachedPage;
import dev.regen.internal.Header;
import dev.regen.internal.Replay;
import dev.regen.internal.VaryMarker;
import dev.regen.store.KvEntry;
import dev.regen.store.PutOptions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Maps a page onto the KV shape: the value is the body, byte for byte, followed by its gzip variant
 * when it has one ({@code z} in the metadata is that variant's length), so a page loaded from the store
 * is never compressed again; everything else is metadata, so listing pages (admin API, tag index
 * rebuilds) never reads bodies. Header values can't hold CR or LF (RFC 9110 §5.5), so one header per
 * line is unambiguous.
 *
 * <p>A vary marker is an entry with an empty value and {@code m=v}. Fields added since format 1 are
 * optional, so pages stored by an older version still read.
 */
final class PageCodec {
    static final String FORMAT = "1";
    private static final byte[] EMPTY = new byte[0];

    private PageCodec() {}

    static PutOptions options(CachedPage page) {
        Map<String, String> m = new HashMap<>();
        m.put("f", FORMAT);
        m.put("s", Integer.toString(page.status()));
        m.put("e", page.etag());
        m.put("r", Long.toString(page.renderedAt().toEpochMilli()));
        m.put("v", Long.toString(page.revalidate().toMillis()));
        if (page.staleWindow() != null) {
            m.put("w", Long.toString(page.staleWindow().toMillis()));
        }
        if (!page.tags().isEmpty()) {
            m.put("t", String.join(" ", page.tags()));
        }
        if (page.invalidated()) {
            m.put("i", "1");
        }
        m.put("h", lines(page.headers()));
        m.put("u", page.replay().target());
        if (!"http".equals(page.replay().scheme())) {
            m.put("c", page.replay().scheme());
        }
        if (!page.replay().headers().isEmpty()) {
            m.put("q", lines(page.replay().headers()));
        }
        m.put("z", Integer.toString(page.gzipBody() == null ? 0 : page.gzipBody().length));
        String flags = (page.shared() ? "p" : "") + (page.immutable() ? "m" : "");
        if (!flags.isEmpty()) {
            m.put("x", flags);
        }
        return new PutOptions(page.expiresAt(), m);
    }

    static PutOptions options(VaryMarker marker) {
        return PutOptions.metadata(Map.of("f", FORMAT, "m", "v", "n", String.join(" ", marker.names())));
    }

    static byte[] value(Cached cached) {
        if (!(cached instanceof CachedPage p)) {
            return EMPTY;
        }
        byte[] gz = p.gzipBody();
        if (gz == null) {
            return p.body();
        }
        byte[] both = Arrays.copyOf(p.body(), p.body().length + gz.length);
        System.arraycopy(gz, 0, both, p.body().length, gz.length);
        return both;
    }

    static PutOptions options(Cached cached) {
        return cached instanceof CachedPage p ? options(p) : options((VaryMarker) cached);
    }

    /** Whether listed metadata is a vary marker's. */
    static boolean isMarker(Map<String, String> metadata) {
        return "v".equals(metadata.get("m"));
    }

    /**
     * The page or marker, or null when the entry is not one this version can read (a broken cache is
     * a miss). {@code key} supplies the replay target of pages stored before it was recorded.
     */
    static Cached decode(String key, KvEntry entry) {
        return decode(key, entry.metadata(), entry.value(), false);
    }

    /**
     * What a listing says of a page, without its value: its freshness, tags and headers, an empty body
     * and no gzip variant. Null like {@link #decode}.
     */
    static Cached decodeListed(String key, Map<String, String> metadata) {
        return decode(key, metadata, EMPTY, true);
    }

    private static Cached decode(String key, Map<String, String> m, byte[] value, boolean metadataOnly) {
        if (!FORMAT.equals(m.get("f"))) {
            return null;
        }
        try {
            if (isMarker(m)) {
                String names = m.getOrDefault("n", "");
                return new VaryMarker(names.isEmpty() ? List.of() : Arrays.asList(names.split(" ")));
            }
            String flags = m.getOrDefault("x", "");
            String target = m.containsKey("u") ? m.get("u") : Keys.path(key);
            Replay replay = new Replay(target, m.getOrDefault("c", "http"), headers(m.getOrDefault("q", "")));
            int status = Integer.parseInt(m.get("s"));
            List<Header> headers = headers(m.getOrDefault("h", ""));
            Instant renderedAt = Instant.ofEpochMilli(Long.parseLong(m.get("r")));
            Duration revalidate = Duration.ofMillis(Long.parseLong(m.get("v")));
            Duration staleWindow = m.containsKey("w") ? Duration.ofMillis(Long.parseLong(m.get("w"))) : null;
            boolean invalidated = "1".equals(m.get("i"));
            boolean shared = flags.indexOf('p') >= 0;
            boolean immutable = flags.indexOf('m') >= 0;
            if (metadataOnly) {
                return new CachedPage(
                        status,
                        headers,
                        EMPTY,
                        m.get("e"),
                        renderedAt,
                        revalidate,
                        staleWindow,
                        tags(m),
                        invalidated,
                        null,
                        replay,
                        shared,
                        immutable);
            }
            if (!m.containsKey("z")) { // stored before the gzip variant was kept: made here once
                return new CachedPage(
                        status,
                        headers,
                        value,
                        m.get("e"),
                        renderedAt,
                        revalidate,
                        staleWindow,
                        tags(m),
                        invalidated,
                        replay,
                        shared,
                        immutable);
            }
            int gzLength = Integer.parseInt(m.get("z"));
            if (gzLength < 0 || gzLength > value.length) {
                return null;
            }
            byte[] body = gzLength == 0 ? value : Arrays.copyOf(value, value.length - gzLength);
            byte[] gz = gzLength == 0 ? null : Arrays.copyOfRange(value, value.length - gzLength, value.length);
            return new CachedPage(
                    status,
                    headers,
                    body,
                    m.get("e"),
                    renderedAt,
                    revalidate,
                    staleWindow,
                    tags(m),
                    invalidated,
                    gz,
                    replay,
                    shared,
                    immutable);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static String lines(List<Header> headers) {
        StringBuilder h = new StringBuilder();
        for (Header header : headers) {
            h.append(header.name()).append(':').append(header.value()).append('\n');
        }
        return h.toString();
    }

    private static List<Header> headers(String lines) {
        List<Header> headers = new ArrayList<>();
        for (String line : lines.split("\n", -1)) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                headers.add(new Header(line.substring(0, colon), line.substring(colon + 1)));
            }
        }
        return headers;
    }

    static Set<String> tags(Map<String, String> metadata) {
        String t = metadata.get("t");
        return t == null || t.isEmpty() ? Set.of() : new LinkedHashSet<>(Arrays.asList(t.split(" ")));
    }
}
