package io.tapline.sidecar.impl;

import io.tapline.avro.HttpRequest;
import io.tapline.avro.HttpResponse;
import io.tapline.avro.Interaction;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.kafka.common.serialization.Serializer;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class CachedIdSerializerTest {

    static Interaction interaction(String id) {
        return Interaction.newBuilder().setId(id).setTraceId("t").setService("s").setInstance("i")
                .setStartedAt(Instant.ofEpochMilli(1)).setCompletedAt(Instant.ofEpochMilli(2)).setLatencyMicros(1000)
                .setRequest(HttpRequest.newBuilder().setMethod("GET").setScheme("http").setAuthority("a").setPath("/").build())
                .setResponse(HttpResponse.newBuilder().setStatus(200).build()).build();
    }

    @Test
    void shouldAskTheRegistryOncePerTopicAndReuseTheId() throws Exception {
        AtomicInteger registryCalls = new AtomicInteger();
        Serializer<Interaction> registering = (topic, data) -> {
            registryCalls.incrementAndGet();
            byte[] out = PrimedEncoder.encode(data);
            out[4] = 7; // magic 0, schema id 7
            return out;
        };
        CachedIdSerializer<Interaction> s = new CachedIdSerializer<>(registering, Interaction.getClassSchema());
        byte[] first = s.serialize("topic-a", interaction("1"));
        byte[] second = s.serialize("topic-a", interaction("2"));
        assertEquals(1, registryCalls.get());
        assertArrayEquals(new byte[] {0, 0, 0, 0, 7}, Arrays.copyOf(second, 5));
        Interaction decoded = new SpecificDatumReader<>(Interaction.class)
                .read(null, DecoderFactory.get().binaryDecoder(second, 5, second.length - 5, null));
        assertEquals("2", decoded.getId());
        assertEquals(first.length, second.length);
        s.serialize("topic-b", interaction("3"));
        assertEquals(2, registryCalls.get(), "another topic is another subject");
    }

    /** Encodes plain Avro behind a zero header. */
    static final class PrimedEncoder {
        static byte[] encode(Interaction data) {
            try {
                java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
                out.write(new byte[5]);
                org.apache.avro.io.BinaryEncoder enc = org.apache.avro.io.EncoderFactory.get().binaryEncoder(out, null);
                new org.apache.avro.specific.SpecificDatumWriter<>(Interaction.class).write(data, enc);
                enc.flush();
                return out.toByteArray();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }
}
