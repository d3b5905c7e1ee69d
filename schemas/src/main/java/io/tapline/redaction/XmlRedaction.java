package io.tapline.redaction;

import io.tapline.avro.Redaction;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * XML bodies (SOAP envelopes, feeds) by name: the text of an element whose local name is sensitive
 * ({@code <password>}, {@code <wsse:Password>}, also as CDATA) and the value of an attribute whose local name is
 * ({@code <user token="...">}) become tokens. Not a parser: elements holding other elements are not tokenised whole,
 * and a body cut by the capture cap is read as far as it goes. The text rules run on the whole afterwards.
 */
final class XmlRedaction {

    /**
     * An element with text content only: prefix, local name, attributes, then either the opening of a CDATA section
     * (group 3, whose end {@link #cdataEnd} finds) or text content (group 4) and the end tag.
     */
    private static final Pattern ELEMENT = Pattern.compile(
            "<(?:[A-Za-z_][\\w.-]*+:)?([A-Za-z_][\\w.-]*+)(\\s[^<>]*+)?>(?:(<!\\[CDATA\\[)|([^<]*+)</(?:[A-Za-z_][\\w.-]*+:)?\\1\\s*>)");
    /** An end tag, read right after a CDATA section's {@code ]]>}: its local name. */
    private static final Pattern END_TAG = Pattern.compile("</(?:[A-Za-z_][\\w.-]*+:)?([A-Za-z_][\\w.-]*+)\\s*>");
    private static final String CDATA_END = "]]>";
    private static final String CDATA_START = "<![CDATA[";
    /** A start tag: prefix, local name, attributes. */
    private static final Pattern START_TAG = Pattern.compile("<(?:[A-Za-z_][\\w.-]*+:)?([A-Za-z_][\\w.-]*+)(\\s[^<>]*+)?>");
    /**
     * What text cut inside an end tag ends with: {@code <}, {@code </}, {@code </wsse:Pass}, or a whole name and the
     * whitespace an end tag may hold before its {@code >} ({@code </password }).
     */
    private static final Pattern CUT_END_TAG = Pattern.compile("<(?:/[\\w.:-]*+\\s*+)?");
    /** A start tag (or an empty-element tag), whose attributes are read by {@link #ATTRIBUTE}. */
    private static final Pattern TAG = Pattern.compile("<[A-Za-z_][^<>]*+>");
    private static final Pattern ATTRIBUTE = Pattern.compile("\\s(?:[A-Za-z_][\\w.-]*+:)?([A-Za-z_][\\w.-]*+)\\s*=\\s*(\"[^\"]*+\"|'[^']*+')");

    private final Redactor redactor;

    XmlRedaction(Redactor redactor) {
        this.redactor = redactor;
    }

    /** The text with sensitive element contents and attribute values tokenised; the same instance when none was. */
    String xml(String part, String s, List<Redaction> out) {
        String r = cutElement(part, elements(part, s, out), out);
        return attributes(part, r, out);
    }

    /**
     * The content of a sensitive element that the text ends in, tokenised: a body cut by the capture cap inside the
     * element's text or CDATA section, or inside its end tag ({@code <password>hunter2</pass},
     * {@code <password><![CDATA[hunter2]]><}), has no end tag for {@link #ELEMENT} to match, and its value was kept.
     * The same instance when the text ends in no such element.
     */
    private String cutElement(String part, String s, List<Redaction> out) {
        int end = s.length();
        int lastOpen = s.lastIndexOf('<');
        if (lastOpen >= 0 && CUT_END_TAG.matcher(s).region(lastOpen, end).matches()) {
            end = lastOpen; // the end tag, cut
        }
        int contentStart;
        int contentEnd;
        boolean cdata;
        int cdataStart = end == 0 ? -1 : s.lastIndexOf(CDATA_START, end - 1);
        int cdataEnd = cdataStart < 0 ? -1 : s.indexOf(CDATA_END, cdataStart + CDATA_START.length());
        Matcher tag = START_TAG.matcher(s);
        if (cdataStart >= 0 && (cdataEnd < 0 || cdataEnd + CDATA_END.length() == end)) {
            // a CDATA section the text ends in or right after, with the sections it continues (a value holding "]]>"
            // is written split around it): their start tag just before the first
            while (cdataStart >= CDATA_END.length() && s.startsWith(CDATA_END, cdataStart - CDATA_END.length())) {
                int previous = s.lastIndexOf(CDATA_START, cdataStart - CDATA_END.length() - 1);
                if (previous < 0 || s.indexOf(CDATA_END, previous + CDATA_START.length()) != cdataStart - CDATA_END.length()) {
                    break;
                }
                cdataStart = previous;
            }
            int tagStart = s.lastIndexOf('<', cdataStart - 1);
            if (tagStart < 0 || !tag.region(tagStart, cdataStart).matches()) {
                return s;
            }
            cdata = true;
            contentStart = cdataStart;
            contentEnd = end;
        } else {
            // text content up to the end: after the last start tag, holding no '<'
            int tagStart = end == 0 ? -1 : s.lastIndexOf('<', end - 1);
            if (tagStart < 0 || !tag.region(tagStart, end).lookingAt() || s.charAt(tag.end() - 2) == '/') {
                return s;
            }
            cdata = false;
            contentStart = tag.end();
            contentEnd = end;
        }
        String name = tag.group(1);
        String value = cdata ? cdataValue(s, contentStart + CDATA_START.length(), contentEnd) : s.substring(contentStart, contentEnd);
        if (value.isEmpty() || RedactionTokens.is(value) || !redactor.sensitive(name)) {
            return s;
        }
        out.add(new Redaction(part, "text", name, "sensitive-name"));
        return s.substring(0, contentStart) + (cdata ? CDATA_START : "") + redactor.token(value) + (cdata ? CDATA_END : "")
                + s.substring(contentEnd);
    }

