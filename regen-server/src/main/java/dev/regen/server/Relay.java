package dev.regen.server;

import dev.regen.internal.Forwarding;
import dev.regen.internal.Header;
import dev.regen.internal.OriginException;
import dev.regen.internal.http.ContentCoding;
import dev.regen.internal.http.HttpFields;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.compression.ZlibCodecFactory;
import io.netty.handler.codec.compression.ZlibWrapper;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * One forward to the origin: the client's request (its body streamed as it arrives, no faster than
 * the origin takes it), and the origin's answer streamed to the client as it arrives, no faster than
 * the client reads it. When the engine wants it ({@link Forwarding.Head#buffer()}), a copy of the body
 * is kept up to the store limit and handed over at the end; past the limit the copy is dropped and the
 * response keeps streaming.
 *
 * <p>Renders ask the origin for gzip; a client that does not accept the coding the origin answered with
 * gets the body decoded on the way.
 */
final class Relay implements OriginClient.Listener {
    private final ProxyHandler.Exchange ex;
    private final Frontend fe;
    private final Forwarding forwarding;
    private OriginClient.Exchange origin;
    private boolean headSent;
    private boolean withBody;
    private CompositeByteBuf copy;
    private long copyLimit;
    /** Decodes gzip or deflate for a client that does not accept it. */
    private EmbeddedChannel decoder;
    /** A coding that can't be decoded piecewise (br): the body is gathered and decoded at the end. */
    private CompositeByteBuf gathered;

    private String gatheredCoding;
    /**
     * The piece that completes a body being stored (by its declared length), held until the engine has
     * the page; a chunked body's end is held the same way. Nothing else waits: a streamed page streams.
     */
    private ByteBuf held;
    /** The body's length as sent to the client, or -1 when it is chunked or close-delimited. */
    private long clientLength = -1;

    private long clientSent;
    /** The head held back until a gathered body is decoded (a body that can't be decoded is a 502). */
    private HttpResponse heldHead;

    private boolean finished;
    private boolean abandoned;
    /** The client's request has a body that goes to the origin. */
    private boolean bodyFollows;

    Relay(ProxyHandler.Exchange ex, Frontend fe, Forwarding forwarding) {
        this.ex = ex;
        this.fe = fe;
        this.forwarding = forwarding;
    }

    boolean finished() {
        return finished;
    }

    void start() {
        HttpRequest request = ex.request;
        List<Header> headers = new ArrayList<>(forwarding.headers());
        headers.addAll(ex.peer.forwardingFields());
        OriginClient.BodyFraming framing = OriginClient.BodyFraming.NONE;
        if (!forwarding.storable()) {
            long length = HttpUtil.getContentLength(request, -1L);
            if (HttpUtil.isTransferEncodingChunked(request)) {
                framing = OriginClient.BodyFraming.CHUNKED;
                bodyFollows = true;
            } else if (length > 0) {
                framing = OriginClient.BodyFraming.length(length);
                bodyFollows = true;
            }
        }
        origin = fe.origin.send(
                ex.ctx().channel().eventLoop(),
                forwarding.method(),
                forwarding.target(),
                ex.peer.host(),
                headers,
                framing,
                this);
        if (bodyFollows) {
            ex.moreBody();
        }
    }

    /** Whether the client's request body goes to the origin (else it is read and dropped). */
    boolean takesBody() {
        return bodyFollows && !finished && !abandoned;
    }

    /** A piece of the client's request body (the last one a LastHttpContent), after {@link #takesBody()}. */
    void requestBody(HttpContent content) {
        boolean last = content instanceof io.netty.handler.codec.http.LastHttpContent;
        origin.write(content);
        if (!last) {
            origin.whenWritable(ex::moreBody);
        }
    }

    void clientWritable(boolean writable) {
        if (origin != null && !finished) {
            origin.reading(writable);
        }
    }

    /** The client left or broke the exchange: drop the origin side at once, and tell the engine. */
    void abandon(String why) {
        if (finished || abandoned) {
            return;
        }
        abandoned = true;
        if (origin != null) {
            origin.cancel();
        }
        release();
        forwarding.failed(new IOException(why));
    }

    @Override
    public void head(HttpResponse response) {
        int status = response.status().code();
        List<Header> originHeaders = OriginClient.headersOf(response.headers());
        Forwarding.Head decision = forwarding.head(status, originHeaders);
        if (decision.buffer()) {
            copy = Unpooled.compositeBuffer(Integer.MAX_VALUE);
            copyLimit = decision.maxBytes();
        }
        HttpResponse head = new DefaultHttpResponse(ex.request.protocolVersion(), response.status());
        HttpHeaders h = head.headers();
        for (Header header : HttpFields.relayable(originHeaders)) {
            h.add(header.name(), header.value());
        }
        withBody = !ex.headOnly
                && !HttpFields.bodiless(status)
                && !ex.request.method().name().equals("HEAD");
        String coding = ContentCoding.of(response.headers().get(HttpHeaderNames.CONTENT_ENCODING));
        String declared = response.headers().get(HttpHeaderNames.CONTENT_LENGTH);
        boolean decode = withBody && !coding.equals("identity") && !ContentCoding.accepts(ex.acceptEncoding(), coding);
        if (decode) {
            h.remove(HttpHeaderNames.CONTENT_ENCODING);
            if (coding.equals("gzip") || coding.equals("x-gzip") || coding.equals("deflate")) {
                decoder = new EmbeddedChannel(ZlibCodecFactory.newZlibDecoder(
                        coding.equals("deflate") ? ZlibWrapper.ZLIB_OR_NONE : ZlibWrapper.GZIP));
            } else if (ContentCoding.decodable(coding)) {
                gathered = Unpooled.compositeBuffer(Integer.MAX_VALUE);
                gatheredCoding = coding;
            } else {
                // an unknown coding the client did not ask for: nothing sensible can be sent
                abandonOrigin();
                ex.sendError(
                        502,
                        "the origin answered in a content coding (" + coding
                                + ") that the client does not accept and Regen cannot decode");
                return;
            }
        } else if (declared != null && !HttpFields.bodiless(status)) {
            h.set(HttpHeaderNames.CONTENT_LENGTH, declared);
            try {
                clientLength = Long.parseLong(declared.trim());
            } catch (NumberFormatException e) {
                clientLength = -1;
            }
        }
        if (!withBody && declared != null && !HttpFields.bodiless(status)) {
            h.set(HttpHeaderNames.CONTENT_LENGTH, declared);
        }
        for (Header f : forwarding.fields(decision, h.get(HttpHeaderNames.VARY), h.contains(HttpHeaderNames.AGE))) {
            h.set(f.name(), f.value());
        }
        if (gathered != null) {
            heldHead = head;
            return;
        }
        headSent = true;
        ex.start(head);
    }

    @Override
    public void content(ByteBuf chunk) {
        if (copy != null) {
            if (copy.readableBytes() + (long) chunk.readableBytes() > copyLimit) {
                copy.release();
                copy = null;
                forwarding.tooLarge();
            } else {
                copy.addComponent(true, chunk.retainedDuplicate());
            }
        }
        if (!withBody) {
            chunk.release();
            return;
        }
        if (gathered != null) {
            if (gathered.readableBytes() + (long) chunk.readableBytes()
                    > fe.engine.config().maxBodyBytes()) {
                chunk.release();
                abandonOrigin();
                ex.sendError(502, "the origin's " + gatheredCoding + " body is too large to decode for this client");
                return;
            }
            gathered.addComponent(true, chunk);
            return;
        }
        if (decoder != null) {
            decoder.writeInbound(chunk);
            ByteBuf out;
            while ((out = decoder.readInbound()) != null) {
                send(out);
            }
            return;
        }
        send(chunk);
    }

    private void send(ByteBuf chunk) {
        clientSent += chunk.readableBytes();
        if (copy != null && clientLength >= 0 && clientSent >= clientLength) {
            // the piece that completes the body waits until the page is stored: whoever has the whole MISS
            // finds the page on the next request
            held = chunk;
            return;
        }
        ex.write(chunk);
        if (!ex.clientWritable()) {
            // the client reads slower than the origin sends: stop reading until its socket drains
            origin.reading(false);
        }
    }

    @Override
    public void end() {
        finished = true;
        if (decoder != null) {
            decoder.finish();
            ByteBuf out;
            while ((out = decoder.readInbound()) != null) {
                send(out);
            }
            decoder = null;
        }
        java.util.concurrent.CompletableFuture<Void> visible =
                java.util.concurrent.CompletableFuture.completedFuture(null);
        if (copy != null) {
            byte[] body = new byte[copy.readableBytes()];
            copy.readBytes(body);
            copy.release();
            copy = null;
            visible = forwarding.complete(body);
        }
        if (gathered != null) {
            byte[] raw = new byte[gathered.readableBytes()];
            gathered.readBytes(raw);
            gathered.release();
            gathered = null;
            byte[] decoded;
            try {
                decoded = ContentCoding.decode(gatheredCoding, raw, Long.MAX_VALUE);
            } catch (IOException e) {
                ex.sendError(502, "the origin's " + gatheredCoding + " body could not be decoded");
                return;
            }
            heldHead.headers().set(HttpHeaderNames.CONTENT_LENGTH, decoded.length);
            headSent = true;
            ex.start(heldHead);
            ex.write(Unpooled.wrappedBuffer(decoded));
        }
        if (visible.isDone()) {
            finishResponse();
            return;
        }
        io.netty.util.concurrent.EventExecutor loop = ex.ctx().executor();
        // a store that stalls must not stall the client for long
        visible.orTimeout(2, java.util.concurrent.TimeUnit.SECONDS)
                .whenComplete((v, e) -> loop.execute(this::finishResponse));
    }

    private void finishResponse() {
        if (held != null) {
            ex.write(held);
            held = null;
        }
        ex.end();
    }

    @Override
    public void failed(Throwable cause) {
        if (finished || abandoned) {
            return;
        }
        finished = true;
        release();
        forwarding.failed(cause);
        if (!headSent) {
            OriginException oe = cause instanceof OriginException o ? o : OriginException.from(cause);
            boolean timeout = oe.kind() == OriginException.Kind.TIMEOUT;
            ex.sendError(
                    timeout ? 504 : 502,
                    timeout ? oe.getMessage() : "the origin could not be reached: " + oe.getMessage());
        } else {
            // the response is cut short: the client must see it broken, not complete
            ex.abort(String.valueOf(cause.getMessage()));
        }
    }

    private void abandonOrigin() {
        finished = true;
        origin.cancel();
        release();
        forwarding.failed(new IOException("the response could not be relayed"));
    }

    private void release() {
        if (held != null) {
            held.release();
            held = null;
        }
        if (copy != null) {
            copy.release();
            copy = null;
        }
        if (gathered != null) {
            gathered.release();
            gathered = null;
        }
        if (decoder != null) {
            decoder.finishAndReleaseAll();
            decoder = null;
        }
    }
}
