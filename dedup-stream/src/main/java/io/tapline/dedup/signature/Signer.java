package io.tapline.dedup.signature;

import com.fasterxml.jackson.databind.JsonNode;
import io.tapline.avro.CallKind;
import io.tapline.avro.HttpRequest;
import io.tapline.avro.HttpResponse;
import io.tapline.avro.Interaction;
import io.tapline.avro.OutboundCall;
import io.tapline.avro.SignatureParts;
import io.tapline.json.StrictJson;
import io.tapline.signature.RouteTemplates;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Computes behaviour signatures (version {@value #VERSION}). The canonical text is one {@code name value} line per
 * part, in this order: service, method, route template, sorted query names, request media type, request body shape,
 * response status, response body shape, sorted outbound call signatures ({@code METHOD destination template
 * status}), value fields. The id is the first 128 bits of its SHA-256, in hex. Values never enter the signature
 * except the configured value fields. Stateless and thread-safe.
 */
public final class Signer {

    public static final int VERSION = 1;
    static final String HEADER = "tapline-signature v" + VERSION;

    private final RouteTemplates routes;
    private final ValueFields valueFields;

    public Signer(RouteTemplates routes, ValueFields valueFields) {
        this.routes = routes;
        this.valueFields = valueFields;
    }

    public static Signer defaults() {
        return new Signer(RouteTemplates.defaults(), ValueFields.none());
    }

    public Signature sign(Interaction interaction) {
        HttpRequest request = interaction.getRequest();
        HttpResponse response = interaction.getResponse();
        String method = request.getMethod().toUpperCase(java.util.Locale.ROOT);
        String template = routes.template(request.getPath());
        String route = method + " " + template;

        byte[] requestBody = Bodies.bytes(request.getBody());
        String requestShape = Shapes.bodyShape(requestBody, request.getContentType(), request.getContentEncoding(),
                request.getTruncated());
        String responseShape = Shapes.bodyShape(Bodies.bytes(response.getBody()), response.getContentType(),
                response.getContentEncoding(), response.getTruncated());
        List<String> queryNames = Shapes.queryNames(request.getRawQuery());
        List<String> outbound = outboundSignatures(interaction.getOutboundCalls());
        Map<String, String> values = values(route, requestBody, request, requestShape);

        SignatureParts parts = SignatureParts.newBuilder()
                .setMethod(method)
                .setRouteTemplate(template)
                .setQueryNames(queryNames)
                .setRequestContentType(Bodies.mediaType(request.getContentType()))
                .setRequestShape(requestShape)
                .setResponseStatus(response.getStatus())
                .setResponseShape(responseShape)
                .setOutboundSignatures(outbound)
                .setValueFields(values)
                .build();
        String text = text(interaction.getService(), parts);
        return new Signature(digest(text), text, parts, route);
    }

    /**
     * The set of outbound calls, sorted: a call made several times counts once, so an order of 3 items and one of 30,
     * each calling {@code GET customers /customers/{id}} once per item, are the same case.
     */
    private List<String> outboundSignatures(List<OutboundCall> calls) {
        TreeSet<String> out = new TreeSet<>();
        for (OutboundCall call : calls) {
            String status = call.getResponse() != null ? Integer.toString(call.getResponse().getStatus())
                    : call.getError() != null ? "error" : "none";
            if (call.getKind() == CallKind.TUNNEL) {
                out.add("CONNECT " + call.getDestination() + " tunnel");
            } else {
                out.add(call.getRequest().getMethod().toUpperCase(java.util.Locale.ROOT) + " " + call.getDestination()
                        + " " + routes.template(call.getRequest().getPath()) + " " + status);
            }
        }
        return new ArrayList<>(out);
    }

    /**
     * The configured value fields of the request body, read strictly ({@link StrictJson}): a body that is not one JSON
     * value (content after it, a key repeated in one object) holds none, as a malformed one. A body of a JSON type
     * whose shape already says so is not read again.
     */
    private Map<String, String> values(String route, byte[] requestBody, HttpRequest request, String requestShape) {
        List<String> paths = valueFields.pathsFor(route);
        if (paths.isEmpty()) {
            return Map.of();
        }
        boolean notJson = requestShape.equals(Shapes.JSON_INVALID) || requestShape.equals(Shapes.JSON_TRUNCATED);
        byte[] decoded = notJson ? null : Bodies.decode(requestBody, request.getContentEncoding());
        JsonNode root = decoded == null || decoded.length == 0 ? null : StrictJson.readDoubles(decoded);
        Map<String, String> values = new TreeMap<>();
        for (String path : paths) {
            values.put(path, ValueFields.valueAt(root, path));
        }
        return values;
    }

    static String text(String service, SignatureParts parts) {
        StringBuilder sb = new StringBuilder(256).append(HEADER).append('\n');
        line(sb, "service", service);
        line(sb, "method", parts.getMethod());
        line(sb, "route", parts.getRouteTemplate());
        line(sb, "query", String.join(",", parts.getQueryNames()));
        line(sb, "request-type", parts.getRequestContentType() == null ? "" : parts.getRequestContentType());
        line(sb, "request-shape", parts.getRequestShape());
        line(sb, "status", Integer.toString(parts.getResponseStatus()));
        line(sb, "response-shape", parts.getResponseShape());
        line(sb, "outbound", String.join(" | ", parts.getOutboundSignatures()));
        StringBuilder values = new StringBuilder();
        new TreeMap<>(parts.getValueFields()).forEach((k, v) -> values.append(values.length() == 0 ? "" : ";")
                .append(k).append('=').append(v));
        line(sb, "values", values.toString());
        return sb.toString();
    }

    private static void line(StringBuilder sb, String name, String value) {
        sb.append(name).append(' ').append(value.replace('\n', ' ')).append('\n');
    }

    static String digest(String text) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }
}
