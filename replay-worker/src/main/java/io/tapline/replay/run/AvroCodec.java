package io.tapline.replay.run;

import io.tapline.avro.Case;
import io.tapline.avro.NoiseProfile;
import io.tapline.avro.ReplayResult;
import io.tapline.avro.RunEvent;
import io.tapline.registry.RegistryConfig;
import io.tapline.registry.SchemaRegistryClient;
import io.tapline.registry.SchemaRegistryException;
import io.tapline.serde.TaplineAvroDeserializer;
import io.tapline.serde.Subjects;
import io.tapline.serde.TaplineAvroSerializer;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.SerializationException;

import java.util.Map;

/** The Avro values replay reads and writes, over one schema registry client. Thread-safe. */
public final class AvroCodec {

    private final TaplineAvroDeserializer<Case> cases;
    private final TaplineAvroDeserializer<NoiseProfile> noise;
    private final TaplineAvroDeserializer<ReplayResult> results;
    private final TaplineAvroDeserializer<RunEvent> runEvents;
    private final TaplineAvroSerializer<ReplayResult> resultWriter;
    private final TaplineAvroSerializer<RunEvent> runEventWriter;

    private final SchemaRegistryClient registry;

    public AvroCodec(Map<String, ?> registryConfigs) {
        registry = new SchemaRegistryClient(RegistryConfig.fromMap(registryConfigs));
        cases = new TaplineAvroDeserializer<>(registry, Case.class);
        noise = new TaplineAvroDeserializer<>(registry, NoiseProfile.class);
        results = new TaplineAvroDeserializer<>(registry, ReplayResult.class);
        runEvents = new TaplineAvroDeserializer<>(registry, RunEvent.class);
        resultWriter = new TaplineAvroSerializer<>(registry, false);
        runEventWriter = new TaplineAvroSerializer<>(registry, false);
    }

    /**
     * Registers the result schema before the workers start, so concurrent workers never race to register it
     * (some registries answer the loser of that race with 409).
     */
    public void prepareResults(String topic) {
        registry.register(Subjects.subject(topic, false), ReplayResult.getClassSchema());
    }

    /**
     * What a worker process does with the registry before its workers start: the results' schema is registered, and
     * the run events' (bounds, summary) registered or, without auto-registration, looked up as the serializer would,
     * so that the summary written at the end takes its id from the client's cache. A worker that joins a run it did
     * not start writes no run event before its summary: with the registry not answering at the end, a run whose every
     * case was committed could not record its summary and exited 3.
     */
    public void prepareWrites(RunTopics topics) {
        prepareResults(topics.results());
        String subject = Subjects.subject(topics.runs(), false);
        if (registry.config().autoRegister()) {
            registry.register(subject, RunEvent.getClassSchema());
        } else {
            registry.lookUp(subject, RunEvent.getClassSchema());
        }
    }

    /**
     * @throws SerializationException when the record itself cannot be decoded (callers set it aside)
     * @throws KafkaException when the registry is down or refuses access: no record's fault, so callers that set
     *                        undecodable records aside must not catch it
     */
    public Case readCase(String topic, byte[] value) {
        return read(cases, topic, value);
    }

    public NoiseProfile readNoise(String topic, byte[] value) {
        return read(noise, topic, value);
    }

    public ReplayResult readResult(String topic, byte[] value) {
        return read(results, topic, value);
    }

    public RunEvent readRunEvent(String topic, byte[] value) {
        return read(runEvents, topic, value);
    }

    private static <T extends SpecificRecord> T read(TaplineAvroDeserializer<T> reader, String topic, byte[] value) {
        try {
            return reader.deserialize(topic, value);
        } catch (SerializationException e) {
            if (SchemaRegistryException.recordAtFault(e)) {
                throw e;
            }
            throw new KafkaException("schema registry unavailable (or the URL is not a registry's) while decoding a "
                    + "record of " + topic + ": " + e.getMessage(), e);
        }
    }

    public byte[] write(String topic, ReplayResult result) {
        return resultWriter.serialize(topic, result);
    }

    public byte[] write(String topic, RunEvent event) {
        return runEventWriter.serialize(topic, event);
    }
}
