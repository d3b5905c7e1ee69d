package io.tapline.demo;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A parser for the PromQL the dashboard and the alert rules use: selectors, range and subquery brackets,
 * {@code offset}, function calls, aggregations with {@code by}/{@code without}, binary operators with {@code bool},
 * {@code on}/{@code ignoring} and {@code group_left}/{@code group_right}, numbers and strings. It checks the syntax and
 * the value types (a range vector only where a function takes one), and gives the tree, from which the metric and
 * label names an expression needs are read. A syntax error is an {@link IllegalArgumentException} naming the offset.
 * Grafana's interval variables ({@code $__rate_interval}) are taken as durations; other {@code $} variables may only
 * appear inside strings.
 */
final class PromQl {

    enum Type { SCALAR, STRING, VECTOR, MATRIX }

    /** One node of the tree. */
    sealed interface Node permits Literal, Selector, Call, Aggregation, Binary, Ranged {
        Type type();
    }

    record Literal(Type type) implements Node {
    }

    /** {@code label op "value"}, the value unquoted. */
    record Matcher(String label, String op, String value) {
    }

    /** {@code name{label op "value", ...}}; {@code __name__} matched with {@code =} is the metric. */
    record Selector(String metric, List<Matcher> matchers) implements Node {
        @Override
        public Type type() {
            return Type.VECTOR;
        }

        List<String> labels() {
            return matchers.stream().map(Matcher::label).toList();
        }

        /** The labels matched with {@code =}. */
        Set<String> equal() {
            Set<String> out = new LinkedHashSet<>();
            matchers.stream().filter(m -> m.op().equals("=")).forEach(m -> out.add(m.label()));
            return out;
        }
    }

    record Call(String function, List<Node> args, Type type) implements Node {
    }

    /** {@code op by|without (grouping) ([parameter,] arg)}; {@code grouping} null without a clause. */
    record Aggregation(String op, List<String> grouping, boolean without, Node parameter, Node arg) implements Node {
        @Override
        public Type type() {
            return Type.VECTOR;
        }
    }

    /** {@code matching} null without {@code on}/{@code ignoring}; {@code include} the group_left/right labels. */
    record Binary(String op, Node left, Node right, List<String> matching, boolean ignoring, List<String> include)
            implements Node {
        @Override
        public Type type() {
            return left.type() == Type.SCALAR && right.type() == Type.SCALAR ? Type.SCALAR : Type.VECTOR;
        }
    }

    /** A range selector or subquery ({@code matrix}), or an {@code offset} ({@code matrix} false). */
    record Ranged(Node inner, boolean matrix) implements Node {
        @Override
        public Type type() {
            return matrix ? Type.MATRIX : inner.type();
        }
    }

