package io.tapline.avro;

import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every contract must stay FULL_TRANSITIVE compatible: the current schema reads data written with every released
 * version (backward) and every released version reads data written with the current one (forward).
 */
class SchemaCompatibilityTest {

    @TestFactory
    List<DynamicTest> currentSchemaIsFullyCompatibleWithEveryReleasedVersion() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String record : ReleasedSchemas.records()) {
            Map<String, Schema> released = ReleasedSchemas.released(record);
            tests.add(DynamicTest.dynamicTest(record + " has released versions",
                    () -> assertFalse(released.isEmpty(), "no released version of " + record + " under "
                            + ReleasedSchemas.ROOT + "; snapshot one with ReleasedSchemas.main")));
            Schema current = ReleasedSchemas.CURRENT.get(record);
            released.forEach((version, old) -> tests.add(DynamicTest.dynamicTest(record + " current vs " + version,
                    () -> assertFullyCompatible(record + " " + version, current, old))));
        }
        return tests;
    }

    @Test
    void checkRejectsARemovedFieldWithoutDefault() {
        Schema v1 = SchemaBuilder.record("R").fields().requiredString("a").requiredString("b").endRecord();
        Schema v2 = SchemaBuilder.record("R").fields().requiredString("a").endRecord();
        // v1 readers cannot read v2 data: b is missing and has no default. FULL fails although BACKWARD holds.
        assertEquals(SchemaCompatibilityType.COMPATIBLE, check(v2, v1));
        assertEquals(SchemaCompatibilityType.INCOMPATIBLE, check(v1, v2));
        assertFalse(fullyCompatible(v2, v1));
    }

    @Test
    void checkAcceptsAnAddedFieldWithDefault() {
        Schema v1 = SchemaBuilder.record("R").fields().requiredString("a").endRecord();
        Schema v2 = SchemaBuilder.record("R").fields().requiredString("a")
                .name("b").type().stringType().stringDefault("x").endRecord();
        assertTrue(fullyCompatible(v2, v1));
    }

    @Test
    void checkRejectsAChangedFieldType() {
        Schema v1 = SchemaBuilder.record("R").fields().requiredString("a").endRecord();
        Schema v2 = SchemaBuilder.record("R").fields().requiredInt("a").endRecord();
        assertFalse(fullyCompatible(v2, v1));
    }

    @Test
    void checkRejectsARemovedEnumSymbolWithoutEnumDefault() {
        Schema v1 = SchemaBuilder.record("R").fields().name("v").type().enumeration("V").symbols("PASS", "FAIL").noDefault().endRecord();
        Schema v2 = SchemaBuilder.record("R").fields().name("v").type().enumeration("V").symbols("PASS").noDefault().endRecord();
        assertFalse(fullyCompatible(v2, v1));
    }

    private static void assertFullyCompatible(String what, Schema current, Schema old) {
        var backward = SchemaCompatibility.checkReaderWriterCompatibility(current, old);
        var forward = SchemaCompatibility.checkReaderWriterCompatibility(old, current);
        assertEquals(SchemaCompatibilityType.COMPATIBLE, backward.getType(),
                what + ": current schema cannot read data written with it: " + backward.getResult().getIncompatibilities());
        assertEquals(SchemaCompatibilityType.COMPATIBLE, forward.getType(),
                what + ": readers of it cannot read data written with the current schema: " + forward.getResult().getIncompatibilities());
    }

    private static boolean fullyCompatible(Schema current, Schema old) {
        return check(current, old) == SchemaCompatibilityType.COMPATIBLE && check(old, current) == SchemaCompatibilityType.COMPATIBLE;
    }

    private static SchemaCompatibilityType check(Schema reader, Schema writer) {
        return SchemaCompatibility.checkReaderWriterCompatibility(reader, writer).getType();
    }
}
