package io.tapline.dedup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tapline.config.TaplineConfig;
import io.tapline.logging.TaplineLogging;
import io.tapline.ops.Metrics;
import io.tapline.stack.junit.TaplineStackExtension;
import io.tapline.stack.junit.TestStack;
import io.tapline.topics.TaplineTopics;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.event.Level;

/**
 * The topic re-check against a real broker: the gauge at 0 from the start-up check's answer, then a cases topic altered
 * to delete while the watch runs, then back.
 */
@ExtendWith(TaplineStackExtension.class)
@Timeout(120)
class TopicWatchIT {

    @AfterEach
    void restoreLog() {
        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.WARN);
        TaplineLogging.output(System.err);
    }

    @Test
    void shouldShoutOnceWhenTheCasesTopicIsAlteredToDeleteWhileRunning(TestStack stack) throws Exception {
        String derivedMax = Integer.toString(TaplineTopics.DERIVED_MAX_BYTES);
        String input = stack.createTopic("interactions", 1, Map.of());
        String cases = stack.createTopic("cases", 1, Map.of("cleanup.policy", "compact", "max.message.bytes", derivedMax,
                "min.compaction.lag.ms", TaplineTopics.CASES_SPEC.configs().get("min.compaction.lag.ms")));
        String noise = stack.createTopic("noise", 1, Map.of("cleanup.policy", "compact", "max.message.bytes", derivedMax));
        String dlq = stack.createTopic("dlq", 1, Map.of("max.message.bytes", Integer.toString(TaplineTopics.DLQ_MAX_BYTES)));
        TaplineConfig config = DedupOptions.load(new String[] {"--kafka-bootstrap-servers", stack.bootstrapServers(),
                "--topic-interactions", input, "--topic-cases", cases, "--topic-noise", noise, "--topic-dlq", dlq},
                Map.of());
        ByteArrayOutputStream logged = new ByteArrayOutputStream();
        TaplineLogging.configure(TaplineLogging.Format.TEXT, Level.INFO);
        TaplineLogging.output(new PrintStream(logged, true, StandardCharsets.UTF_8));
        Metrics registry = new Metrics();
        String gauge = TopicWatch.REFUSED + "{setting=\"cleanup.policy\",topic=\"" + cases + "\"} ";
        TopicCheck.Result atStart = TopicCheck.check(config, DedupOptions.streams(config), null);
        assertNull(atStart.refusal());
        try (TopicWatch watch = TopicWatch.start(config, DedupOptions.streams(config), registry, atStart,
                Duration.ofSeconds(1))) {
            // from the start-up check's answer, before any re-check: checked and fine, stamped with its time
            assertTrue(registry.scrape().lines().anyMatch(l -> l.equals(gauge + "0")), registry.scrape());
            assertTrue(registry.scrape().lines().anyMatch(l -> l.equals(TopicWatch.CHECKED + "{topic=\"" + cases
                    + "\"} " + atStart.readAt().getEpochSecond())), registry.scrape());
            alter(stack, cases, "delete");
            awaitScrape(registry, gauge + "1");
            Thread.sleep(3_000); // three more checks: no line more
            alter(stack, cases, "compact");
            awaitScrape(registry, gauge + "0");
        }
        TaplineLogging.flush(Duration.ofSeconds(10));
        List<String> lines = logged.toString(StandardCharsets.UTF_8).lines()
                .filter(l -> l.contains(TopicWatch.class.getName())).toList();
        assertEquals(2, lines.size(), lines.toString());
        assertTrue(lines.get(0).contains(" ERROR ") && lines.get(0).contains("option --topic-cases: topic " + cases
                + " has cleanup.policy=delete, not compact"), lines.get(0));
        assertTrue(lines.get(1).contains(" INFO ") && lines.get(1).endsWith("topic " + cases + " now has "
                + "cleanup.policy=compact: fixed, as the job needs it"), lines.get(1));
    }

    private static void alter(TestStack stack, String topic, String policy) throws Exception {
        stack.admin().incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, topic),
                List.of(new AlterConfigOp(new ConfigEntry("cleanup.policy", policy), AlterConfigOp.OpType.SET))))
                .all().get();
    }

    private static void awaitScrape(Metrics registry, String line) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!registry.scrape().lines().anyMatch(l -> l.equals(line.trim()))) {
            assertTrue(System.nanoTime() < end, "no " + line + " in:\n" + registry.scrape());
            Thread.sleep(100);
        }
    }
}
