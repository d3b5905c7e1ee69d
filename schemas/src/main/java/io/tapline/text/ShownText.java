package io.tapline.text;

import java.util.Map;

/**
 * How text that Tapline did not write is shown to people: values captured from production or answered by a candidate
 * (replay's reports), values an operator gave (flags, the {@code --config} file, {@code TAPLINE_*} variables) quoted
 * in an error, and the components' log lines, which carry both (the text format keeps tabs and doubles a backslash;
 * the JSON format writes these codes as JSON escapes). Such text can come from anywhere (CI, a branch name, a deployment manifest, a pasted title), so it is
 * shown on one line with every character that could act rather than read as a code: it can then neither send a
 * terminal an escape sequence, nor be read by a CI runner as a command, nor be reordered by a right-to-left override or
 * mark, nor pass for another value by holding a character drawn as nothing.
 * <p>GitHub Actions' runner reads a step's output line by line (a line feed, a carriage return or both end one) for two
 * forms of workflow command. {@code ::error::...} counts only at the start of a line, after blanks: shown text writes
 * no line break of its own, so a line starts only where its caller starts one. The older {@code ##[error]...} counts
 * anywhere in a line (the runner finds it with {@code IndexOf("##[")}), as does Azure Pipelines' agent its
 * {@code ##vso[task.setvariable ...]} (with {@code IndexOf("##vso[")}), so shown text writes a {@code [} that follows
 * {@code ##} or {@code ##vso} as its code, backslash {@code u005b}, also when they end what the caller wrote before
 * it; a JSON reader reads that code back as {@code [}.
 */
public final class ShownText {

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /**
     * What {@link #escapes} puts at {@code [} (unless it is given an escape for it): {@link #append} then writes a
     * {@code [} after {@code ##} as its code. Told apart by identity; it takes the {@code [} out of the runs of printable
     * ASCII {@code append} copies without a look, so the check costs nothing on text without a {@code [}. Declared
     * before {@link #ONE_LINE}, which {@link #escapes} makes.
     */
    private static final String BRACKET_AFTER_HASHES = new String("[");

    private ShownText() {
    }

    /** {@link #oneLine}'s escapes: a line feed, carriage return and tab as {@code \n}, {@code \r}, {@code \t}. */
    private static final String[] ONE_LINE = escapes(Map.of('\n', "\\n", '\r', "\\r", '\t', "\\t"));

    /**
     * {@code s} as one line of plain text: a line feed, carriage return and tab as {@code \n}, {@code \r},
     * {@code \t}; every other character {@link #shownAsCode} names (the other control characters, the Unicode line
     * and paragraph separators, the bidirectional controls, the characters drawn as nothing such as U+200B, U+00AD,
     * U+FEFF and the tag characters, U+FFFE, U+FFFF, a surrogate that is not half of a pair) as a backslash, {@code u}
     * and four hex digits ({@link #appendCode}: ESC becomes backslash {@code u001b}, a character outside the Basic
     * Multilingual Plane its two halves), and a {@code [} after {@code ##} or {@code ##vso} as backslash
     * {@code u005b} (the CI runners' {@code ##[command]}, see the class). A backslash is kept as it is, so the result
     * shown again is the same. Null stays null; a string with none of these characters is returned as it is.
     */
    public static String oneLine(String s) {
        if (s == null) {
            return null;
        }
        String shown = append(new StringBuilder(s.length() + 16), s, ONE_LINE).toString();
        return shown.length() == s.length() ? s : shown; // every escape is longer than what it stands for
    }

    /**
     * The escapes of {@link #append}, indexed by ASCII character, from {@code escapes}: what each of those characters
     * is written as instead of itself. A {@code [} without an escape of its own is marked to be shown as its code after
     * {@code ##} or {@code ##vso} (the CI runners' {@code ##[command]}, see the class).
     */
    public static String[] escapes(Map<Character, String> escapes) {
        String[] byChar = new String[128];
        byChar['['] = BRACKET_AFTER_HASHES;
        escapes.forEach((c, escape) -> {
            if (c >= 128) {
                throw new IllegalArgumentException("not an ASCII character: " + (int) c);
            }
            byChar[c] = escape;
        });
        return byChar;
    }

