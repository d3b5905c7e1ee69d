package io.tapline.redaction;

import io.tapline.avro.Redaction;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * XML bodies (SOAP envelopes, feeds) by name: the text of an element whose local name is sensitive
 * ({@code <password>}, {@code <wsse:Password>}, also as CDATA, mixed with comments or further sections), the text and
 * attribute values of every element inside one, and the value of an attribute whose local name is
 * ({@code <user token="...">}) become tokens. A sensitive element's own attributes describe its value
 * ({@code <wsse:Password Type="...#PasswordText">}) and are kept, unless their own name is sensitive. Namespace
 * declarations ({@code xmlns}, {@code xmlns:pwd}) are never values. A tag ends at the first {@code >} outside its
 * quoted attribute values; a value whose quote is left open ends it at its first {@code >}, and such a value of a
 * sensitive name is tokenised up to the next tag, as either reading may be the writer's. The text right before an end tag of a sensitive name that closes no element
 * ({@code <password type="t"/>hunter2</password>}) is tokenised too.
 * Not a parser: a body cut by the capture cap is read as far as it goes. The text rules run on the whole afterwards.
 */
final class XmlRedaction {

    /** An end tag: its local name. */
    private static final Pattern END_TAG = Pattern.compile("</(?:[A-Za-z_][\\w.-]*+:)?([A-Za-z_][\\w.-]*+)\\s*>");
    /** The local name of a start tag (or an empty-element tag), which {@link #tagEnd} ends. */
    private static final Pattern TAG_NAME = Pattern.compile("<(?:[A-Za-z_][\\w.-]*+:)?([A-Za-z_][\\w.-]*+)");
    /** The name of a start or end tag, its prefix and local name; its local name alone (group 2 null) without a prefix. */
    private static final Pattern QUALIFIED_NAME = Pattern.compile("</?+([A-Za-z_][\\w.-]*+)(?::([A-Za-z_][\\w.-]*+))?");
    /**
     * An attribute of a tag: its prefix (null without one), its local name and its quoted value, or its quote left
     * open ({@code (")}, group 4) by the cut or by a writer that never closed it.
     */
    private static final Pattern NEXT_ATTRIBUTE =
            Pattern.compile("\\s++(?:([A-Za-z_][\\w.-]*+):)?([A-Za-z_][\\w.-]*+)\\s*+=\\s*+(\"[^\"]*+\"|'[^']*+'|([\"']))");
    private static final String CDATA_END = "]]>";
    private static final String CDATA_START = "<![CDATA[";

    private final Redactor redactor;

    XmlRedaction(Redactor redactor) {
        this.redactor = redactor;
    }

    /**
     * The markup of {@code s} that names rather than holds values, which the text rules must leave as it is
     * ({@link Redactor#text}): qualified names in tags ({@code <pwd:v>}, {@code </pwd:v>}, {@code pwd:attr="1"}, which
     * read as {@code pwd: v} in free text) and namespace declarations with their values ({@code xmlns:token="urn:t"},
     * {@code xmlns="..."}), as this class never tokenises them either. Found by one pass over the tags on the first
     * question, as most bodies never ask.
     */
    Markup markup(String s) {
        return new Markup(s);
    }

    /** The ranges of {@link #markup}, sorted and apart, found when first asked about. */
    static final class Markup {
        private final String s;
        private int[] starts;
        private int[] ends;
        private int count;

        private Markup(String s) {
            this.s = s;
        }

        /** Whether {@code [start, end)} reaches into a qualified name in a tag or a namespace declaration. */
        boolean overlaps(int start, int end) {
            if (starts == null) {
                find();
            }
            int lo = 0;
            int hi = count; // the first range starting at or after end
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (starts[mid] < end) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return lo > 0 && ends[lo - 1] > start;
        }

