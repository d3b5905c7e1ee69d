package io.tapline.ops;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;

/**
 * A small metrics registry rendered in the Prometheus text exposition format. Counters and histograms are
 * lock-free ({@link LongAdder}), so they are cheap enough for a proxy's request path. The set of series is fixed
 * by the code that registers them, so memory is bounded.
 */
public final class Metrics {

    /** Latency buckets in seconds, from 50 µs to 10 s. */
    public static final double[] LATENCY_BUCKETS = {
        0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};

    private static final char REPLACEMENT_CHARACTER = 0xFFFD;

    private final Map<String, Family> families = new ConcurrentHashMap<>();
    private final List<String> order = new ArrayList<>();

    /** A monotonically increasing count. */
    public static final class Counter {
        private final LongAdder value = new LongAdder();

        public void inc() {
            value.increment();
        }

        public void add(long n) {
            value.add(n);
        }

        public long value() {
            return value.sum();
        }
    }

    /**
     * Counts of observations per bucket, plus their sum. The count is the sum of the buckets (the last one holds what
     * lies above every bound), not a counter of its own: a scrape while observations go on then never shows fewer
     * observations in all ({@code +Inf}, {@code _count}) than below a bound.
     */
    public static final class Histogram {
        private final double[] bounds;
        /** One per bound, then one for observations above the last bound. */
        private final LongAdder[] buckets;
        private final java.util.concurrent.atomic.DoubleAdder sum = new java.util.concurrent.atomic.DoubleAdder();

        private Histogram(double[] bounds) {
            this.bounds = bounds.clone();
            Arrays.sort(this.bounds);
            for (int i = 0; i < this.bounds.length; i++) {
                // each bound is one le; +Inf is the bucket every histogram ends with
                if (!Double.isFinite(this.bounds[i]) || i > 0 && this.bounds[i] == this.bounds[i - 1]) {
                    throw new IllegalArgumentException("bucket bounds must be finite and distinct: " + Arrays.toString(bounds));
                }
            }
            this.buckets = new LongAdder[this.bounds.length + 1];
            for (int i = 0; i < buckets.length; i++) {
                buckets[i] = new LongAdder();
            }
        }

        public void observe(double seconds) {
            int i = Arrays.binarySearch(bounds, seconds);
            buckets[i >= 0 ? i : -i - 1].increment();
            sum.add(seconds);
        }

        public long count() {
            return Arrays.stream(snapshot()).sum();
        }

        /** The count of each bucket, read once. */
        private long[] snapshot() {
            long[] counts = new long[buckets.length];
            for (int i = 0; i < counts.length; i++) {
                counts[i] = buckets[i].sum();
            }
            return counts;
        }

        /** An upper bound of the given quantile (0..1) from the buckets; +Inf when it lies above the last bucket. */
        public double quantileUpperBound(double q) {
            long[] counts = snapshot();
            long total = Arrays.stream(counts).sum();
            if (total == 0) {
                return 0;
            }
            long rank = (long) Math.ceil(q * total);
            long seen = 0;
            for (int i = 0; i < bounds.length; i++) {
                seen += counts[i];
                if (seen >= rank) {
                    return bounds[i];
                }
            }
            return Double.POSITIVE_INFINITY;
        }
    }

    private static final class Family {
        final String name;
        final String help;
        final String type;
        final Map<String, Object> series = new ConcurrentHashMap<>();

        Family(String name, String help, String type) {
            this.name = name;
            this.help = help;
            this.type = type;
        }
    }

    /**
     * A counter; {@code labels} are name/value pairs, e.g. {@code "reason", "queue_full"}, each name once; the same
     * pairs in any order are the same series.
     */
    public Counter counter(String name, String help, String... labels) {
        return (Counter) family(name, help, "counter").series.computeIfAbsent(labelText(labels), k -> new Counter());
    }

    /**
     * A counter kept elsewhere (a count that only goes up), read when scraped. Registering the same name and labels
     * again replaces the supplier.
     */
    public void counter(String name, String help, LongSupplier value, String... labels) {
        family(name, help, "counter").series.put(labelText(labels), value);
    }

    /** A gauge read when scraped. Registering the same name and labels again replaces the supplier. */
    public void gauge(String name, String help, DoubleSupplier value, String... labels) {
        family(name, help, "gauge").series.put(labelText(labels), value);
    }

