package io.tapline.sidecar.impl;

import io.tapline.avro.HttpRequest;
import io.tapline.avro.HttpResponse;
import io.tapline.avro.Interaction;
import io.tapline.avro.OutboundCall;
import io.tapline.avro.Redaction;
import io.tapline.avro.Sampling;
import io.tapline.avro.UnattributedCall;
import io.tapline.redaction.Redactor;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Turns a finished {@link PendingInteraction} into the Avro {@link Interaction}: decodes gzip/deflate bodies
 * (bounded by the capture cap) and redacts every part. Pure CPU work, run on the publisher thread.
 */
public final class InteractionAssembler {

    public static final String INBOUND_REQUEST = "inbound.request";
    public static final String INBOUND_RESPONSE = "inbound.response";

    private final String service;
    private final String instance;
    private final String version;
    private final double rate;
    private final int cap;
    private final Redactor redactor;

    public InteractionAssembler(String service, String instance, String version, double rate, int cap, Redactor redactor) {
        this.service = service;
        this.instance = instance;
        this.version = version;
        this.rate = rate;
        this.cap = cap;
        this.redactor = redactor;
    }

    public Interaction assemble(PendingInteraction p) {
        Exchange ex = p.exchange();
        if (ex == null || ex.request() == null) {
            throw new IllegalStateException("interaction " + p.id + " has no completed exchange");
        }
        List<Redaction> redactions = new ArrayList<>();
        HttpRequest request = request(INBOUND_REQUEST, ex.request(), redactions);
        HttpResponse response = response(INBOUND_RESPONSE, ex, redactions);
        List<OutboundCall> calls = new ArrayList<>();
        int i = 0;
        for (OutboundCapture c : p.calls()) {
            calls.add(call("outbound[" + i++ + "]", c, p.startNanos, redactions));
        }
        Sampling sampling = rate >= 1.0 && p.routeCap == null ? null
                : Sampling.newBuilder().setRate(rate).setRouteCapPerSecond(p.routeCap).setDecidedBy("trace-id").build();
        return Interaction.newBuilder()
                .setId(p.id)
                .setTraceId(p.traceId)
                .setService(service)
                .setInstance(instance)
                .setStartedAt(Instant.ofEpochMilli(ex.startMillis()))
                .setCompletedAt(Instant.ofEpochMilli(ex.endMillis()))
                .setRequest(request)
                .setResponse(response)
                .setLatencyMicros(ex.durationMicros())
                .setOutboundCalls(calls)
                .setRedactions(published(redactions))
                .setSampling(sampling)
                .setSidecarVersion(version)
                .build();
    }

    /**
     * The interaction's route for its record key, redacted: the route template keeps literal what it does not
     * recognise, e.g. a percent-encoded email or a card number with dashes, so it gets the path's rules too.
     */
    public String routeKey(PendingInteraction p) {
        return redactor.path(INBOUND_REQUEST, p.routeKey(), new ArrayList<>());
    }

    /** An outbound call no interaction claimed, as its own record; redacted like any other call. */
    public UnattributedCall assembleUnattributed(PendingInteraction p) {
        if (!p.isUnattributed() || p.calls().size() != 1) {
            throw new IllegalStateException("capture " + p.id + " is not a single unattributed call");
        }
        OutboundCapture c = p.calls().get(0);
        List<Redaction> redactions = new ArrayList<>();
        return UnattributedCall.newBuilder()
                .setId(p.id)
                .setService(service)
                .setInstance(instance)
                .setTraceId(p.traceId)
                .setStartedAt(Instant.ofEpochMilli(c.exchange().startMillis()))
                .setInFlight(p.unattributedInFlight())
                .setCall(call("outbound[0]", c, c.exchange().startNanos(), redactions))
                .setRedactions(published(redactions))
                .setSidecarVersion(version)
                .build();
    }

    /**
     * The most redaction notes a record holds. An ordinary interaction makes a few (a header, a field or two per
     * message), one with dozens of outbound calls a few dozen; beyond that a body that names thousands of distinct
     * sensitive fields or paths ({@code {"password1":…,"password2":…}}) would put thousands of notes, each as long as
     * its path, in every published record, which the first hundred already describe.
     */
    static final int MAX_NOTES = 100;

