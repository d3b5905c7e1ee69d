package io.tapline.ops;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Reads a {@code /metrics} body as a strict scraper of the Prometheus text format (version 0.0.4) reads it, and fails
 * (an {@link AssertionError} naming the line) on anything such a scraper refuses or that would mislead it:
 * <ul>
 *   <li>a body that is not UTF-8, or does not end with a line feed;</li>
 *   <li>a name or label name outside the format's characters, a label named twice in a sample, a label value or
 *       {@code # HELP} text with an escape the format does not have (label values: backslash, double quote,
 *       {@code n}; HELP: backslash, {@code n}), a value Prometheus does not parse as a float (a decimal comma);</li>
 *   <li>a sample without a {@code # HELP} and a {@code # TYPE} of its family before it, a family's HELP or TYPE
 *       given twice, or its lines split by another family's;</li>
 *   <li>the same series (name and label set) twice;</li>
 *   <li>a counter not named {@code _total}, or with a value below zero or NaN;</li>
 *   <li>a histogram series whose {@code le} bounds do not rise, do not end with {@code +Inf}, or are not parsed
 *       as floats, whose buckets are not cumulative, without {@code _sum}, or whose {@code _count} is not its
 *       {@code +Inf} bucket.</li>
 * </ul>
 */
public final class ExpositionCheck {

    private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    /** What Go's strconv.ParseFloat takes, less hexadecimal and underscores. */
    private static final Pattern FLOAT = Pattern.compile(
            "[+-]?(([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?|Inf|inf|Infinity)|NaN");
    private static final Set<String> TYPES = Set.of("counter", "gauge", "histogram", "summary", "untyped");

    /** One sample as read: its name, its labels (values unescaped) and its value. */
    public record Sample(String name, Map<String, String> labels, double value) {
    }

    private final Map<String, String> help = new HashMap<>();
    private final Map<String, String> type = new HashMap<>();
    private final List<Sample> samples = new ArrayList<>();

    private ExpositionCheck() {
    }

    /** Checks the body as served: it must be UTF-8. */
    public static ExpositionCheck check(byte[] body) {
        try {
            return check(StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body)).toString());
        } catch (CharacterCodingException e) {
            throw new AssertionError("the exposition is not UTF-8: " + e);
        }
    }

    /** Checks the text; it must also be encodable as UTF-8 (no lone surrogate). */
    public static ExpositionCheck check(String text) {
        try {
            StandardCharsets.UTF_8.newEncoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).encode(java.nio.CharBuffer.wrap(text));
        } catch (CharacterCodingException e) {
            throw new AssertionError("the exposition has text UTF-8 cannot carry: " + e + "\n" + text);
        }
        ExpositionCheck check = new ExpositionCheck();
        try {
            check.read(text);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n--- exposition ---\n" + text, e);
        }
        return check;
    }

    public List<Sample> samples() {
        return samples;
    }

    public String type(String family) {
        return type.get(family);
    }

    public String help(String family) {
        return help.get(family);
    }

    /** The value of the one sample with this name and exactly these labels (name/value pairs). */
    public double value(String name, String... labels) {
        Map<String, String> wanted = new HashMap<>();
        for (int i = 0; i < labels.length; i += 2) {
            wanted.put(labels[i], labels[i + 1]);
        }
        return samples.stream().filter(s -> s.name.equals(name) && s.labels.equals(wanted)).findFirst()
                .orElseThrow(() -> new AssertionError("no sample " + name + wanted)).value;
    }

    private void read(String text) {
        if (!text.isEmpty() && !text.endsWith("\n")) {
            throw new AssertionError("the exposition does not end with a line feed");
        }
        Set<String> closed = new HashSet<>();
        Set<String> series = new HashSet<>();
        String current = null;
        String[] lines = text.split("\n", -1);
        for (int n = 0; n < lines.length - 1; n++) {
            String line = lines[n];
            String where = "line " + (n + 1) + " [" + line + "]: ";
            String family;
            if (line.startsWith("#")) {
                String[] parts = line.split(" ", 4);
                if (parts.length < 3 || !(parts[1].equals("HELP") || parts[1].equals("TYPE"))) {
                    continue; // a plain comment
                }
                family = parts[2];
                require(METRIC_NAME.matcher(family).matches(), where + "not a metric name");
                String rest = parts.length == 4 ? parts[3] : "";
                if (parts[1].equals("HELP")) {
                    require(!help.containsKey(family), where + "a second HELP for " + family);
                    help.put(family, unescapeHelp(rest, where));
                } else {
                    require(!type.containsKey(family), where + "a second TYPE for " + family);
                    require(TYPES.contains(rest), where + "not a type");
                    require(samples.stream().noneMatch(s -> familyOf(s.name).equals(family)),
                            where + "TYPE after samples of " + family);
                    type.put(family, rest);
                }
            } else {
                require(!line.isBlank(), where + "a blank line");
                Sample s = sample(line, where);
                family = familyOf(s.name);
                require(help.containsKey(family), where + "no HELP before the samples of " + family);
                require(type.containsKey(family), where + "no TYPE before the samples of " + family);
                require(series.add(s.name + new TreeMap<>(s.labels)), where + "the same series twice");
                if ("counter".equals(type.get(family))) {
                    require(family.endsWith("_total"), where + "a counter not named _total");
                    require(s.value >= 0, where + "a counter below zero or NaN");
                }
                samples.add(s);
            }
            if (!family.equals(current)) {
                require(!closed.contains(family), where + "the lines of " + family + " are split by another family's");
                if (current != null) {
                    closed.add(current);
                }
                current = family;
            }
        }
        for (Map.Entry<String, String> t : type.entrySet()) {
            if (t.getValue().equals("histogram")) {
                histogram(t.getKey());
            }
        }
    }

    /** The family a sample belongs to: a histogram's {@code _bucket}, {@code _sum} and {@code _count} are its own. */
    private String familyOf(String name) {
        for (String suffix : List.of("_bucket", "_sum", "_count")) {
            if (name.endsWith(suffix)) {
                String base = name.substring(0, name.length() - suffix.length());
                if ("histogram".equals(type.get(base))) {
                    return base;
                }
            }
        }
        return name;
    }

    private void histogram(String family) {
        Map<Map<String, String>, List<Sample>> bySeries = new LinkedHashMap<>();
        for (Sample s : samples) {
            if (familyOf(s.name).equals(family)) {
                Map<String, String> labels = new TreeMap<>(s.labels);
                labels.remove("le");
                bySeries.computeIfAbsent(labels, k -> new ArrayList<>()).add(s);
            }
        }
        bySeries.forEach((labels, list) -> {
            String where = "histogram " + family + labels + ": ";
            double lastBound = Double.NEGATIVE_INFINITY;
            double lastCount = -1;
            Double sum = null;
            Double count = null;
            for (Sample s : list) {
                if (s.name.equals(family)) {
                    throw new AssertionError(where + "a sample named as the family");
                } else if (s.name.equals(family + "_bucket")) {
                    String le = s.labels.get("le");
                    require(le != null, where + "a bucket without le");
                    require(FLOAT.matcher(le).matches(), where + "le=\"" + le + "\" is not a float");
                    double bound = parse(le);
                    require(bound > lastBound, where + "le=\"" + le + "\" does not rise");
                    require(s.value >= lastCount, where + "bucket le=\"" + le + "\" is not cumulative");
                    require(s.value == Math.rint(s.value), where + "bucket le=\"" + le + "\" is not a whole count");
                    lastBound = bound;
                    lastCount = s.value;
                } else if (s.name.equals(family + "_sum")) {
                    sum = s.value;
                } else {
                    count = s.value;
                }
            }
            require(lastBound == Double.POSITIVE_INFINITY, where + "the last bucket is not le=\"+Inf\"");
            require(sum != null, where + "no _sum");
            require(count != null && count == lastCount, where + "_count " + count + " is not the +Inf bucket " + lastCount);
        });
    }

    private static Sample sample(String line, String where) {
        int i = 0;
        while (i < line.length() && line.charAt(i) != '{' && line.charAt(i) != ' ') {
            i++;
        }
        String name = line.substring(0, i);
        require(METRIC_NAME.matcher(name).matches(), where + "not a metric name");
        Map<String, String> labels = new LinkedHashMap<>();
        if (i < line.length() && line.charAt(i) == '{') {
            i++;
            while (true) {
                require(i < line.length(), where + "labels not closed");
                if (line.charAt(i) == '}') {
                    i++;
                    break;
                }
                int eq = line.indexOf('=', i);
                require(eq > 0, where + "a label without =");
                String label = line.substring(i, eq);
                require(LABEL_NAME.matcher(label).matches() && !label.startsWith("__"), where + "not a label name: " + label);
                require(eq + 1 < line.length() && line.charAt(eq + 1) == '"', where + "a label value not quoted");
                StringBuilder value = new StringBuilder();
                int j = eq + 2;
                while (true) {
                    require(j < line.length(), where + "a label value not closed (a raw line feed in it?)");
                    char c = line.charAt(j);
                    if (c == '"') {
                        break;
                    }
                    if (c == '\\') {
                        require(j + 1 < line.length(), where + "a label value ends in a backslash");
                        char e = line.charAt(j + 1);
                        require(e == '\\' || e == '"' || e == 'n', where + "an escape the format does not have: \\" + e);
                        value.append(e == 'n' ? '\n' : e);
                        j += 2;
                    } else {
                        value.append(c);
                        j++;
                    }
                }
                require(labels.put(label, value.toString()) == null, where + "label " + label + " twice");
                i = j + 1;
                require(i < line.length(), where + "labels not closed");
                if (line.charAt(i) == ',') {
                    i++;
                } else {
                    require(line.charAt(i) == '}', where + "labels not separated by a comma");
                }
            }
        }
        require(i < line.length() && line.charAt(i) == ' ', where + "no space before the value");
        String[] rest = line.substring(i + 1).split(" ", -1);
        require(rest.length == 1 || rest.length == 2 && rest[1].matches("-?[0-9]+"),
                where + "not a value and an optional timestamp");
        require(FLOAT.matcher(rest[0]).matches(), where + "value " + rest[0] + " is not a float");
        return new Sample(name, labels, parse(rest[0]));
    }

    private static String unescapeHelp(String text, String where) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\') {
                require(i + 1 < text.length(), where + "HELP ends in a backslash");
                char e = text.charAt(++i);
                require(e == '\\' || e == 'n', where + "an escape HELP does not have: \\" + e);
                out.append(e == 'n' ? '\n' : e);
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static double parse(String value) {
        String v = value.replace("Infinity", "Inf").replace("inf", "Inf");
        if (v.endsWith("Inf")) {
            return v.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
        }
        return Double.parseDouble(v);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new AssertionError(message);
        }
    }
}
