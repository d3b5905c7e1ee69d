package io.tapline.replay.report;

import io.tapline.avro.Difference;
import io.tapline.avro.ReplayResult;
import io.tapline.avro.RunSummary;

import java.io.IOException;
import java.util.Locale;

/** JUnit XML as CI systems ingest it: one testsuite per run, one testcase per case, named by route. */
public final class JUnitReport {

    /**
     * Characters of a message attribute at most, beyond which it is cut and ends in {@code ...}: CI systems show it as
     * the case's one-line summary, and a difference's path (a dependency call's URL) is not cut where it is recorded.
     */
    static final int MAX_MESSAGE = 1000;

    /**
     * What a dot of a route is written as in a testcase's {@code classname}: U+2024 ONE DOT LEADER, which reads as a dot.
     * Jenkins' JUnit plugin splits a classname at its last dot into a package and a class (none: package
     * {@code (root)}), so {@code GET /v1.2/items} was class {@code 2/items} of package {@code GET /v1}.
     */
    static final char CLASSNAME_DOT = '\u2024';

    private JUnitReport() {
    }

    /**
     * A case's {@code classname}: its route, each dot written as {@link #CLASSNAME_DOT} so that Jenkins files every route
     * as one class of the package {@code (root)}, as it files a route without a dot, and GitLab shows a classname that
     * reads as the route. A U+2024 the route holds itself is written as a backslash, {@code u} and {@code 2024}, so two
     * routes never share one. The same route gives the same classname in every run (CI systems key a case's history by
     * classname and name); the case's {@code name} keeps the route as it is.
     */
    static String classname(String route) {
        return route.replace(String.valueOf(CLASSNAME_DOT), "\\u2024").replace('.', CLASSNAME_DOT);
    }

    /** The whole report as one string (tests, small runs). */
    public static String render(RunReport report) {
        return RunReport.render(report, JUnitReport::write);
    }

    /** Writes the report to {@code to} a testcase at a time: the report is never held whole. */
    public static void write(RunReport report, Appendable to) throws IOException {
        RunSummary s = report.summary();
        StringBuilder out = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        // no skipped count on testsuites: Jenkins' xUnit junit-10 schema allows none there and refuses the file; the
        // testsuite carries it, as Surefire's schema requires
        out.append(String.format(Locale.ROOT,
                "<testsuites name=\"tapline\" tests=\"%d\" failures=\"%d\" errors=\"%d\" time=\"%.3f\">%n",
                s.getTotal(), s.getFailed(), s.getErrored(), s.getDurationMillis() / 1000.0));
        // One name in every run: GitLab keys a case by its suite's name, classname and name, and tells a new failure
        // from an existing or a fixed one, and counts a case's recent failures, by that key; CI derives the run id from
        // the commit, so a suite named after it made every failure new. The run id is a property.
        out.append(String.format(Locale.ROOT,
                "  <testsuite name=\"tapline replay\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"%.3f\">%n",
                s.getTotal(), s.getFailed(), s.getErrored(), s.getSkipped(), s.getDurationMillis() / 1000.0));
        out.append("    <properties>\n");
        out.append("      <property name=\"candidate\" value=\"").append(Xml.attr(report.candidate())).append("\"/>\n");
        out.append("      <property name=\"run\" value=\"").append(Xml.attr(TextReport.oneLine(report.runId()))).append("\"/>\n");
        // false: no worker has written the run's summary yet, the suite holds the cases replayed so far
        out.append("      <property name=\"complete\" value=\"").append(report.complete()).append("\"/>\n");
        out.append(String.format(Locale.ROOT, "      <property name=\"failedTrafficShare\" value=\"%.6f\"/>%n", s.getFailedTrafficShare()));
        out.append(String.format(Locale.ROOT, "      <property name=\"failedTrafficWeight\" value=\"%d\"/>%n", s.getFailedTrafficWeight()));
        out.append(String.format(Locale.ROOT, "      <property name=\"trafficWeight\" value=\"%d\"/>%n", s.getTrafficWeight()));
        out.append("    </properties>\n");
        to.append(out);
        for (ReplayResult r : report.results()) {
            out.setLength(0);
            out.append(String.format(Locale.ROOT, "    <testcase classname=\"%s\" name=\"%s [%s]\" time=\"%.3f\"",
                    Xml.attr(classname(r.getRoute())), Xml.attr(r.getRoute()), Xml.attr(r.getCaseId()),
                    r.getCandidateLatencyMicros() / 1e6));
            switch (r.getVerdict()) {
                case PASS -> out.append("/>\n");
                case FAIL -> {
                    out.append(">\n      <failure type=\"regression\" message=\"").append(Xml.attr(message(r))).append("\">");
                    out.append(Xml.text(details(r))).append("</failure>\n    </testcase>\n");
                }
                case ERROR -> {
                    out.append(">\n      <error type=\"replay-error\" message=\"")
                            .append(Xml.attr(r.getError() == null ? "could not be replayed" : cut(TextReport.oneLine(r.getError()))));
                    // an errored case may carry notes (a request sent again on a new connection): show them
                    closeWithDetails(r, "error", out);
                }
                case SKIPPED -> {
                    out.append(">\n      <skipped message=\"")
                            .append(Xml.attr(r.getError() == null ? "not replayed" : cut(TextReport.oneLine(r.getError()))));
                    // an inconclusive case keeps its differences and notes: show them
                    closeWithDetails(r, "skipped", out);
                }
            }
            to.append(out);
        }
        to.append("  </testsuite>\n</testsuites>\n");
    }