    /**
     * Appends {@code s} with every ASCII character that {@code asciiEscapes} (made by {@link #escapes}) has an escape for
     * written as that escape, every other character {@link #shownAsCode} names as its code ({@link #appendCode}), and
     * the rest as it is: the one rule of {@link #oneLine}, the log formats (a backslash doubled and a tab kept in text,
     * JSON's own escapes in JSON) and the reports' XML and HTML (their entities). A {@code [} that would follow
     * {@code ##} or {@code ##vso} as written, in {@code s} or with the end of {@code out}, is shown as its code,
     * backslash {@code u005b} (the CI runners' {@code ##[command]}, see the class). Printable ASCII without an escape
     * is copied by runs: one scan, no allocation; a surrogate that is not half of a pair is shown as its code.
     */
    public static StringBuilder append(StringBuilder out, CharSequence s, String[] asciiEscapes) {
        int n = s.length();
        int from = 0; // the start of the run not yet copied
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            String escape = c < 128 ? asciiEscapes[c] : null;
            if (escape != null) {
                if (escape == BRACKET_AFTER_HASHES) { // ##[command], ##vso[command]: anywhere in a line
                    if (!afterCommandPrefix(out, s, from, i)) {
                        continue;
                    }
                    out.append(s, from, i);
                    appendUnit(out, '[');
                } else {
                    out.append(s, from, i).append(escape);
                }
                from = i + 1;
                continue;
            }
            if (c >= 0x20 && c < 0x7F) {
                continue;
            }
            int cp = c;
            if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                cp = Character.toCodePoint(c, s.charAt(i + 1));
            }
            if (shownAsCode(cp)) {
                out.append(s, from, i);
                appendCode(out, cp);
                from = i + Character.charCount(cp);
            }
            i += Character.charCount(cp) - 1;
        }
        return out.append(s, from, n);
    }

    /**
     * Whether what is written just before {@code s[i]} ends with {@code ##} or {@code ##vso} (the CI runners' command
     * prefixes without their {@code [}): the characters of {@code s} from {@code from}, not yet copied, after the end
     * of {@code out} (what the caller wrote before, a value before this one).
     */
    private static boolean afterCommandPrefix(StringBuilder out, CharSequence s, int from, int i) {
        return endsWith(out, s, from, i, "##") || endsWith(out, s, from, i, "##vso");
    }

    /** Whether {@code out} followed by {@code s[from..i)} ends with {@code prefix}. */
    private static boolean endsWith(StringBuilder out, CharSequence s, int from, int i, String prefix) {
        for (int back = 1; back <= prefix.length(); back++) {
            int j = i - back;
            int inOut = out.length() - (from - j);
            char before = j >= from ? s.charAt(j) : inOut >= 0 ? out.charAt(inOut) : 0;
            if (before != prefix.charAt(prefix.length() - back)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether the code point {@code c} is shown as its code rather than as itself:
     * <ul>
     * <li>the control characters other than tab, line feed and carriage return (below U+0020, U+007F, U+0080 to
     * U+009F), the Unicode line and paragraph separators, U+FFFE and U+FFFF, and a surrogate that is not half of a pair
     * (XML 1.0 cannot hold most of these, and a terminal takes some as commands);</li>
     * <li>Unicode's bidirectional controls (Bidi_Control): the embeddings, overrides and isolates (U+202A to U+202E,
     * U+2066 to U+2069: a right-to-left override would show {@code 21} as {@code 12}, and reverse the text after it on
     * its line) and the marks (U+200E, U+200F, U+061C: a right-to-left mark before an expected {@code 21} shows
     * {@code 21 -> 12} as {@code 12 <- 21});</li>
     * <li>the rest of what Unicode says is drawn as nothing (Default_Ignorable_Code_Point), but the variation
     * selectors: the zero-width space, non-joiner and joiner (U+200B to U+200D), the word joiner and invisible
     * operators (U+2060 to U+2064, U+206A to U+206F), the byte order mark (U+FEFF), the soft hyphen (U+00AD), the
     * combining grapheme joiner (U+034F), the Hangul fillers (U+115F, U+1160, U+3164, U+FFA0), the Khmer inherent
     * vowels (U+17B4, U+17B5), the Mongolian vowel separator (U+180E), the shorthand and musical format controls
     * (U+1BCA0 to U+1BCA3, U+1D173 to U+1D17A), the tag characters (U+E0000 to U+E007F) and the code points reserved
     * as ignorable (U+2065, U+FFF0 to U+FFF8, U+E0080 to U+E00FF, U+E01F0 to U+E0FFF). Values that differ only in
     * one, {@code ab} and {@code a}, U+200B, {@code b}, read {@code ab -> ab} otherwise. A joiner inside an emoji
     * sequence and a non-joiner in Persian text are shown as codes too: one rule for every value, whether or not the
     * value it is compared with differs there. The variation selectors (U+FE00 to U+FE0F, U+180B to U+180D, U+180F,
     * U+E0100 to U+E01EF) are shown as themselves: most emoji carry U+FE0F, and where one changes a glyph it shows.</li>
     * </ul>
     * Tab, line feed and carriage return are the caller's to judge ({@link #oneLine} writes them {@code \t},
     * {@code \n}, {@code \r}).
     */
    public static boolean shownAsCode(int c) {
        return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || (c >= 0x7F && c <= 0x9F) || c == 0x2028 || c == 0x2029
                || c == 0xFFFE || c == 0xFFFF || (c >= Character.MIN_SURROGATE && c <= Character.MAX_SURROGATE)
                // bidirectional controls; the isolates, U+2066 to U+2069, are in U+2060 to U+206F below
                || (c >= 0x202A && c <= 0x202E) || c == 0x200E || c == 0x200F || c == 0x061C
                // drawn as nothing
                || (c >= 0x200B && c <= 0x200D) || (c >= 0x2060 && c <= 0x206F) || c == 0xFEFF || c == 0x00AD
                || c == 0x034F || c == 0x115F || c == 0x1160 || c == 0x3164 || c == 0xFFA0 || c == 0x17B4 || c == 0x17B5
                || c == 0x180E || (c >= 0xFFF0 && c <= 0xFFF8) || (c >= 0x1BCA0 && c <= 0x1BCA3)
                || (c >= 0x1D173 && c <= 0x1D17A) || (c >= 0xE0000 && c <= 0xE00FF) || (c >= 0xE01F0 && c <= 0xE0FFF);
    }

    /**
     * Appends the code point {@code c} as a backslash, {@code u} and four hex digits: NUL as backslash {@code u0000}, a
     * character outside the Basic Multilingual Plane as its two UTF-16 halves, as JSON writes it (the tag letter
     * U+E0041 as backslash {@code udb40} backslash {@code udc41}).
     */
    public static void appendCode(StringBuilder out, int c) {
        if (Character.isBmpCodePoint(c)) {
            appendUnit(out, (char) c);
        } else {
            appendUnit(out, Character.highSurrogate(c));
            appendUnit(out, Character.lowSurrogate(c));
        }
    }

    private static void appendUnit(StringBuilder out, char unit) {
        out.append('\\').append('u').append(HEX[unit >> 12]).append(HEX[(unit >> 8) & 0xF]).append(HEX[(unit >> 4) & 0xF])
                .append(HEX[unit & 0xF]);
    }
}