        private void find() {
            starts = new int[8];
            ends = new int[8];
            Matcher name = QUALIFIED_NAME.matcher(s);
            Matcher a = NEXT_ATTRIBUTE.matcher(s);
            int n = s.length();
            for (int lt = s.indexOf('<'); lt >= 0 && lt + 1 < n; lt = s.indexOf('<', lt + 1)) {
                if (!name.region(lt, n).lookingAt()) {
                    continue;
                }
                if (name.group(2) != null) {
                    add(name.start(1), name.end(2));
                }
                if (s.charAt(lt + 1) == '/') {
                    continue;
                }
                int gt = tagEnd(s, lt);
                for (a.region(name.end(), gt == n ? n : gt + 1); a.find(); ) {
                    Value v = attribute(a, gt);
                    if (v.declaration()) {
                        add(a.start(2) - (v.prefix() == null ? 0 : v.prefix().length() + 1), Math.min(v.end() + 1, n));
                    } else if (v.prefix() != null) {
                        add(a.start(1), a.end(2));
                    }
                }
            }
        }

        private void add(int start, int end) {
            if (count == starts.length) {
                starts = java.util.Arrays.copyOf(starts, count * 2);
                ends = java.util.Arrays.copyOf(ends, count * 2);
            }
            starts[count] = start;
            ends[count++] = end;
        }
    }

    /** The text with sensitive element contents and attribute values tokenised; the same instance when none was. */
    String xml(String part, String s, List<Redaction> out) {
        return attributes(part, elements(part, s, out), out);
    }

    /**
     * The text with the content of every sensitive element tokenised: each run of it between tags (text, CDATA
     * sections, comments, processing instructions, as written) one token, a run that is CDATA sections only written
     * as one section holding the token, and each attribute value of the elements inside. Runs of whitespace only
     * between the tags of elements inside are kept. A sensitive start tag the capture cap cut: what follows its
     * attributes ({@code <password x="?>"hunter2}, a quote the writer meant as text) may be its value and is tokenised.
     */
    private String elements(String part, String s, List<Redaction> out) {
        Matcher tagName = TAG_NAME.matcher(s);
        Matcher endTag = END_TAG.matcher(s);
        StringBuilder sb = null;
        int last = 0;
        int tagEnd = 0; // where the last tag read ends
        int n = s.length();
        for (int lt = s.indexOf('<'); lt >= 0 && lt + 1 < n; lt = s.indexOf('<', lt + 1)) {
            if (s.charAt(lt + 1) == '/') {
                if (!endTag.region(lt, n).lookingAt()) {
                    continue;
                }
                String name = endTag.group(1);
                int runStart = Math.max(last, tagEnd);
                tagEnd = endTag.end();
                lt = tagEnd - 1;
                // an end tag of a sensitive name that closes no element (<password x="1"/>hunter2</password>): the text
                // or CDATA sections right before it are its value
                String written = redactor.sensitive(name) ? s.substring(runStart, endTag.start()) : "";
                if (!written.isEmpty() && (written.indexOf('<') < 0 || written.startsWith(CDATA_START) && written.endsWith(CDATA_END))) {
                    StringBuilder r = token(part, s, new Run(runStart, endTag.start(), false, false), false, name, sb, last, out);
                    if (r != null) {
                        sb = r;
                        last = endTag.start();
                    }
                }
                continue;
            }
            int gt = tagEnd(s, lt);
            if (!tagName.region(lt, gt).lookingAt()
                    || !(tagName.end() == gt || s.charAt(tagName.end()) == '/' || Character.isWhitespace(s.charAt(tagName.end())))) {
                continue;
            }
            String name = tagName.group(1);
            if (gt == n) { // a start tag the capture cap cut, the last of the text
                if (redactor.sensitive(name)) {
                    for (Value v : cutTag(s, tagName.end())) {
                        StringBuilder r = v.name() != null ? null
                                : token(part, s, new Run(v.start(), v.end(), false, true), false, name, sb, last, out);
                        if (r != null) {
                            sb = r;
                            last = v.end();
                        }
                    }
                }
                break;
            }
            if (s.charAt(gt) != '>') {
                continue;
            }
            tagEnd = gt + 1;
            lt = gt;
            if (s.charAt(gt - 1) == '/' || !redactor.sensitive(name)) {
                continue;
            }
            Content content = content(s, gt + 1, name);
            tagEnd = content.end();
            lt = tagEnd - 1;
            for (Run run : content.runs()) {
                StringBuilder r = token(part, s, run, content.children(), name, sb, last, out);
                if (r != null) {
                    sb = r;
                    last = run.end();
                }
            }
        }
        return sb == null ? s : sb.append(s, last, s.length()).toString();
    }

