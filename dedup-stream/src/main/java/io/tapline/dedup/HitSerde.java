package io.tapline.dedup;

import io.tapline.avro.Case;
import io.tapline.dedup.noise.ResponseDiff;
import io.tapline.dedup.state.CaseSchemas;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The {@code by-signature} repartition format of a {@link Hit}:
 * <pre>
 * 0x01 at(8) fingerprint(8)                     a hit that only counts: 17 bytes
 * 0x02 at(8) fingerprint(8) case(single-object)  a hit with its draft case
 * 0xC3 0x01 ...                                  a draft case alone (Avro single-object encoding): the format of the
 *                                                previous version, still read so that an upgrade drains its records,
 *                                                and written with {@link DedupConfig.HitFormat#CASE}
 * </pre>
 */
final class HitSerde implements Serde<Hit> {

    static final byte COUNTED = 1;
    static final byte WHOLE = 2;
    private static final byte SINGLE_OBJECT_MARKER = (byte) 0xC3;
    private static final int HEADER = 17;

    /** The draft case's own format, and the whole repartition value of the previous version. */
    private static final Serde<Case> DRAFT = CaseSchemas.serde();

    private final DedupConfig.HitFormat format;

    HitSerde(DedupConfig.HitFormat format) {
        this.format = format;
    }

    @Override
    public Serializer<Hit> serializer() {
        return (topic, hit) -> hit == null ? null
                : format == DedupConfig.HitFormat.CASE ? encodeCase(hit, topic) : encode(hit, topic);
    }

    @Override
    public Deserializer<Hit> deserializer() {
        return (topic, bytes) -> bytes == null ? null : decode(bytes, topic);
    }

    /** The previous version's format: the draft case alone; every hit must carry one. */
    static byte[] encodeCase(Hit hit, String topic) {
        if (!hit.whole()) {
            throw new SerializationException("the case hit format needs every hit whole");
        }
        return DRAFT.serializer().serialize(topic, hit.draft());
    }

    static byte[] encode(Hit hit, String topic) {
        if (!hit.whole()) {
            return ByteBuffer.allocate(HEADER).put(COUNTED).putLong(hit.at()).putLong(hit.requestFingerprint()).array();
        }
        byte[] draft = DRAFT.serializer().serialize(topic, hit.draft());
        return ByteBuffer.allocate(HEADER + draft.length).put(WHOLE).putLong(hit.at())
                .putLong(hit.requestFingerprint()).put(draft).array();
    }

    static Hit decode(byte[] bytes, String topic) {
        if (bytes.length > 0 && bytes[0] == SINGLE_OBJECT_MARKER) {
            Case draft = DRAFT.deserializer().deserialize(topic, bytes);
            return new Hit(draft.getSampledAt().toEpochMilli(),
                    ResponseDiff.requestFingerprint(draft.getSample().getRequest()), draft);
        }
        if (bytes.length < HEADER || (bytes[0] != COUNTED && bytes[0] != WHOLE)
                || (bytes[0] == COUNTED && bytes.length != HEADER)) {
            throw new SerializationException("not a signature hit (" + bytes.length + " bytes, format "
                    + (bytes.length == 0 ? "none" : bytes[0]) + ") from " + topic);
        }
        ByteBuffer in = ByteBuffer.wrap(bytes);
        byte format = in.get();
        long at = in.getLong();
        long fingerprint = in.getLong();
        return new Hit(at, fingerprint, format == COUNTED ? null
                : DRAFT.deserializer().deserialize(topic, Arrays.copyOfRange(bytes, HEADER, bytes.length)));
    }
}