    static final Set<String> AGGREGATIONS = Set.of("sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
            "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio");
    private static final Set<String> WITH_PARAMETER = Set.of("count_values", "bottomk", "topk", "quantile", "limitk",
            "limit_ratio");
    private static final Set<String> BINARY = Set.of("+", "-", "*", "/", "%", "^", "==", "!=", "<", ">", "<=", ">=",
            "and", "or", "unless", "atan2");
    private static final Set<String> SET_OPERATORS = Set.of("and", "or", "unless");
    private static final Set<String> COMPARISONS = Set.of("==", "!=", "<", ">", "<=", ">=");
    /**
     * The functions, each with the types of its arguments ('v' instant vector, 'm' range vector, 's' scalar; a
     * trailing '?' for an optional last) and after the colon what it returns. label_replace and label_join are left
     * out: the labels they make would need following through the tree.
     */
    private static final Map<String, String> FUNCTIONS = Map.ofEntries(
            Map.entry("abs", "v:v"), Map.entry("absent", "v:v"), Map.entry("absent_over_time", "m:v"),
            Map.entry("ceil", "v:v"), Map.entry("changes", "m:v"), Map.entry("clamp", "vss:v"),
            Map.entry("clamp_max", "vs:v"), Map.entry("clamp_min", "vs:v"), Map.entry("day_of_month", "v?:v"),
            Map.entry("day_of_week", "v?:v"), Map.entry("day_of_year", "v?:v"), Map.entry("days_in_month", "v?:v"),
            Map.entry("delta", "m:v"), Map.entry("deriv", "m:v"), Map.entry("exp", "v:v"), Map.entry("floor", "v:v"),
            Map.entry("histogram_quantile", "sv:v"), Map.entry("histogram_fraction", "ssv:v"),
            Map.entry("histogram_count", "v:v"), Map.entry("histogram_sum", "v:v"), Map.entry("hour", "v?:v"),
            Map.entry("idelta", "m:v"), Map.entry("increase", "m:v"), Map.entry("irate", "m:v"),
            Map.entry("ln", "v:v"),
            Map.entry("log2", "v:v"), Map.entry("log10", "v:v"), Map.entry("minute", "v?:v"), Map.entry("month", "v?:v"),
            Map.entry("predict_linear", "ms:v"), Map.entry("rate", "m:v"), Map.entry("resets", "m:v"),
            Map.entry("round", "vs?:v"), Map.entry("scalar", "v:s"), Map.entry("sgn", "v:v"), Map.entry("sort", "v:v"),
            Map.entry("sort_desc", "v:v"), Map.entry("sqrt", "v:v"), Map.entry("time", ":s"),
            Map.entry("timestamp", "v:v"), Map.entry("vector", "s:v"), Map.entry("year", "v?:v"),
            Map.entry("avg_over_time", "m:v"), Map.entry("min_over_time", "m:v"), Map.entry("max_over_time", "m:v"),
            Map.entry("sum_over_time", "m:v"), Map.entry("count_over_time", "m:v"),
            Map.entry("quantile_over_time", "sm:v"), Map.entry("stddev_over_time", "m:v"),
            Map.entry("stdvar_over_time", "m:v"), Map.entry("last_over_time", "m:v"),
            Map.entry("present_over_time", "m:v"));

    private static final Pattern TOKEN = Pattern.compile(
            "\\s*(?:(?<str>\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`)"
                    + "|(?<dur>[0-9]+(?:ms|s|m|h|d|w|y)(?:[0-9]+(?:ms|s|m|h|d|w|y))*(?![a-zA-Z0-9_]))"
                    + "|(?<num>0[xX][0-9a-fA-F]+|(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?(?![a-zA-Z0-9_]))"
                    + "|(?<var>\\$__[a-z_]+)"
                    + "|(?<id>[a-zA-Z_][a-zA-Z0-9_:]*)"
                    + "|(?<op>==|!=|<=|>=|=~|!~|[-+*/%^<>=(){}\\[\\],:@]))");

    private record Token(String kind, String text, int at) {
    }

    private final String source;
    private final List<Token> tokens = new ArrayList<>();
    private int next;

    private PromQl(String source) {
        this.source = source;
        java.util.regex.Matcher m = TOKEN.matcher(source);
        int at = 0;
        while (at < source.length()) {
            if (source.substring(at).isBlank()) {
                break;
            }
            if (!m.find(at) || m.start() != at) {
                throw error(at, "unexpected character '" + source.charAt(at) + "'");
            }
            for (String kind : List.of("str", "dur", "num", "var", "id", "op")) {
                if (m.group(kind) != null) {
                    tokens.add(new Token(kind, m.group(kind), m.start(kind)));
                    break;
                }
            }
            at = m.end();
        }
    }

    /** Parses {@code expr}; an {@link IllegalArgumentException} names what is wrong and where. */
    static Node parse(String expr) {
        PromQl p = new PromQl(expr);
        if (p.tokens.isEmpty()) {
            throw new IllegalArgumentException("empty expression");
        }
        Node node = p.expression();
        if (p.next < p.tokens.size()) {
            throw p.error(p.peek().at, "unexpected '" + p.peek().text + "'");
        }
        return node;
    }

