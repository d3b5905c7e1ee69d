package io.tapline.sidecar.impl;

import io.tapline.topics.TaplineTopics;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.ref.WeakReference;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the publisher leaves with Kafka's producer while a record waits for its acknowledgement. */
@Timeout(60)
class CapturePublisherTest {

    /**
     * Holds each record's callback and nothing else of the record, as Kafka's producer does while the record waits in
     * its buffer for a batch to be acknowledged (there it holds the record's bytes compressed, within buffer.memory).
     */
    static final class AcknowledgingLater extends MockProducer<String, byte[]> {
        final BlockingQueue<Callback> callbacks = new LinkedBlockingQueue<>();

        AcknowledgingLater() {
            super(true, null, new StringSerializer(), new ByteArraySerializer());
        }

        @Override
        public synchronized Future<RecordMetadata> send(ProducerRecord<String, byte[]> record, Callback callback) {
            callbacks.add(callback);
            return new CompletableFuture<>();
        }
    }

    @Test
    void shouldNotKeepARecordsSerializedBytesAliveUntilItIsAcknowledged() throws Exception {
        // During a broker outage every record in the producer's buffer waits up to delivery.timeout.ms for its callback;
        // a callback holding the uncompressed record held buffer.memory times the compression ratio, beyond every bound.
        List<WeakReference<byte[]>> serialized = new CopyOnWriteArrayList<>();
        AtomicInteger lastSize = new AtomicInteger();
        Serializer<SpecificRecord> serializer = (topic, record) -> {
            byte[] value = SidecarProxyTest.AVRO.serialize(topic, record);
            if (topic.equals(TaplineTopics.INTERACTIONS)) {
                serialized.add(new WeakReference<>(value));
                lastSize.set(value.length);
            }
            return value;
        };
        AcknowledgingLater producer = new AcknowledgingLater();
        try (TestOrigin origin = new TestOrigin();
             SidecarImpl sidecar = SidecarImpl.start(SidecarProxyTest.options(origin), producer, serializer)) {
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            assertEquals(200, http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.port() + "/hello")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
            Callback callback = producer.callbacks.poll(10, TimeUnit.SECONDS);
            assertNotNull(callback, "the interaction was sent");

            for (int i = 0; i < 50 && serialized.stream().anyMatch(r -> r.get() != null); i++) {
                System.gc();
                Thread.sleep(10);
            }
            assertTrue(serialized.stream().allMatch(r -> r.get() == null),
                    "a record's serialized bytes stay reachable while its callback waits");

            int size = lastSize.get();
            callback.onCompletion(new RecordMetadata(new TopicPartition(TaplineTopics.INTERACTIONS, 0), 0, 0, 0, 0, size), null);
            assertEquals(1.0, SidecarProxyTest.metric(sidecar, "tapline_sidecar_published_total"));
            assertEquals(size, SidecarProxyTest.metric(sidecar, "tapline_sidecar_published_bytes_total"));
        }
    }

    /**
     * A publisher thread stuck at shutdown (a registry that does not answer) must stay the only one publishing: the
     * closing thread used to drain the queue beside it, and the producer was closed under both.
     */
    @Test
    void shouldLeaveTheQueueToThePublisherThreadAloneWhenItIsStuckAtShutdown() throws Exception {
        java.util.concurrent.CountDownLatch stuck = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.Set<String> serializingThreads = java.util.concurrent.ConcurrentHashMap.newKeySet();
        AtomicInteger interactions = new AtomicInteger();
        Serializer<SpecificRecord> serializer = (topic, record) -> {
            if (topic.equals(TaplineTopics.INTERACTIONS)) {
                serializingThreads.add(Thread.currentThread().getName());
                if (interactions.incrementAndGet() == 1) { // the primer, which registers the schema
                    stuck.countDown();
                    boolean interrupted = false;
                    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    while (release.getCount() > 0 && System.nanoTime() < until) {
                        try {
                            release.await(100, TimeUnit.MILLISECONDS); // a registry call that does not answer
                        } catch (InterruptedException e) {
                            interrupted = true; // and does not notice an interrupt either
                        }
                    }
                    if (interrupted) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
            return SidecarProxyTest.AVRO.serialize(topic, record);
        };
        SidecarImpl sidecar;
        try (TestOrigin origin = new TestOrigin()) {
            sidecar = SidecarImpl.start(SidecarProxyTest.options(origin),
                    new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()), serializer);
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            for (int i = 0; i < 3; i++) {
                assertEquals(200, http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.port() + "/hello")).build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode());
            }
            assertTrue(stuck.await(10, TimeUnit.SECONDS), "the publisher thread is registering the schema");
            SidecarProxyTest.awaitMetric(sidecar, "tapline_sidecar_queue_items", 3);
            sidecar.close();
        }
        release.countDown();
        assertEquals(java.util.Set.of("tapline-publisher"), serializingThreads, "only the publisher thread publishes");
        assertEquals(3.0, SidecarProxyTest.metric(sidecar, "tapline_sidecar_dropped_total{reason=\"shutdown\"}"),
                "what it could not reach is counted as dropped at shutdown");
    }

    /**
     * A registry that does not answer (frozen, partitioned: its calls time out after the client's 5 s instead of being
     * refused) while a topic's schema is not yet known must not hold up the records of the other topic, whose schema id
     * is cached: the first unattributed call used to stall the publisher thread for the whole registry call, and every
     * capture behind it waited (measured: interactions published fell from ~20,000/s to ~100/s while unattributed
     * calls kept coming, the rest dropped as in_flight_full).
     */
    @Test
    void shouldPublishInteractionsWhileTheOtherTopicsSchemaRegistrationHangs() throws Exception {
        java.util.concurrent.CountDownLatch stuck = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        Serializer<SpecificRecord> serializer = (topic, record) -> {
            if (topic.equals(TaplineTopics.UNATTRIBUTED)) {
                stuck.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS); // a registry call that gets no answer
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                throw new org.apache.kafka.common.errors.SerializationException("registry request timed out");
            }
            return SidecarProxyTest.AVRO.serialize(topic, record);
        };
        try (TestOrigin origin = new TestOrigin();
             SidecarImpl sidecar = SidecarImpl.start(SidecarProxyTest.options(origin),
                     new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()), serializer)) {
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            // a call of the app's that no request claims: an unattributed call, whose schema is not registered yet
            assertEquals(200, http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.egressPort() + "/inv/x")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
            assertTrue(stuck.await(10, TimeUnit.SECONDS), "the unattributed call's schema is being registered");
            for (int i = 0; i < 5; i++) {
                assertEquals(200, http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.port() + "/hello")).build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode());
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            while (SidecarProxyTest.metric(sidecar, "tapline_sidecar_published_total") < 5 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(5.0, SidecarProxyTest.metric(sidecar, "tapline_sidecar_published_total"),
                    "interactions are published while the registry holds the unattributed call's registration");
            assertEquals(1.0, SidecarProxyTest.metric(sidecar, "tapline_sidecar_unattributed_dropped_total{reason=\"serialization\"}"),
                    "the unattributed call is dropped, counted, not waited for");
            release.countDown();
        }
    }
}
