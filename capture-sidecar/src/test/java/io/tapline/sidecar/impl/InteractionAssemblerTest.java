package io.tapline.sidecar.impl;

import io.tapline.avro.Header;
import io.tapline.avro.Interaction;
import io.tapline.avro.Redaction;
import io.tapline.redaction.RedactionKey;
import io.tapline.redaction.Redactor;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class InteractionAssemblerTest {

    @Test
    void shouldNoteEachDistinctRedactionOncePerRecord() {
        // one note per text run between the child tags of a sensitive element, and per email of a text: thousands of
        // identical notes in the record
        String xml = "<password>" + "a<b/>".repeat(5_000) + "</password>";
        String text = "mail ann@example.com ".repeat(2_000);
        CaptureBudget budget = new CaptureBudget(1 << 20);
        CapturedMessage request = CapturedMessage.request("POST", "http", "shop", "/login", null,
                List.of(new Header("Content-Type", "application/xml")), new BodyTap(null, 64 * 1024, budget));
        request.body.observe(Buffer.buffer(xml.getBytes(StandardCharsets.UTF_8)));
        CapturedMessage response = CapturedMessage.response(200, List.of(new Header("Content-Type", "text/plain")),
                new BodyTap(null, 64 * 1024, budget));
        response.body.observe(Buffer.buffer(text.getBytes(StandardCharsets.UTF_8)));
        PendingInteraction p = new PendingInteraction("id", "trace", "POST /login", System.nanoTime(), null);
        p.complete(new Exchange(request, response, 200, 0, 0, 0, 0, null), 0);
        InteractionAssembler assembler = new InteractionAssembler("shop", "i", "v", 1.0, 64 * 1024,
                new Redactor(RedactionKey.random(), Redactor.Rules.defaults()));

        Interaction i = assembler.assemble(p);

        assertEquals(List.of(new Redaction("inbound.request", "text", "password", "sensitive-name"),
                new Redaction("inbound.response", "text", "body", "email")), i.getRedactions());
        String body = StandardCharsets.UTF_8.decode(i.getRequest().getBody()).toString();
        assertFalse(body.contains(">a<"), "every run still tokenised: " + body.substring(0, 200));
    }
}
