package io.tapline.serde;

import io.tapline.registry.RegistryConfig;
import io.tapline.registry.SchemaRegistryClient;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

import java.util.Map;

/** Kafka (and Kafka Streams) {@link Serde}s for Tapline's generated Avro records. */
public final class AvroSerdes {

    private AvroSerdes() {
    }

    /**
     * A serde for one generated record type, configured from registry settings
     * ({@code schema.registry.url} and the other {@link RegistryConfig} keys).
     */
    public static <T extends SpecificRecord> Serde<T> serde(Class<T> type, Map<String, ?> registryConfigs, boolean isKey) {
        return serde(type, new SchemaRegistryClient(RegistryConfig.fromMap(registryConfigs)), isKey);
    }

    /** A serde sharing one registry client (and its caches) with other serdes. */
    public static <T extends SpecificRecord> Serde<T> serde(Class<T> type, SchemaRegistryClient registry, boolean isKey) {
        return Serdes.serdeFrom(new TaplineAvroSerializer<>(registry, isKey), new TaplineAvroDeserializer<>(registry, type));
    }
}
