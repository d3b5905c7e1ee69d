package io.tapline.redaction;

import java.nio.charset.StandardCharsets;

/**
 * Bytes read as ISO-8859-1 text, one character per byte, without copying them: for the scans that read a body's
 * bytes with the rules written for its text.
 */
final class Latin1Text implements CharSequence {

    private final byte[] bytes;

    Latin1Text(byte[] bytes) {
        this.bytes = bytes;
    }

    @Override
    public int length() {
        return bytes.length;
    }

    @Override
    public char charAt(int index) {
        return (char) (bytes[index] & 0xFF);
    }

    @Override
    public CharSequence subSequence(int start, int end) {
        return new String(bytes, start, end - start, StandardCharsets.ISO_8859_1);
    }

    @Override
    public String toString() {
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }
}