    /** A CDATA section's value from {@code from} to {@code to}, without its {@code ]]>} or what the cut left of it. */
    private static String cdataValue(String s, int from, int to) {
        String value = s.substring(from, to);
        for (String cut : List.of(CDATA_END, "]]", "]")) {
            if (value.endsWith(cut)) {
                return value.substring(0, value.length() - cut.length());
            }
        }
        return value;
    }

    private String elements(String part, String s, List<Redaction> out) {
        Matcher m = ELEMENT.matcher(s);
        StringBuilder sb = null;
        int last = 0;
        Map<String, int[]> cdataEnds = null; // built at the first CDATA section
        int from = 0;
        while (m.find(from)) {
            from = m.end();
            String name = m.group(1);
            String content;
            int contentStart;
            int contentEnd;
            if (m.group(3) != null) {
                if (cdataEnds == null) {
                    cdataEnds = cdataEnds(s);
                }
                int end = cdataEnd(cdataEnds, name, m.end(3));
                if (end < 0) {
                    continue; // no end tag of this element after a "]]>": not an element with text content
                }
                contentStart = m.start(3);
                contentEnd = end + CDATA_END.length();
                content = s.substring(contentStart, contentEnd);
                Matcher endTag = END_TAG.matcher(s).region(contentEnd, s.length());
                from = endTag.lookingAt() ? endTag.end() : contentEnd;
            } else {
                contentStart = m.start(4);
                contentEnd = m.end(4);
                content = m.group(4);
            }
            if (content.isEmpty() || RedactionTokens.is(content) || !redactor.sensitive(name)) {
                continue;
            }
            if (sb == null) {
                sb = new StringBuilder(s.length() + 32);
            }
            boolean cdata = content.startsWith("<![CDATA[");
            String value = cdata ? content.substring(9, content.length() - 3) : content;
            sb.append(s, last, contentStart).append(cdata ? "<![CDATA[" : "").append(redactor.token(value)).append(cdata ? "]]>" : "");
            last = contentEnd;
            out.add(new Redaction(part, "text", name, "sensitive-name"));
        }
        return sb == null ? s : sb.append(s, last, s.length()).toString();
    }

    /**
     * Where the content of an element named {@code name} whose CDATA section opens before {@code from} ends: the first
     * {@code ]]>} at or after {@code from} that the element's end tag follows ({@code ]]></name>}, {@code ]]></ns:name>}),
     * as a lazy match to it would find, so that sections split around a {@code ]]>} in the value
     * ({@code <![CDATA[a]]]]><![CDATA[>b]]>}) are one content; -1 when there is none. A binary search in
     * {@link #cdataEnds}: looked for from every start (a run of {@code <a><![CDATA[} never closed), the scan to the
     * end of the text made redaction quadratic, seconds for 64 KiB.
     */
    private static int cdataEnd(Map<String, int[]> cdataEnds, String name, int from) {
        int[] ends = cdataEnds.get(name);
        if (ends == null) {
            return -1;
        }
        int i = Arrays.binarySearch(ends, from);
        i = i >= 0 ? i : -i - 1;
        return i < ends.length ? ends[i] : -1;
    }

    /** Every {@code ]]>} of {@code s} that an end tag follows, by the end tag's local name, in order. One pass. */
    private static Map<String, int[]> cdataEnds(String s) {
        Map<String, List<Integer>> byName = new HashMap<>();
        Matcher endTag = END_TAG.matcher(s);
        for (int at = s.indexOf(CDATA_END); at >= 0; at = s.indexOf(CDATA_END, at + 1)) {
            endTag.region(at + CDATA_END.length(), s.length());
            if (endTag.lookingAt()) {
                byName.computeIfAbsent(endTag.group(1), k -> new ArrayList<>()).add(at);
            }
        }
        Map<String, int[]> ends = new HashMap<>();
        byName.forEach((name, list) -> ends.put(name, list.stream().mapToInt(Integer::intValue).toArray()));
        return ends;
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
