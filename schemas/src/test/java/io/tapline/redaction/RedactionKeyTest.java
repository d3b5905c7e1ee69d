package io.tapline.redaction;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RedactionKeyTest {

    @Test
    void aTokenIsThePrefixAndTheFirst64BitsOfHmacSha256() {
        // RFC 4231, test case 1: key 20 x 0x0b, data "Hi There",
        // HMAC-SHA256 = b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7
        byte[] key = new byte[20];
        Arrays.fill(key, (byte) 0x0b);
        assertEquals("tapline:hmac:b0344c61d8db3853", new RedactionKey(key).token("Hi There"));
    }

    @Test
    void equalValuesGiveEqualTokensUnderOneKeyOnly() {
        RedactionKey a = RedactionKey.of("sidecar-key-0123456789");
        assertEquals(a.token("ann@example.com"), RedactionKey.of("sidecar-key-0123456789").token("ann@example.com"));
        assertNotEquals(a.token("ann@example.com"), a.token("bob@example.com"));
        assertNotEquals(a.token("ann@example.com"), RedactionKey.of("another-key-0123456789").token("ann@example.com"));
        assertTrue(RedactionTokens.in("Bearer " + a.token("s3cret")));
    }

    @Test
    void aShortKeyIsRefusedAndTheKeyIsNeverPrinted() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RedactionKey.of("short-key"));
        assertEquals("redaction key must be at least 16 bytes, got 9", e.getMessage());
        assertFalse(RedactionKey.of("sidecar-key-0123456789").toString().contains("sidecar-key"));
    }
}
