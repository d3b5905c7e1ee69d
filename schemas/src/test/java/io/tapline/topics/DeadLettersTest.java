package io.tapline.topics;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeadLettersTest {

    private static final byte[] KEY = "case-1".getBytes(StandardCharsets.UTF_8);

    @Test
    void shouldKeepTheRawBytesAndNameTheOrigin() {
        byte[] value = {1, 2, 3};
        ConsumerRecord<byte[], byte[]> source = new ConsumerRecord<>("tapline.cases", 4, 17L, KEY, value);
        ProducerRecord<byte[], byte[]> dead = DeadLetters.record("tapline.dlq", source,
                new IllegalStateException("outer", new IllegalArgumentException("inner")), "replay-worker");
        assertEquals("tapline.dlq", dead.topic());
        assertSame(KEY, dead.key());
        assertSame(value, dead.value());
        assertEquals("tapline.cases", DeadLetters.header(dead.headers(), DeadLetters.SOURCE_TOPIC));
        assertEquals("4", DeadLetters.header(dead.headers(), DeadLetters.SOURCE_PARTITION));
        assertEquals("17", DeadLetters.header(dead.headers(), DeadLetters.SOURCE_OFFSET));
        assertEquals("replay-worker", DeadLetters.header(dead.headers(), DeadLetters.COMPONENT));
        assertEquals("java.lang.IllegalStateException: outer <- caused by java.lang.IllegalArgumentException: inner",
                DeadLetters.header(dead.headers(), DeadLetters.ERROR));
        assertNull(dead.headers().lastHeader(DeadLetters.VALUE_OMITTED));
    }

    @Test
    void shouldCutALongErrorToTheHeaderLimit() {
        ProducerRecord<byte[], byte[]> dead = DeadLetters.record("dlq", "in", 0, 0, KEY, new byte[1],
                "x".repeat(10_000), "dedup-stream");
        String error = DeadLetters.header(dead.headers(), DeadLetters.ERROR);
        assertEquals(DeadLetters.MAX_ERROR_LENGTH + 3, error.length());
        assertTrue(error.endsWith("..."));
    }

    @Test
    void shouldKeepTheValueOfTheLargestRecordATaplineTopicTakes() {
        byte[] value = new byte[TaplineTopics.DERIVED_MAX_BYTES - KEY.length];
        ProducerRecord<byte[], byte[]> dead = DeadLetters.record("dlq", "tapline.cases", 0, 9, KEY, value, "bad", "replay-worker");
        assertSame(value, dead.value());
        assertNull(dead.headers().lastHeader(DeadLetters.VALUE_OMITTED));
    }

    @Test
    void shouldOmitAValueLargerThanAnyTaplineTopicTakesAndSaySo() {
        // another producer's record, compressed into the topic's limit, can be larger than the dead-letter topic takes:
        // writing it whole would fail the transaction and stop the consumer on it for good
        byte[] value = new byte[TaplineTopics.DERIVED_MAX_BYTES - KEY.length + 1];
        Arrays.fill(value, (byte) 'a');
        ProducerRecord<byte[], byte[]> dead = DeadLetters.record("dlq", "tapline.cases", 2, 9, KEY, value, "bad", "replay-worker");
        assertNull(dead.value());
        assertArrayEquals(KEY, dead.key());
        assertEquals(Integer.toString(value.length), DeadLetters.header(dead.headers(), DeadLetters.VALUE_OMITTED));
        assertEquals("9", DeadLetters.header(dead.headers(), DeadLetters.SOURCE_OFFSET));
        assertEquals("bad", DeadLetters.header(dead.headers(), DeadLetters.ERROR));
    }

    @Test
    void shouldNameTheOmittedSizeAlsoForANullValueUnderAnOversizedKey() {
        byte[] key = new byte[TaplineTopics.DERIVED_MAX_BYTES + 1];
        ProducerRecord<byte[], byte[]> dead = DeadLetters.record("dlq", "in", 0, 1, key, null, "bad", "dedup-stream");
        assertNull(dead.value());
        assertEquals("0", DeadLetters.header(dead.headers(), DeadLetters.VALUE_OMITTED));
    }

    @Test
    void shouldLeaveTheDeadLetterTopicRoomForHeadersAndCompressionAboveTheLargestRecord() {
        int headers = 5 * 64 + DeadLetters.MAX_ERROR_LENGTH * 4; // names and values; the error text in 4-byte UTF-8
        int lz4Growth = TaplineTopics.DERIVED_MAX_BYTES / 255 + 16; // LZ4's bound for incompressible input
        assertTrue(TaplineTopics.DERIVED_MAX_BYTES + headers + lz4Growth + 1024 < TaplineTopics.DLQ_MAX_BYTES);
        assertEquals(Integer.toString(TaplineTopics.DLQ_MAX_BYTES), TaplineTopics.DLQ_SPEC.configs().get("max.message.bytes"));
    }
}
