package io.tapline.config;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RedactionOptionsTest {

    private static final ConfigSpec SPEC = RedactionOptions.declareRules(ConfigSpec.builder("tapline thing", "Does a thing."))
            .build();

    private static Map<String, String> regexes(String[] args, Map<String, String> env) {
        return RedactionOptions.regexes(TaplineConfig.load(SPEC, args, env));
    }

    @Test
    void aBadRuleSetByTheEnvironmentNamesTheVariable() {
        assertEquals("option --redaction-regex (set by TAPLINE_REDACTION_REGEX): 'ssn=(' has an invalid regex: Unclosed group",
                assertThrows(ConfigException.class, () -> regexes(new String[0],
                        Map.of("TAPLINE_REDACTION_REGEX", "ssn=("))).getMessage());
        assertEquals("option --redaction-regex (set by TAPLINE_REDACTION_REGEX): 'ssn' is not NAME=REGEX",
                assertThrows(ConfigException.class, () -> regexes(new String[0],
                        Map.of("TAPLINE_REDACTION_REGEX", "ssn"))).getMessage());
    }

    @Test
    void severalRulesInOneRegexFlagAreRefusedNotReadAsOneRule() {
        // the help said rules were comma-separated: 'ssn=...,acct=...' in one flag was two rules. Read whole, it became
        // one rule 'ssn' whose regex never matches, and account numbers went unredacted without a word.
        String message = assertThrows(ConfigException.class, () -> regexes(
                new String[] {"--redaction-regex", "ssn=\\d{3}-\\d{2}-\\d{4},acct=ACC\\d+"}, Map.of())).getMessage();
        assertTrue(message.startsWith("option --redaction-regex: 'ssn=\\d{3}-\\d{2}-\\d{4},acct=ACC\\d+' holds 2 rules"),
                message);
        assertTrue(message.contains("give each rule its own --redaction-regex"), message);
        // a comma within a regex is kept
        assertEquals(Map.of("zip", "\\d{5,9}"), regexes(new String[] {"--redaction-regex", "zip=\\d{5,9}"}, Map.of()));
        assertEquals(Map.of("pair", "a[,]b=c"), regexes(new String[] {"--redaction-regex", "pair=a[,]b=c"}, Map.of()));
        // so is one written \, in a flag (a comma in regex syntax too), as in a variable
        assertEquals(Map.of("pair", "a\\,b=c"), regexes(new String[] {"--redaction-regex", "pair=a\\,b=c"}, Map.of()));
        // each flag one rule, and a variable's list, as documented
        assertEquals(Map.of("ssn", "\\d{3}", "acct", "ACC\\d+"), regexes(
                new String[] {"--redaction-regex", "ssn=\\d{3}", "--redaction-regex", "acct=ACC\\d+"}, Map.of()));
        assertEquals(Map.of("ssn", "\\d{3}", "acct", "ACC\\d+"), regexes(new String[0],
                Map.of("TAPLINE_REDACTION_REGEX", "ssn=\\d{3},acct=ACC\\d+")));
        // \, in a variable is a comma the user asked for within one rule: kept
        assertEquals(Map.of("pair", "a,b=c"), regexes(new String[0], Map.of("TAPLINE_REDACTION_REGEX", "pair=a\\,b=c")));
    }

    @Test
    void aRegexFlagPairsBackslashesBeforeACommaAsAVariableDoes() {
        // in TAPLINE_REDACTION_REGEX, four backslashes then a comma are two escaped backslashes and the separator: two
        // rules, 'x' and 'ssn'. The flag check took any backslash before the comma for an escape and kept the same text
        // as one rule 'x' whose regex never matches, so SSNs went unredacted without a word
        String fourThenComma = "x=a\\\\\\\\,ssn=\\d+";
        assertEquals(Map.of("x", "a\\\\", "ssn", "\\d+"), regexes(new String[0],
                Map.of("TAPLINE_REDACTION_REGEX", fourThenComma)));
        String message = assertThrows(ConfigException.class, () -> regexes(
                new String[] {"--redaction-regex", fourThenComma}, Map.of())).getMessage();
        assertTrue(message.contains("holds 2 rules"), message);
        // two backslashes then a comma: a backslash ending a value in the variable, so two rules in the flag too
        assertThrows(ConfigException.class, () -> regexes(
                new String[] {"--redaction-regex", "x=a\\\\,ssn=\\d+"}, Map.of()));
        // an odd run is a comma within the value in both: one rule, kept whole in the flag (a regex reads it the same)
        assertEquals(Map.of("x", "a\\\\\\,ssn=\\d+"), regexes(
                new String[] {"--redaction-regex", "x=a\\\\\\,ssn=\\d+"}, Map.of()));
    }
}
