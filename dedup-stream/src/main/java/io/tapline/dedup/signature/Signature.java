package io.tapline.dedup.signature;

import io.tapline.avro.SignatureParts;

/**
 * A computed behaviour signature.
 *
 * @param id    hex digest (128 bits of SHA-256) of {@code text}; the key cases are grouped by
 * @param text  canonical signature text, versioned by its first line
 * @param parts the readable parts the text was built from
 * @param route {@code METHOD /template}: with the service, the key noise is learned under
 */
public record Signature(String id, String text, SignatureParts parts, String route) {
}
