package io.tapline.dedup.state;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Serde for internal topics and stores (repartition topics, state stores, changelogs) using Avro single-object
 * encoding: a 10-byte header with the schema fingerprint, then Avro binary. No registry round trip and no registry
 * subjects for internal topics; the decoder resolves an older writer schema by its fingerprint (see
 * {@link CaseSchemas}), and a record whose schema it does not know fails loudly.
 */
public final class AvroBinarySerde<T> implements Serde<T> {

    private final BinaryMessageEncoder<T> encoder;
    private final BinaryMessageDecoder<T> decoder;

    public AvroBinarySerde(BinaryMessageEncoder<T> encoder, BinaryMessageDecoder<T> decoder) {
        this.encoder = encoder;
        this.decoder = decoder;
    }

    @Override
    public Serializer<T> serializer() {
        return (topic, value) -> {
            if (value == null) {
                return null;
            }
            try {
                ByteBuffer buffer = encoder.encode(value);
                byte[] out = new byte[buffer.remaining()];
                buffer.get(out);
                return out;
            } catch (IOException e) {
                throw new SerializationException("cannot encode internal record for " + topic, e);
            }
        };
    }

    @Override
    public Deserializer<T> deserializer() {
        return (topic, bytes) -> {
            if (bytes == null) {
                return null;
            }
            try {
                return decoder.decode(bytes);
            } catch (IOException | RuntimeException e) {
                throw new SerializationException("cannot decode internal record from " + topic, e);
            }
        };
    }
}