    /**
     * {@code sb} (a new builder when null) with the text from {@code last} to the run and the run's token, a run that
     * is CDATA sections only written as one section holding it; null when the run holds no value (empty, a token
     * already, or whitespace between elements inside a sensitive one when {@code children}).
     */
    private StringBuilder token(String part, String s, Run run, boolean children, String name, StringBuilder sb, int last,
            List<Redaction> out) {
        String written = s.substring(run.start(), run.end());
        if (children && !run.inTag() && written.isBlank()) {
            return null; // layout between the elements inside
        }
        boolean cdata = !run.inTag() && written.startsWith(CDATA_START) && (run.openCdata() || written.endsWith(CDATA_END)
                && written.length() >= CDATA_START.length() + CDATA_END.length());
        String value = !cdata ? written : run.openCdata() ? cdataValue(written) : written.substring(CDATA_START.length(),
                written.length() - CDATA_END.length());
        if (value.isEmpty() || RedactionTokens.is(value)) {
            return null;
        }
        StringBuilder b = sb == null ? new StringBuilder(s.length() + 32) : sb;
        b.append(s, last, run.start()).append(cdata ? CDATA_START : "").append(redactor.token(value)).append(cdata ? CDATA_END : "");
        out.add(new Redaction(part, "text", name, "sensitive-name"));
        return b;
    }

