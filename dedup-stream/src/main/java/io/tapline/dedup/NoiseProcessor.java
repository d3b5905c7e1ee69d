package io.tapline.dedup;

import io.tapline.avro.NoiseProfile;
import io.tapline.dedup.noise.NoiseObservation;
import io.tapline.dedup.noise.RouteNoise;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.Cancellable;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Aggregates identical-request comparisons per route (input partitioned by route) and publishes each changed
 * route's {@link NoiseProfile} on the publish cadence.
 */
final class NoiseProcessor implements Processor<String, NoiseObservation, String, NoiseProfile> {

    private final DedupConfig config;
    private final DedupMetrics metrics;
    private final Map<String, Integer> noisyByRoute = new HashMap<>();
    private ProcessorContext<String, NoiseProfile> context;
    private KeyValueStore<String, RouteNoise> store;
    private Cancellable punctuator;

    NoiseProcessor(DedupConfig config, DedupMetrics metrics) {
        this.config = config;
        this.metrics = metrics;
    }

    @Override
    public void init(ProcessorContext<String, NoiseProfile> context) {
        this.context = context;
        this.store = context.getStateStore(DedupTopology.NOISE_STORE);
        punctuator = context.schedule(config.publishInterval(), PunctuationType.WALL_CLOCK_TIME, this::publish);
    }

    @Override
    public void process(Record<String, NoiseObservation> record) {
        RouteNoise noise = store.get(record.key());
        if (noise == null) {
            noise = RouteNoise.empty();
        }
        noise.add(record.value(), config.noiseMaxFields());
        store.put(record.key(), noise);
    }

    void publish(long now) {
        List<KeyValue<String, RouteNoise>> published = new ArrayList<>();
        try (KeyValueIterator<String, RouteNoise> all = store.all()) {
            while (all.hasNext()) {
                KeyValue<String, RouteNoise> entry = all.next();
                if (!entry.value.dirty()) {
                    continue;
                }
                NoiseProfile profile = entry.value.profile(entry.key, config.noiseRule(), Instant.ofEpochMilli(now));
                context.forward(new Record<>(entry.key, profile, now));
                metrics.noiseProfiles.inc();
                Integer before = noisyByRoute.put(entry.key, profile.getFields().size());
                metrics.noisyFields.addAndGet(profile.getFields().size() - (before == null ? 0 : before));
                entry.value.published();
                published.add(entry);
            }
        }
        for (KeyValue<String, RouteNoise> entry : published) {
            store.put(entry.key, entry.value);
        }
    }

    @Override
    public void close() {
        if (punctuator != null) {
            punctuator.cancel();
        }
        int total = noisyByRoute.values().stream().mapToInt(Integer::intValue).sum();
        metrics.noisyFields.addAndGet(-total);
        noisyByRoute.clear();
    }
}