    /**
     * The notes a record publishes: each distinct note once, in the order first made (a hostile body makes one note per
     * value replaced: a text run between the child tags of a sensitive XML element, every email of a long text), at
     * most {@link #MAX_NOTES}; past that the first {@code MAX_NOTES - 1} and a last note saying how many distinct notes
     * were left out ({@code part} {@code *}, {@code location} {@code notes}, {@code field} {@code "N more"}, {@code rule}
     * {@code notes-cap}). Dropped only here, once the record is redacted: the redaction reads the notes it adds to tell
     * whether it replaced anything. Each note is hashed at most twice.
     */
    static List<Redaction> published(List<Redaction> notes) {
        if (notes.size() < 2) {
            return notes;
        }
        Set<Redaction> kept = new LinkedHashSet<>();
        Set<Redaction> left = null;
        for (Redaction note : notes) {
            if (kept.size() < MAX_NOTES - 1 || kept.contains(note)) {
                kept.add(note);
            } else {
                if (left == null) {
                    left = new HashSet<>();
                }
                left.add(note);
            }
        }
        List<Redaction> result = new ArrayList<>(kept);
        if (left != null && left.size() == 1) {
            result.addAll(left); // the last place: no note needed to say it was left out
        } else if (left != null) {
            result.add(new Redaction("*", "notes", left.size() + " more", "notes-cap"));
        }
        return result;
    }

    private OutboundCall call(String part, OutboundCapture c, long referenceStartNanos, List<Redaction> redactions) {
        Exchange cx = c.exchange();
        return OutboundCall.newBuilder()
                .setDestination(c.destination())
                .setKind(c.kind())
                .setRequest(request(part + ".request", cx.request(), redactions))
                .setResponse(cx.response() == null ? null : response(part + ".response", cx, redactions))
                .setStartOffsetMicros((cx.startNanos() - referenceStartNanos) / 1000)
                .setDurationMicros(cx.durationMicros())
                .setAttribution(c.attribution())
                .setError(cx.error())
                .setBytesUp(c.bytesUp())
                .setBytesDown(c.bytesDown())
                .build();
    }

    private HttpRequest request(String part, CapturedMessage m, List<Redaction> redactions) {
        Body body = body(part, m, redactions);
        return HttpRequest.newBuilder()
                .setMethod(m.method)
                .setScheme(m.scheme)
                .setAuthority(redactor.text(part, "authority", "authority", m.authority, redactions))
                .setPath(redactor.path(part, m.path, redactions))
                .setRawQuery(redactor.query(part, m.rawQuery, redactions))
                .setHeaders(redactor.headers(part, m.headers, redactions))
                .setBody(ByteBuffer.wrap(body.bytes))
                .setContentType(m.header("content-type"))
                .setContentEncoding(body.encoding)
                .setTruncated(body.truncated)
                .setOriginalSize(body.originalSize)
                .build();
    }

    private HttpResponse response(String part, Exchange ex, List<Redaction> redactions) {
        CapturedMessage m = ex.response();
        if (m == null) {
            // the upstream never answered: record the status the proxy gave the client
            return HttpResponse.newBuilder().setStatus(ex.statusSent()).setOriginalSize(0).build();
        }
        Body body = body(part, m, redactions);
        return HttpResponse.newBuilder()
                .setStatus(m.status)
                .setHeaders(redactor.headers(part, m.headers, redactions))
                .setBody(ByteBuffer.wrap(body.bytes))
                .setContentType(m.header("content-type"))
                .setContentEncoding(body.encoding)
                .setTruncated(body.truncated)
                .setOriginalSize(body.originalSize)
                .build();
    }

    private record Body(byte[] bytes, String encoding, boolean truncated, long originalSize) {
    }

    /**
     * The captured body, decoded when it is gzip/deflate (the captured copy then has no content encoding; the
     * Content-Encoding header still shows what was sent), then redacted (a cut one without its last word, see
     * {@code Redactor.cutBody}). A body in an encoding we cannot decode
     * (br, zstd...) cannot be checked for secrets, so it is left out (truncated, size kept).
     */
    private Body body(String part, CapturedMessage m, List<Redaction> redactions) {
        CapturedBody tap = m.body;
        long originalSize = tap.ended() ? tap.total() : -1;
        byte[] bytes = tap.capturedBytes();
        boolean truncated = tap.truncated() || !tap.ended();
        String encoding = m.header("content-encoding");
        if (!BodyCodec.identity(encoding) && bytes.length > 0) {
            BodyCodec.Decoded d = BodyCodec.decodable(encoding) ? BodyCodec.decode(bytes, encoding, cap, truncated) : null;
            if (d == null) {
                redactions.add(new Redaction(part, "body", "body", "undecodable-encoding"));
                return new Body(new byte[0], encoding, true, originalSize);
            }
            bytes = d.body();
            truncated = d.truncated();
            encoding = null;
        } else if (BodyCodec.identity(encoding)) {
            encoding = null;
        }
        // a cut body ends at its last whole word: a secret the cut went through would match no rule
        byte[] redacted = truncated ? redactor.cutBody(part, bytes, m.header("content-type"), redactions)
                : redactor.body(part, bytes, m.header("content-type"), redactions);
        return new Body(redacted, encoding, truncated, originalSize);
    }
}
