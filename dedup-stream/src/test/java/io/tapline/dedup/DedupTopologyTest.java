package io.tapline.dedup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tapline.avro.Case;
import io.tapline.avro.Interaction;
import io.tapline.avro.NoiseProfile;
import io.tapline.avro.NoisyField;
import io.tapline.dedup.noise.NoiseRule;
import io.tapline.dedup.signature.Signer;
import io.tapline.dedup.noise.RouteNoise;
import io.tapline.dedup.noise.ResponseFields;
import io.tapline.dedup.state.SignatureState;
import io.tapline.dedup.testing.FakeRegistry;
import io.tapline.dedup.testing.Interactions;
import io.tapline.dedup.testing.LegacyFormats;
import io.tapline.dedup.testing.PoisonedInteractions;
import io.tapline.registry.RegistryConfig;
import io.tapline.registry.SchemaRegistryException;
import io.tapline.topics.DeadLetters;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.errors.ProcessorStateException;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DedupTopologyTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    /**
     * The job's own clock when a test starts: after every event time the tests use (they read traffic captured
     * earlier), so that none of it is taken for a clock running ahead.
     */
    private static final Instant WALL_CLOCK = T0.plus(Duration.ofDays(60));
    private static final Duration PUBLISH = Duration.ofSeconds(10);

    @TempDir
    Path stateDir;

    private FakeRegistry registry;
    private DedupSerdes serdes;
    private DedupMetrics metrics;
    private TopologyTestDriver driver;
    private TestInputTopic<byte[], byte[]> input;
    private TestOutputTopic<String, Case> cases;
    private TestOutputTopic<String, NoiseProfile> noise;
    private TestOutputTopic<byte[], byte[]> dlq;

    @BeforeEach
    void setUp() throws IOException {
        registry = new FakeRegistry();
        serdes = DedupSerdes.registry(Map.of(RegistryConfig.URL, registry.url()));
        start(DedupConfig.defaults().withSampling(3, Duration.ofHours(24), Duration.ofDays(7), PUBLISH));
    }

    private void start(DedupConfig config) {
        if (driver != null) {
            driver.close();
        }
        metrics = DedupMetrics.detached();
        Properties props = DedupTopology.streamsConfig("dedup-test", "dummy:9092", 1, 1, stateDir.toString(), Map.of());
        DedupTopology.deadLetterRecordFailures(props, config, metrics);
        driver = new TopologyTestDriver(DedupTopology.build(config, serdes, metrics), props, WALL_CLOCK);
        input = driver.createInputTopic(config.inputTopic(), new ByteArraySerializer(), new ByteArraySerializer());
        cases = driver.createOutputTopic(config.casesTopic(), new StringDeserializer(), serdes.cases().deserializer());
        noise = driver.createOutputTopic(config.noiseTopic(), new StringDeserializer(), serdes.noise().deserializer());
        dlq = driver.createOutputTopic(config.dlqTopic(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    @AfterEach
    void tearDown() {
        driver.close();
        registry.close();
    }

    private void send(Interaction interaction) {
        send(interaction, interaction.getStartedAt());
    }

    /** Sends with a Kafka record timestamp other than the interaction's {@code startedAt}. */
    private void send(Interaction interaction, Instant recordTimestamp) {
        byte[] value = serdes.interaction().serializer().serialize("tapline.interactions", interaction);
        input.pipeInput("key".getBytes(StandardCharsets.UTF_8), value, recordTimestamp);
    }

    private static Interactions owner(int id, Instant at) {
        return Interactions.get("/owners/" + id).at(at).json("{\"id\":" + id + ",\"name\":\"n" + id + "\"}");
    }

    @Test
    void shouldKeepUpToNSamplesPerSignature() {
        for (int i = 0; i < 10; i++) {
            send(owner(i, T0.plusSeconds(i)).build());
        }
        List<TestRecord<String, Case>> out = cases.readRecordsToList();
        assertEquals(3, out.size(), "one case per sample slot, not per record");
        String signatureId = out.get(0).value().getSignatureId();
        assertEquals(List.of(signatureId + "-0", signatureId + "-1", signatureId + "-2"),
                out.stream().map(TestRecord::key).collect(Collectors.toList()));
        assertEquals("/owners/{id}", out.get(0).value().getParts().getRouteTemplate());
        assertEquals(1, metrics.signatures());
        assertEquals(10, metrics.interactions());
    }

    @Test
    void shouldKeepOneCaseSetPerSignature() {
        send(owner(1, T0).build());
        send(Interactions.get("/vets").at(T0).json("[{\"id\":1}]").build());
        send(owner(2, T0).status(404).build());
        send(owner(3, T0).build());
        Map<String, Case> latest = latest(cases.readRecordsToList());
        assertEquals(3, latest.values().stream().map(Case::getSignatureId).distinct().count());
        assertEquals(4, latest.size());
        assertEquals(3, metrics.signatures());
    }

    @Test
    void shouldPublishHitCountsOnCadenceNotPerRecord() {
        for (int i = 0; i < 50; i++) {
            send(owner(i, T0.plusSeconds(i)).build());
        }
        assertEquals(3, cases.readRecordsToList().size());
        TestOutputTopic<String, byte[]> samplesChangelog = driver.createOutputTopic(
                "dedup-test-" + DedupTopology.SAMPLES_STORE + "-changelog", new StringDeserializer(),
                new ByteArrayDeserializer());
        assertEquals(3, samplesChangelog.readRecordsToList().size(), "each sample stored once");
        driver.advanceWallClockTime(PUBLISH);
        List<TestRecord<String, Case>> published = cases.readRecordsToList();
        assertEquals(3, published.size(), "one update per sample slot per interval");
        assertTrue(samplesChangelog.isEmpty(), "the counters come from the signature state: samples not rewritten");
        for (TestRecord<String, Case> r : published) {
            assertEquals(50, r.value().getHits());
            assertEquals(T0, r.value().getFirstSeen());
            assertEquals(T0.plusSeconds(49), r.value().getLastSeen());
        }
        driver.advanceWallClockTime(PUBLISH);
        assertTrue(cases.isEmpty(), "nothing changed, nothing published");
    }

    @Test
    void shouldReplaceSamplesOlderThanTtl() {
        start(DedupConfig.defaults().withSampling(2, Duration.ofHours(1), Duration.ofDays(7), PUBLISH));
        send(owner(1, T0).build());
        send(owner(2, T0.plusSeconds(60)).build());
        send(owner(3, T0.plusSeconds(120)).build()); // slots full, samples fresh: not kept
        assertEquals(2, cases.readRecordsToList().size());
        Interaction fresh = owner(4, T0.plus(Duration.ofMinutes(61))).build();
        send(fresh);
        List<TestRecord<String, Case>> replaced = cases.readRecordsToList();
        assertEquals(1, replaced.size());
        assertEquals(0, replaced.get(0).value().getSampleSlot(), "the oldest slot is refreshed");
        assertEquals(fresh.getId(), replaced.get(0).value().getSample().getId());
        assertEquals(4, replaced.get(0).value().getHits());
    }

    @Test
    void shouldNotLetASidecarClockAheadPinASampleSlot() {
        start(DedupConfig.defaults().withSampling(1, Duration.ofHours(1), Duration.ofDays(7), PUBLISH));
        send(owner(1, T0.plus(Duration.ofDays(30))).build(), T0); // the sidecar's clock runs 30 days ahead
        Case pinned = cases.readRecordsToList().get(0).value();
        assertEquals(T0, pinned.getSampledAt(), "startedAt far ahead of the record timestamp: the record timestamp counts");
        assertEquals(1, metrics.eventTimeClamped.value());

        Interaction fresh = owner(2, T0.plus(Duration.ofHours(2))).build();
        send(fresh);
        List<TestRecord<String, Case>> replaced = cases.readRecordsToList();
        assertEquals(1, replaced.size(), "the sample expires one TTL after its real capture time");
        assertEquals(fresh.getId(), replaced.get(0).value().getSample().getId());
        assertEquals(T0.plus(Duration.ofHours(2)), replaced.get(0).value().getLastSeen());

        send(owner(3, T0.plus(Duration.ofHours(2)).plusSeconds(30)).build(), T0.plus(Duration.ofHours(2)));
        assertEquals(1, metrics.eventTimeClamped.value(), "a startedAt ahead within the allowed skew is kept");
    }

    @Test
    void shouldNotLetARecordFromAClockFarAheadRetireEveryOtherSignature() {
        // A broker that takes far-future record timestamps (before Kafka 4.0, or message.timestamp.after.max.ms
        // raised) lets a sidecar whose clock runs a year ahead stamp its records a year ahead as well.
        send(owner(1, WALL_CLOCK).build());
        send(Interactions.get("/vets").at(WALL_CLOCK).build());
        Map<String, Case> before = latest(cases.readRecordsToList());
        assertEquals(2, before.size());
        Instant nextYear = WALL_CLOCK.plus(Duration.ofDays(365));
        send(Interactions.get("/specialties").at(nextYear).build(), nextYear);
        Case ahead = cases.readRecordsToList().get(0).value();
        assertEquals(WALL_CLOCK, ahead.getSampledAt(), "ahead of the job's own clock: that clock is the event time");
        assertEquals(1, metrics.eventTimeClamped.value());

        driver.advanceWallClockTime(PUBLISH);
        assertTrue(cases.readRecordsToList().stream().noneMatch(r -> r.value() == null),
                "no signature is retired for being a year older than one bad clock");
        assertEquals(3, metrics.signatures());
        driver.advanceWallClockTime(PUBLISH);
        assertTrue(cases.readRecordsToList().stream().noneMatch(r -> r.value() == null));
    }

    @Test
    void shouldRetireSignaturesNotSeenForRetentionWithTombstones() {
        start(DedupConfig.defaults().withSampling(3, Duration.ofHours(24), Duration.ofHours(2), PUBLISH));
        send(owner(1, T0).build());
        send(owner(2, T0).build());
        send(Interactions.get("/vets").at(T0).build());
        Map<String, Case> before = latest(cases.readRecordsToList());
        assertEquals(3, before.size());
        send(Interactions.get("/vets").at(T0.plus(Duration.ofHours(3))).build()); // moves event time on
        driver.advanceWallClockTime(PUBLISH);
        List<TestRecord<String, Case>> after = cases.readRecordsToList();
        List<String> tombstones = after.stream().filter(r -> r.value() == null).map(TestRecord::key).sorted()
                .collect(Collectors.toList());
        List<String> ownerCases = before.entrySet().stream()
                .filter(e -> e.getValue().getParts().getRouteTemplate().equals("/owners/{id}")).map(Map.Entry::getKey)
                .sorted().collect(Collectors.toList());
        assertEquals(ownerCases, tombstones);
        assertEquals(1, metrics.signatures());
        Map<String, Case> live = latest(after);
        live.values().removeIf(v -> v == null);
        assertEquals(2, live.values().iterator().next().getHits(), "the /vets signature stays, with its hits");
    }

    @Test
    void shouldMeasureRetirementInEventTimeSoOldTrafficProducedAgainRetiresNoFreshCase() {
        start(DedupConfig.defaults().withSampling(3, Duration.ofHours(24), Duration.ofHours(2), PUBLISH));
        send(Interactions.get("/vets").at(T0).build());
        Case freshCase = cases.readRecordsToList().get(0).value();
        String fresh = freshCase.getCaseId();
        // A month-old interaction produced again now: its record timestamp is 3 h (over the retention) later.
        send(owner(1, T0.minus(Duration.ofDays(30))).build(), T0.plus(Duration.ofHours(3)));
        driver.advanceWallClockTime(PUBLISH);
        List<TestRecord<String, Case>> out = cases.readRecordsToList();
        List<String> tombstones = out.stream().filter(r -> r.value() == null).map(TestRecord::key)
                .collect(Collectors.toList());
        assertTrue(!tombstones.contains(fresh), "the fresh /vets case stays: " + tombstones);
        assertEquals(1, tombstones.size(), "the month-old signature is retired: it is older than the retention");
        assertTrue(tombstones.get(0).startsWith(out.get(0).value().getSignatureId()), tombstones.get(0));
        assertEquals(1, metrics.signatures());

        send(Interactions.get("/vets").at(T0.plus(Duration.ofHours(2)).plusSeconds(1)).build()); // event time moves
        send(Interactions.get("/specialties").at(T0.plus(Duration.ofHours(2)).plusSeconds(1)).build());
        driver.advanceWallClockTime(PUBLISH);
        assertTrue(cases.readRecordsToList().stream().noneMatch(r -> r.value() == null),
                "lastSeen of /vets moved with it");
        send(Interactions.get("/specialties").at(T0.plus(Duration.ofHours(4)).plusSeconds(2)).build());
        driver.advanceWallClockTime(PUBLISH);
        assertEquals(List.of(fresh, freshCase.getSignatureId() + "-1"), cases.readRecordsToList().stream()
                .filter(r -> r.value() == null).map(TestRecord::key).sorted().collect(Collectors.toList()),
                "both /vets cases retire 2 h after /vets was last seen");
    }

    @Test
    void shouldCountAndDropNewSignaturesBeyondTheTaskBound() {
        start(DedupConfig.defaults().withSampling(3, Duration.ofHours(24), Duration.ofDays(7), PUBLISH)
                .withMaxSignaturesPerTask(2));
        send(owner(1, T0).build());
        send(Interactions.get("/vets").at(T0).build());
        send(Interactions.get("/specialties").at(T0).build()); // a third signature: over the bound
        send(owner(2, T0).build()); // a known signature keeps counting
        Map<String, Case> latest = latest(cases.readRecordsToList());
        assertEquals(Set.of("/owners/{id}", "/vets"), latest.values().stream()
                .map(c -> c.getParts().getRouteTemplate()).collect(Collectors.toSet()));
        assertEquals(2, metrics.signatures());
        assertEquals(1, metrics.signaturesRejected.value());
    }

    @Test
    void shouldSendUndecodableRecordsToDlqAndContinue() {
        byte[] garbage = "not avro".getBytes(StandardCharsets.UTF_8);
        input.pipeInput("k1".getBytes(StandardCharsets.UTF_8), garbage, T0);
        byte[] unknownSchema = {0, 0, 0, 0x7f, 0x7f, 1, 2, 3};
        input.pipeInput("k2".getBytes(StandardCharsets.UTF_8), unknownSchema, T0);
        // a known schema id, then an id string of 2147483637 bytes in 5: refused before it is allocated
        byte[] hugeString = java.util.Arrays.copyOf(serdes.interaction().serializer().serialize("tapline.interactions",
                owner(1, T0).build()), 10);
        System.arraycopy(new byte[] {(byte) 0xea, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f}, 0, hugeString, 5, 5);
        input.pipeInput("k3".getBytes(StandardCharsets.UTF_8), hugeString, T0);
        send(owner(1, T0).build());

        List<TestRecord<byte[], byte[]>> dead = dlq.readRecordsToList();
        assertEquals(3, dead.size());
        assertArrayEquals(garbage, dead.get(0).value());
        assertArrayEquals("k1".getBytes(StandardCharsets.UTF_8), dead.get(0).key());
        assertEquals("tapline.interactions", DeadLetters.header(dead.get(0).headers(), DeadLetters.SOURCE_TOPIC));
        assertEquals("0", DeadLetters.header(dead.get(0).headers(), DeadLetters.SOURCE_OFFSET));
        assertEquals("1", DeadLetters.header(dead.get(1).headers(), DeadLetters.SOURCE_OFFSET));
        assertEquals("0", DeadLetters.header(dead.get(0).headers(), DeadLetters.SOURCE_PARTITION));
        assertTrue(DeadLetters.header(dead.get(0).headers(), DeadLetters.ERROR).contains("magic byte"),
                DeadLetters.header(dead.get(0).headers(), DeadLetters.ERROR));
        assertTrue(DeadLetters.header(dead.get(1).headers(), DeadLetters.ERROR).contains("schema id 32639"),
                DeadLetters.header(dead.get(1).headers(), DeadLetters.ERROR));
        assertEquals("dedup-stream", DeadLetters.header(dead.get(1).headers(), DeadLetters.COMPONENT));
        assertEquals("source", DeadLetters.header(dead.get(1).headers(), RecordDeadLetters.BYTES),
                "the record's own bytes, and the dead letter says so");
        assertTrue(DeadLetters.header(dead.get(2).headers(), DeadLetters.ERROR).contains("declares a string of "
                + (Integer.MAX_VALUE - 10) + " bytes"), DeadLetters.header(dead.get(2).headers(), DeadLetters.ERROR));
        assertEquals(1, cases.readRecordsToList().size(), "the stream continues after bad records");
        assertEquals(3, metrics.deadLetters());
    }

    @Test
    void shouldDeadLetterANullValueKeepingItsKey() {
        input.pipeInput("k1".getBytes(StandardCharsets.UTF_8), null, T0);
        send(owner(1, T0).build());

        List<TestRecord<byte[], byte[]>> dead = dlq.readRecordsToList();
        assertEquals(1, dead.size());
        assertArrayEquals("k1".getBytes(StandardCharsets.UTF_8), dead.get(0).key());
        assertNull(dead.get(0).value());
        assertTrue(DeadLetters.header(dead.get(0).headers(), DeadLetters.ERROR).startsWith("null value"),
                DeadLetters.header(dead.get(0).headers(), DeadLetters.ERROR));
        assertEquals("dedup-stream", DeadLetters.header(dead.get(0).headers(), DeadLetters.COMPONENT));
        assertEquals(1, cases.readRecordsToList().size(), "the stream continues after a null value");
        assertEquals(1, metrics.deadLetters());
    }

    /**
     * Every record dead-lettered (a producer writing another format to the topic) used to leave nothing in the log:
     * only the counter said so. Now a warning with the count, at most one every 10 s, so neither silent nor a line
     * per record.
     */
    @Test
    void shouldWarnOfDeadLettersWithACountNotOncePerRecord() {
        java.io.ByteArrayOutputStream log = new java.io.ByteArrayOutputStream();
        io.tapline.logging.TaplineLogging.Format format = io.tapline.logging.TaplineLogging.format();
        org.slf4j.event.Level level = io.tapline.logging.TaplineLogging.level();
        io.tapline.logging.TaplineLogging.output(new java.io.PrintStream(log, true, StandardCharsets.UTF_8));
        io.tapline.logging.TaplineLogging.configure(io.tapline.logging.TaplineLogging.Format.TEXT, org.slf4j.event.Level.INFO);
        try {
            for (int i = 0; i < 50; i++) {
                input.pipeInput(("k" + i).getBytes(StandardCharsets.UTF_8), "not avro".getBytes(StandardCharsets.UTF_8), T0);
            }
        } finally {
            io.tapline.logging.TaplineLogging.flush(java.time.Duration.ofSeconds(10));
            io.tapline.logging.TaplineLogging.output(System.err);
            io.tapline.logging.TaplineLogging.configure(format, level);
        }

        assertEquals(50, dlq.readRecordsToList().size());
        List<String> warnings = log.toString(StandardCharsets.UTF_8).lines().filter(l -> l.contains(" WARN ")).toList();
        assertEquals(1, warnings.size(), log.toString(StandardCharsets.UTF_8));
        assertTrue(warnings.get(0).contains("1 input record dead-lettered to tapline.dlq") && warnings.get(0).contains("magic byte"),
                warnings.get(0));
    }

    /**
     * An exception from Tapline's own code for one record (a bug, or input it does not expect, as the number
     * {@code 1e-2147483648} once was to noise learning) failed the stream thread; the replaced thread read the same
     * record and failed again until the restart budget shut the job down, stopping dedup for every service. Now that
     * record is a dead letter, with its bytes and the failing step in its reason, written by Kafka Streams with the
     * task's other output (in its transaction), and the records after it go on.
     */
    @Test
    void shouldDeadLetterARecordWhoseProcessingFailsAndGoOn() {
        poisonWith(() -> new IllegalArgumentException("unexpected input"));
        send(owner(1, T0).build());
        byte[] poison = serdes.interaction().serializer().serialize("tapline.interactions",
                owner(2, T0).service(POISONED).build());
        input.pipeInput(new TestRecord<>("poison".getBytes(StandardCharsets.UTF_8), poison,
                new org.apache.kafka.common.header.internals.RecordHeaders()
                        .add("traceparent", "00-abc".getBytes(StandardCharsets.UTF_8)), T0));
        Interaction after = owner(3, T0).build();
        send(after);
        Interaction otherRoute = Interactions.get("/vets").at(T0).build();
        send(otherRoute);

        List<TestRecord<byte[], byte[]>> dead = dlq.readRecordsToList();
        assertEquals(1, dead.size());
        assertArrayEquals("poison".getBytes(StandardCharsets.UTF_8), dead.get(0).key());
        assertArrayEquals(poison, dead.get(0).value(), "the record's original bytes");
        assertEquals(T0, dead.get(0).getRecordTime());
        assertEquals("00-abc", DeadLetters.header(dead.get(0).headers(), "traceparent"), "the record's own headers");
        assertEquals("tapline.interactions", DeadLetters.header(dead.get(0).headers(), DeadLetters.SOURCE_TOPIC));
        assertEquals("0", DeadLetters.header(dead.get(0).headers(), DeadLetters.SOURCE_PARTITION));
        assertEquals("1", DeadLetters.header(dead.get(0).headers(), DeadLetters.SOURCE_OFFSET));
        assertEquals("dedup-stream", DeadLetters.header(dead.get(0).headers(), DeadLetters.COMPONENT));
        assertEquals("source", DeadLetters.header(dead.get(0).headers(), RecordDeadLetters.BYTES));
        String error = DeadLetters.header(dead.get(0).headers(), DeadLetters.ERROR);
        assertTrue(error.startsWith("processing failed in decode-and-sign: java.lang.IllegalArgumentException: "
                + "unexpected input"), error);
        Set<String> sampled = cases.readValuesToList().stream().map(c -> c.getSample().getId()).collect(Collectors.toSet());
        assertTrue(sampled.contains(after.getId()) && sampled.contains(otherRoute.getId()),
                "the records after the failing one are processed: " + sampled);
        assertEquals(1, metrics.processingDeadLetters.value());
        assertEquals(0, metrics.deadLetters.value(), "counted apart from the decode step's dead letters");
    }

    /**
     * A failure of Kafka or of state (here a store that cannot write) is no record's fault: dead-lettering would set
     * aside every record while, say, the disk is full. It fails the task as before.
     */
    @Test
    void shouldFailTheTaskWhenProcessingFailsInKafkaOrState() {
        poisonWith(() -> new ProcessorStateException("Error while putting key: No space left on device"));
        byte[] poison = serdes.interaction().serializer().serialize("tapline.interactions",
                owner(1, T0).service(POISONED).build());
        StreamsException e = assertThrows(StreamsException.class,
                () -> input.pipeInput("poison".getBytes(StandardCharsets.UTF_8), poison, T0));
        Throwable cause = e;
        while (cause != null && !(cause instanceof ProcessorStateException)) {
            cause = cause.getCause();
        }
        assertTrue(cause != null, String.valueOf(e));
        assertTrue(dlq.isEmpty(), "a failure of state must not dead-letter the record");
        assertEquals(0, metrics.deadLetters());
    }

    private static final String POISONED = PoisonedInteractions.SERVICE;

    /**
     * Restarts the driver with an interaction deserializer that hands the decode step, for interactions of service
     * {@value #POISONED}, an interaction whose {@code startedAt} throws {@code failure}: the step's own code fails for
     * that record after decoding and signing it.
     */
    private void poisonWith(java.util.function.Supplier<RuntimeException> failure) {
        serdes = new DedupSerdes(PoisonedInteractions.failingWith(serdes.interaction(), failure), serdes.cases(),
                serdes.noise());
        start(DedupConfig.defaults().withSampling(3, Duration.ofHours(24), Duration.ofDays(7), PUBLISH));
    }

    @Test
    void shouldFailInsteadOfDeadLetteringWhenTheRegistryIsUnreachable() {
        byte[] framed = {0, 0, 0, 0, 77, 2, 'x'}; // schema id 77, never fetched
        registry.close();
        StreamsException e = assertThrows(StreamsException.class,
                () -> input.pipeInput("k".getBytes(StandardCharsets.UTF_8), framed, T0));
        Throwable cause = e;
        while (cause != null && !(cause instanceof SchemaRegistryException)) {
            cause = cause.getCause();
        }
        assertTrue(cause instanceof SchemaRegistryException sre && sre.retriable(), String.valueOf(e));
        assertTrue(dlq.isEmpty(), "a good record must not be dead-lettered because the registry is down");
    }

    /**
     * A case the cases serializer cannot encode (here one of route {@code /poison}) was stored as a sample before the
     * sink failed on it; the record was dead-lettered, but the next publication of hit counts (a punctuation: no record
     * to set aside) wrote the stored case again and failed the stream thread, after every restart, until the restart
     * budget shut the job down. Now the dedup step encodes the case before it stores anything of the record: the record
     * is a dead letter (the repartition record, its bytes kept: nothing was written for it), the case is stored
     * nowhere, and the publications go on.
     */
    @Test
    void shouldDeadLetterARecordWhoseCaseCannotBeEncodedWithoutStoringIt() {
        serdes = new DedupSerdes(serdes.interaction(), failingToEncode(serdes.cases(), "/poison"), serdes.noise());
        start(DedupConfig.defaults().withSampling(3, Duration.ofHours(24), Duration.ofDays(7), PUBLISH));
        Interaction poison = Interactions.get("/poison").at(T0).json("{}").build();
        send(poison);
        Interaction after = owner(1, T0).build();
        send(after);

        List<TestRecord<byte[], byte[]>> dead = dlq.readRecordsToList();
        assertEquals(1, dead.size());
        String signatureId = Signer.defaults().sign(poison).id();
        String error = DeadLetters.header(dead.get(0).headers(), DeadLetters.ERROR);
        assertEquals("processing failed in dedup: io.tapline.dedup.UnencodableOutputException: case " + signatureId
                + "-0 cannot be encoded for tapline.cases <- caused by "
                + "org.apache.kafka.common.errors.SerializationException: cannot encode io.tapline.avro.Case <- caused by "
                + "java.lang.NullPointerException: null in a required field", error);
        assertEquals("dedup-test-by-signature-repartition",
                DeadLetters.header(dead.get(0).headers(), DeadLetters.SOURCE_TOPIC));
        assertEquals(signatureId, new String(dead.get(0).key(), StandardCharsets.UTF_8),
                "the repartition record's key, the signature id");
        assertTrue(dead.get(0).value() != null && dead.get(0).value().length > 0, "the repartition record's value");
        assertEquals("source", DeadLetters.header(dead.get(0).headers(), RecordDeadLetters.BYTES),
                "the repartition record's bytes as read");
        assertEquals("0", DeadLetters.header(dead.get(0).headers(), DeadLetters.SOURCE_OFFSET));
        assertEquals(List.of(after.getId()), cases.readValuesToList().stream().map(c -> c.getSample().getId()).toList(),
                "the stream goes on");
        assertEquals(1, metrics.processingDeadLetters.value());
        assertEquals(Set.of(Signer.defaults().sign(after).id() + "-0"),
                copy(driver.getKeyValueStore(DedupTopology.SAMPLES_STORE)).keySet(), "the poisoned case is not stored");
        assertNull(driver.getKeyValueStore(DedupTopology.SIGNATURES_STORE).get(signatureId));
        assertEquals(1, metrics.signatures());

        send(owner(1, T0.plusSeconds(1)).build());
        cases.readRecordsToList();
        driver.advanceWallClockTime(PUBLISH); // failed the stream thread on the stored poisoned case
        List<Case> published = cases.readValuesToList();
        assertEquals(List.of(2L, 2L), published.stream().map(Case::getHits).toList(), "the hit counts are published");
        assertEquals(0, metrics.unencodableCases.value(), "no stored case was removed");
    }

    /**
     * A case stored by a release that did not encode it before storing it (or one the serializer refuses since) would
     * fail every publication. The publication removes it: its stored sample is deleted, its case tombstoned and its
     * slot freed for a new sample, counted in {@code tapline_dedup_unencodable_removed_total}; the other cases are
     * published and the stream thread goes on.
     */
    @Test
    void shouldRemoveAStoredCaseThatCannotBeEncodedInsteadOfFailingEveryPublication() {
        Interaction poison = Interactions.get("/poison").at(T0).json("{}").build();
        send(poison);
        send(owner(1, T0).build());
        Map<String, SignatureState> signatureStates = copy(driver.getKeyValueStore(DedupTopology.SIGNATURES_STORE));
        Map<String, Case> sampleCases = copy(driver.getKeyValueStore(DedupTopology.SAMPLES_STORE));
        assertEquals(2, sampleCases.size());

        serdes = new DedupSerdes(serdes.interaction(), failingToEncode(serdes.cases(), "/poison"), serdes.noise());
        start(DedupConfig.defaults().withSampling(3, Duration.ofHours(24), Duration.ofDays(7), PUBLISH));
        KeyValueStore<String, SignatureState> signatureStore = driver.getKeyValueStore(DedupTopology.SIGNATURES_STORE);
        KeyValueStore<String, Case> sampleStore = driver.getKeyValueStore(DedupTopology.SAMPLES_STORE);
        signatureStates.forEach(signatureStore::put); // dirty: their counters are published next
        sampleCases.forEach(sampleStore::put);
        String poisoned = Signer.defaults().sign(poison).id();
        send(Interactions.get("/vets").at(T0).build()); // moves event time on
        cases.readRecordsToList();

        driver.advanceWallClockTime(PUBLISH); // failed the stream thread, at every publication after every restart
        List<TestRecord<String, Case>> published = cases.readRecordsToList();
        assertEquals(List.of(poisoned + "-0"), tombstones(published));
        assertEquals(List.of("/owners/{id}", "/vets"), published.stream().filter(r -> r.value() != null)
                .map(r -> r.value().getParts().getRouteTemplate()).sorted().toList());
        assertNull(sampleStore.get(poisoned + "-0"));
        assertEquals(List.of(), signatureStore.get(poisoned).slots(), "the slot is free for a new sample");
        assertEquals(1, metrics.unencodableCases.value());
        assertTrue(dlq.isEmpty(), "no record to set aside");

        driver.advanceWallClockTime(PUBLISH);
        assertTrue(cases.readRecordsToList().isEmpty(), "removed once");
        assertEquals(1, metrics.unencodableCases.value());
    }

    /**
     * A {@code ClassCastException} of the cases serializer (Avro's for a field of the wrong type) never reached the
     * production exception handler: Kafka Streams took it for a wrong serde and failed the stream thread. The dedup step
     * encodes the case itself now, and the record is a dead letter as for any other failure to encode.
     */
    @Test
    void shouldDeadLetterARecordWhoseCaseTheSerializerFailsOnWithAClassCastException() {
        org.apache.kafka.common.serialization.Serde<Case> real = serdes.cases();
        serdes = new DedupSerdes(serdes.interaction(), failingToEncode(real, c -> "/poison".equals(c.getParts()
                .getRouteTemplate()), () -> new ClassCastException("value 7 (a java.lang.Integer) is not a string "
                + "in field service")), serdes.noise());
        start(DedupConfig.defaults().withSampling(3, Duration.ofHours(24), Duration.ofDays(7), PUBLISH));
        send(Interactions.get("/poison").at(T0).json("{}").build());
        Interaction after = owner(1, T0).build();
        send(after);

        List<TestRecord<byte[], byte[]>> dead = dlq.readRecordsToList();
        assertEquals(1, dead.size());
        String error = DeadLetters.header(dead.get(0).headers(), DeadLetters.ERROR);
        assertTrue(error.startsWith("processing failed in dedup: io.tapline.dedup.UnencodableOutputException: ")
                && error.endsWith("<- caused by java.lang.ClassCastException: value 7 (a java.lang.Integer) is not a "
                + "string in field service"), error);
        assertEquals(List.of(after.getId()), cases.readValuesToList().stream().map(c -> c.getSample().getId()).toList());
    }

    /**
     * A noise profile the noise serializer cannot encode failed the stream thread at every publication (profiles are
     * only written there, where no record can be set aside), after every restart. The publication now removes the
     * route's counters and tombstones its profile, counted in {@code tapline_dedup_unencodable_removed_total}; the other
     * routes' profiles are published.
     */
    @Test
    void shouldRemoveANoiseProfileThatCannotBeEncodedInsteadOfFailingEveryPublication() {
        org.apache.kafka.common.serialization.Serde<NoiseProfile> real = serdes.noise();
        serdes = new DedupSerdes(serdes.interaction(), serdes.cases(), failingToEncode(real,
                p -> p.getRoute().equals("GET /owners/{id}"), () -> new org.apache.kafka.common.errors
                        .SerializationException("cannot encode io.tapline.avro.NoiseProfile",
                        new NullPointerException("null in a required field"))));
        start(DedupConfig.defaults().withSampling(3, Duration.ofHours(24), Duration.ofDays(7), PUBLISH));
        for (int i = 0; i < 3; i++) {
            send(Interactions.get("/owners/7").at(T0.plusSeconds(i)).json("{\"id\":7,\"at\":" + i + "}").build());
            send(Interactions.get("/vets").at(T0.plusSeconds(i)).json("{\"at\":" + i + "}").build());
        }

        driver.advanceWallClockTime(PUBLISH); // failed the stream thread, at every publication after every restart
        Map<String, NoiseProfile> published = new TreeMap<>();
        noise.readRecordsToList().forEach(r -> published.put(r.key(), r.value()));
        assertEquals(Set.of("petclinic GET /owners/{id}", "petclinic GET /vets"), published.keySet());
        assertNull(published.get("petclinic GET /owners/{id}"), "the route's profile is retired");
        assertEquals(2, published.get("petclinic GET /vets").getComparedPairs());
        assertNull(driver.getKeyValueStore(DedupTopology.NOISE_STORE).get("petclinic GET /owners/{id}"),
                "its counters are removed");
        assertEquals(1, metrics.unencodableNoiseProfiles.value());
        assertTrue(dlq.isEmpty(), "no record to set aside");

        send(Interactions.get("/owners/7").at(T0.plusSeconds(5)).json("{\"id\":7,\"at\":5}").build());
        driver.advanceWallClockTime(PUBLISH); // learned again, and removed again: the stream goes on
        assertEquals(2, metrics.unencodableNoiseProfiles.value());
        assertTrue(dlq.isEmpty());
    }

    /**
     * A registry that cannot be reached as the cases serializer registers the case schema fails every case alike: the
     * task fails (and retries the record) instead of dead-lettering good records.
     */
    @Test
    void shouldFailInsteadOfDeadLetteringWhenTheRegistryIsUnreachableForACase() {
        byte[] value = serdes.interaction().serializer().serialize("tapline.interactions", owner(1, T0).build());
        registry.close();
        StreamsException e = assertThrows(StreamsException.class,
                () -> input.pipeInput("k".getBytes(StandardCharsets.UTF_8), value, T0));
        Throwable cause = e;
        while (cause != null && !(cause instanceof SchemaRegistryException)) {
            cause = cause.getCause();
        }
        assertTrue(cause instanceof SchemaRegistryException sre && sre.retriable(), String.valueOf(e));
        assertTrue(dlq.isEmpty(), "a good record must not be dead-lettered because the registry is down");
        assertEquals(0, metrics.deadLetters());
    }

    /** {@code real}, but its serializer fails to encode the cases of {@code route} as Avro does a null in a required field. */
    private static org.apache.kafka.common.serialization.Serde<Case> failingToEncode(
            org.apache.kafka.common.serialization.Serde<Case> real, String route) {
        return failingToEncode(real, value -> route.equals(value.getParts().getRouteTemplate()),
                () -> new org.apache.kafka.common.errors.SerializationException("cannot encode io.tapline.avro.Case",
                        new NullPointerException("null in a required field")));
    }

    /** {@code real}, but its serializer throws {@code failure} for the values {@code poisoned} accepts. */
    private static <T> org.apache.kafka.common.serialization.Serde<T> failingToEncode(
            org.apache.kafka.common.serialization.Serde<T> real, java.util.function.Predicate<T> poisoned,
            java.util.function.Supplier<RuntimeException> failure) {
        org.apache.kafka.common.serialization.Serializer<T> failing = (topic, value) -> {
            if (value != null && poisoned.test(value)) {
                throw failure.get();
            }
            return real.serializer().serialize(topic, value);
        };
        return org.apache.kafka.common.serialization.Serdes.serdeFrom(failing, real.deserializer());
    }

    @Test
    void shouldFailInsteadOfDeadLetteringWhenTheRegistryRefusesAccess() {
        // Written by another client: the topology's deserializer has not seen the schema id yet.
        DedupSerdes writer = DedupSerdes.registry(Map.of(RegistryConfig.URL, registry.url()));
        byte[] framed = writer.interaction().serializer().serialize("tapline.interactions", owner(1, T0).build());
        registry.refuseWith(401);
        StreamsException e = assertThrows(StreamsException.class,
                () -> input.pipeInput("k".getBytes(StandardCharsets.UTF_8), framed, T0));
        assertTrue(String.valueOf(e.getCause()).contains("401"), String.valueOf(e));
        assertTrue(dlq.isEmpty(), "bad registry credentials must not dead-letter good records");
    }

    @Test
    void shouldDeadLetterARecordWhoseSchemaIdIsNotAvro() {
        int id = registry.put("syntax = \"proto3\"; message Interaction { string id = 1; }", "PROTOBUF");
        byte[] framed = {0, (byte) (id >>> 24), (byte) (id >>> 16), (byte) (id >>> 8), (byte) id, 2, 'x'};
        input.pipeInput("k".getBytes(StandardCharsets.UTF_8), framed, T0);
        send(owner(1, T0).build());
        List<TestRecord<byte[], byte[]>> dead = dlq.readRecordsToList();
        assertEquals(1, dead.size());
        assertTrue(DeadLetters.header(dead.get(0).headers(), DeadLetters.ERROR).contains("PROTOBUF, not AVRO"),
                DeadLetters.header(dead.get(0).headers(), DeadLetters.ERROR));
        assertEquals(1, cases.readRecordsToList().size(), "the stream continues");
    }

    /**
     * Corrupt bytes reach the decoder as many exception types (an absurd string length is an
     * UnsupportedOperationException): every record is either signed or dead-lettered, and the stream never fails.
     */
    @Test
    void shouldSignOrDeadLetterEveryCorruptedRecordWithoutFailing() {
        byte[] valid = serdes.interaction().serializer().serialize("tapline.interactions", owner(1, T0).build());
        Random random = new Random(42);
        int records = 1500;
        for (int i = 0; i < records; i++) {
            byte[] corrupt = valid.clone();
            for (int flips = 1 + random.nextInt(4); flips > 0; flips--) {
                corrupt[5 + random.nextInt(corrupt.length - 5)] = (byte) random.nextInt(256);
            }
            input.pipeInput("k".getBytes(StandardCharsets.UTF_8), corrupt, T0);
        }
        assertEquals(records, metrics.interactions() + metrics.deadLetters());
        assertTrue(metrics.deadLetters() > 0, "some corrupted records are undecodable");
    }

    @Test
    void shouldSendRecordsOfAnIncompatibleSchemaToDlq() {
        NoiseProfile wrongType = NoiseProfile.newBuilder().setRoute("GET /x").setUpdatedAt(T0).build();
        byte[] value = serdes.noise().serializer().serialize("tapline.interactions", wrongType);
        input.pipeInput(null, value, T0);
        send(owner(1, T0).build());
        List<TestRecord<byte[], byte[]>> dead = dlq.readRecordsToList();
        assertEquals(1, dead.size());
        assertArrayEquals(value, dead.get(0).value());
        assertTrue(DeadLetters.header(dead.get(0).headers(), DeadLetters.ERROR).contains("io.tapline.avro.Interaction"),
                DeadLetters.header(dead.get(0).headers(), DeadLetters.ERROR));
        assertEquals(1, cases.readRecordsToList().size());
    }

    @Test
    void shouldLearnNoisyFieldsFromIdenticalRequests() {
        for (int i = 0; i < 6; i++) {
            send(Interactions.get("/owners/7").at(T0.plusSeconds(i))
                    .responseHeader("Date", "Thu, 01 Jan 2026 00:00:0" + i + " GMT")
                    .json("{\"id\":7,\"name\":\"George\",\"generatedAt\":\"2026-01-01T00:00:0" + i
                            + "Z\",\"items\":[{\"sku\":\"a\",\"requestId\":\"r" + i + "\"}]}").build());
        }
        send(Interactions.get("/owners/8").at(T0.plusSeconds(9)) // another request: never paired with /owners/7
                .json("{\"id\":8,\"name\":\"Betty\",\"generatedAt\":\"x\",\"items\":[{\"sku\":\"b\",\"requestId\":\"q\"}]}")
                .build());
        driver.advanceWallClockTime(PUBLISH);
        List<TestRecord<String, NoiseProfile>> profiles = noise.readRecordsToList();
        assertEquals(1, profiles.size());
        NoiseProfile profile = profiles.get(0).value();
        assertEquals("petclinic GET /owners/{id}", profiles.get(0).key());
        assertEquals("GET /owners/{id}", profile.getRoute());
        assertEquals("petclinic", profile.getService());
        // 6 identical requests: each after the first is compared with the latest stored sample of the same request,
        // once.
        assertEquals(5, profile.getComparedPairs());
        assertEquals(List.of("$.generatedAt", "$.items[*].requestId", "header:date"),
                profile.getFields().stream().map(NoisyField::getPath).collect(Collectors.toList()));
        for (NoisyField field : profile.getFields()) {
            assertEquals(profile.getComparedPairs(), field.getDifferingPairs());
        }
    }

    @Test
    void shouldLearnWhichFieldsAreNoisyOnlyWhileArrayOrderIsCompared() {
        // Identical requests whose answer lists the same items in either order (built from a hash map), each item
        // stamped per answer: the skus differ by position only, which a replay ignoring array order does not report.
        for (int i = 0; i < 6; i++) {
            String a = "{\"sku\":\"a\",\"at\":" + i + "}";
            String b = "{\"sku\":\"b\",\"at\":" + i + "}";
            send(Interactions.get("/carts/7").at(T0.plusSeconds(i))
                    .json("{\"items\":[" + (i % 2 == 0 ? a + "," + b : b + "," + a) + "]}").build());
        }
        driver.advanceWallClockTime(PUBLISH);
        NoiseProfile profile = noise.readRecordsToList().get(0).value();
        assertEquals(List.of("$.items[*].at", "$.items[*].sku"),
                profile.getFields().stream().map(NoisyField::getPath).toList());
        assertEquals(List.of(true, false), profile.getFields().stream().map(NoisyField::getNoisyInAnyOrder).toList(),
                "the skus are compared by a replay ignoring array order");
        assertEquals(List.of(5L, 0L), profile.getFields().stream().map(NoisyField::getAnyOrderDifferingPairs).toList());
    }

    @Test
    void shouldLearnHowFarANoisyNumberVariedBetweenIdenticalRequests() {
        // Identical requests: a total computed in floating point that differs in its last digits, a count that
        // alternates, a stamp, and a list of rates one longer every other answer (an element more is no number's
        // variation, which a numeric tolerance would not absorb).
        String[] totals = {"10.000001", "10.000002", "10.000001", "10.000003", "10.000002", "10.000001"};
        for (int i = 0; i < totals.length; i++) {
            send(Interactions.get("/invoices/7").at(T0.plusSeconds(i))
                    .json("{\"total\":" + totals[i] + ",\"count\":" + (i % 2 == 0 ? 1 : 3) + ",\"at\":\"t" + i
                            + "\",\"rates\":" + (i % 2 == 0 ? "[1.5,2.5]" : "[1.5,2.5,3.5]") + "}").build());
        }
        driver.advanceWallClockTime(PUBLISH);
        NoiseProfile profile = noise.readRecordsToList().get(0).value();
        assertEquals(List.of("$.at", "$.count", "$.rates[*]", "$.total"),
                profile.getFields().stream().map(NoisyField::getPath).toList());
        assertEquals(Arrays.asList(null, 2.0, null, 2.0E-6),
                profile.getFields().stream().map(NoisyField::getNumericSpread).toList(),
                "the largest difference at one position, where every difference was a number's");
    }

    @Test
    void shouldLearnNoiseAtThePathsTheReplayWorkerNamesItsDifferencesBy() {
        // Identical requests (one signature: the shape of an answer leaves out values and the length of a list, and
        // that of what the app sends a dependency is not in it): a price written 1 or 1.0, one number to the replay
        // worker; a list of events one longer each time, an element past the other's end there ($.events[5]); and in
        // what the app sends audit, a reference written "7" or 7 (a type change there) and an optional hint object
        // (a member missing there, $.hint).
        for (int i = 0; i < 6; i++) {
            StringBuilder events = new StringBuilder();
            for (int e = 0; e <= i; e++) {
                events.append(e == 0 ? "" : ",").append("{\"kind\":\"seen\"}");
            }
            boolean even = i % 2 == 0;
            send(Interactions.get("/orders/7").at(T0.plusSeconds(i))
                    .call("POST", "audit", "/log", "application/json",
                            "{\"ref\":" + (even ? "\"7\"" : "7") + (even ? ",\"hint\":{\"text\":\"x\"}" : "") + "}", 200)
                    .json("{\"id\":7,\"price\":" + (even ? "1" : "1.0") + ",\"events\":[" + events + "]}").build());
        }
        driver.advanceWallClockTime(PUBLISH);
        NoiseProfile profile = noise.readRecordsToList().get(0).value();
        assertEquals(5, profile.getComparedPairs());
        assertEquals(List.of("$.events[*]", "$.events[*].kind", "call:POST audit /log $.hint",
                        "call:POST audit /log $.hint.text", "call:POST audit /log $.ref"),
                profile.getFields().stream().map(NoisyField::getPath).toList(), "the price stays compared");
    }

    @Test
    void shouldLearnNoiseSeparatelyForEachServiceOfARoute() {
        // The same route on two services: generatedAt changes on every catalog answer, never on pricing's.
        for (int i = 0; i < 6; i++) {
            send(Interactions.get("/items/1").service("catalog").at(T0.plusSeconds(i))
                    .json("{\"id\":1,\"generatedAt\":\"t" + i + "\"}").build());
            send(Interactions.get("/items/1").service("pricing").at(T0.plusSeconds(i))
                    .json("{\"id\":1,\"generatedAt\":\"fixed\"}").build());
        }
        driver.advanceWallClockTime(PUBLISH);
        Map<String, NoiseProfile> profiles = new LinkedHashMap<>();
        noise.readRecordsToList().forEach(r -> profiles.put(r.key(), r.value()));
        assertEquals(Set.of("catalog GET /items/{id}", "pricing GET /items/{id}"), profiles.keySet());
        NoiseProfile catalog = profiles.get("catalog GET /items/{id}");
        NoiseProfile pricing = profiles.get("pricing GET /items/{id}");
        assertEquals("catalog", catalog.getService());
        assertEquals(List.of("$.generatedAt"), catalog.getFields().stream().map(NoisyField::getPath).toList());
        assertEquals("pricing", pricing.getService());
        assertEquals("GET /items/{id}", pricing.getRoute());
        assertEquals(5, pricing.getComparedPairs());
        assertEquals(List.of(), pricing.getFields(), "a field noisy in catalog is still compared in pricing");
    }

    @Test
    void shouldLearnValuesTheAppGeneratesInWhatItSendsItsDependencies() {
        // Identical checkouts: the app sends payments the same amount with a new idempotency key every time.
        for (int i = 0; i < 6; i++) {
            send(Interactions.request("POST", "/checkout").jsonRequest("{\"cart\":9}").at(T0.plusSeconds(i))
                    .call("POST", "payments", "/charges", "application/json",
                            "{\"amount\":500,\"idempotencyKey\":\"key-" + i + "\"}", 200)
                    .json("{\"order\":1}").build());
        }
        driver.advanceWallClockTime(PUBLISH);
        NoiseProfile profile = noise.readRecordsToList().get(0).value();
        assertEquals("POST /checkout", profile.getRoute());
        assertEquals(5, profile.getComparedPairs());
        assertEquals(List.of("call:POST payments /charges $.idempotencyKey"),
                profile.getFields().stream().map(NoisyField::getPath).toList(), "the amount stays compared");
    }

    @Test
    void shouldLearnAFieldOfAMapKeyedByIdOnceForAllItsIds() {
        start(DedupConfig.defaults().withSampling(3, Duration.ofHours(24), Duration.ofDays(7), PUBLISH)
                .withNoise(NoiseRule.defaults(), 100, 8));
        // Stock by SKU: the ids differ from one request to the next (a page of 50), the reservation stamp of each
        // entry changes on every answer, the quantity never. Per id, 50 paths would fill the 8 tracked fields at once.
        for (int i = 0; i < 6; i++) {
            StringBuilder json = new StringBuilder("{\"bySku\":{");
            for (int sku = 0; sku < 50; sku++) {
                json.append(sku == 0 ? "" : ",").append("\"").append(1000 + sku).append("\":{\"qty\":5,\"stamp\":\"")
                        .append(i).append("\"}");
            }
            send(Interactions.get("/stock").at(T0.plusSeconds(i)).json(json.append("}}").toString()).build());
        }
        driver.advanceWallClockTime(PUBLISH);
        NoiseProfile profile = noise.readRecordsToList().get(0).value();
        assertEquals(5, profile.getComparedPairs());
        assertEquals(List.of("$.bySku.{id}.stamp"), profile.getFields().stream().map(NoisyField::getPath).toList(),
                "the quantity of every id stays compared");
    }

    @Test
    void shouldRetireTheNoiseOfARouteWithNoPairForTheRetention() {
        for (int i = 0; i < 4; i++) {
            send(Interactions.get("/users/jdoe").at(T0.plusSeconds(i)).json("{\"at\":" + i + "}").build());
        }
        driver.advanceWallClockTime(PUBLISH);
        assertEquals("petclinic GET /users/jdoe", noise.readRecordsToList().get(0).key());
        KeyValueStore<String, RouteNoise> store = driver.getKeyValueStore(DedupTopology.NOISE_STORE);
        assertEquals(T0.plusSeconds(3).toEpochMilli(), store.get("petclinic GET /users/jdoe").lastPairAt(),
                "counted at the pair's event time");

        Instant later = T0.plus(Duration.ofDays(6));
        for (int i = 0; i < 4; i++) { // another route's pairs move this task's event time on; 6 days is kept
            send(Interactions.get("/users/asmith").at(later.plusSeconds(i)).json("{\"at\":" + i + "}").build());
        }
        driver.advanceWallClockTime(PUBLISH);
        assertEquals(List.of("petclinic GET /users/asmith"), noise.readRecordsToList().stream().map(TestRecord::key).toList());
        assertTrue(store.get("petclinic GET /users/jdoe") != null);

        Instant past = T0.plus(Duration.ofDays(7)).plusSeconds(10);
        for (int i = 0; i < 2; i++) {
            send(Interactions.get("/users/asmith").at(past.plusSeconds(i)).json("{\"at\":" + i + "}").build());
        }
        driver.advanceWallClockTime(PUBLISH);
        Map<String, NoiseProfile> out = new LinkedHashMap<>();
        noise.readRecordsToList().forEach(r -> out.put(r.key(), r.value()));
        assertTrue(out.containsKey("petclinic GET /users/jdoe") && out.get("petclinic GET /users/jdoe") == null,
                "a tombstone for the route not paired for 7 days: " + out);
        assertTrue(out.get("petclinic GET /users/asmith") != null);
        assertNull(store.get("petclinic GET /users/jdoe"));
        assertEquals(1, metrics.noiseProfilesRetired());
    }

    @Test
    void shouldKeepTheNoiseOfARouteStillServedWhenItsIdenticalRequestsStop() {
        for (int i = 0; i < 4; i++) {
            send(Interactions.get("/items/1").at(T0.plusSeconds(i)).json("{\"id\":1,\"at\":" + i + "}").build());
        }
        driver.advanceWallClockTime(PUBLISH);
        assertEquals(List.of("$.at"), noise.readRecordsToList().get(0).value().getFields().stream()
                .map(NoisyField::getPath).toList());
        // Then only other items of the route, each request once: no pair, but a fresh sample every day or so.
        for (int day = 2; day <= 10; day += 2) {
            send(Interactions.get("/items/" + (100 + day)).at(T0.plus(Duration.ofDays(day)))
                    .json("{\"id\":" + (100 + day) + ",\"at\":0}").build());
        }
        driver.advanceWallClockTime(PUBLISH);
        assertTrue(noise.readRecordsToList().stream().noneMatch(r -> r.value() == null),
                "10 days without a pair, but samples taken on the way: the noise stays");
        KeyValueStore<String, RouteNoise> store = driver.getKeyValueStore(DedupTopology.NOISE_STORE);
        assertEquals(T0.plus(Duration.ofDays(10)).toEpochMilli(), store.get("petclinic GET /items/{id}").lastPairAt());
        assertEquals(3, store.get("petclinic GET /items/{id}").pairs());
        assertEquals(0, metrics.noiseProfilesRetired());
    }

    @Test
    void shouldKeepBaselinesApartFromThePreviousVersions() {
        String stock = "{\"bySku\":{\"1017\":{\"qty\":5},\"1018\":{\"qty\":7}}}";
        send(Interactions.get("/stock").at(T0).json(stock).build());
        send(Interactions.get("/stock").at(T0.plusSeconds(1)).json(stock).build()); // a pair: the baseline is stored
        driver.advanceWallClockTime(PUBLISH);
        noise.readRecordsToList();
        KeyValueStore<String, ResponseFields> baselines = driver.getKeyValueStore(DedupTopology.BASELINES_STORE);
        String key;
        try (var all = baselines.all()) {
            key = all.next().key;
            assertFalse(all.hasNext());
        }
        assertTrue(key.endsWith("/n"), "not under a key an earlier version reads: " + key);
        // An upgrade finds the earlier versions' baselines of the request under their own keys, and none of this
        // version's: the one before the previous named the map's members by their ids, the previous one read the
        // values as other text (a number as a double, a string as a number written so)
        String previousKey = key.substring(0, key.length() - "/n".length());
        TreeMap<String, Long> previous = new TreeMap<>();
        previous.put("$.bySku.1017.qty", 1L);
        previous.put("$.bySku.1018.qty", 2L);
        baselines.delete(key);
        baselines.put(previousKey, ResponseFields.serde().deserializer().deserialize("", LegacyFormats.responseFields(previous)));
        TreeMap<String, Long> lenient = new TreeMap<>();
        lenient.put("$.bySku.{id}", 1L);
        lenient.put("$.bySku.{id}.qty", 2L);
        baselines.put(previousKey + "/g", new ResponseFields(lenient, true));

        send(Interactions.get("/stock").at(T0.plusSeconds(2)).json(stock).build()); // the same answer again
        driver.advanceWallClockTime(PUBLISH);
        NoiseProfile profile = noise.readRecordsToList().get(0).value();
        assertEquals(2, profile.getComparedPairs());
        assertEquals(List.of(), profile.getFields(), "compared with the stored sample, not a baseline named otherwise");

        // another route's traffic 9 days later: the stock signature, not seen for the 7-day retention, retires
        send(Interactions.get("/vets").at(T0.plus(Duration.ofDays(9))).json("[]").build());
        driver.advanceWallClockTime(PUBLISH);
        assertNull(baselines.get(key));
        assertNull(baselines.get(previousKey), "the earlier versions' baselines go with this version's");
        assertNull(baselines.get(previousKey + "/g"));
    }

    @Test
    void shouldKeepTheNoiseOfARouteServedWithoutPairsWhenTheSampleTtlIsLongerThanTheRetention() {
        start(DedupConfig.defaults().withSampling(3, Duration.ofDays(30), Duration.ofDays(7), PUBLISH));
        for (int i = 0; i < 4; i++) {
            send(Interactions.get("/items/1").at(T0.plusSeconds(i)).json("{\"id\":1,\"at\":" + i + "}").build());
        }
        driver.advanceWallClockTime(PUBLISH);
        assertEquals(1, noise.readRecordsToList().size());
        for (int h = 1; h <= 240; h++) { // every hour a request never seen before: no pair, no expired slot
            send(Interactions.get("/items/" + (100 + h)).at(T0.plus(Duration.ofHours(h)))
                    .json("{\"id\":" + (100 + h) + ",\"at\":0}").build());
        }
        for (int i = 0; i < 3; i++) { // samples of another route move the noise task's event time on
            send(Interactions.get("/vets").at(T0.plus(Duration.ofDays(10)).plusSeconds(i)).json("[{\"id\":1}]").build());
        }
        driver.advanceWallClockTime(PUBLISH);
        assertTrue(noise.readRecordsToList().stream().noneMatch(r -> r.value() == null),
                "a route served every hour keeps its noise for two sample TTLs");
        assertEquals(0, metrics.noiseProfilesRetired());
    }

    @Test
    void shouldRetireProfilesKeyedByTheRouteAloneAfterAGracePeriod() {
        start(DedupConfig.defaults().withSampling(3, Duration.ofHours(1), Duration.ofDays(7), PUBLISH));
        // Counters of the version that learned noise per route for all services together.
        KeyValueStore<String, RouteNoise> store = driver.getKeyValueStore(DedupTopology.NOISE_STORE);
        store.put("GET /items/{id}", RouteNoise.serde().deserializer()
                .deserialize("", LegacyFormats.routeNoise("$.generatedAt", 10, 10)));
        driver.advanceWallClockTime(PUBLISH);
        assertTrue(noise.isEmpty(), "neither re-published nor retired while the services learn their own");
        assertTrue(store.get("GET /items/{id}").legacy());
        driver.advanceWallClockTime(Duration.ofHours(NoiseProcessor.LEGACY_GRACE_TTLS)); // 2 sample TTLs of 1 h
        List<TestRecord<String, NoiseProfile>> retired = noise.readRecordsToList();
        assertEquals(1, retired.size());
        assertEquals("GET /items/{id}", retired.get(0).key());
        assertNull(retired.get(0).value(), "a tombstone: replay stops falling back on it");
        assertNull(store.get("GET /items/{id}"));
    }

    @Test
    void shouldNotCallAFieldNoisyBelowTheThresholds() {
        // The name changes once (the owner renamed) across 11 captures of the same request: it differs in 1 of the
        // 10 pairs compared, under the relative threshold (20 %) though over the absolute one (5 %): not noise.
        for (int i = 0; i < 11; i++) {
            send(Interactions.get("/owners/7").at(T0.plusSeconds(i))
                    .json("{\"id\":7,\"name\":\"" + (i < 5 ? "George" : "Georgina") + "\"}").build());
        }
        driver.advanceWallClockTime(PUBLISH);
        NoiseProfile profile = noise.readRecordsToList().get(0).value();
        assertEquals(10, profile.getComparedPairs());
        assertEquals(List.of(), profile.getFields(), "a field that differed in 1 of 10 pairs");
    }

    @Test
    void shouldNotLearnCallerDependentFieldsAsNoise() {
        // GET /me of four users: same method, path and body, different credentials (redaction tokens by now).
        for (int i = 0; i < 8; i++) {
            int user = i % 4;
            send(Interactions.get("/me").at(T0.plusSeconds(i)).requestHeader("Authorization", "tapline-hmac:user" + user)
                    .json("{\"user\":\"u" + user + "\",\"balance\":" + (100 + user) + "}").build());
        }
        driver.advanceWallClockTime(PUBLISH);
        List<TestRecord<String, NoiseProfile>> profiles = noise.readRecordsToList();
        List<String> noisy = profiles.isEmpty() ? List.of() : profiles.get(profiles.size() - 1).value().getFields()
                .stream().map(NoisyField::getPath).collect(Collectors.toList());
        assertEquals(List.of(), noisy, "fields that depend on the caller are not noise");
    }

    @Test
    void shouldCountOnePairPerRecordNotOnePerStoredSample() {
        // One data change (price 10 -> 12) seen by 3 later identical requests, with 3 stored samples of the request:
        // comparing each with every sample would count 9 differing pairs out of 11 for one change.
        for (int i = 0; i < 6; i++) {
            send(Interactions.get("/items/1").at(T0.plusSeconds(i)).json("{\"price\":" + (i < 3 ? 10 : 12) + "}").build());
        }
        driver.advanceWallClockTime(PUBLISH);
        NoiseProfile profile = noise.readRecordsToList().get(0).value();
        assertEquals(5, profile.getComparedPairs());
    }

    @Test
    void shouldCountAOneTimeDataChangeOnceButAFieldThatChangesEveryTimeAlways() {
        start(DedupConfig.defaults().withSampling(3, Duration.ofHours(24), Duration.ofDays(7), PUBLISH)
                .withNoise(NoiseRule.defaults(), 100, DedupConfig.DEFAULT_NOISE_MAX_FIELDS));
        // The price changes once (10 -> 12) after the three samples were taken; 50 identical requests follow.
        for (int i = 0; i < 53; i++) {
            send(Interactions.get("/items/1").at(T0.plusSeconds(i))
                    .json("{\"price\":" + (i < 3 ? 10 : 12) + ",\"generatedAt\":\"" + T0.plusSeconds(i) + "\"}")
                    .build());
        }
        driver.advanceWallClockTime(PUBLISH);
        NoiseProfile profile = noise.readRecordsToList().get(0).value();
        assertEquals(52, profile.getComparedPairs());
        // Compared with the samples (the price of the first 3), the new price would differ in 50 of 52 pairs;
        // compared with the previous response it differs once.
        assertEquals(List.of("$.generatedAt"),
                profile.getFields().stream().map(NoisyField::getPath).collect(Collectors.toList()));
        assertEquals(52, profile.getFields().get(0).getDifferingPairs());
    }

    @Test
    void shouldKeepABaselineOnlyWhileASampleOfItsRequestIsKept() {
        start(DedupConfig.defaults().withSampling(1, Duration.ofHours(1), Duration.ofHours(3), PUBLISH));
        send(owner(1, T0).build());
        send(owner(1, T0.plusSeconds(1)).build()); // identical request: compared, becomes the baseline
        KeyValueStore<String, Object> baselines = driver.getKeyValueStore(DedupTopology.BASELINES_STORE);
        assertEquals(1, count(baselines));
        send(owner(2, T0.plus(Duration.ofHours(2))).build()); // replaces the only sample of /owners/1
        assertEquals(0, count(baselines));
        send(owner(2, T0.plus(Duration.ofHours(2)).plusSeconds(1)).build());
        assertEquals(1, count(baselines));
        send(Interactions.get("/vets").at(T0.plus(Duration.ofHours(6))).build()); // moves event time on
        driver.advanceWallClockTime(PUBLISH); // the owner signature is retired
        assertEquals(0, count(baselines));
    }

    @Test
    void shouldRetireTheCasesOfSlotsBeyondALoweredSampleCount() {
        for (int i = 0; i < 3; i++) {
            send(owner(i, T0.plusSeconds(i)).build());
            send(Interactions.get("/vets/" + i).at(T0.plusSeconds(i)).json("[{\"id\":" + i + "}]").build());
        }
        assertEquals(6, latest(cases.readRecordsToList()).size());
        Map<String, SignatureState> signatureStates = copy(driver.getKeyValueStore(DedupTopology.SIGNATURES_STORE));
        Map<String, Case> sampleCases = copy(driver.getKeyValueStore(DedupTopology.SAMPLES_STORE));
        assertEquals(2, signatureStates.size());

        // The job restarts with dedup.samples=1 on the state the previous run left.
        start(DedupConfig.defaults().withSampling(1, Duration.ofHours(24), Duration.ofDays(7), PUBLISH));
        KeyValueStore<String, SignatureState> signatureStore = driver.getKeyValueStore(DedupTopology.SIGNATURES_STORE);
        KeyValueStore<String, Case> sampleStore = driver.getKeyValueStore(DedupTopology.SAMPLES_STORE);
        signatureStates.values().forEach(SignatureState::published); // counters published by the previous run
        signatureStates.forEach(signatureStore::put);
        sampleCases.forEach(sampleStore::put);
        String owners = sampleCases.values().stream()
                .filter(c -> c.getParts().getRouteTemplate().equals("/owners/{id}")).findFirst().orElseThrow()
                .getSignatureId();
        String vets = signatureStates.keySet().stream().filter(id -> !id.equals(owners)).findFirst().orElseThrow();

        send(owner(7, T0.plusSeconds(10)).build()); // a hit drops the owner signature's extra slots at once
        assertEquals(List.of(owners + "-1", owners + "-2"), tombstones(cases.readRecordsToList()));
        driver.advanceWallClockTime(PUBLISH); // the idle /vets signature's go at the next publish
        List<TestRecord<String, Case>> published = cases.readRecordsToList();
        assertEquals(List.of(vets + "-1", vets + "-2"), tombstones(published));
        assertEquals(List.of(owners + "-0"), published.stream().filter(r -> r.value() != null).map(TestRecord::key)
                .collect(Collectors.toList()), "the kept owner case is re-published with its new hit count");
        assertEquals(Set.of(owners + "-0", vets + "-0"), copy(sampleStore).keySet());
        for (SignatureState state : copy(signatureStore).values()) {
            assertEquals(List.of(0), state.slots().stream().map(SignatureState.Slot::slot).collect(Collectors.toList()));
        }
        driver.advanceWallClockTime(PUBLISH);
        assertTrue(cases.readRecordsToList().isEmpty(), "dropped once, not at every publish");
    }

    private static List<String> tombstones(List<TestRecord<String, Case>> records) {
        return records.stream().filter(r -> r.value() == null).map(TestRecord::key).sorted()
                .collect(Collectors.toList());
    }

    private static <V> Map<String, V> copy(KeyValueStore<String, V> store) {
        Map<String, V> out = new LinkedHashMap<>();
        try (KeyValueIterator<String, V> all = store.all()) {
            all.forEachRemaining(kv -> out.put(kv.key, kv.value));
        }
        return out;
    }

    /** The {@code by-signature} repartition records, raw. */
    private TestOutputTopic<String, byte[]> hits() {
        return driver.createOutputTopic("dedup-test-by-signature-repartition", new StringDeserializer(),
                new ByteArrayDeserializer());
    }

    @Test
    void shouldCountEveryHitButRepartitionOnlyTheInteractionsItMaySample() {
        TestOutputTopic<String, byte[]> repartitioned = hits();
        for (int i = 0; i < 50; i++) {
            send(owner(i, T0.plusSeconds(i)).build());
        }
        List<byte[]> values = repartitioned.readValuesToList();
        assertEquals(50, values.size(), "one hit per interaction");
        assertEquals(3, values.stream().filter(v -> v[0] == HitSerde.WHOLE).count(), "one whole hit per sample slot");
        assertEquals(47, values.stream().filter(v -> v[0] == HitSerde.COUNTED && v.length == 17).count());
        assertEquals(3, metrics.wholeHits());
        driver.advanceWallClockTime(PUBLISH);
        Map<String, Case> latest = latest(cases.readRecordsToList());
        assertEquals(3, latest.size());
        latest.values().forEach(c -> assertEquals(50, c.getHits()));
        latest.values().forEach(c -> assertEquals(T0.plusSeconds(49), c.getLastSeen()));
    }

    @Test
    void shouldWriteThePreviousVersionsFormatForTheFirstBounceOfARollingUpgrade() throws IOException {
        start(DedupConfig.defaults().withSampling(3, Duration.ofHours(24), Duration.ofDays(7), PUBLISH)
                .withHitFormat(DedupConfig.HitFormat.CASE));
        TestOutputTopic<String, byte[]> repartitioned = hits();
        for (int i = 0; i < 10; i++) {
            send(owner(i, T0.plusSeconds(i)).build());
        }
        List<byte[]> values = repartitioned.readValuesToList();
        assertEquals(10, values.size());
        for (int i = 0; i < values.size(); i++) {
            Case draft = Case.getDecoder().decode(values.get(i)); // the previous version's reader
            assertEquals(T0.plusSeconds(i), draft.getSampledAt());
            assertEquals("/owners/" + i, draft.getSample().getRequest().getPath());
        }
        driver.advanceWallClockTime(PUBLISH);
        latest(cases.readRecordsToList()).values().forEach(c -> assertEquals(10, c.getHits()));
    }

    @Test
    void shouldStillPairAnIdenticalRequestThatFollowsManyCountedHits() {
        send(owner(7, T0).build());
        for (int i = 0; i < 20; i++) {
            send(owner(100 + i, T0.plusSeconds(1 + i)).build()); // 2 more samples, then counted hits
        }
        for (int i = 0; i < 3; i++) {
            send(owner(7, T0.plusSeconds(30 + i)).json("{\"id\":7,\"name\":\"renamed " + i + "\"}").build());
        }
        driver.advanceWallClockTime(PUBLISH);
        List<TestRecord<String, NoiseProfile>> profiles = noise.readRecordsToList();
        assertEquals(1, profiles.size());
        assertEquals(3, profiles.get(0).value().getComparedPairs(), "each repeat of /owners/7 compared once");
    }

    @Test
    void shouldRefillAnExpiredSlotFromTheHitsOfALaterWindow() {
        start(DedupConfig.defaults().withSampling(1, Duration.ofHours(2), Duration.ofDays(7), PUBLISH));
        for (int i = 0; i < 30; i++) {
            send(owner(i, T0.plus(Duration.ofMinutes(5L * i))).build()); // 2.5 hours of steady traffic
        }
        Map<String, Case> latest = latest(cases.readRecordsToList());
        Case sample = latest.values().iterator().next();
        assertEquals(1, latest.size());
        assertTrue(Duration.between(sample.getSampledAt(), T0.plus(Duration.ofMinutes(145))).compareTo(Duration.ofHours(2)) <= 0,
                "the sample taken at T0 was replaced once it expired, sampled at " + sample.getSampledAt());
        assertTrue(sample.getSampledAt().isAfter(T0));
    }

    @Test
    void shouldStillReadRepartitionRecordsOfThePreviousVersionAsWholeHits() {
        Interaction interaction = owner(5, T0).build();
        Case draft = LegacyFormats.draftCase(interaction, T0);
        driver.createInputTopic("dedup-test-by-signature-repartition", new StringSerializer(), new ByteArraySerializer())
                .pipeInput(draft.getSignatureId(), LegacyFormats.draftCaseBytes(draft), T0);
        List<TestRecord<String, Case>> out = cases.readRecordsToList();
        assertEquals(1, out.size());
        assertEquals(interaction.getId(), out.get(0).value().getSample().getId());
    }

    @Test
    void shouldNotFailOnAnInteractionStartedBeforeTheEpoch() {
        // A sidecar with a broken clock (or another producer) writes a startedAt before 1970: Kafka refuses a record
        // with a negative timestamp, so event time must not become one.
        Interaction broken = owner(1, Instant.ofEpochMilli(-5_000)).build();
        send(broken, T0);
        send(owner(2, T0).build());
        Map<String, Case> out = latest(cases.readRecordsToList());
        assertEquals(2, out.size(), "both interactions sampled, the stream goes on");
        assertTrue(out.values().stream().allMatch(c -> c.getSampledAt().toEpochMilli() >= 0), String.valueOf(out));
        assertEquals(1, metrics.eventTimeClamped.value());
        assertTrue(dlq.isEmpty());
    }

    @Test
    void shouldNotFailOnARouteTooLongForTheNoiseRecords() {
        // A request line of 70,000 characters (a sidecar with a large proxy.max.header.bytes, another producer): its
        // route is a word the templates keep, longer than a noise record can hold.
        String path = "/" + "a".repeat(70_000);
        for (int i = 0; i < 3; i++) {
            send(Interactions.get(path).at(T0.plusSeconds(i)).json("{\"at\":" + i + "}").build());
        }
        send(owner(1, T0.plusSeconds(5)).build());
        driver.advanceWallClockTime(PUBLISH);
        Map<String, Case> out = latest(cases.readRecordsToList());
        assertEquals(4, out.size(), "the long route is sampled as any other, and the stream goes on");
        assertTrue(noise.readRecordsToList().stream().noneMatch(r -> r.key().length() > 65_535),
                "no noise is learned for it");
    }

    @Test
    void shouldDeadLetterAnInteractionTooLargeForTheTopicsItsCaseIsWrittenTo() {
        // Another producer's interaction of 17 MiB, compressed into the interactions topic's 8 MiB: its case could be
        // written neither to the repartition topic nor to the cases topic (16 MiB), and the producer's refusal would
        // fail the task on it at every retry.
        byte[] body = new byte[17 * 1024 * 1024];
        java.util.Arrays.fill(body, (byte) 'a');
        send(Interactions.get("/export").at(T0).body("text/plain", body).build());
        send(owner(1, T0).build());
        List<TestRecord<byte[], byte[]>> dead = dlq.readRecordsToList();
        assertEquals(1, dead.size());
        String error = DeadLetters.header(dead.get(0).headers(), DeadLetters.ERROR);
        assertTrue(error.contains("too large"), error);
        assertNull(dead.get(0).value(), "over the dead-letter limit too: the value is left out");
        assertEquals(List.of("/owners/{id}"), cases.readRecordsToList().stream()
                .map(r -> r.value().getParts().getRouteTemplate()).toList(), "the stream goes on");
        assertEquals(1, metrics.interactions());
        assertEquals(1, metrics.deadLetters());
    }

    @Test
    void shouldNotPairRequestsWhoseBodiesWereNotCapturedWhole() {
        // Orders of different carts sent br-compressed: the sidecar keeps no body it cannot decode (empty, truncated),
        // so every one of them reads as the same request. And uploads longer than the capture cap, cut to one prefix.
        for (int i = 0; i < 8; i++) {
            Interaction order = Interactions.request("POST", "/orders").at(T0.plusSeconds(i))
                    .requestHeader("Content-Encoding", "br").json("{\"total\":" + (100 + i) + "}").build();
            order.getRequest().setTruncated(true);
            order.getRequest().setOriginalSize(40 + i);
            send(order);
            Interaction upload = Interactions.request("POST", "/imports").at(T0.plusSeconds(i))
                    .jsonRequest("{\"rows\":[1,2,3").json("{\"imported\":" + (10 + i) + "}").build();
            upload.getRequest().setTruncated(true);
            upload.getRequest().setOriginalSize(1_000_000 + i);
            send(upload);
        }
        driver.advanceWallClockTime(PUBLISH);
        List<String> noisy = noise.readRecordsToList().stream().flatMap(r -> r.value().getFields().stream())
                .map(NoisyField::getPath).toList();
        assertEquals(List.of(), noisy, "what other requests answered is no noise");
    }

    private static long count(KeyValueStore<String, Object> store) {
        long n = 0;
        try (KeyValueIterator<String, Object> all = store.all()) {
            while (all.hasNext()) {
                all.next();
                n++;
            }
        }
        return n;
    }

    private static Map<String, Case> latest(List<TestRecord<String, Case>> records) {
        Map<String, Case> out = new LinkedHashMap<>();
        records.forEach(r -> out.put(r.key(), r.value()));
        return out;
    }

}
