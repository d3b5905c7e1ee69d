package io.tapline.stack;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

import io.tapline.topics.TopicSpec;

/** Creates topics on the one-node stack and waits until every partition has a leader. */
public final class StackTopics {

    /** One node: every topic has exactly one replica. */
    static final short REPLICATION_FACTOR = 1;

    private StackTopics() {
    }

    static NewTopic newTopic(TopicSpec spec) {
        return newTopic(spec.name(), spec.partitions(), spec.configs());
    }

    static NewTopic newTopic(String name, int partitions, Map<String, String> configs) {
        return new NewTopic(name, partitions, REPLICATION_FACTOR).configs(Map.copyOf(configs));
    }

    /**
     * Creates the topics that do not exist yet and waits for their leaders.
     *
     * @return the names that were created; the others already existed
     */
    public static List<String> create(Admin admin, Collection<TopicSpec> specs, Duration timeout) {
        List<String> created = new ArrayList<>();
        for (TopicSpec spec : specs) {
            if (createOne(admin, newTopic(spec), timeout)) {
                created.add(spec.name());
            }
        }
        awaitLeaders(admin, specs.stream().map(TopicSpec::name).toList(), timeout);
        return created;
    }

    /** Creates one topic; false when it already exists. Retries while the just-started broker is still fenced. */
    static boolean createOne(Admin admin, NewTopic topic, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                get(admin.createTopics(List.of(topic)).all(), timeout);
                return true;
            } catch (ExecutionException e) {
                if (e.getCause() instanceof TopicExistsException) {
                    return false;
                }
                if (!(e.getCause() instanceof InvalidReplicationFactorException) || System.nanoTime() > deadline) {
                    throw new StackException("could not create topic " + topic.name() + ": " + e.getCause().getMessage(), e.getCause());
                }
                KafkaBroker.sleep(250); // "0 brokers registered": the broker has not registered with the controller yet
            }
        }
    }

    /** Waits until every partition of the topics has a leader, so the first produce does not fail. */
    public static void awaitLeaders(Admin admin, Collection<String> topics, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                Map<String, TopicDescription> descriptions = get(admin.describeTopics(topics).allTopicNames(), timeout);
                boolean ready = descriptions.values().stream()
                        .flatMap(d -> d.partitions().stream())
                        .allMatch(p -> p.leader() != null && !p.leader().isEmpty());
                if (ready) {
                    return;
                }
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                    throw new StackException("could not describe topics " + topics + ": " + e.getCause().getMessage(), e.getCause());
                }
            }
            if (System.nanoTime() > deadline) {
                throw new StackException("topics " + topics + " have no leader after " + timeout.toSeconds() + " s");
            }
            KafkaBroker.sleep(100);
        }
    }

    private static <T> T get(KafkaFuture<T> future, Duration timeout) throws ExecutionException {
        try {
            return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new StackException("Kafka admin request timed out after " + timeout.toSeconds() + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StackException("interrupted while talking to Kafka", e);
        }
    }
}
