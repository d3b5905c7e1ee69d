package io.tapline.redaction;

import io.tapline.avro.Redaction;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * XML bodies (SOAP envelopes, feeds) by name: the text of an element whose local name is sensitive
 * ({@code <password>}, {@code <wsse:Password>}, also as CDATA) and the value of an attribute whose local name is
 * ({@code <user token="...">}) become tokens. Not a parser: elements holding other elements are not tokenised whole,
 * and a body cut by the capture cap is read as far as it goes. The text rules run on the whole afterwards.
 */
final class XmlRedaction {

    /** An element with text content only: prefix, local name, attributes, content (text or one CDATA section). */
    private static final Pattern ELEMENT = Pattern.compile(
            "<(?:[A-Za-z_][\\w.-]*+:)?([A-Za-z_][\\w.-]*+)(\\s[^<>]*+)?>(<!\\[CDATA\\[(?s:.*?)]]>|[^<]*+)</(?:[A-Za-z_][\\w.-]*+:)?\\1\\s*>");
    /** A start tag (or an empty-element tag), whose attributes are read by {@link #ATTRIBUTE}. */
    private static final Pattern TAG = Pattern.compile("<[A-Za-z_][^<>]*+>");
    private static final Pattern ATTRIBUTE = Pattern.compile("\\s(?:[A-Za-z_][\\w.-]*+:)?([A-Za-z_][\\w.-]*+)\\s*=\\s*(\"[^\"]*+\"|'[^']*+')");

    private final Redactor redactor;

    XmlRedaction(Redactor redactor) {
        this.redactor = redactor;
    }

    /** The text with sensitive element contents and attribute values tokenised; the same instance when none was. */
    String xml(String part, String s, List<Redaction> out) {
        String r = elements(part, s, out);
        return attributes(part, r, out);
    }

    private String elements(String part, String s, List<Redaction> out) {
        Matcher m = ELEMENT.matcher(s);
        StringBuilder sb = null;
        int last = 0;
        while (m.find()) {
            String name = m.group(1);
            String content = m.group(3);
            if (content.isEmpty() || RedactionTokens.is(content) || !redactor.sensitive(name)) {
                continue;
            }
            if (sb == null) {
                sb = new StringBuilder(s.length() + 32);
            }
            boolean cdata = content.startsWith("<![CDATA[");
            String value = cdata ? content.substring(9, content.length() - 3) : content;
            sb.append(s, last, m.start(3)).append(cdata ? "<![CDATA[" : "").append(redactor.token(value)).append(cdata ? "]]>" : "");
            last = m.end(3);
            out.add(new Redaction(part, "text", name, "sensitive-name"));
        }
        return sb == null ? s : sb.append(s, last, s.length()).toString();
    }

    private String attributes(String part, String s, List<Redaction> out) {
        Matcher tags = TAG.matcher(s);
        Matcher a = ATTRIBUTE.matcher(s);
        StringBuilder sb = null;
        int last = 0;
        while (tags.find()) {
            a.region(tags.start(), tags.end());
            while (a.find()) {
                String name = a.group(1);
                String quoted = a.group(2);
                String value = quoted.substring(1, quoted.length() - 1);
                if (value.isEmpty() || RedactionTokens.is(value) || !redactor.sensitive(name)) {
                    continue;
                }
                if (sb == null) {
                    sb = new StringBuilder(s.length() + 32);
                }
                sb.append(s, last, a.start(2) + 1).append(redactor.token(value));
                last = a.end(2) - 1;
                out.add(new Redaction(part, "text", "@" + name, "sensitive-name"));
            }
        }
        return sb == null ? s : sb.append(s, last, s.length()).toString();
    }
}
