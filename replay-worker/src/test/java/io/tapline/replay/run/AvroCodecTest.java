package io.tapline.replay.run;

import io.tapline.avro.RunEvent;
import io.tapline.avro.RunSummary;
import io.tapline.registry.RegistryConfig;
import io.tapline.registry.RegistryStub;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Instant;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(60)
class AvroCodecTest {

    private static final RunTopics TOPICS = RunTopics.defaults();

    /**
     * A worker that joins a run it did not start writes no run event until the summary, at the end. With the registry
     * answering at its start and refusing connections at the end, every case committed, the summary could not be
     * encoded (its schema was registered only then) and the run exited 3. The run events' schema is now registered at
     * the start, with the results', and the summary is encoded from the id the client keeps.
     */
    @Test
    void aSummaryIsWrittenAfterTheRegistryStopsAnsweringWhenTheWorkerPreparedItsWritesAtStart() throws Exception {
        RegistryStub registry = new RegistryStub();
        AvroCodec codec = new AvroCodec(Map.of(RegistryConfig.URL, registry.url()));
        codec.prepareWrites(TOPICS); // the worker's start
        registry.close(); // the registry goes away: its port refuses connections

        RunEvent summary = RunEvent.newBuilder().setRunId("run-1").setCandidate("http://candidate:8080")
                .setAt(Instant.parse("2026-11-24T12:00:00Z")).setBounds(null)
                .setSummary(RunSummary.newBuilder().setTotal(3).setPassed(3).setFailed(0).setErrored(0).setSkipped(0)
                        .setTrafficWeight(3).setFailedTrafficWeight(0).setFailedTrafficShare(0.0)
                        .setDurationMillis(1_000).setResultsStartOffsets(Map.of()).setResultsEndOffsets(Map.of())
                        .build())
                .build();
        byte[] written = codec.write(TOPICS.runs(), summary);

        assertEquals(0, written[0], "Confluent wire format: magic byte");
        assertTrue(written.length > 5);
    }
}
