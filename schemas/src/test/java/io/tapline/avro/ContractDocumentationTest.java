package io.tapline.avro;

import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ContractDocumentationTest {

    @Test
    void everyRecordAndFieldOfEveryContractIsDocumented() {
        List<String> undocumented = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (Schema schema : ReleasedSchemas.CURRENT.values()) {
            collect(schema, seen, undocumented);
        }
        assertEquals(List.of(), undocumented, "records and fields without a doc in the .avsc");
    }

    private static void collect(Schema schema, Set<String> seen, List<String> undocumented) {
        switch (schema.getType()) {
            case RECORD -> {
                if (!seen.add(schema.getFullName())) {
                    return;
                }
                if (blank(schema.getDoc())) {
                    undocumented.add(schema.getFullName());
                }
                for (Schema.Field field : schema.getFields()) {
                    if (blank(field.doc())) {
                        undocumented.add(schema.getFullName() + "." + field.name());
                    }
                    collect(field.schema(), seen, undocumented);
                }
            }
            case UNION -> schema.getTypes().forEach(t -> collect(t, seen, undocumented));
            case ARRAY -> collect(schema.getElementType(), seen, undocumented);
            case MAP -> collect(schema.getValueType(), seen, undocumented);
            default -> {
            }
        }
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }
}
