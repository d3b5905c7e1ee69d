package io.tapline.dedup;

import io.tapline.dedup.noise.NoiseRule;
import io.tapline.topics.TaplineTopics;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What the dedup topology does, independent of how it connects to Kafka.
 *
 * @param inputTopic          captured interactions
 * @param casesTopic          compacted unique cases, key = case id
 * @param noiseTopic          compacted noise profiles, key = service + route
 * @param dlqTopic            dead letters
 * @param samplesPerSignature sample slots kept per signature (N)
 * @param sampleTtl           a sample older than this (event time) is replaced by the next fresh one
 * @param retention           a signature not seen for this long, and the noise of a route with neither a pair nor a
 *                            new sample for this long, is retired with tombstones (event time: against the newest
 *                            the task has seen)
 * @param publishInterval     wall-clock cadence at which hit counts, last-seen and noise profiles are published
 * @param maxSignaturesPerTask bound on signatures held by one task; new ones past it are counted and dropped
 * @param noiseRule           thresholds deciding which fields are noise
 * @param noiseMaxPairs       identical-request comparisons per signature per sample TTL window
 * @param noiseMaxFields      response paths tracked per route
 * @param noiseWindowPairs    a route's noise counters are halved when its pairs reach twice this; 0 = never
 * @param routeTemplates      configured route templates tried before the segment rules
 * @param valueFields         {@code ROUTE=$.path} value fields that split signatures
 * @param maxClockSkew        how far an interaction's {@code startedAt} (the sidecar's clock) may be ahead of its
 *                            record's Kafka timestamp and of this job's clock; beyond it the earlier of those two is
 *                            the event time
 * @param hitFormat           how hits cross the {@code by-signature} repartition
 * @param publishMaxCases     cases (updates and tombstones) one publication writes at most; the signatures it did
 *                            not reach are published by the next ones, in key order from where it stopped
 * @param publishMaxNoiseProfiles routes' noise one publication writes at most (profiles, tombstones, counters
 *                            rewritten); the routes it did not reach are written by the next ones, in key order from
 *                            where it stopped
 * @param internalPartitions  partitions of the {@code by-signature} and {@code by-route} repartition topics, and so
 *                            of the dedup and noise tasks and their changelogs; 0 = as many as the input topic has
 *                            (Kafka Streams' default, which stops the job once partitions are added to the input)
 */
public record DedupConfig(String inputTopic, String casesTopic, String noiseTopic, String dlqTopic,
                          int samplesPerSignature, Duration sampleTtl, Duration retention, Duration publishInterval,
                          int maxSignaturesPerTask, NoiseRule noiseRule, int noiseMaxPairs, int noiseMaxFields,
                          long noiseWindowPairs, List<String> routeTemplates, List<String> valueFields, Duration maxClockSkew,
                          HitFormat hitFormat, int internalPartitions, int publishMaxCases,
                          int publishMaxNoiseProfiles) {

    /** How hits cross the {@code by-signature} repartition. */
    public enum HitFormat {
        /** Most hits without their interaction ({@link SampleGate}); what this version writes by default. */
        COMPACT,
        /**
         * Every hit as a draft case with its interaction, the format of the previous version: for the first bounce of
         * a rolling upgrade, while instances of the previous version still read the repartition topic.
         */
        CASE
    }

    public static final int DEFAULT_SAMPLES = 3;
    public static final Duration DEFAULT_SAMPLE_TTL = Duration.ofHours(24);
    public static final Duration DEFAULT_RETENTION = Duration.ofDays(7);
    public static final Duration DEFAULT_PUBLISH_INTERVAL = Duration.ofSeconds(30);
    public static final int DEFAULT_MAX_SIGNATURES_PER_TASK = 200_000;
    public static final int DEFAULT_NOISE_MAX_PAIRS = 20;
    public static final int DEFAULT_NOISE_MAX_FIELDS = 512;
    public static final long DEFAULT_NOISE_WINDOW_PAIRS = 1000;
    public static final Duration DEFAULT_MAX_CLOCK_SKEW = Duration.ofMinutes(1);
    public static final int DEFAULT_PUBLISH_MAX_CASES = 10_000;
    /**
     * A route's profile and counters are larger than a case's share of a signature (up to 512 tracked fields by
     * default: about 35 KB of counters and 13 KB of profile), so fewer of them go in one transaction.
     */
    public static final int DEFAULT_PUBLISH_MAX_NOISE_PROFILES = 1_000;
    /** Sample slots are stored as one byte. */
    public static final int MAX_SAMPLES = 100;

    public DedupConfig {
        Objects.requireNonNull(inputTopic, "inputTopic");
        Objects.requireNonNull(casesTopic, "casesTopic");
        Objects.requireNonNull(noiseTopic, "noiseTopic");
        Objects.requireNonNull(dlqTopic, "dlqTopic");
        Objects.requireNonNull(hitFormat, "hitFormat");
        if (samplesPerSignature < 1 || samplesPerSignature > MAX_SAMPLES) {
            throw new IllegalArgumentException("samples per signature must be 1.." + MAX_SAMPLES + ", got "
                    + samplesPerSignature);
        }
        if (publishInterval.isNegative() || publishInterval.isZero()) {
            throw new IllegalArgumentException("publish interval must be positive, got " + publishInterval);
        }
        if (noiseWindowPairs < 0) {
            throw new IllegalArgumentException("noise window must be 0 (never halve) or positive, got " + noiseWindowPairs);
        }
        if (maxClockSkew.isNegative()) {
            throw new IllegalArgumentException("max clock skew must not be negative, got " + maxClockSkew);
        }
        if (publishMaxCases < 1) {
            throw new IllegalArgumentException("cases per publication must be positive, got " + publishMaxCases);
        }
        if (publishMaxNoiseProfiles < 1) {
            throw new IllegalArgumentException("noise profiles per publication must be positive, got "
                    + publishMaxNoiseProfiles);
        }
        if (internalPartitions < 0) {
            throw new IllegalArgumentException("internal partitions must be 0 (as the input) or positive, got "
                    + internalPartitions);
        }
        routeTemplates = List.copyOf(routeTemplates);
        valueFields = List.copyOf(valueFields);
    }

    /** Defaults on the standard topic names. */
    public static DedupConfig defaults() {
        return new DedupConfig(TaplineTopics.INTERACTIONS, TaplineTopics.CASES, TaplineTopics.NOISE, TaplineTopics.DLQ,
                DEFAULT_SAMPLES, DEFAULT_SAMPLE_TTL, DEFAULT_RETENTION, DEFAULT_PUBLISH_INTERVAL,
                DEFAULT_MAX_SIGNATURES_PER_TASK, NoiseRule.defaults(), DEFAULT_NOISE_MAX_PAIRS,
                DEFAULT_NOISE_MAX_FIELDS, DEFAULT_NOISE_WINDOW_PAIRS, List.of(), List.of(), DEFAULT_MAX_CLOCK_SKEW,
                HitFormat.COMPACT, 0, DEFAULT_PUBLISH_MAX_CASES, DEFAULT_PUBLISH_MAX_NOISE_PROFILES);
    }

    public DedupConfig withTopics(String input, String cases, String noise, String dlq) {
        return new DedupConfig(input, cases, noise, dlq, samplesPerSignature, sampleTtl, retention, publishInterval,
                maxSignaturesPerTask, noiseRule, noiseMaxPairs, noiseMaxFields, noiseWindowPairs, routeTemplates,
                valueFields, maxClockSkew, hitFormat, internalPartitions, publishMaxCases,
                publishMaxNoiseProfiles);
    }

    public DedupConfig withSampling(int samples, Duration ttl, Duration retainFor, Duration publishEvery) {
        return new DedupConfig(inputTopic, casesTopic, noiseTopic, dlqTopic, samples, ttl, retainFor, publishEvery,
                maxSignaturesPerTask, noiseRule, noiseMaxPairs, noiseMaxFields, noiseWindowPairs, routeTemplates,
                valueFields, maxClockSkew, hitFormat, internalPartitions, publishMaxCases,
                publishMaxNoiseProfiles);
    }

    public DedupConfig withSignatureRules(List<String> templates, List<String> values) {
        return new DedupConfig(inputTopic, casesTopic, noiseTopic, dlqTopic, samplesPerSignature, sampleTtl, retention,
                publishInterval, maxSignaturesPerTask, noiseRule, noiseMaxPairs, noiseMaxFields, noiseWindowPairs, templates,
                values, maxClockSkew, hitFormat, internalPartitions, publishMaxCases,
                publishMaxNoiseProfiles);
    }

    public DedupConfig withNoise(NoiseRule rule, int maxPairs, int maxFields) {
        return new DedupConfig(inputTopic, casesTopic, noiseTopic, dlqTopic, samplesPerSignature, sampleTtl, retention,
                publishInterval, maxSignaturesPerTask, rule, maxPairs, maxFields, noiseWindowPairs, routeTemplates,
                valueFields, maxClockSkew, hitFormat, internalPartitions, publishMaxCases,
                publishMaxNoiseProfiles);
    }

    public DedupConfig withMaxClockSkew(Duration skew) {
        return new DedupConfig(inputTopic, casesTopic, noiseTopic, dlqTopic, samplesPerSignature, sampleTtl, retention,
                publishInterval, maxSignaturesPerTask, noiseRule, noiseMaxPairs, noiseMaxFields, noiseWindowPairs, routeTemplates,
                valueFields, skew, hitFormat, internalPartitions, publishMaxCases,
                publishMaxNoiseProfiles);
    }

    public DedupConfig withHitFormat(HitFormat format) {
        return new DedupConfig(inputTopic, casesTopic, noiseTopic, dlqTopic, samplesPerSignature, sampleTtl, retention,
                publishInterval, maxSignaturesPerTask, noiseRule, noiseMaxPairs, noiseMaxFields, noiseWindowPairs, routeTemplates,
                valueFields, maxClockSkew, format, internalPartitions, publishMaxCases,
                publishMaxNoiseProfiles);
    }

    public DedupConfig withMaxSignaturesPerTask(int max) {
        return new DedupConfig(inputTopic, casesTopic, noiseTopic, dlqTopic, samplesPerSignature, sampleTtl, retention,
                publishInterval, max, noiseRule, noiseMaxPairs, noiseMaxFields, noiseWindowPairs, routeTemplates,
                valueFields, maxClockSkew, hitFormat, internalPartitions, publishMaxCases,
                publishMaxNoiseProfiles);
    }

    public DedupConfig withInternalPartitions(int partitions) {
        return new DedupConfig(inputTopic, casesTopic, noiseTopic, dlqTopic, samplesPerSignature, sampleTtl, retention,
                publishInterval, maxSignaturesPerTask, noiseRule, noiseMaxPairs, noiseMaxFields, noiseWindowPairs, routeTemplates,
                valueFields, maxClockSkew, hitFormat, partitions, publishMaxCases,
                publishMaxNoiseProfiles);
    }

    public DedupConfig withPublishMaxCases(int max) {
        return new DedupConfig(inputTopic, casesTopic, noiseTopic, dlqTopic, samplesPerSignature, sampleTtl, retention,
                publishInterval, maxSignaturesPerTask, noiseRule, noiseMaxPairs, noiseMaxFields, noiseWindowPairs, routeTemplates,
                valueFields, maxClockSkew, hitFormat, internalPartitions, max,
                publishMaxNoiseProfiles);
    }

    public DedupConfig withPublishMaxNoiseProfiles(int max) {
        return new DedupConfig(inputTopic, casesTopic, noiseTopic, dlqTopic, samplesPerSignature, sampleTtl, retention,
                publishInterval, maxSignaturesPerTask, noiseRule, noiseMaxPairs, noiseMaxFields, noiseWindowPairs, routeTemplates,
                valueFields, maxClockSkew, hitFormat, internalPartitions, publishMaxCases, max);
    }
}