    public Histogram histogram(String name, String help, double[] bucketsSeconds, String... labels) {
        for (int i = 0; i < labels.length; i += 2) {
            if (labels[i].equals("le")) {
                throw new IllegalArgumentException("le is the label of a histogram's buckets");
            }
        }
        return (Histogram) family(name, help, "histogram").series.computeIfAbsent(labelText(labels),
                k -> new Histogram(bucketsSeconds));
    }

    private synchronized Family family(String name, String help, String type) {
        Family family = families.get(name);
        if (family == null) {
            family = new Family(name, help, type);
            families.put(name, family);
            order.add(name);
        } else if (!family.type.equals(type)) {
            throw new IllegalArgumentException("metric " + name + " is a " + family.type + ", not a " + type);
        }
        return family;
    }

    /** The current values in the Prometheus text format (version 0.0.4). */
    public String scrape() {
        StringBuilder out = new StringBuilder(4096);
        List<String> names;
        synchronized (this) {
            names = new ArrayList<>(order);
        }
        for (String name : names) {
            Family family = families.get(name);
            out.append("# HELP ").append(name).append(' ').append(family.help.replace("\\", "\\\\").replace("\n", "\\n")).append('\n');
            out.append("# TYPE ").append(name).append(' ').append(family.type).append('\n');
            family.series.forEach((labels, metric) -> {
                if (metric instanceof Counter c) {
                    line(out, name, labels, c.value());
                } else if (metric instanceof DoubleSupplier g) {
                    line(out, name, labels, g.getAsDouble());
                } else if (metric instanceof LongSupplier c) {
                    line(out, name, labels, c.getAsLong());
                } else if (metric instanceof Histogram h) {
                    long[] counts = h.snapshot();
                    long cumulative = 0;
                    for (int i = 0; i < h.bounds.length; i++) {
                        cumulative += counts[i];
                        line(out, name + "_bucket", join(labels, "le=\"" + format(h.bounds[i]) + "\""), cumulative);
                    }
                    cumulative += counts[h.bounds.length];
                    line(out, name + "_bucket", join(labels, "le=\"+Inf\""), cumulative);
                    line(out, name + "_sum", labels, h.sum.sum());
                    line(out, name + "_count", labels, cumulative);
                }
            });
        }
        return out.toString();
    }

    private static void line(StringBuilder out, String name, String labels, double value) {
        out.append(name);
        if (!labels.isEmpty()) {
            out.append('{').append(labels).append('}');
        }
        out.append(' ').append(format(value)).append('\n');
    }

    private static String join(String labels, String extra) {
        return labels.isEmpty() ? extra : labels + "," + extra;
    }

    private static String format(double value) {
        if (Double.isInfinite(value)) {
            return value > 0 ? "+Inf" : "-Inf";
        }
        if (value == Math.rint(value) && Math.abs(value) < 1e15) {
            return Long.toString((long) value);
        }
        return String.format(Locale.ROOT, "%s", value);
    }

    private static String labelText(String... labels) {
        if (labels.length % 2 != 0) {
            throw new IllegalArgumentException("labels must be name/value pairs");
        }
        // by name, so that the same labels given in another order are the same series, as Prometheus reads them
        Map<String, String> byName = new TreeMap<>();
        for (int i = 0; i < labels.length; i += 2) {
            if (byName.put(labels[i], labels[i + 1]) != null) {
                throw new IllegalArgumentException("label " + labels[i] + " given twice");
            }
        }
        StringBuilder out = new StringBuilder();
        byName.forEach((name, value) -> {
            if (!out.isEmpty()) {
                out.append(',');
            }
            out.append(name).append("=\"");
            escape(value, out);
            out.append('"');
        });
        return out.toString();
    }

    /**
     * A label value as the text format writes it: backslash, double quote and line feed escaped, and a lone surrogate
     * (no UTF-8 for it) written as the replacement character, so that values served alike are one series.
     */
    private static void escape(String value, StringBuilder out) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\\') {
                out.append("\\\\");
            } else if (c == '"') {
                out.append("\\\"");
            } else if (c == '\n') {
                out.append("\\n");
            } else if (Character.isHighSurrogate(c) && i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
                out.append(c).append(value.charAt(++i));
            } else if (Character.isSurrogate(c)) {
                out.append(REPLACEMENT_CHARACTER);
            } else {
                out.append(c);
            }
        }
    }
}
