package io.tapline.config;

import io.tapline.redaction.Redactor;

import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The redaction rules' options, declared once: the capture sidecar redacts by them before it publishes, and the replay
 * worker by the same ones before it publishes what a candidate answered, so both sides of a comparison hide the same
 * values. The key is declared by each component (its meaning differs).
 */
public final class RedactionOptions {

    public static final String KEY = "redaction.key";
    public static final String HEADERS = "redaction.headers";
    public static final String FIELDS = "redaction.fields";
    public static final String JSON_PATHS = "redaction.json.paths";
    public static final String REGEX = "redaction.regex";
    public static final String CARDS = "redaction.cards";
    public static final String EMAILS = "redaction.emails";

    private RedactionOptions() {
    }

    /** Adds the rule options (all but the key) to a component's spec. */
    public static ConfigSpec.Builder declareRules(ConfigSpec.Builder builder) {
        return builder
                .multi(HEADERS, "Extra header names whose values are always redacted (defaults: Authorization, Proxy-Authorization, Cookie, Set-Cookie, X-Api-Key, ...).")
                .multi(FIELDS, "Extra query parameter, form field and JSON field names to redact (names like password, secret, token, api_key are redacted by default).")
                .multi(JSON_PATHS, "JSON paths to redact: $.customer.ssn, $.items[*].cvv, or $..pin for a field at any depth.")
                .repeated(REGEX, "Extra text rule NAME=REGEX; matches in any header, query, path or body text become tokens."
                        + " A flag that reads as several rules (a comma before NAME=, backslashes before it pairing up as"
                        + " in the variable) is refused: write that comma \\, or [,].")
                .option(CARDS, "true", "Redact Luhn-valid card numbers (13-19 digits, optionally grouped).")
                .option(EMAILS, "true", "Redact email addresses.");
    }

    /**
     * A comma that separates, followed by what reads as the next rule's {@code NAME=}: in a flag, the list of rules
     * one flag held when rules were comma-separated everywhere ({@code --redaction-regex 'ssn=...,acct=...'}). The
     * backslashes before the comma pair up as {@link ConfigSpec#split} reads them in a variable or the file: an even
     * run ({@code ,} or {@code \\,}) leaves the comma a separator, an odd one ({@code \,}, {@code \\\,}) escapes it,
     * so a flag is refused exactly when the same text in {@code TAPLINE_REDACTION_REGEX} would be several rules.
     */
    private static final Pattern NEXT_RULE = Pattern.compile("(?<!\\\\)(?:\\\\\\\\)*,\\s*[A-Za-z][\\w.-]*=");

    /**
     * The {@code --redaction-regex} rules by name, each checked to compile; a bad one names the flag. A flag holding
     * what reads as several rules separated by commas is refused: each flag is one rule, commas included, and read so
     * it would be one rule whose regex never matches, leaving what the others named unredacted without a word.
     */
    public static Map<String, String> regexes(TaplineConfig config) {
        Map<String, String> out = new LinkedHashMap<>();
        boolean fromFlags = config.origin(REGEX).isEmpty(); // a variable or the file says its commas itself
        String option = config.named(REGEX);
        for (String rule : config.getList(REGEX)) {
            int eq = rule.indexOf('=');
            if (eq <= 0) {
                throw new ConfigException(option + ": '" + rule + "' is not NAME=REGEX");
            }
            long rules = 1 + NEXT_RULE.matcher(rule).results().count();
            if (fromFlags && rules > 1) {
                throw new ConfigException("option --redaction-regex: '" + rule + "' holds " + rules + " rules separated by"
                        + " commas; give each rule its own --redaction-regex (a regex that means a comma before NAME= writes"
                        + " it \\, or [,]; backslashes before a comma pair up as in TAPLINE_REDACTION_REGEX, \\\\, being a"
                        + " backslash and the separator)");
            }
            try {
                Pattern.compile(rule.substring(eq + 1));
            } catch (PatternSyntaxException e) {
                throw new ConfigException(option + ": '" + rule + "' has an invalid regex: " + e.getDescription());
            }
            out.put(rule.substring(0, eq), rule.substring(eq + 1));
        }
        return out;
    }

    /** The rules a configuration names: the defaults plus its extra headers, fields, paths and regexes. */
    public static Redactor.Rules rules(TaplineConfig config) {
        return rules(config.getList(HEADERS), config.getList(FIELDS), config.getList(JSON_PATHS), regexes(config),
                config.getBoolean(CARDS), config.getBoolean(EMAILS));
    }

    /** The default rules plus these extras (regexes already checked by {@link #regexes}). */
    public static Redactor.Rules rules(Collection<String> extraHeaders, Collection<String> fields, List<String> jsonPaths,
                                       Map<String, String> regexes, boolean cards, boolean emails) {
        Set<String> headers = new HashSet<>(Redactor.DEFAULT_HEADERS);
        headers.addAll(extraHeaders);
        List<Redactor.TextRule> textRules = regexes.entrySet().stream()
                .map(e -> new Redactor.TextRule(e.getKey(), Pattern.compile(e.getValue()))).toList();
        return new Redactor.Rules(headers, Pattern.compile(Redactor.DEFAULT_SENSITIVE_NAME), new HashSet<>(fields),
                jsonPaths, textRules, cards, emails);
    }
}