    private Node expression() {
        Node left = unary();
        while (peek() != null && BINARY.contains(peek().text.toLowerCase(java.util.Locale.ROOT))
                && !peek().kind.equals("str")) {
            Token op = take();
            String name = op.text.toLowerCase(java.util.Locale.ROOT);
            if (accept("bool") && !COMPARISONS.contains(name)) {
                throw error(op.at, "bool only goes with a comparison");
            }
            List<String> matching = null;
            boolean ignoring = false;
            List<String> include = List.of();
            if (peekIs("on") || peekIs("ignoring")) {
                ignoring = take().text.equals("ignoring");
                matching = labelList();
                if (peekIs("group_left") || peekIs("group_right")) {
                    take();
                    include = peekIs("(") ? labelList() : List.of();
                }
            }
            Node right = unary();
            for (Node side : List.of(left, right)) {
                if (side.type() == Type.MATRIX || side.type() == Type.STRING) {
                    throw error(op.at, "operator " + op.text + " takes no " + side.type().name().toLowerCase() + " operand");
                }
            }
            if (SET_OPERATORS.contains(name) && (left.type() != Type.VECTOR || right.type() != Type.VECTOR)) {
                throw error(op.at, name + " takes two instant vectors");
            }
            left = new Binary(name, left, right, matching, ignoring, include);
        }
        return left;
    }

    private Node unary() {
        if (peekIs("-") || peekIs("+")) {
            take();
            return unary();
        }
        Node node = primary();
        while (true) {
            if (peekIs("[")) {
                Token open = take();
                if (node.type() != Type.VECTOR) {
                    throw error(open.at, "a range or subquery needs an instant vector");
                }
                boolean subquery = !(node instanceof Selector);
                duration();
                if (accept(":")) {
                    subquery = true;
                    if (!peekIs("]")) {
                        duration();
                    }
                } else if (subquery) {
                    throw error(open.at, "a range needs a selector (or a subquery, [range:step])");
                }
                expect("]");
                node = new Ranged(node, true);
            } else if (peekIs("offset")) {
                take();
                accept("-");
                duration();
                node = new Ranged(node, false);
            } else {
                return node;
            }
        }
    }

    private void duration() {
        Token t = take();
        if (t == null || !(t.kind.equals("dur") || t.kind.equals("var"))) {
            throw error(t == null ? source.length() : t.at, "a duration expected");
        }
    }

    private Node primary() {
        Token t = peek();
        if (t == null) {
            throw error(source.length(), "the expression ends too early");
        }
        switch (t.kind) {
            case "num" -> {
                take();
                return new Literal(Type.SCALAR);
            }
            case "str" -> {
                take();
                return new Literal(Type.STRING);
            }
            case "op" -> {
                if (t.text.equals("(")) {
                    take();
                    Node inner = expression();
                    expect(")");
                    return inner;
                }
                if (t.text.equals("{")) {
                    return selector(null);
                }
                throw error(t.at, "unexpected '" + t.text + "'");
            }
            case "id" -> {
                String name = t.text;
                String lower = name.toLowerCase(java.util.Locale.ROOT);
                if (lower.equals("inf") || lower.equals("nan")) {
                    take();
                    return new Literal(Type.SCALAR);
                }
                if (AGGREGATIONS.contains(lower) && (peekAt(1, "(") || peekAt(1, "by") || peekAt(1, "without"))) {
                    return aggregation();
                }
                if (peekAt(1, "(")) {
                    return call();
                }
                take();
                return selector(name);
            }
            default -> throw error(t.at, "unexpected '" + t.text + "'");
        }
    }

