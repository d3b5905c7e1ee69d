package io.tapline.ops;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The checker the components' {@code /metrics} tests rely on refuses what a strict scraper refuses. */
class ExpositionCheckTest {

    private static final String GOOD = """
            # HELP a_total A, with a \\\\ and a \\n.
            # TYPE a_total counter
            a_total{k="q\\"b\\\\n\\n"} 1
            a_total{k="other"} 2.5E-5
            # HELP h_seconds H
            # TYPE h_seconds histogram
            h_seconds_bucket{le="0.5"} 1
            h_seconds_bucket{le="+Inf"} 2
            h_seconds_sum 3.5
            h_seconds_count 2
            """;

    @Test
    void readsAWellFormedExposition() {
        ExpositionCheck check = ExpositionCheck.check(GOOD);
        assertEquals("A, with a \\ and a \n.", check.help("a_total"));
        assertEquals(1, check.value("a_total", "k", "q\"b\\n\n"));
        assertEquals(2, check.value("h_seconds_count"));
    }

    @Test
    void refusesWhatAStrictScraperRefuses() {
        refused("no TYPE", GOOD.replace("# TYPE a_total counter\n", ""));
        refused("second HELP", GOOD.replace("# HELP h_seconds H", "# HELP a_total again"));
        refused("split by another family", GOOD + "a_total{k=\"late\"} 1\n");
        refused("same series twice", GOOD.replace("k=\"other\"", "k=\"q\\\"b\\\\n\\n\""));
        refused("escape the format does not have", GOOD.replace("k=\"other\"", "k=\"a\\tb\""));
        refused("not closed", GOOD.replace("k=\"other\"", "k=\"a\nb\""));
        refused("not a float", GOOD.replace("2.5E-5", "2,5"));
        refused("not named _total", GOOD.replace("a_total", "a_count"));
        refused("not cumulative", GOOD.replace("le=\"+Inf\"} 2", "le=\"+Inf\"} 0"));
        refused("not le=\"+Inf\"", GOOD.replace("+Inf", "9"));
        refused("is not the +Inf bucket", GOOD.replace("h_seconds_count 2", "h_seconds_count 3"));
        refused("no _sum", GOOD.replace("h_seconds_sum 3.5\n", ""));
        refused("line feed", GOOD.strip());
        AssertionError notUtf8 = assertThrows(AssertionError.class,
                () -> ExpositionCheck.check(new byte[] {'a', ' ', '1', (byte) 0xC3, '\n'}));
        assertTrue(notUtf8.getMessage().contains("not UTF-8"), notUtf8.getMessage());
        ExpositionCheck.check(GOOD.getBytes(StandardCharsets.UTF_8));
    }

    private static void refused(String why, String text) {
        AssertionError e = assertThrows(AssertionError.class, () -> ExpositionCheck.check(text), why);
        assertTrue(e.getMessage().contains(why), "expected '" + why + "': " + e.getMessage());
    }
}
