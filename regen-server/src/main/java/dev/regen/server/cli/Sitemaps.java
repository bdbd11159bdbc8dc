package dev.regen.server.cli;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import javax.xml.XMLConstants;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;

/**
 * Reads sitemaps (sitemaps.org protocol 0.9): a {@code <urlset>} lists pages, a {@code <sitemapindex>}
 * lists more sitemaps, which are followed. Gzipped sitemaps ({@code .xml.gz}) are read too.
 *
 * <p>Parsed with the JDK's streaming parser with DTDs and external entities off, and a document that
 * carries a DOCTYPE at all is refused: a sitemap never needs one, and that closes XXE and entity
 * expansion ("billion laughs") for good.
 */
final class Sitemaps {
    /** The protocol's limit for one sitemap, uncompressed. */
    static final long MAX_BYTES = 50L * 1024 * 1024;

    static final int MAX_SITEMAPS = 10_000;
    static final int MAX_PAGES = 1_000_000;
    private static final int MAX_DEPTH = 3;

    /** Gets a sitemap's bytes. */
    @FunctionalInterface
    interface Fetcher {
        byte[] fetch(URI uri) throws IOException;
    }

    /** One parsed document: pages ({@code urlset}) or more sitemaps ({@code sitemapindex}). */
    record Parsed(boolean index, List<String> locations) {}

    /** What a whole walk found: pages' URLs in order, without repeats, and how many sitemaps were read. */
    record Found(List<URI> pages, int sitemaps) {}

    private record Pending(URI uri, int depth) {}

    private Sitemaps() {}

    /**
     * Reads {@code start} and every sitemap it (transitively, at most 3 levels) lists. A sitemap listed
     * under another host than the index that lists it is read from the index's host, with its own path:
     * an index lists public URLs, and the operator pointed {@code --sitemap} at the host to read from.
     *
     * @throws IOException naming the sitemap that could not be read or parsed
     */
    static Found collect(URI start, Fetcher fetcher) throws IOException {
        LinkedHashSet<URI> pages = new LinkedHashSet<>();
        Set<URI> seen = new HashSet<>();
        Deque<Pending> queue = new ArrayDeque<>();
        queue.add(new Pending(start, 0));
        int read = 0;
        while (!queue.isEmpty()) {
            Pending next = queue.poll();
            URI uri = next.uri();
            int depth = next.depth();
            if (!seen.add(uri)) {
                continue;
            }
            if (++read > MAX_SITEMAPS) {
                throw new IOException("more than " + MAX_SITEMAPS + " sitemaps: stopped");
            }
            Parsed parsed;
            try {
                parsed = parse(fetcher.fetch(uri));
            } catch (IOException e) {
                throw new IOException("sitemap " + uri + ": " + e.getMessage(), e);
            }
            for (String loc : parsed.locations()) {
                URI u = resolve(uri, loc);
                if (u == null) {
                    continue;
                }
                if (parsed.index()) {
                    if (depth + 1 > MAX_DEPTH) {
                        throw new IOException(
                                "sitemap " + uri + ": sitemap indexes nested more than " + MAX_DEPTH + " deep");
                    }
                    queue.add(new Pending(sameHost(uri, u), depth + 1));
                } else {
                    pages.add(u);
                    if (pages.size() > MAX_PAGES) {
                        throw new IOException("more than " + MAX_PAGES + " pages in the sitemaps: stopped");
                    }
                }
            }
        }
        return new Found(List.copyOf(pages), read);
    }

    /** {@code child}'s path and query on {@code parent}'s scheme, host and port. */
    static URI sameHost(URI parent, URI child) {
        if (parent.getScheme() == null
                || (parent.getRawAuthority() != null
                        && parent.getRawAuthority().equalsIgnoreCase(child.getRawAuthority())
                        && parent.getScheme().equalsIgnoreCase(child.getScheme()))) {
            return child;
        }
        String path = child.getRawPath() == null || child.getRawPath().isEmpty() ? "/" : child.getRawPath();
        return URI.create(parent.getScheme() + "://" + parent.getRawAuthority() + path
                + (child.getRawQuery() == null ? "" : "?" + child.getRawQuery()));
    }