    private Node aggregation() {
        String op = take().text.toLowerCase(java.util.Locale.ROOT);
        List<String> grouping = null;
        boolean without = false;
        if (peekIs("by") || peekIs("without")) {
            without = take().text.equals("without");
            grouping = labelList();
        }
        expect("(");
        Node parameter = null;
        if (WITH_PARAMETER.contains(op)) {
            parameter = expression();
            expect(",");
        }
        Node arg = expression();
        expect(")");
        if (peekIs("by") || peekIs("without")) {
            if (grouping != null) {
                throw error(peek().at, "a second grouping clause");
            }
            without = take().text.equals("without");
            grouping = labelList();
        }
        if (arg.type() != Type.VECTOR) {
            throw error(0, op + " takes an instant vector, not a " + arg.type().name().toLowerCase());
        }
        return new Aggregation(op, grouping, without, parameter, arg);
    }

    private Node call() {
        Token name = take();
        String signature = FUNCTIONS.get(name.text);
        if (signature == null) {
            throw error(name.at, "unknown function " + name.text);
        }
        expect("(");
        List<Node> args = new ArrayList<>();
        if (!peekIs(")")) {
            do {
                args.add(expression());
            } while (accept(","));
        }
        expect(")");
        String params = signature.substring(0, signature.indexOf(':'));
        boolean optionalLast = params.endsWith("?");
        String kinds = params.replace("?", "");
        int min = optionalLast ? kinds.length() - 1 : kinds.length();
        if (args.size() < min || args.size() > kinds.length()) {
            throw error(name.at, name.text + " takes " + kinds.length() + " argument(s), not " + args.size());
        }
        for (int i = 0; i < args.size(); i++) {
            char want = kinds.charAt(i);
            Type type = want == 'v' ? Type.VECTOR : want == 'm' ? Type.MATRIX : Type.SCALAR;
            if (args.get(i).type() != type) {
                throw error(name.at, name.text + "'s argument " + (i + 1) + " must be a " + type.name().toLowerCase()
                        + ", not a " + args.get(i).type().name().toLowerCase());
            }
        }
        return new Call(name.text, args, signature.endsWith("s") ? Type.SCALAR : Type.VECTOR);
    }

    private Node selector(String metric) {
        List<Matcher> matchers = new ArrayList<>();
        if (accept("{")) {
            while (!peekIs("}")) {
                Token label = take();
                if (label == null || !label.kind.equals("id")) {
                    throw error(label == null ? source.length() : label.at, "a label name expected");
                }
                Token op = take();
                if (op == null || !Set.of("=", "!=", "=~", "!~").contains(op.text)) {
                    throw error(op == null ? source.length() : op.at, "a label matcher (=, !=, =~, !~) expected");
                }
                Token value = take();
                if (value == null || !value.kind.equals("str")) {
                    throw error(value == null ? source.length() : value.at, "a quoted label value expected");
                }
                if (label.text.equals("__name__") && op.text.equals("=")) {
                    metric = unquote(value.text);
                } else {
                    matchers.add(new Matcher(label.text, op.text, unquote(value.text)));
                }
                if (!accept(",")) {
                    break;
                }
            }
            expect("}");
        }
        if (metric == null && matchers.isEmpty()) {
            throw error(0, "a selector needs a metric name or a label matcher");
        }
        return new Selector(metric, matchers);
    }

    private List<String> labelList() {
        expect("(");
        List<String> out = new ArrayList<>();
        while (!peekIs(")")) {
            Token t = take();
            if (t == null || !t.kind.equals("id")) {
                throw error(t == null ? source.length() : t.at, "a label name expected");
            }
            out.add(t.text);
            if (!accept(",")) {
                break;
            }
        }
        expect(")");
        return out;
    }

    private static String unquote(String s) {
        return s.substring(1, s.length() - 1);
    }

    private Token peek() {
        return next < tokens.size() ? tokens.get(next) : null;
    }

    private boolean peekIs(String text) {
        return peekAt(0, text);
    }

    private boolean peekAt(int ahead, String text) {
        int i = next + ahead;
        return i < tokens.size() && !tokens.get(i).kind.equals("str") && tokens.get(i).text.equals(text);
    }

