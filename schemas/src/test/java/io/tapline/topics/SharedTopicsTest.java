package io.tapline.topics;

import io.tapline.config.ConfigSpec;
import io.tapline.config.TaplineConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SharedTopicsTest {

    private static final List<String> OPTIONS = List.of("topic.a", "topic.b", "topic.c", "topic.d");

    private static TaplineConfig config(Map<String, String> env, String... args) {
        ConfigSpec spec = ConfigSpec.builder("tapline test", "topics")
                .option("topic.a", "t.a", "A.").option("topic.b", "t.b", "B.")
                .option("topic.c", "t.c", "C.").option("topic.d", "t.d", "D.").build();
        return TaplineConfig.load(spec, args, env);
    }

    @Test
    void onlyTopicsNamedBySeveralOptionsAreSharedInTheOrderTheyAreFirstNamed() {
        assertEquals(Map.of(), SharedTopics.byTopic(config(Map.of()), OPTIONS));
        Map<String, List<String>> shared = SharedTopics.byTopic(config(Map.of(),
                "--topic-d", "t.b", "--topic-c", " t.a "), OPTIONS);
        assertEquals(List.of("t.a", "t.b"), List.copyOf(shared.keySet()));
        assertEquals(List.of("topic.a", "topic.c"), shared.get("t.a"), "the name as the clients take it, trimmed");
        assertEquals(List.of("topic.b", "topic.d"), shared.get("t.b"));
    }

    @Test
    void aRefusalNamesTheOptionsWhereTheyWereSetTheTopicWhatItWouldHoldWhyAndTheFix() {
        TaplineConfig config = config(Map.of("TAPLINE_TOPIC_C", "t.a"), "--topic-b", "t.a");
        assertEquals("option --topic-a, --topic-b, --topic-c (set by TAPLINE_TOPIC_C): topic t.a holds as, bs and cs: "
                + "one, and two (fix: give --topic-b and --topic-c topics of their own)",
                SharedTopics.refusal(config, OPTIONS, "t.a", List.of("as", "bs", "cs"), List.of("one", "two"),
                        List.of("topic.b", "topic.c")));
        assertEquals("option --topic-a, --topic-b: topic t.a holds as and bs: one (fix: give --topic-b a topic of its "
                + "own)", SharedTopics.refusal(config(Map.of(), "--topic-b", "t.a"), OPTIONS, "t.a", List.of("as", "bs"),
                List.of("one"), List.of("topic.b")));
    }
}