    /** An absolute http(s) URL for a {@code <loc>}, or null for one that is not (skipped). */
    private static URI resolve(URI base, String loc) {
        try {
            URI u = base.resolve(new URI(loc.strip()));
            String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
            return (scheme.equals("http") || scheme.equals("https")) && u.getHost() != null ? u : null;
        } catch (URISyntaxException | IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * Parses one sitemap document, gzipped or not.
     *
     * @throws IOException when it is not a sitemap, not well-formed, too large, or has a DOCTYPE
     */
    static Parsed parse(byte[] bytes) throws IOException {
        InputStream in = new ByteArrayInputStream(bytes);
        if (bytes.length >= 2 && (bytes[0] & 0xff) == 0x1f && (bytes[1] & 0xff) == 0x8b) {
            in = new LimitedInputStream(new GZIPInputStream(in), MAX_BYTES);
        }
        XMLInputFactory factory = XMLInputFactory.newFactory();
        factory.setProperty(XMLInputFactory.SUPPORT_DTD, false);
        factory.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
        factory.setProperty(XMLInputFactory.IS_REPLACING_ENTITY_REFERENCES, false);
        factory.setProperty(XMLInputFactory.IS_NAMESPACE_AWARE, true);
        trySet(factory, XMLConstants.ACCESS_EXTERNAL_DTD, "");
        trySet(factory, XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
        XMLStreamReader xml = null;
        try {
            xml = factory.createXMLStreamReader(in);
            Boolean index = null;
            List<String> locations = new ArrayList<>();
            StringBuilder text = null;
            String parent = null;
            Deque<String> path = new ArrayDeque<>();
            while (xml.hasNext()) {
                int event = xml.next();
                switch (event) {
                    case XMLStreamConstants.DTD ->
                        throw new IOException("has a DOCTYPE, which a sitemap never needs: refused");
                    case XMLStreamConstants.ENTITY_REFERENCE ->
                        throw new IOException("uses an entity (&" + xml.getLocalName() + ";): refused");
                    case XMLStreamConstants.START_ELEMENT -> {
                        String name = xml.getLocalName();
                        if (index == null) {
                            if (name.equals("urlset")) {
                                index = false;
                            } else if (name.equals("sitemapindex")) {
                                index = true;
                            } else {
                                throw new IOException("is not a sitemap: the root element is <" + name
                                        + ">, not <urlset> or <sitemapindex>");
                            }
                        } else if (name.equals("loc") && path.size() == 2) {
                            parent = path.peek();
                            text = new StringBuilder();
                        }
                        path.push(name);
                    }
                    case XMLStreamConstants.CHARACTERS, XMLStreamConstants.CDATA -> {
                        if (text != null) {
                            text.append(xml.getText());
                        }
                    }
                    case XMLStreamConstants.END_ELEMENT -> {
                        path.pop();
                        if (text != null && xml.getLocalName().equals("loc")) {
                            boolean wanted = index ? "sitemap".equals(parent) : "url".equals(parent);
                            if (wanted && !text.toString().isBlank()) {
                                locations.add(text.toString().strip());
                            }
                            text = null;
                        }
                    }
                    default -> {}
                }
            }
            if (index == null) {
                throw new IOException("is empty");
            }
            return new Parsed(index, locations);
        } catch (XMLStreamException e) {
            if (e.getNestedException() instanceof IOException io) {
                throw io;
            }
            String m = e.getMessage() == null ? e.toString() : e.getMessage().replaceAll("\\s+", " ");
            throw new IOException("is not well-formed XML: " + m, e);
        } finally {
            if (xml != null) {
                try {
                    xml.close();
                } catch (XMLStreamException ignored) {
                    // nothing to release beyond the byte array
                }
            }
        }
    }

    private static void trySet(XMLInputFactory factory, String property, Object value) {
        try {
            factory.setProperty(property, value);
        } catch (IllegalArgumentException ignored) {
            // a parser without the property: DTD support is off anyway
        }
    }

    /** Stops a decompressing stream at {@code max} bytes: a small gzip must not inflate without bound. */
    private static final class LimitedInputStream extends java.io.FilterInputStream {
        private long left;

        LimitedInputStream(InputStream in, long max) {
            super(in);
            this.left = max;
        }

        @Override
        public int read() throws IOException {
            if (left <= 0) {
                throw new IOException("is over " + MAX_BYTES / (1024 * 1024) + " MiB uncompressed");
            }
            int b = super.read();
            if (b >= 0) {
                left--;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left <= 0) {
                throw new IOException("is over " + MAX_BYTES / (1024 * 1024) + " MiB uncompressed");
            }
            int n = super.read(b, off, (int) Math.min(len, left));
            if (n > 0) {
                left -= n;
            }
            return n;
        }
    }
}
