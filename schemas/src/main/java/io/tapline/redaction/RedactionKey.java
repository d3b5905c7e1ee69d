package io.tapline.redaction;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * The key that turns a secret value into its redaction token: {@link RedactionTokens#PREFIX} and the first 16 hex
 * digits (64 bits) of {@code HMAC-SHA256(key, UTF-8 value)}. The capture sidecar tokenises with it; a replay worker
 * given the same key can tell whether a candidate's plain value is the one production had. Thread-safe (a MAC per
 * thread).
 */
public final class RedactionKey {

    /** The shortest key accepted, in bytes. */
    public static final int MIN_BYTES = 16;

    private final SecretKeySpec key;
    private final ThreadLocal<Mac> mac;

    public RedactionKey(byte[] key) {
        if (key.length < MIN_BYTES) {
            throw new IllegalArgumentException("redaction key must be at least " + MIN_BYTES + " bytes, got " + key.length);
        }
        this.key = new SecretKeySpec(key.clone(), "HmacSHA256");
        this.mac = ThreadLocal.withInitial(this::newMac);
        token("self-test");
    }

    /** A key given as text (a flag, a property, an environment variable): its UTF-8 bytes. */
    public static RedactionKey of(String key) {
        return new RedactionKey(key.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * A key of 32 random bytes, for a process given none: its tokens hide values as well, but match no other
     * process's (the same value gets another token from each).
     */
    public static RedactionKey random() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return new RedactionKey(key);
    }

    private Mac newMac() {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(key);
            return m;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    /** The token that replaces {@code value}. */
    public String token(String value) {
        byte[] h = mac.get().doFinal(value.getBytes(StandardCharsets.UTF_8));
        return RedactionTokens.PREFIX + HexFormat.of().formatHex(h, 0, 8);
    }

    /** Never the key itself: it must not reach a log line or an error message. */
    @Override
    public String toString() {
        return "RedactionKey[hidden]";
    }
}
