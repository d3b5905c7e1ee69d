package io.tapline.dedup.noise;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tapline.avro.Header;
import io.tapline.avro.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ResponseDiffTest {

    private static HttpResponse json(String body, Header... headers) {
        return HttpResponse.newBuilder().setStatus(200).setHeaders(List.of(headers))
                .setBody(ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8))).setContentType("application/json")
                .build();
    }

    @Test
    void shouldCompareHeadersJsonPathsAndKeepTheBaselineCompact() {
        ResponseFields a = ResponseDiff.fields(json("{\"id\":7,\"items\":[{\"at\":1},{\"at\":2}]}", new Header("Date", "Mon")));
        ResponseFields b = ResponseDiff.fields(json("{\"id\":7,\"items\":[{\"at\":1},{\"at\":3}],\"extra\":true}",
                new Header("Date", "Tue")));
        ResponseDiff.Outcome outcome = ResponseDiff.compare(a, b);
        assertEquals(List.of("$.extra", "$.id", "$.items[*].at", "header:date"), outcome.compared());
        assertEquals(List.of("$.extra", "$.items[*].at", "header:date"), outcome.differing());
        ResponseFields back = ResponseFields.decode(ResponseFields.encode(b));
        assertEquals(b, back);
        assertEquals(List.of(), ResponseDiff.compare(b, back).differing());
    }

    @Test
    void shouldLeaveOutPathsTooLongToStore() {
        String key = "k".repeat(ResponseDiff.MAX_PATH_CHARS + 1);
        ResponseFields f = ResponseDiff.fields(json("{\"" + key + "\":1,\"id\":2}"));
        assertEquals(List.of("$.id"), List.copyOf(f.digests().keySet()));
        assertEquals(f, ResponseFields.decode(ResponseFields.encode(f)), "every kept path can be stored");
    }
}
