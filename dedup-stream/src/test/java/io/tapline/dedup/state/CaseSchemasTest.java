package io.tapline.dedup.state;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tapline.avro.Case;
import io.tapline.dedup.testing.Interactions;
import io.tapline.dedup.testing.LegacyFormats;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CaseSchemasTest {

    private static final Instant T0 = Instant.parse("2026-11-21T10:00:00Z");

    @Test
    void shouldKnowEveryReleasedCaseSchema() {
        List<Schema> released = CaseSchemas.released();
        assertFalse(released.isEmpty(), "no released Case schema under " + CaseSchemas.DIR);
        for (Schema s : released) {
            assertEquals("io.tapline.avro.Case", s.getFullName());
        }
    }

    /** A release before {@code service} was added to {@code Case} (with its default) left a sample in the store. */
    @Test
    void shouldReadACaseAnEarlierReleaseWroteWithItsSchema() throws Exception {
        Schema earlier = withoutField(Case.getClassSchema(), "service");
        Case now = LegacyFormats.draftCase(Interactions.get("/owners/1").at(T0).json("{\"id\":1}").build(), T0);
        GenericRecord then = new GenericData.Record(earlier);
        for (Schema.Field f : earlier.getFields()) {
            then.put(f.name(), now.get(f.name()));
        }
        ByteBuffer encoded = new BinaryMessageEncoder<GenericRecord>(SpecificData.get(), earlier).encode(then);
        byte[] bytes = new byte[encoded.remaining()];
        encoded.get(bytes);

        Case read = CaseSchemas.serde(List.of(earlier, Case.getClassSchema())).deserializer().deserialize("dedup-samples", bytes);

        assertEquals(now.getSignatureId(), read.getSignatureId());
        assertEquals(now.getSample(), read.getSample());
        assertEquals("", read.getService(), "the field the earlier release lacked takes its default");
        assertThrows(SerializationException.class,
                () -> CaseSchemas.serde(List.of(Case.getClassSchema())).deserializer().deserialize("dedup-samples", bytes),
                "without the earlier schema the record cannot be read");
    }

    private static Schema withoutField(Schema schema, String field) throws Exception {
        ObjectNode json = (ObjectNode) new ObjectMapper().readTree(schema.toString());
        ArrayNode fields = (ArrayNode) json.get("fields");
        for (int i = 0; i < fields.size(); i++) {
            if (fields.get(i).get("name").asText().equals(field)) {
                fields.remove(i);
                break;
            }
        }
        return new Schema.Parser().parse(json.toString());
    }
}
