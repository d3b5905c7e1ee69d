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

    @Test
    void shouldCapTheDistinctRedactionNotesOfARecordAndSayHowManyWereLeftOut() {
        // a body naming thousands of distinct sensitive fields put one note per field in every record
        StringBuilder json = new StringBuilder("{");
        for (int k = 0; k < 5_000; k++) {
            json.append(k == 0 ? "" : ",").append("\"password").append(k).append("\":\"x\"");
        }
        String body = json.append('}').toString();
        CaptureBudget budget = new CaptureBudget(1 << 20);
        CapturedMessage request = CapturedMessage.request("POST", "http", "shop", "/login", null,
                List.of(new Header("Authorization", "Bearer k1"), new Header("Content-Type", "application/json")),
                new BodyTap(null, 256 * 1024, budget));
        request.body.observe(Buffer.buffer(body.getBytes(StandardCharsets.UTF_8)));
        CapturedMessage response = CapturedMessage.response(204, List.of(), new BodyTap(null, 64 * 1024, budget));
        PendingInteraction p = new PendingInteraction("id", "trace", "POST /login", System.nanoTime(), null);
        p.complete(new Exchange(request, response, 204, 0, 0, 0, 0, null), 0);
        InteractionAssembler assembler = new InteractionAssembler("shop", "i", "v", 1.0, 256 * 1024,
                new Redactor(RedactionKey.random(), Redactor.Rules.defaults()));

        List<Redaction> notes = assembler.assemble(p).getRedactions();

        assertEquals(InteractionAssembler.MAX_NOTES, notes.size());
        assertEquals("$.password0", notes.get(0).getField(), "the first notes made kept, in order");
        assertEquals("$.password98", notes.get(98).getField());
        // 5,001 distinct notes: 99 kept, the rest counted
        assertEquals(new Redaction("*", "notes", "4902 more", "notes-cap"), notes.get(InteractionAssembler.MAX_NOTES - 1));
    }

    @Test
    void shouldKeepUpToTheCapOfDistinctNotesWithoutACountAndCountOnlyDistinctOnesLeftOut() {
        List<Redaction> notes = new java.util.ArrayList<>();
        for (int k = 0; k < InteractionAssembler.MAX_NOTES; k++) {
            notes.add(new Redaction("inbound.request", "json", "$.token" + k, "sensitive-name"));
            notes.add(new Redaction("inbound.request", "json", "$.token0", "sensitive-name"));
        }
        assertEquals(notes.stream().distinct().toList(), InteractionAssembler.published(notes), "exactly the cap: all kept");
        for (int k = 0; k < 3; k++) {
            notes.add(new Redaction("inbound.response", "text", "body", "email"));
            notes.add(new Redaction("inbound.response", "text", "body", "card-number"));
        }
        List<Redaction> published = InteractionAssembler.published(notes);
        assertEquals(InteractionAssembler.MAX_NOTES, published.size());
        assertEquals(new Redaction("*", "notes", "3 more", "notes-cap"), published.get(published.size() - 1));
    }
}
