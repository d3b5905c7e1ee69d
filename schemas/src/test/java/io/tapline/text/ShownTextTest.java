package io.tapline.text;

import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShownTextTest {

    @Test
    void showsWhatCouldActRatherThanReadAsCodesOnOneLine() {
        String hostile = "a\u001b[2J\r\n::error::x\t\u202e21\u200b\u00ad\ufeff\udb40\udc41\ud800b";
        assertEquals("a\\u001b[2J\\r\\n::error::x\\t\\u202e21\\u200b\\u00ad\\ufeff\\udb40\\udc41\\ud800b",
                ShownText.oneLine(hostile));
    }

    @Test
    void keepsPrintableTextBackslashesAndVariationSelectorsAsTheyAre() {
        String plain = "café \\n ☕\ufe0f 日本 שלום";
        assertSame(plain, ShownText.oneLine(plain));
        assertNull(ShownText.oneLine(null));
    }

    @Test
    void showingTwiceIsShowingOnce() {
        String once = ShownText.oneLine("x\u001b\n\u202e\u200b");
        assertEquals(once, ShownText.oneLine(once));
    }

    /**
     * GitHub Actions' runner takes {@code ##[name]} anywhere in a line as a workflow command (the older form of
     * {@code ::name::}, which counts only at a line's start): the {@code [} after {@code ##} is shown as its code, also
     * when the {@code ##} is the end of what was written before, and nothing else is.
     */
    @Test
    void showsTheBracketOfALegacyWorkflowCommandAsItsCode() {
        assertEquals("build ok ##\\u005berror]forged ###\\u005badd-mask]x",
                ShownText.oneLine("build ok ##[error]forged ###[add-mask]x"));
        String plain = "#[ # #[ [##] ## [ a[0] #\\u005b";
        assertSame(plain, ShownText.oneLine(plain));
        String[] none = ShownText.escapes(Map.of());
        // Azure Pipelines' agent takes ##vso[...] anywhere in a line too (IndexOf("##vso["), case-sensitive)
        assertEquals("x ##vso\\u005btask.setvariable variable=a]b ##VSO[ok #vso[ok",
                ShownText.oneLine("x ##vso[task.setvariable variable=a]b ##VSO[ok #vso[ok"));
        assertEquals("##vso\\u005bx", ShownText.append(new StringBuilder("##v"), "so[x", none).toString());
        assertEquals("level=##\\u005berror]x",
                ShownText.append(new StringBuilder("level=##"), "[error]x", none).toString());
        assertEquals("##\\u005b ##\\u005b", ShownText.append(new StringBuilder("#"), "#[ ##[", none).toString());
        String once = ShownText.oneLine("##[error]x");
        assertEquals(once, ShownText.oneLine(once));
    }

    @Test
    void namesTheCharactersShownAsCodes() {
        for (int c : new int[] {0, 0x1b, 0x7f, 0x85, 0x2028, 0x2029, 0x202a, 0x202e, 0x2066, 0x2069, 0x200e, 0x200f,
                0x061c, 0x200b, 0x200d, 0x2060, 0xfeff, 0x00ad, 0x180e, 0xfffe, 0xffff, 0xd800, 0xe0041}) {
            assertTrue(ShownText.shownAsCode(c), Integer.toHexString(c));
        }
        for (int c : new int[] {'\t', '\n', '\r', ' ', 'a', '\\', 0xe9, 0xfe0f, 0x180b, 0xe0100, 0x1f600}) {
            assertFalse(ShownText.shownAsCode(c), Integer.toHexString(c));
        }
    }
}
