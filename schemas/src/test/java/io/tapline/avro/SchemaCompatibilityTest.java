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

    // The checks below run the same function as the released versions are checked with, so each shows that half of
    // it catches what it is there for (they used to check a copy of it: the forward half could go unnoticed).

    @Test
    void checkRejectsARemovedFieldWithoutDefault() {
        Schema v1 = SchemaBuilder.record("R").fields().requiredString("a").requiredString("b").endRecord();
        Schema v2 = SchemaBuilder.record("R").fields().requiredString("a").endRecord();
        // v1 readers cannot read v2 data: b is missing and has no default. FULL fails although BACKWARD holds.
        assertEquals(SchemaCompatibilityType.COMPATIBLE, check(v2, v1));
        assertEquals(List.of(FORWARD), directions(fullIncompatibilities(v2, v1)));
    }

    @Test
    void checkRejectsAnAddedFieldWithoutDefault() {
        Schema v1 = SchemaBuilder.record("R").fields().requiredString("a").endRecord();
        Schema v2 = SchemaBuilder.record("R").fields().requiredString("a").requiredString("b").endRecord();
        // v2 cannot read v1 data: b is missing and has no default. FULL fails although FORWARD holds.
        assertEquals(SchemaCompatibilityType.COMPATIBLE, check(v1, v2));
        assertEquals(List.of(BACKWARD), directions(fullIncompatibilities(v2, v1)));
    }

    @Test
    void checkAcceptsAnAddedFieldWithDefault() {
        Schema v1 = SchemaBuilder.record("R").fields().requiredString("a").endRecord();
        Schema v2 = SchemaBuilder.record("R").fields().requiredString("a")
                .name("b").type().stringType().stringDefault("x").endRecord();
        assertEquals(List.of(), fullIncompatibilities(v2, v1));
    }

    @Test
    void checkRejectsAChangedFieldType() {
        Schema v1 = SchemaBuilder.record("R").fields().requiredString("a").endRecord();
        Schema v2 = SchemaBuilder.record("R").fields().requiredInt("a").endRecord();
        assertEquals(List.of(BACKWARD, FORWARD), directions(fullIncompatibilities(v2, v1)));
    }

    @Test
    void checkRejectsARemovedEnumSymbolWithoutEnumDefault() {
        Schema v1 = SchemaBuilder.record("R").fields().name("v").type().enumeration("V").symbols("PASS", "FAIL").noDefault().endRecord();
        Schema v2 = SchemaBuilder.record("R").fields().name("v").type().enumeration("V").symbols("PASS").noDefault().endRecord();
        // v2 cannot read v1 data holding FAIL
        assertEquals(List.of(BACKWARD), directions(fullIncompatibilities(v2, v1)));
    }

    private static final String BACKWARD = "current schema cannot read data written with it";
    private static final String FORWARD = "readers of it cannot read data written with the current schema";

    private static void assertFullyCompatible(String what, Schema current, Schema old) {
        assertEquals(List.of(), fullIncompatibilities(current, old), what);
    }

    /** Why {@code current} and {@code old} are not FULL compatible, one line per direction that fails; empty when they are. */
    private static List<String> fullIncompatibilities(Schema current, Schema old) {
        List<String> problems = new ArrayList<>();
        var backward = SchemaCompatibility.checkReaderWriterCompatibility(current, old);
        if (backward.getType() != SchemaCompatibilityType.COMPATIBLE) {
            problems.add(BACKWARD + ": " + backward.getResult().getIncompatibilities());
        }
        var forward = SchemaCompatibility.checkReaderWriterCompatibility(old, current);
        if (forward.getType() != SchemaCompatibilityType.COMPATIBLE) {
            problems.add(FORWARD + ": " + forward.getResult().getIncompatibilities());
        }
        return problems;
    }

    /** The direction each problem names. */
    private static List<String> directions(List<String> problems) {
        return problems.stream().map(p -> p.substring(0, p.indexOf(": "))).toList();
    }

    private static SchemaCompatibilityType check(Schema reader, Schema writer) {
        return SchemaCompatibility.checkReaderWriterCompatibility(reader, writer).getType();
    }
}
