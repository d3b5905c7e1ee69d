package io.tapline.dedup;

import io.tapline.avro.Case;
import io.tapline.avro.Interaction;
import io.tapline.dedup.noise.ResponseDiff;
import io.tapline.dedup.signature.Signature;
import io.tapline.dedup.signature.Signer;
import io.tapline.dedup.state.CaseSchemas;
import io.tapline.logging.PeriodicWarning;
import io.tapline.registry.SchemaRegistryException;
import io.tapline.topics.DeadLetters;
import io.tapline.topics.TaplineTopics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decodes raw input records and signs them. Decoding happens here rather than in a deserialization exception
 * handler so that the dead-letter write is part of the same exactly-once transaction as everything else: a record
 * is either signed or dead-lettered, exactly once.
 *
 * <p>Failure classes: a record that is not wire-format Avro, names a schema id the registry does not have (404) or
 * that is not a usable Avro schema, does not resolve to {@link Interaction}, or cannot be signed is a dead letter,
 * whatever exception the decoder or signer throws. A registry that cannot be reached or refuses access (no answer,
 * 401, 403, 408, 5xx, 429) is not the record's fault: the exception propagates, the task fails and, with
 * exactly-once, the record is processed again after the restart instead of being dead-lettered (dead-lettering
 * would set aside every good record while, say, the registry credentials are wrong). The registry's "not found" for
 * a schema id is remembered for a few seconds ({@link UnknownSchemaIds}): records naming that id meanwhile are
 * dead-lettered with the same reason without asking it again. Its answer that an id is not usable Avro is kept by the
 * registry client, as the schemas are (an id always names the same schema).
 *
 * <p>Event time (a case's {@code sampledAt}, {@code firstSeen}, {@code lastSeen}) is the interaction's
 * {@code startedAt}, read from the sidecar's clock, unless that is ahead of the record's Kafka timestamp by more than
 * the allowed clock skew: then the record timestamp is used (the broker bounds it: its own clock on a LogAppendTime
 * topic, {@code message.timestamp.after.max.ms} on a CreateTime one), so a sidecar whose clock runs ahead cannot pin a
 * sample slot or keep a signature alive into the future. Nor is it taken further ahead of this job's own clock than
 * that skew.
 */
final class DecodeProcessor implements Processor<byte[], byte[], String, Routed> {

    static final String COMPONENT = "dedup-stream";
    /** Dead letters are warned of at once, then at most once per interval with their count. */
    static final Duration DEAD_LETTER_WARNING_INTERVAL = Duration.ofSeconds(10);
    private static final Logger LOG = LoggerFactory.getLogger(DecodeProcessor.class);

    /**
     * Largest case (an interaction with its signature) carried on: it is written whole to the repartition topic, the
     * samples changelog and the cases topic, all limited to {@link TaplineTopics#DERIVED_MAX_BYTES}; the margin holds
     * the key, the hit header, record and batch overhead and what lz4 adds to incompressible bytes (1/255). A larger
     * one (another producer's record, compressed into the interactions topic's limit) would be refused by the producer
     * or the broker, failing the task on it at every retry: it is a dead letter.
     */
    static final int MAX_CASE_BYTES = TaplineTopics.DERIVED_MAX_BYTES - TaplineTopics.DERIVED_MAX_BYTES / 64;
    /**
     * Records at most this large are not measured: their case adds the signature (shapes of bodies read up to 1 MiB
     * each, up to about twice their size, twice: as text and as parts) to the interaction, which stays below
     * {@link #MAX_CASE_BYTES}.
     */
    static final int CHECKED_VALUE_BYTES = TaplineTopics.INTERACTION_MAX_BYTES / 4;
    private static final Serde<Case> DRAFT = CaseSchemas.serde();
    private static final byte[] SOURCE_BYTES = RecordDeadLetters.SOURCE.getBytes(StandardCharsets.UTF_8);

    private final Deserializer<Interaction> deserializer;
    private final Signer signer;
    private final long maxClockSkewMillis;
    private final DedupMetrics metrics;
    private final DedupConfig config;
    private final PeriodicWarning deadLetterWarning;
    private final UnknownSchemaIds unknownSchemaIds;
    private ProcessorContext<String, Routed> context;
    private SampleGate gate;

    DecodeProcessor(Deserializer<Interaction> deserializer, Signer signer, DedupConfig config, DedupMetrics metrics,
                    PeriodicWarning deadLetterWarning, UnknownSchemaIds unknownSchemaIds) {
        this.deadLetterWarning = deadLetterWarning;
        this.unknownSchemaIds = unknownSchemaIds;
        this.deserializer = deserializer;
        this.signer = signer;
        this.maxClockSkewMillis = config.maxClockSkew().toMillis();
        this.config = config;
        this.metrics = metrics;
    }

    @Override
    public void init(ProcessorContext<String, Routed> context) {
        this.context = context;
        // New with every (re)initialisation of the task: a gate that outlived an aborted transaction would believe
        // that interactions reached the dedup step which never did.
        this.gate = new SampleGate(config.samplesPerSignature(), config.noiseMaxPairs(), config.sampleTtl().toMillis(),
                SampleGate.MAX_SIGNATURES);
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
        String topic = context.recordMetadata().map(RecordMetadata::topic).orElse("unknown");
        if (record.value() == null) {
            deadLetter(record, "null value (tombstone) on an interaction topic");
            return;
        }
        boolean framed = UnknownSchemaIds.framed(record.value());
        int schemaId = framed ? UnknownSchemaIds.schemaId(record.value()) : 0;
        if (framed) {
            String remembered = unknownSchemaIds.reason(schemaId, context.currentSystemTimeMs());
            if (remembered != null) {
                deadLetter(record, remembered);
                return;
            }
        }
        Interaction interaction;
        try {
            interaction = deserializer.deserialize(topic, record.headers(), record.value());
        } catch (RuntimeException e) {
            if (!SchemaRegistryException.recordAtFault(e)) {
                throw e; // registry unavailable or access refused: fail the task and retry the record
            }
            String reason = DeadLetters.describe(e);
            if (framed && UnknownSchemaIds.notFound(e)) {
                unknownSchemaIds.remember(schemaId, reason, context.currentSystemTimeMs());
            }
            deadLetter(record, reason);
            return;
        }
        Signature signature;
        try {
            signature = signer.sign(interaction);
        } catch (RuntimeException e) {
            deadLetter(record, "cannot sign interaction " + interaction.getId() + ": " + DeadLetters.describe(e));
            return;
        }
        Instant at = eventTime(interaction.getStartedAt(), record.timestamp());
        if (record.value().length > CHECKED_VALUE_BYTES) {
            // Decided for every hit of it, whole or counted, so that the outcome does not depend on the gate.
            int size = DRAFT.serializer().serialize(topic, draft(interaction, signature, at)).length;
            if (size > MAX_CASE_BYTES) {
                deadLetter(record, "interaction " + interaction.getId() + " too large: its case takes " + size
                        + " bytes, over the " + MAX_CASE_BYTES + " the cases, repartition and changelog topics take");
                return;
            }
        }
        metrics.interactions.inc();
        long fingerprint = ResponseDiff.requestFingerprint(interaction.getRequest());
        boolean whole = config.hitFormat() == DedupConfig.HitFormat.CASE
                || gate.whole(signature.id(), at.toEpochMilli(), fingerprint);
        if (!whole) {
            context.forward(new Record<String, Routed>(signature.id(),
                    new Routed.Signed(Hit.counted(at.toEpochMilli(), fingerprint)), record.timestamp()));
            return;
        }
        metrics.wholeHits.inc();
        context.forward(new Record<String, Routed>(signature.id(),
                new Routed.Signed(new Hit(at.toEpochMilli(), fingerprint, draft(interaction, signature, at))),
                record.timestamp()));
    }

    private static Case draft(Interaction interaction, Signature signature, Instant at) {
        return Case.newBuilder()
                .setCaseId("")
                .setSignatureId(signature.id())
                .setSampleSlot(-1)
                .setSignature(signature.text())
                .setParts(signature.parts())
                .setService(interaction.getService())
                .setSample(interaction)
                .setHits(1)
                .setFirstSeen(at)
                .setLastSeen(at)
                .setSampledAt(at)
                .setSignatureVersion(Signer.VERSION)
                .build();
    }

    /**
     * {@code startedAt}, unless it is further ahead than the allowed skew of the record timestamp or of this job's own
     * clock, or before 1970: then the earlier of the record timestamp and this job's clock. The dedup step timestamps
     * what it writes with the event time, and Kafka refuses a negative timestamp (the task would fail on the record
     * at every retry). This job's clock bounds it too because a broker that accepts far-future record timestamps
     * (before Kafka 4.0, or {@code message.timestamp.after.max.ms} raised) lets a sidecar whose clock runs a year
     * ahead stamp its records a year ahead as well: one such event time made every other signature and route of the
     * task a year older than the newest, retired at the next publish, and again at every publish after (the newest
     * {@code lastSeen} held, from which a restart takes its event time, was that one).
     */
    private Instant eventTime(Instant startedAt, long recordTimestamp) {
        long latest = Math.min(recordTimestamp, context.currentSystemTimeMs());
        long started = startedAt.toEpochMilli();
        if (started >= 0 && (started <= latest || started - latest <= maxClockSkewMillis)) {
            return startedAt;
        }
        metrics.eventTimeClamped.inc();
        return Instant.ofEpochMilli(latest);
    }

    private void deadLetter(Record<byte[], byte[]> record, String reason) {
        RecordMetadata meta = context.recordMetadata().orElseThrow();
        // Only the headers of the shared dead-letter layout are used; the DLQ sink of the topology writes the record
        // (inside the exactly-once transaction), so the topic argument is irrelevant here.
        ProducerRecord<byte[], byte[]> dead = DeadLetters.record(meta.topic() + ".dlq", meta.topic(), meta.partition(),
                meta.offset(), record.key(), record.value(), reason, COMPONENT);
        Headers out = record.headers();
        dead.headers().forEach(h -> out.add(h));
        out.add(RecordDeadLetters.BYTES, SOURCE_BYTES);
        metrics.deadLetters.inc();
        warnOfDeadLetter(deadLetterWarning, config.dlqTopic(), meta.topic(), meta.partition(), meta.offset(), reason);
        context.forward(new Record<String, Routed>(null, new Routed.Dead(dead.key(), dead.value()),
                record.timestamp(), out));
    }

    /**
     * Warns of a dead letter through {@code warning}: at the first, then at most once per interval with the count since
     * the last warning. One line for many: when every record is dead-lettered (another format on the topic), one per
     * record would flood the log; saying nothing would leave it to the counter alone.
     */
    static void warnOfDeadLetter(PeriodicWarning warning, String dlqTopic, String topic, int partition, long offset,
                                 String reason) {
        long due = warning.occurred();
        if (due > 0) {
            LOG.atWarn().addKeyValue("dead_letters", due).addKeyValue("topic", dlqTopic).addKeyValue("reason", reason)
                    .log("{} input record{} dead-lettered to {} since the last such warning (at most one every {} s; "
                            + "tapline_dedup_dead_letters_total counts them all); the last at {}-{}@{}: {}", due,
                            due == 1 ? "" : "s", dlqTopic, DEAD_LETTER_WARNING_INTERVAL.toSeconds(), topic, partition,
                            offset, reason);
        }
    }
}
