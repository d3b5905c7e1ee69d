package io.tapline.dedup;

import io.tapline.logging.PeriodicWarning;
import io.tapline.ops.Metrics;
import java.util.concurrent.atomic.AtomicLong;

/** The dedup stream's Prometheus metrics, shared by all stream threads. */
public final class DedupMetrics {

    final Metrics registry;
    final Metrics.Counter interactions;
    final Metrics.Counter wholeHits;
    /** Records dead-lettered by the decode step (undecodable or incompatible). */
    final Metrics.Counter deadLetters;
    /**
     * Records dead-lettered because a processing step failed on them ({@link RecordFailureHandler}; a case that cannot be
     * encoded among them) or a sink could not serialize their output ({@link SerializationFailureHandler}).
     */
    final Metrics.Counter processingDeadLetters;
    /** One for every task of this instance: a dead-letter warning at most every 10 s, whichever task or step wrote it. */
    final PeriodicWarning deadLetterWarning = new PeriodicWarning(DecodeProcessor.DEAD_LETTER_WARNING_INTERVAL);
    /**
     * Stored cases and noise profiles that a publication could not encode with their topic's serializer, removed from
     * the store with a tombstone ({@link OutputEncoder#removed}).
     */
    final Metrics.Counter unencodableCases;
    final Metrics.Counter unencodableNoiseProfiles;
    /** One for every task of this instance: a warning of removed values at most every 10 s. */
    final PeriodicWarning unencodableWarning = new PeriodicWarning(DecodeProcessor.DEAD_LETTER_WARNING_INTERVAL);
    final Metrics.Counter casesEmitted;
    final Metrics.Counter tombstones;
    final Metrics.Counter signaturesRejected;
    final Metrics.Counter noiseProfiles;
    final Metrics.Counter noiseProfilesRetired;
    final Metrics.Counter eventTimeClamped;
    final Metrics.Counter publicationsCut;
    final Metrics.Counter noisePublicationsCut;
    final AtomicLong signatures = new AtomicLong();
    final AtomicLong noisyFields = new AtomicLong();

    public DedupMetrics(Metrics registry) {
        this.registry = registry;
        interactions = registry.counter("tapline_dedup_interactions_total", "Interactions read and signed");
        wholeHits = registry.counter("tapline_dedup_whole_hits_total",
                "Interactions sent on to the dedup step whole (possible samples and noise pairs); other hits only count");
        String deadLettersHelp = "Input records sent to the dead-letter topic: reason=\"decode\" undecodable or incompatible, "
                + "reason=\"processing\" a processing step failed on the record or its output could not be serialized";
        deadLetters = registry.counter("tapline_dedup_dead_letters_total", deadLettersHelp, "reason", "decode");
        processingDeadLetters = registry.counter("tapline_dedup_dead_letters_total", deadLettersHelp, "reason", "processing");
        String unencodableHelp = "Stored cases (output=\"case\") and noise profiles (output=\"noise_profile\") that a "
                + "publication could not encode with their topic's serializer: removed from the store, with a tombstone";
        unencodableCases = registry.counter("tapline_dedup_unencodable_removed_total", unencodableHelp, "output", "case");
        unencodableNoiseProfiles = registry.counter("tapline_dedup_unencodable_removed_total", unencodableHelp,
                "output", "noise_profile");
        casesEmitted = registry.counter("tapline_dedup_cases_emitted_total",
                "Case records written (new samples, refreshed samples, hit-count updates)");
        tombstones = registry.counter("tapline_dedup_case_tombstones_total", "Case tombstones written for retired signatures");
        signaturesRejected = registry.counter("tapline_dedup_signatures_rejected_total",
                "New signatures not stored because the task held its maximum");
        noiseProfiles = registry.counter("tapline_dedup_noise_profiles_emitted_total", "Noise profiles written");
        noiseProfilesRetired = registry.counter("tapline_dedup_noise_profiles_retired_total",
                "Noise profiles retired with a tombstone (no identical-request pair nor new sample of the route for the retention)");
        eventTimeClamped = registry.counter("tapline_dedup_event_time_clamped_total",
                "Interactions whose startedAt was ahead of their record timestamp or of this job's clock by more than "
                        + "the allowed clock skew, or before 1970 (the earlier of those two was used as event time)");
        publicationsCut = registry.counter("tapline_dedup_publications_cut_total",
                "Publications that stopped at dedup.publish.max.cases, the rest left to the next ones (steadily rising: "
                        + "hit counts published later than the publish interval)");
        noisePublicationsCut = registry.counter("tapline_dedup_noise_publications_cut_total",
                "Noise publications that stopped at dedup.publish.max.noise.profiles, the rest left to the next ones "
                        + "(steadily rising: noise profiles published, and stale routes retired, later than the publish interval)");
        registry.gauge("tapline_dedup_unique_signatures", "Signatures held by the tasks of this instance",
                signatures::get);
        registry.gauge("tapline_dedup_noisy_fields", "Noisy fields in the profiles last published by this instance",
                noisyFields::get);
        registry.gauge("tapline_dedup_ratio",
                "Interactions read since start per signature held (how many interactions one case stands for)",
                () -> signatures.get() == 0 ? 0 : (double) interactions.value() / signatures.get());
    }

    public static DedupMetrics detached() {
        return new DedupMetrics(new Metrics());
    }

    public Metrics registry() {
        return registry;
    }

    public long interactions() {
        return interactions.value();
    }

    public long wholeHits() {
        return wholeHits.value();
    }

    public long signatures() {
        return signatures.get();
    }

    /** Dead letters of either reason. */
    public long deadLetters() {
        return deadLetters.value() + processingDeadLetters.value();
    }

    public long noiseProfilesRetired() {
        return noiseProfilesRetired.value();
    }
}
