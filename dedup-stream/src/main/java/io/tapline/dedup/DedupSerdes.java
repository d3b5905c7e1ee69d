package io.tapline.dedup;

import io.tapline.avro.Case;
import io.tapline.avro.Interaction;
import io.tapline.avro.NoiseProfile;
import io.tapline.registry.RegistryConfig;
import io.tapline.registry.SchemaRegistryClient;
import io.tapline.serde.AvroSerdes;
import io.tapline.serde.Subjects;
import java.util.Map;
import org.apache.kafka.common.serialization.Serde;

/**
 * Serdes of the public topics (Confluent wire format through the schema registry).
 *
 * @param interaction input values
 * @param cases       case values on the cases topic
 * @param noise       noise profile values on the noise topic
 */
public record DedupSerdes(Serde<Interaction> interaction, Serde<Case> cases, Serde<NoiseProfile> noise) {

    /** Serdes sharing one registry client, from {@code schema.registry.url} and the other registry keys. */
    public static DedupSerdes registry(Map<String, ?> registryConfigs) {
        return of(new SchemaRegistryClient(RegistryConfig.fromMap(registryConfigs)));
    }

    /**
     * Serdes sharing one registry client, on which the output schemas are registered first, once, from one thread,
     * before the stream starts: stream threads registering a new subject concurrently race on some registries
     * (Apicurio answers the loser 409 "already exists"), and a registry that cannot be reached or rejects the schema
     * fails the start-up with a clear message. Registered on the serdes' own client, the ids are in its cache, so the
     * cases and noise serializers make no registry call: before, the registration used a client of its own and the
     * first case and the first noise profile each asked the registry again, so a registry outage after the start failed
     * the stream thread at the first publication of a noise profile (possibly hours later), every restart included.
     *
     * @throws io.tapline.registry.SchemaRegistryException when the registry cannot be reached or refuses a schema
     */
    public static DedupSerdes registered(Map<String, ?> registryConfigs, DedupConfig config) {
        SchemaRegistryClient client = new SchemaRegistryClient(RegistryConfig.fromMap(registryConfigs));
        client.register(Subjects.subject(config.casesTopic(), false), Case.getClassSchema());
        client.register(Subjects.subject(config.noiseTopic(), false), NoiseProfile.getClassSchema());
        return of(client);
    }

    private static DedupSerdes of(SchemaRegistryClient client) {
        return new DedupSerdes(AvroSerdes.serde(Interaction.class, client, false),
                AvroSerdes.serde(Case.class, client, false),
                AvroSerdes.serde(NoiseProfile.class, client, false));
    }
}