    /**
     * Where the tag that opens at {@code lt} ends: its {@code >}, read past quoted attribute values (a quote after a
     * {@code =}), which may hold {@code >} and {@code />}; else the first {@code <}, which no tag holds, or the end of
     * the text. A value whose quote is still open there (written without its closing quote, or cut by the capture
     * cap) ends the tag at the first {@code >} in it, as a reader that does not know quotes sees it. Read up to the
     * next {@code <} at most, so that tags looked for from every {@code <} read each character once.
     */
    private static int tagEnd(String s, int lt) {
        int n = s.length();
        char quote = 0;
        int gtInQuote = -1; // the first '>' in the value whose quote is open
        char previous = 0; // the last character outside a value that is not whitespace
        for (int i = lt + 1; i < n; i++) {
            char c = s.charAt(i);
            if (c == '<') {
                return quote != 0 && gtInQuote >= 0 ? gtInQuote : i;
            } else if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else if (c == '>' && gtInQuote < 0) {
                    gtInQuote = i;
                }
            } else if (c == '>') {
                return i;
            } else if ((c == '"' || c == '\'') && previous == '=') {
                quote = c;
                gtInQuote = -1;
                previous = c;
            } else if (!Character.isWhitespace(c)) {
                previous = c;
            }
        }
        return quote != 0 && gtInQuote >= 0 ? gtInQuote : n;
    }

    /**
     * A run of content from {@code start} to {@code end}; {@code openCdata} when the text ends inside its last CDATA
     * section, cut by the capture cap; {@code inTag} when it is a value written in a tag (an attribute's, or what
     * follows the attributes of a tag the cap cut), tokenised as written.
     */
    private record Run(int start, int end, boolean openCdata, boolean inTag) {}

    /**
     * A value written in a tag from {@code start} to {@code end}: an attribute's, between its quotes or up to the end of
     * a tag the capture cap cut inside it, with its prefix (null without one) and local name; or, {@code name} null,
     * what follows the attributes of a cut tag.
     */
    private record Value(String prefix, String name, int start, int end) {

        /** A namespace declaration ({@code xmlns="..."}, {@code xmlns:pwd="..."}), never a value to tokenise. */
        boolean declaration() {
            return name != null && (prefix == null ? name.equals("xmlns") : prefix.equals("xmlns"));
        }
    }

    /**
     * The attribute {@link #NEXT_ATTRIBUTE} found in the tag that ends at {@code gt}: its value between its quotes, or,
     * its quote left open, from the quote up to {@code gt}, where the tag ends as {@link #tagEnd} reads it.
     */
    private static Value attribute(Matcher a, int gt) {
        return a.group(4) != null ? new Value(a.group(1), a.group(2), a.end(), gt)
                : new Value(a.group(1), a.group(2), a.start(3) + 1, a.end(3) - 1);
    }

    /**
     * The values of the start tag the capture cap cut, from {@code from} (after its name) to the end of the text, read
     * attribute by attribute: each attribute's value, the last one's up to the cut when its quote is open; then what
     * follows them, when it is more than whitespace or a lone {@code /} (a value the tag cannot hold, or the start of
     * a name the cut left). One pass.
     */
    private static List<Value> cutTag(String s, int from) {
        List<Value> values = new ArrayList<>(2);
        Matcher a = NEXT_ATTRIBUTE.matcher(s);
        int n = s.length();
        int i = from;
        while (a.region(i, n).lookingAt()) {
            values.add(attribute(a, n));
            if (a.group(4) != null) { // its quote left open: the value runs to the cut
                return values;
            }
            i = a.end();
        }
        while (i < n && Character.isWhitespace(s.charAt(i))) {
            i++;
        }
        if (i < n && !(i == n - 1 && s.charAt(i) == '/')) {
            values.add(new Value(null, null, i, n));
        }
        return values;
    }

    /** A sensitive element's runs of content, whether it holds elements, and where the text after it starts. */
    private record Content(List<Run> runs, boolean children, int end) {}

    /**
     * The content of the element named {@code name} whose start tag ends at {@code from}, up to its end tag (the
     * first of its name that no element opened inside it takes) or the end of the text: an element left open, or
     * one the capture cap cut the body inside (a tag cut there is not content: {@code </pass},
     * {@code <v x="}). CDATA sections, comments and processing instructions are skipped whole, so no tag inside them
     * counts. One pass over the content, each character read once.
     */
    private Content content(String s, int from, String name) {
        List<Run> runs = new ArrayList<>(2);
        Deque<String> open = new ArrayDeque<>();
        Map<String, Integer> opened = new HashMap<>(); // how many of each name are in open
        boolean children = false;
        int runStart = from;
        int i = from;
        int n = s.length();
        Matcher endTag = END_TAG.matcher(s);
        Matcher tagName = TAG_NAME.matcher(s);
        Matcher attribute = NEXT_ATTRIBUTE.matcher(s);
        while (true) {
            int lt = s.indexOf('<', i);
            if (lt < 0) {
                addRun(runs, runStart, n, false, false);
                return new Content(runs, children, n);
            }
            boolean cdata = s.startsWith(CDATA_START, lt);
            String close = cdata ? CDATA_END : s.startsWith("<!--", lt) ? "-->" : s.startsWith("<?", lt) ? "?>" : null;
            if (close != null) {
                int e = s.indexOf(close, lt + 2);
                if (e < 0) {
                    addRun(runs, runStart, n, cdata, false);
                    return new Content(runs, children, n);
                }
                i = e + close.length();
                continue;
            }
            boolean endTagLike = lt + 1 < n && s.charAt(lt + 1) == '/';
            boolean startTagLike = lt + 1 < n && (Character.isLetter(s.charAt(lt + 1)) || s.charAt(lt + 1) == '_');
            int gt = startTagLike ? tagEnd(s, lt) : lt + 1;
            while (!startTagLike && gt < n && s.charAt(gt) != '<' && s.charAt(gt) != '>') {
                gt++;
            }
            if (gt == n && (lt + 1 == n || endTagLike || startTagLike)) {
                addRun(runs, runStart, lt, false, false); // a tag the cap cut: its values are, as in a whole one
                if (startTagLike && tagName.region(lt, n).lookingAt() && tagName.end() < n
                        && (s.charAt(tagName.end()) == '/' || Character.isWhitespace(s.charAt(tagName.end())))) {
                    boolean described = redactor.sensitive(tagName.group(1));
                    for (Value v : cutTag(s, tagName.end())) {
                        if (!v.declaration() && !(described && v.name() != null)) {
                            addRun(runs, v.start(), v.end(), false, true);
                        }
                    }
                }
                return new Content(runs, children, n);
            }
            if (gt < n && s.charAt(gt) == '>' && endTagLike && endTag.region(lt, gt + 1).matches()) {
                String local = endTag.group(1);
                if (local.equals(open.peek())) {
                    pop(open, opened);
                } else if (opened.containsKey(local)) {
                    while (!local.equals(pop(open, opened))) {
                        // elements left open inside the one it closes
                    }
                } else if (local.equals(name)) {
                    addRun(runs, runStart, lt, false, false);
                    return new Content(runs, children, gt + 1);
                } // else an end tag of no element open inside: passed over, as the element may still hold text after it
            } else if (gt < n && s.charAt(gt) == '>' && startTagLike && tagName.region(lt, gt).lookingAt()) {
                children = true;
                if (s.charAt(gt - 1) != '/') {
                    String local = tagName.group(1);
                    open.push(local);
                    opened.merge(local, 1, Integer::sum);
                }
                addRun(runs, runStart, lt, false, false);
                // the attributes of an element of a sensitive name describe its value, as those of the outer one do
                for (attribute.region(tagName.end(), redactor.sensitive(tagName.group(1)) ? tagName.end() : gt); attribute.find(); ) {
                    Value v = attribute(attribute, gt);
                    if (!v.declaration()) {
                        addRun(runs, v.start(), v.end(), false, true);
                    }
                }
                runStart = gt + 1;
                i = gt + 1;
                continue;
            } else {
                i = lt + 1; // a '<' that starts no tag: text
                continue;
            }
            addRun(runs, runStart, lt, false, false);
            runStart = gt + 1;
            i = gt + 1;
        }
    }

    /** Where the next {@code <} after {@code from} is, or the end of the text. */
    private static int nextTag(String s, int from) {
        int lt = s.indexOf('<', from);
        return lt < 0 ? s.length() : lt;
    }

    private static String pop(Deque<String> open, Map<String, Integer> opened) {
        String name = open.pop();
        opened.computeIfPresent(name, (k, c) -> c == 1 ? null : c - 1);
        return name;
    }

    private static void addRun(List<Run> runs, int start, int end, boolean openCdata, boolean inTag) {
        if (end > start) {
            runs.add(new Run(start, end, openCdata, inTag));
        }
    }

    /** The value of CDATA sections the text ends inside, without the opening, and what the cut left of a closing. */
    private static String cdataValue(String written) {
        String value = written.substring(CDATA_START.length());
        for (String cut : List.of("]]", "]")) {
            if (value.endsWith(cut)) {
                return value.substring(0, value.length() - cut.length());
            }
        }
        return value;
    }

    /**
     * The text with the value of every attribute of a sensitive name tokenised, also in the start tag the capture cap
     * cut (the last one's up to the cut when its quote is open); namespace declarations kept.
     */
    private String attributes(String part, String s, List<Redaction> out) {
        Matcher a = NEXT_ATTRIBUTE.matcher(s);
        Matcher tagName = TAG_NAME.matcher(s);
        StringBuilder sb = null;
        int last = 0;
        int n = s.length();
        List<Value> values = new ArrayList<>();
        for (int lt = s.indexOf('<'); lt >= 0 && lt + 1 < n; lt = s.indexOf('<', lt + 1)) {
            char first = s.charAt(lt + 1);
            if (!(first >= 'A' && first <= 'Z' || first >= 'a' && first <= 'z' || first == '_')) {
                continue;
            }
            int gt = tagEnd(s, lt);
            values.clear();
            if (gt == n) { // a tag the capture cap cut, the last of the text
                if (tagName.region(lt, n).lookingAt()) {
                    values.addAll(cutTag(s, tagName.end()));
                }
            } else if (s.charAt(gt) == '>') {
                for (a.region(lt, gt + 1); a.find(); ) {
                    Value v = attribute(a, gt);
                    // its quote left open, the value may run past the '>' the tag ends at: up to the next tag
                    values.add(a.group(4) == null ? v : new Value(v.prefix(), v.name(), v.start(), nextTag(s, gt)));
                }
            }
            for (Value v : values) {
                String value = s.substring(v.start(), v.end());
                if (v.name() == null || v.declaration() || value.isEmpty() || RedactionTokens.is(value) || !redactor.sensitive(v.name())) {
                    continue;
                }
                if (sb == null) {
                    sb = new StringBuilder(s.length() + 32);
                }
                sb.append(s, last, v.start()).append(redactor.token(value));
                last = v.end();
                out.add(new Redaction(part, "text", "@" + v.name(), "sensitive-name"));
            }
        }
        return sb == null ? s : sb.append(s, last, s.length()).toString();
    }
}
