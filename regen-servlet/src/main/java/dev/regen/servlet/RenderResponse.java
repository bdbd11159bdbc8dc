package dev.regen.servlet;

import dev.regen.CacheStatus;
import dev.regen.internal.Forwarding;
import dev.regen.internal.Header;
import dev.regen.internal.http.CacheHeaders;
import dev.regen.internal.http.ContentCoding;
import dev.regen.internal.http.HttpFields;
import dev.regen.internal.http.Vary;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The answer to a forward on its way to the client, reported to its {@link Forwarding} as it goes: the
 * servlet edge's counterpart of the proxy's relay. The app writes it (a render in the client's own
 * request), or the filter does, from the app's answer over loopback.
 *
 * <p>It commits as a container does: when its buffer ({@link #getBufferSize()}) overflows, on a flush,
 * or at the end. At that moment it tells the forwarding the status and the fields as set, adds the cache
 * fields the forwarding answers with, and commits the real response too, so that the client and the
 * engine see the same head. The body then streams to the client while a copy is kept for the engine up
 * to its limit ({@link Forwarding#tooLarge()} past it); the end completes the copy. What the container
 * would write itself ({@code sendError}) can't be kept: the forwarding hears {@link Forwarding#failed}.
 *
 * <p>The client gets no body for HEAD (the app answered the GET the engine forwards), and a body in a
 * content coding it does not accept is decoded for it (gathered, then sent whole). An app that switches
 * to non-blocking output ({@link ServletOutputStream#setWriteListener}) is passed through uncached.
 *
 * <p>The end is the filter's to call ({@link #finish()}) once the app returns, or the app's when it
 * closes the body or completes its asynchronous request ({@link #async}); as an {@link AsyncListener} it
 * hears timeouts and errors. Thread-safe: the app may write from another thread than the one that ends it.
 */
final class RenderResponse extends HttpServletResponseWrapper implements AsyncListener {
    private static final Logger log = LoggerFactory.getLogger(RenderResponse.class);

    private enum State {
        OPEN,
        COMMITTED,
        ENDED
    }

    /** The response fields whether a page may be stored, and for how long, depends on. */
    private static final List<String> CACHING_FIELDS =
            List.of("cache-control", "cdn-cache-control", "expires", "set-cookie", "set-cookie2", "vary");

    private final HttpServletResponse response;
    private final Forwarding forwarding;
    private final boolean headOnly;
    private final String acceptEncoding;
    /** A body decoded for this client is gathered up to this many bytes. */
    private final long maxDecoded;

    private final Object lock = new Object();

    private State state = State.OPEN;
    /** The body before the commit, at most the buffer size. */
    private ByteArrayOutputStream pending = new ByteArrayOutputStream();

    private boolean withBody;
    private ByteArrayOutputStream copy;
    private long copyLimit;
    private ByteArrayOutputStream gathered;
    private String gatheredCoding;
    /** Held until the commit: whether it reaches the client depends on the client's Accept-Encoding. */
    private String contentEncoding;

    private long contentLength = -1;
    private boolean transparent;
    /** The body bytes the app wrote (after the commit's). */
    private long total;
    /** The container writes the response (an error page): nothing more goes to it from here. */
    private boolean containerAnswers;
    /** The fields the engine was told of at the commit. */
    private List<Header> reported;

    private Body body;
    private boolean streamTaken;
    private PrintWriter writer;
    private OutputStreamWriter encoder;
    private Sink sink;
    private String writerCharset;
    private ServletOutputStream realOut;
    private AsyncContext asyncContext;
    private AsyncContext asyncView;

    /**
     * @param headOnly       the client asked with HEAD: it gets the head alone
     * @param acceptEncoding the client's {@code Accept-Encoding}
     */
    RenderResponse(
            HttpServletResponse response,
            Forwarding forwarding,
            boolean headOnly,
            String acceptEncoding,
            long maxDecoded) {
        super(response);
        this.response = response;
        this.forwarding = forwarding;
        this.headOnly = headOnly;
        this.acceptEncoding = acceptEncoding;
        this.maxDecoded = maxDecoded;
    }

    // ------------------------------------------------------------------------------------ the body

    @Override
    public ServletOutputStream getOutputStream() {
        synchronized (lock) {
            if (writer != null) {
                throw new IllegalStateException("getWriter() has already been called for this response");
            }
            streamTaken = true;
            return body();
        }
    }

    @Override
    public PrintWriter getWriter() throws IOException {
        synchronized (lock) {
            if (streamTaken) {
                throw new IllegalStateException("getOutputStream() has already been called for this response");
            }
            if (writer == null) {
                String charset = getCharacterEncoding();
                writerCharset = charset == null ? "ISO-8859-1" : charset;
                sink = new Sink();
                encoder = new OutputStreamWriter(sink, writerCharset);
                // as a container does: the writer's charset is the response's from now on
                response.setCharacterEncoding(writerCharset);
                writer = new PrintWriter(encoder) {
                    @Override
                    public void flush() {
                        super.flush();
                        try {
                            RenderResponse.this.flush();
                        } catch (IOException e) {
                            setError();
                        }
                    }
                };
            }
            return writer;
        }
    }

    private Body body() {
        if (body == null) {
            body = new Body();
        }
        return body;
    }

    @Override
    public void setCharacterEncoding(String charset) {
        if (writer == null) {
            super.setCharacterEncoding(charset);
        }
    }

    @Override
    public void setContentType(String type) {
        super.setContentType(type);
        if (writer != null) {
            super.setCharacterEncoding(writerCharset);
        }
    }

    @Override
    public void setLocale(Locale locale) {
        super.setLocale(locale);
        if (writer != null) {
            super.setCharacterEncoding(writerCharset);
        }
    }

    private void write(byte[] b, int off, int len) throws IOException {
        synchronized (lock) {
            if (state == State.ENDED || len == 0) {
                return; // after the end (close, sendError, sendRedirect) a container drops it too
            }
            if (transparent) {
                realOut().write(b, off, len);
                return;
            }
            boolean committing = false;
            if (state == State.OPEN) {
                if (pending.size() + (long) len <= response.getBufferSize()) {
                    pending.write(b, off, len);
                    return;
                }
                commit(false);
                committing = true;
            }
            emit(b, off, len);
            if (committing && withBody && gathered == null && state == State.COMMITTED) {
                // the buffer is full, as a container's would be: the head goes out as the engine saw it
                response.flushBuffer();
            }
        }
    }

    private void flush() throws IOException {
        synchronized (lock) {
            if (state == State.ENDED || (headOnly && !transparent)) {
                return; // nothing goes to a HEAD client before the end, when the body's length is known
            }
            if (transparent) {
                realOut().flush();
                return;
            }
            if (state == State.OPEN) {
                commit(false);
            }
            if (state == State.COMMITTED && gathered == null) {
                response.flushBuffer();
            }
        }
    }

    @Override
    public void flushBuffer() throws IOException {
        drainWriter();
        flush();
    }

    /** The app closed the body: the response is complete. */
    private void close() throws IOException {
        synchronized (lock) {
            if (state == State.ENDED) {
                return;
            }
        }
        finish();
        synchronized (lock) {
            if (!containerAnswers) {
                realOut().close();
            }
        }
    }

    private void emit(byte[] b, int off, int len) throws IOException {
        if (len == 0 || state != State.COMMITTED) {
            return;
        }
        total += len;
        if (copy != null) {
            if (copy.size() + (long) len > copyLimit) {
                copy = null;
                forwarding.tooLarge();
            } else {
                copy.write(b, off, len);
            }
        }
        if (gathered != null) {
            if (gathered.size() + (long) len > maxDecoded) {
                undecodable("is over " + maxDecoded + " bytes");
                return;
            }
            gathered.write(b, off, len);
            return;
        }
        if (withBody) {
            realOut().write(b, off, len);
        }
    }

    private ServletOutputStream realOut() throws IOException {
        if (realOut == null) {
            realOut = response.getOutputStream();
        }
        return realOut;
    }

    /**
     * The writer's encoded characters into the body (not a flush of the response: that is the writer's
     * own flush). Called without the lock: the writer takes its own lock before this one.
     */
    private void drainWriter() throws IOException {
        OutputStreamWriter e;
        synchronized (lock) {
            e = state == State.ENDED ? null : encoder;
        }
        if (e != null) {
            e.flush();
        }
    }

    /** Drops what the writer still holds (a reset). */
    private void discardWriter() {
        if (encoder == null) {
            return;
        }
        sink.discard = true;
        try {
            encoder.flush();
        } catch (IOException e) {
            // nothing was written anywhere
        } finally {
            sink.discard = false;
        }
    }

    // ------------------------------------------------------------------------------------ the head

    /** Reports the head to the engine and applies its answer: called once, with the lock held. */
    private void commit(boolean last) throws IOException {
        state = State.COMMITTED;
        int status = getStatus();
        withBody = !headOnly && !HttpFields.bodiless(status);
        boolean lengthKnown = contentLength >= 0;
        if (last && !lengthKnown && !HttpFields.bodiless(status)) {
            contentLength = pending.size();
        }
        reported = fields();
        Forwarding.Head head = forwarding.head(status, reported);
        for (Header f : forwarding.fields(head, joined(response.getHeaders("Vary")), response.containsHeader("Age"))) {
            response.setHeader(f.name(), f.value());
        }
        if (head.buffer()) {
            copy = new ByteArrayOutputStream(Math.max(pending.size(), 256));
            copyLimit = head.maxBytes();
        }
        String coding = ContentCoding.of(contentEncoding);
        if (withBody
                && !coding.equals("identity")
                && ContentCoding.decodable(coding)
                && !ContentCoding.accepts(acceptEncoding, coding)) {
            // a client that does not take the app's coding gets the body decoded, whole, at the end
            gathered = new ByteArrayOutputStream();
            gatheredCoding = coding;
        } else {
            if (contentEncoding != null) {
                response.setHeader("Content-Encoding", contentEncoding);
            }
            if (last && !lengthKnown && !HttpFields.bodiless(status)) {
                response.setContentLengthLong(contentLength);
            }
        }
        byte[] before = pending.toByteArray();
        pending = null;
        emit(before, 0, before.length);
    }

    /** The response's status and fields as the app set them (what {@link Forwarding#head} is told). */
    private List<Header> fields() {
        List<Header> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (String name : response.getHeaderNames()) {
            if (!seen.add(name.toLowerCase(Locale.ROOT))) {
                continue;
            }
            for (String value : response.getHeaders(name)) {
                out.add(new Header(name, value));
            }
        }
        // some containers keep these two apart from the other fields
        String type = response.getContentType();
        if (type != null && !seen.contains("content-type")) {
            out.add(new Header("Content-Type", type));
        }
        if (contentLength >= 0 && !seen.contains("content-length")) {
            out.add(new Header("Content-Length", String.valueOf(contentLength)));
        }
        if (contentEncoding != null) {
            out.add(new Header("Content-Encoding", contentEncoding));
        }
        return out;
    }

    /** The name of a field that decides storage and is not as the engine was told at the commit, or null. */
    private String changedCachingField() {
        List<Header> now = fields();
        for (String name : CACHING_FIELDS) {
            List<String> before = HttpFields.all(reported, name);
            List<String> after = HttpFields.all(now, name);
            boolean same = name.equals("vary")
                    ? Vary.names(before).equals(Vary.names(after)) // Accept-Encoding is Regen's own
                    : before.equals(after);
            if (!same) {
                return name;
            }
        }
        return null;
    }

    private static String joined(Collection<String> values) {
        return values == null || values.isEmpty() ? null : String.join(", ", values);
    }

    /** Whether the engine saw the head (or the render ended without one). */
    @Override
    public boolean isCommitted() {
        synchronized (lock) {
            return state != State.OPEN || super.isCommitted();
        }
    }

    @Override
    public void reset() {
        synchronized (lock) {
            requireUncommitted();
            super.reset();
            pending.reset();
            contentEncoding = null;
            contentLength = -1;
            discardWriter();
            writer = null;
            encoder = null;
            streamTaken = false;
        }
    }

    @Override
    public void resetBuffer() {
        synchronized (lock) {
            requireUncommitted();
            super.resetBuffer();
            discardWriter();
            pending.reset();
        }
    }

    private void requireUncommitted() {
        if (state != State.OPEN || super.isCommitted()) {
            throw new IllegalStateException("the response is already committed");
        }
    }

    @Override
    public void sendError(int sc) throws IOException {
        sendError(sc, null);
    }

    @Override
    public void sendError(int sc, String msg) throws IOException {
        synchronized (lock) {
            if (!transparent) {
                requireUncommitted();
                state = State.ENDED;
                pending = null;
                discardWriter();
                contentEncoding = null;
                forwarding.failed(new IOException("the app answered with sendError(" + sc
                        + "), a page the container writes and Regen can't keep"));
                response.setHeader(CacheHeaders.X_CACHE_STATUS, CacheStatus.MISS.name());
                response.setHeader(CacheHeaders.CACHE_STATUS, Forwarding.unstoredCacheStatus());
            }
            if (msg == null) {
                super.sendError(sc);
            } else {
                super.sendError(sc, msg);
            }
        }
    }

    /** A redirect is a response like another (a 302 with an empty body), kept if its fields allow. */
    @Override
    public void sendRedirect(String location) throws IOException {
        synchronized (lock) {
            if (transparent) {
                super.sendRedirect(location);
                return;
            }
            resetBuffer();
            setStatus(HttpServletResponse.SC_FOUND);
            setHeader("Location", location);
            finish();
        }
    }

    // ------------------------------------------------------------------ fields held until the commit

    private boolean holds(String name) {
        return state == State.OPEN && !transparent && name.equalsIgnoreCase("content-encoding");
    }

    private void track(String name, String value) {
        if (name.equalsIgnoreCase("content-length")) {
            try {
                contentLength = value == null ? -1 : Long.parseLong(value.trim());
            } catch (NumberFormatException e) {
                contentLength = -1;
            }
        }
    }

    @Override
    public void setHeader(String name, String value) {
        synchronized (lock) {
            if (holds(name)) {
                contentEncoding = value;
                return;
            }
            track(name, value);
            super.setHeader(name, value);
        }
    }

    @Override
    public void addHeader(String name, String value) {
        synchronized (lock) {
            if (holds(name)) {
                contentEncoding = contentEncoding == null ? value : contentEncoding + ", " + value;
                return;
            }
            if (name.equalsIgnoreCase("content-length")) {
                track(name, value);
            }
            super.addHeader(name, value);
        }
    }

    @Override
    public void setIntHeader(String name, int value) {
        synchronized (lock) {
            track(name, String.valueOf(value));
            super.setIntHeader(name, value);
        }
    }

    @Override
    public void addIntHeader(String name, int value) {
        synchronized (lock) {
            track(name, String.valueOf(value));
            super.addIntHeader(name, value);
        }
    }

    @Override
    public void setContentLength(int len) {
        setContentLengthLong(len);
    }

    @Override
    public void setContentLengthLong(long len) {
        synchronized (lock) {
            contentLength = len;
            super.setContentLengthLong(len);
        }
    }

    @Override
    public boolean containsHeader(String name) {
        synchronized (lock) {
            return holds(name) ? contentEncoding != null : super.containsHeader(name);
        }
    }

    @Override
    public String getHeader(String name) {
        synchronized (lock) {
            return holds(name) ? contentEncoding : super.getHeader(name);
        }
    }

    @Override
    public Collection<String> getHeaders(String name) {
        synchronized (lock) {
            if (holds(name)) {
                return contentEncoding == null ? List.of() : List.of(contentEncoding);
            }
            return super.getHeaders(name);
        }
    }

    @Override
    public Collection<String> getHeaderNames() {
        synchronized (lock) {
            if (contentEncoding == null || !holds("content-encoding")) {
                return super.getHeaderNames();
            }
            Set<String> names = new LinkedHashSet<>(super.getHeaderNames());
            names.add("Content-Encoding");
            return names;
        }
    }

    // ------------------------------------------------------------------------------------ the end

    /**
     * The response is complete: commits it if nothing did yet, sends a gathered body, and hands the copy
     * to the engine. Idempotent.
     *
     * @throws IOException when the client can't be written to (the forwarding has heard it)
     */
    void finish() throws IOException {
        try {
            drainWriter();
            synchronized (lock) {
                if (state == State.ENDED) {
                    return;
                }
                if (state == State.OPEN && !transparent) {
                    commit(true);
                }
                if (gathered != null) {
                    sendDecoded();
                }
                if (headOnly
                        && state == State.COMMITTED
                        && contentLength < 0
                        && !HttpFields.bodiless(getStatus())
                        && !response.isCommitted()) {
                    response.setContentLengthLong(total); // the length of the GET this HEAD stands for
                }
                if (state == State.ENDED) {
                    return;
                }
                state = State.ENDED;
                if (copy != null) {
                    // a filter before this one may add fields as the response commits (Spring Security
                    // writes its Cache-Control then): the page is kept only if they leave it storable
                    response.flushBuffer();
                    String changed = changedCachingField();
                    if (changed != null) {
                        copy = null;
                        forwarding.failed(new IllegalStateException("the response's " + changed
                                + " changed as it was committed, after Regen had decided to keep it"));
                        return;
                    }
                    byte[] whole = copy.toByteArray();
                    copy = null;
                    // not waited for: this edge does not hold back the end of its response
                    var unused = forwarding.complete(whole);
                }
            }
        } catch (IOException | RuntimeException e) {
            failed(e);
            throw e;
        }
    }

    /** The exchange broke (the app threw, timed out, the client left): nothing is kept. Idempotent. */
    void failed(Throwable cause) {
        synchronized (lock) {
            state = State.ENDED;
            pending = null;
            copy = null;
            gathered = null;
        }
        forwarding.failed(cause);
    }

    private void sendDecoded() throws IOException {
        byte[] raw = gathered.toByteArray();
        gathered = null;
        byte[] decoded;
        try {
            decoded = ContentCoding.decode(gatheredCoding, raw, maxDecoded);
        } catch (IOException e) {
            undecodable("could not be decoded (" + e.getMessage() + ")");
            return;
        }
        response.setContentLengthLong(decoded.length);
        realOut().write(decoded);
    }

    /** A body the client does not accept and that can't be decoded for it: a 502, as the proxy answers. */
    private void undecodable(String why) throws IOException {
        gathered = null;
        state = State.ENDED;
        containerAnswers = true;
        if (copy != null) {
            copy = null;
            forwarding.failed(new IOException("the app's " + gatheredCoding + " body " + why));
        }
        log.debug("a {} body for a client that does not accept it {}", gatheredCoding, why);
        response.sendError(
                HttpServletResponse.SC_BAD_GATEWAY,
                "the app's " + gatheredCoding + " body " + why + ", and the client does not accept that coding");
    }

    /**
     * Relays the app's answer received over loopback: status, fields and body, to the end.
     *
     * @throws IOException when the body broke off or the client can't be written to (the forwarding has heard it)
     */
    void relay(int status, List<Header> headers, InputStream in) throws IOException {
        setStatus(status);
        for (Header h : HttpFields.relayable(headers)) {
            addHeader(h.name(), h.value());
        }
        String declared = HttpFields.first(headers, "content-length");
        if (declared != null && (HttpFields.bodiless(status) || "HEAD".equals(forwarding.method()))) {
            // an answer to HEAD has no body to count: the length it declares is the one to pass on
            track("content-length", declared);
            if (contentLength >= 0) {
                super.setContentLengthLong(contentLength);
            }
        }
        byte[] buffer = new byte[16 * 1024];
        ServletOutputStream out = getOutputStream();
        try {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                out.write(buffer, 0, n);
            }
        } catch (IOException | RuntimeException e) {
            failed(e);
            throw e;
        }
        finish();
    }

    // ------------------------------------------------------------------------------------ asynchronous apps

    /** The app's view of its asynchronous request: completing it ends the render first. */
    AsyncContext async(AsyncContext context) {
        synchronized (lock) {
            if (asyncContext != context) {
                asyncContext = context;
                asyncView = new RenderAsync(context);
            }
            return asyncView;
        }
    }

    @Override
    public void onComplete(AsyncEvent event) {
        synchronized (lock) {
            if (state == State.ENDED) {
                return;
            }
        }
        // completed behind the render's back: what it still held never reached the client
        failed(new IOException("the asynchronous response was completed before Regen saw its end"));
    }

    @Override
    public void onTimeout(AsyncEvent event) {
        failed(new TimeoutException("the app's asynchronous response timed out"));
    }

    @Override
    public void onError(AsyncEvent event) {
        Throwable t = event.getThrowable();
        failed(t != null ? t : new IOException("the asynchronous response failed"));
    }

    @Override
    public void onStartAsync(AsyncEvent event) {
        // the filter listens again after each dispatch that goes asynchronous again
    }

    /** Writes the app does not block on can't be copied in step: they go to the client as they are, uncached. */
    private void nonBlocking(WriteListener listener) throws IOException {
        synchronized (lock) {
            if (!transparent && state != State.ENDED) {
                if (state == State.OPEN) {
                    response.setHeader(CacheHeaders.X_CACHE_STATUS, CacheStatus.MISS.name());
                    response.setHeader(CacheHeaders.CACHE_STATUS, Forwarding.unstoredCacheStatus());
                    if (contentEncoding != null) {
                        response.setHeader("Content-Encoding", contentEncoding);
                    }
                    byte[] before = pending.toByteArray();
                    pending = null;
                    if (before.length > 0) {
                        realOut().write(before);
                    }
                }
                transparent = true;
                copy = null;
                forwarding.failed(new IllegalStateException("non-blocking output is not kept"));
            }
            realOut().setWriteListener(listener);
        }
    }

    private boolean ready() {
        synchronized (lock) {
            if (!transparent) {
                return true;
            }
        }
        try {
            return realOut().isReady();
        } catch (IOException e) {
            return false;
        }
    }

    private final class Body extends ServletOutputStream {
        @Override
        public void write(int b) throws IOException {
            RenderResponse.this.write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            RenderResponse.this.write(b, off, len);
        }

        @Override
        public void flush() throws IOException {
            RenderResponse.this.flush();
        }

        @Override
        public void close() throws IOException {
            RenderResponse.this.close();
        }

        @Override
        public boolean isReady() {
            return ready();
        }

        @Override
        public void setWriteListener(WriteListener listener) {
            try {
                nonBlocking(listener);
            } catch (IOException e) {
                listener.onError(e);
            }
        }
    }

    /** Between the writer's encoder and the body: the encoder's own flush is not a flush of the response. */
    private final class Sink extends OutputStream {
        volatile boolean discard;

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (!discard) {
                RenderResponse.this.write(b, off, len);
            }
        }

        @Override
        public void close() throws IOException {
            RenderResponse.this.close();
        }
    }

    private final class RenderAsync implements AsyncContext {
        private final AsyncContext context;

        RenderAsync(AsyncContext context) {
            this.context = context;
        }

        @Override
        public void complete() {
            try {
                finish();
            } catch (IOException e) {
                log.debug("an asynchronous render ended badly: {}", e.toString());
            } finally {
                context.complete();
            }
        }

        @Override
        public ServletRequest getRequest() {
            return context.getRequest();
        }

        @Override
        public ServletResponse getResponse() {
            return context.getResponse();
        }

        @Override
        public boolean hasOriginalRequestAndResponse() {
            return context.hasOriginalRequestAndResponse();
        }

        @Override
        public void dispatch() {
            context.dispatch();
        }

        @Override
        public void dispatch(String path) {
            context.dispatch(path);
        }

        @Override
        public void dispatch(ServletContext servletContext, String path) {
            context.dispatch(servletContext, path);
        }

        @Override
        public void start(Runnable run) {
            context.start(run);
        }

        @Override
        public void addListener(AsyncListener listener) {
            context.addListener(listener);
        }

        @Override
        public void addListener(AsyncListener listener, ServletRequest request, ServletResponse response) {
            context.addListener(listener, request, response);
        }

        @Override
        public <T extends AsyncListener> T createListener(Class<T> clazz) throws jakarta.servlet.ServletException {
            return context.createListener(clazz);
        }

        @Override
        public void setTimeout(long timeout) {
            context.setTimeout(timeout);
        }

        @Override
        public long getTimeout() {
            return context.getTimeout();
        }
    }
}
