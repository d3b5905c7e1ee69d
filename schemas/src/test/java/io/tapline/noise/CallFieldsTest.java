package io.tapline.noise;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class CallFieldsTest {

    @Test
    void namesACallByMethodDestinationAndRouteTemplate() {
        assertEquals("call:POST payments /charges/{id}/capture",
                CallFields.call("post", "Payments", "/charges/12345/capture"));
        assertEquals("call:PUT api.example.com:8443 /v1/items/{uuid}",
                CallFields.call("PUT", "API.example.com:8443", "/v1/items/0f8fad5b-d9cb-469f-a165-70867728950e"));
    }

    @Test
    void splitsAFieldIntoItsCallAndItsPathInTheBody() {
        String call = CallFields.call("POST", "payments", "/charges");
        assertEquals(new CallFields.CallField(call, "$.meta.first name"),
                CallFields.parse(CallFields.field(call, "$.meta.first name")), "a JSON key may hold a space");
        assertEquals(new CallFields.CallField(call, "form:nonce"), CallFields.parse(call + " form:nonce"));
        assertEquals(new CallFields.CallField(call, "body"), CallFields.parse(call + " body"));
    }

    @Test
    void anyOtherFieldIsNotACallField() {
        assertNull(CallFields.parse("$.items[*].id"));
        assertNull(CallFields.parse("header:date"));
        assertNull(CallFields.parse("call:POST payments /charges"), "a call without a body path");
        assertNull(CallFields.parse("call:POST payments /charges "), "an empty body path");
    }
}
