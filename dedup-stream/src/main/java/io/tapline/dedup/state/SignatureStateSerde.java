package io.tapline.dedup.state;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/** Compact binary form of {@link SignatureState} for the state store and its changelog. Format version 1. */
public final class SignatureStateSerde implements Serde<SignatureState> {

    static final byte FORMAT = 1;

    @Override
    public Serializer<SignatureState> serializer() {
        return (topic, state) -> state == null ? null : encode(state);
    }

    @Override
    public Deserializer<SignatureState> deserializer() {
        return (topic, bytes) -> bytes == null ? null : decode(bytes);
    }

    static byte[] encode(SignatureState s) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + 20 * s.slots().size());
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(FORMAT);
            out.writeLong(s.hits());
            out.writeLong(s.firstSeen());
            out.writeLong(s.lastSeen());
            out.writeBoolean(s.dirty());
            out.writeLong(s.noiseWindowStart());
            out.writeInt(s.noisePairs());
            out.writeByte(s.slots().size());
            for (SignatureState.Slot slot : s.slots()) {
                out.writeByte(slot.slot());
                out.writeLong(slot.sampledAt());
                out.writeLong(slot.requestFingerprint());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // cannot happen on a byte array
        }
        return bytes.toByteArray();
    }

    static SignatureState decode(byte[] bytes) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            byte format = in.readByte();
            if (format != FORMAT) {
                throw new SerializationException("signature state format " + format + " is not " + FORMAT);
            }
            long hits = in.readLong();
            long firstSeen = in.readLong();
            long lastSeen = in.readLong();
            boolean dirty = in.readBoolean();
            long noiseWindowStart = in.readLong();
            int noisePairs = in.readInt();
            int n = in.readUnsignedByte();
            List<SignatureState.Slot> slots = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                slots.add(new SignatureState.Slot(in.readUnsignedByte(), in.readLong(), in.readLong()));
            }
            return new SignatureState(hits, firstSeen, lastSeen, dirty, noiseWindowStart, noisePairs, slots);
        } catch (IOException e) {
            throw new SerializationException("corrupt signature state", e);
        }
    }
}