    /**
     * Ends the {@code element} whose message attribute is written: empty when the result has neither differences nor
     * notes, else holding them, one a line ({@link #details}).
     */
    private static void closeWithDetails(ReplayResult r, String element, StringBuilder out) {
        if (r.getDifferences().isEmpty() && r.getNotes().isEmpty()) {
            out.append("\"/>\n    </testcase>\n");
        } else {
            out.append("\">").append(Xml.text(details(r))).append("</").append(element).append(">\n    </testcase>\n");
        }
    }

    /** The failure's message: its differences counted, then listed on one line, up to {@link #MAX_MESSAGE}. */
    private static String message(ReplayResult r) {
        StringBuilder m = new StringBuilder();
        m.append(TextReport.differencesCounted(r)).append(": ");
        for (int i = 0; i < r.getDifferences().size() && m.length() <= MAX_MESSAGE; i++) {
            if (i > 0) {
                m.append("; ");
            }
            m.append(TextReport.line(r.getDifferences().get(i)));
        }
        return cut(m.toString());
    }

    /**
     * {@code s}, one line as {@link TextReport#oneLine} writes it, or its first {@link #MAX_MESSAGE} characters and
     * {@code ...}. Neither a surrogate pair nor an escape is split: a cut that would end in what can be the start of
     * one (a backslash, alone or followed by {@code u} and fewer than four hex digits) ends before that backslash. A backslash
     * from the captured text itself reads the same, so such a cut may end up to five characters early.
     */
    private static String cut(String s) {
        if (s.length() <= MAX_MESSAGE) {
            return s;
        }
        int end = Character.isHighSurrogate(s.charAt(MAX_MESSAGE - 1)) ? MAX_MESSAGE - 1 : MAX_MESSAGE;
        int backslash = s.lastIndexOf('\\', end - 1);
        if (backslash >= 0 && (backslash == end - 1 || (end - backslash < 6 && s.charAt(backslash + 1) == 'u'
                && hexDigits(s, backslash + 2, end)))) {
            end = backslash;
        }
        return s.substring(0, end) + "...";
    }

    private static boolean hexDigits(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            if (Character.digit(s.charAt(i), 16) < 0) {
                return false;
            }
        }
        return true;
    }

    /** The failure's text, shown in CI logs: one line per difference and note, each escaped as the text report's. */
    private static String details(ReplayResult r) {
        StringBuilder d = new StringBuilder();
        d.append("case ").append(TextReport.oneLine(r.getCaseId())).append(", signature ")
                .append(TextReport.oneLine(r.getSignatureId())).append(" (").append(r.getTrafficWeight()).append(" requests)\n");
        for (Difference diff : r.getDifferences()) {
            d.append(TextReport.line(diff)).append('\n');
        }
        for (String note : r.getNotes()) {
            d.append("note: ").append(TextReport.oneLine(note)).append('\n');
        }
        return d.toString();
    }
}
