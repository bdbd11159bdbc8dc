package dev.regen;

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
 * Maps a page onto the KV shape: the body is the value, byte for byte; everything else is metadata, so
 * listing pages (admin API, tag index rebuilds) never reads bodies. Header values can't hold CR or LF
 * (RFC 9110 §5.5), so one header per line is unambiguous.
 */
final class PageCodec {
    static final String FORMAT = "1";

    private PageCodec() {
    }

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
        StringBuilder h = new StringBuilder();
        for (Header header : page.headers()) {
            h.append(header.name()).append(':').append(header.value()).append('\n');
        }
        m.put("h", h.toString());
        return new PutOptions(page.expiresAt(), m);
    }

    /** The page, or null when the entry is not a page this version can read (a broken cache is a miss). */
    static CachedPage decode(KvEntry entry) {
        Map<String, String> m = entry.metadata();
        if (!FORMAT.equals(m.get("f"))) {
            return null;
        }
        try {
            List<Header> headers = new ArrayList<>();
            for (String line : m.getOrDefault("h", "").split("\n")) {
                int colon = line.indexOf(':');
                if (colon > 0) {
                    headers.add(new Header(line.substring(0, colon), line.substring(colon + 1)));
                }
            }
            return new CachedPage(
                    Integer.parseInt(m.get("s")),
                    headers,
                    entry.value(),
                    m.get("e"),
                    Instant.ofEpochMilli(Long.parseLong(m.get("r"))),
                    Duration.ofMillis(Long.parseLong(m.get("v"))),
                    m.containsKey("w") ? Duration.ofMillis(Long.parseLong(m.get("w"))) : null,
                    tags(m),
                    "1".equals(m.get("i")));
        } catch (RuntimeException e) {
            return null;
        }
    }

    static Set<String> tags(Map<String, String> metadata) {
        String t = metadata.get("t");
        return t == null || t.isEmpty() ? Set.of() : new LinkedHashSet<>(Arrays.asList(t.split(" ")));
    }
}