    private Token take() {
        return next < tokens.size() ? tokens.get(next++) : null;
    }

    private boolean accept(String text) {
        if (peekIs(text)) {
            next++;
            return true;
        }
        return false;
    }

    private void expect(String text) {
        if (!accept(text)) {
            Token t = peek();
            throw error(t == null ? source.length() : t.at, "'" + text + "' expected"
                    + (t == null ? " at the end" : ", not '" + t.text + "'"));
        }
    }

    private IllegalArgumentException error(int at, String what) {
        return new IllegalArgumentException(what + " at offset " + at + " of: " + source);
    }

    // ------------------------------------------------------------------ what an expression needs

    /** Every selector of the tree. */
    static List<Selector> selectors(Node node) {
        List<Selector> out = new ArrayList<>();
        walk(node, n -> {
            if (n instanceof Selector s) {
                out.add(s);
            }
        });
        return out;
    }

    static void walk(Node node, java.util.function.Consumer<Node> visit) {
        visit.accept(node);
        children(node).forEach(child -> walk(child, visit));
    }

    /** A node's operands, in the order they are written. */
    static List<Node> children(Node node) {
        if (node instanceof Call c) {
            return c.args();
        } else if (node instanceof Aggregation a) {
            return a.parameter() == null ? List.of(a.arg()) : List.of(a.parameter(), a.arg());
        } else if (node instanceof Binary b) {
            return List.of(b.left(), b.right());
        } else if (node instanceof Ranged r) {
            return List.of(r.inner());
        }
        return List.of();
    }

    /**
     * The labels the result's series carry, given each metric's labels ({@code labelsOf}; it includes the labels the
     * scrape adds): what a legend or an alert's {@code $labels} can name.
     */
    static Set<String> resultLabels(Node node, java.util.function.Function<String, Set<String>> labelsOf) {
        if (node instanceof Selector s) {
            return s.metric() == null ? Set.copyOf(s.labels()) : labelsOf.apply(s.metric());
        }
        if (node instanceof Ranged r) {
            return resultLabels(r.inner(), labelsOf);
        }
        if (node instanceof Call c) {
            switch (c.function()) {
                case "absent", "absent_over_time" -> {
                    // absent's one series carries the labels its selector matches with =
                    Set<String> out = new LinkedHashSet<>();
                    selectors(c.args().get(0)).forEach(s -> out.addAll(s.equal()));
                    return out;
                }
                case "histogram_quantile", "histogram_fraction" -> {
                    return without(resultLabels(c.args().get(c.args().size() - 1), labelsOf), List.of("le"));
                }
                default -> {
                    return c.args().stream().filter(a -> a.type() == Type.VECTOR || a.type() == Type.MATRIX)
                            .findFirst().map(a -> resultLabels(a, labelsOf)).orElse(Set.of());
                }
            }
        }
        if (node instanceof Aggregation a) {
            Set<String> inner = resultLabels(a.arg(), labelsOf);
            if (Set.of("topk", "bottomk", "limitk", "limit_ratio").contains(a.op())) {
                return inner;
            }
            if (a.grouping() == null) {
                return Set.of();
            }
            return a.without() ? without(inner, a.grouping()) : new LinkedHashSet<>(a.grouping());
        }
        if (node instanceof Binary b) {
            Set<String> left = resultLabels(b.left(), labelsOf);
            Set<String> right = resultLabels(b.right(), labelsOf);
            Set<String> out = new LinkedHashSet<>(b.left().type() == Type.SCALAR ? right : left);
            if (b.op().equals("or")) {
                out.addAll(right);
            }
            out.addAll(b.include());
            return out;
        }
        return Set.of(); // a literal
    }

    private static Set<String> without(Set<String> labels, List<String> drop) {
        Set<String> out = new LinkedHashSet<>(labels);
        drop.forEach(out::remove);
        return out;
    }
}
