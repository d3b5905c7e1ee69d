package io.tapline.sidecar.impl;

import io.tapline.avro.Interaction;
import io.tapline.avro.UnattributedCall;
import io.tapline.sidecar.impl.SidecarMetrics.DropReason;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The only thread that talks to Kafka and the schema registry. Event loops {@link #offer} finished interactions
 * into a byte-bounded queue (never blocking: a full queue drops and counts); this thread assembles and redacts
 * them, serialises them (the registry lookup can block: here, not on an event loop), and sends them with a
 * callback. Every failure drops the capture, is counted by reason, and never reaches the proxied traffic.
 * <p>
 * A broker that does not answer (frozen, cut off by a partition) makes every {@code send} wait {@code max.block.ms}
 * for metadata or buffer space on the calling thread and then fail: after such a send a topic's records are dropped
 * at once ({@link DropReason#BROKER_UNAVAILABLE}) for the broker back-off, then one is sent again, from the prober
 * thread, while this one goes on dropping the topic's records until that send is taken.
 */
public final class CapturePublisher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CapturePublisher.class);

    private final ByteBoundedQueue<PendingInteraction> queue;
    private final InteractionAssembler assembler;
    private final Serializer<SpecificRecord> serializer;
    private final Producer<String, byte[]> producer;
    private final String topic;
    private final String unattributedTopic;
    private final String service;
    private final SidecarMetrics metrics;
    private final long serializationBackoffNanos;
    private final long brokerBackoffNanos;
    private final long registrationWaitNanos;
    /**
     * Where a topic's first records are serialized, the calls that register (or look up) its schema: a registry that
     * does not answer holds this thread up to the registry client's timeout, not the publisher thread, whose records
     * of the other topic (their schema id cached) go on.
     */
    private final ExecutorService registrar;
    /**
     * Where a topic's one send after the broker back-off runs: while the broker still does not answer it waits
     * {@code max.block.ms} here, not on the publisher thread, which drops the topic's records meanwhile instead of
     * letting the queue and the in-flight limit fill behind it. At most one per topic at a time.
     */
    private final ExecutorService prober;
    /** Topics a record was serialized for (publisher thread only): their schema id is cached, no registry call. */
    private final Set<String> schemaKnown = new HashSet<>();
    /** A topic's registration under way on the registrar that the publisher stopped waiting for (publisher thread only). */
    private final Map<String, Future<byte[]>> registering = new HashMap<>();
    private long lastRegistrationLog;
    private final LongSupplier nanoClock;
    private final Thread thread;
    private volatile boolean closed;
    /** The back-offs of each topic (publisher thread only): interactions and unattributed calls pause apart. */
    private final Pauses interactionPauses = new Pauses();
    private final Pauses unattributedPauses = new Pauses();
    private long lastProducerErrorLog;
    private long lastBrokerUnavailableLog;
    private volatile Consumer<PendingInteraction> onSealed;
    private volatile Interaction primer;
    /** What ended the thread, when something did before {@link #close}. */
    private volatile Throwable failure;

    public CapturePublisher(ByteBoundedQueue<PendingInteraction> queue, InteractionAssembler assembler,
                            Serializer<SpecificRecord> serializer, Producer<String, byte[]> producer, String topic,
                            String unattributedTopic, String service, SidecarMetrics metrics,
                            Duration serializationBackoff, Duration brokerBackoff, Duration registrationWait) {
        this.queue = queue;
        this.assembler = assembler;
        this.serializer = serializer;
        this.producer = producer;
        this.topic = topic;
        this.unattributedTopic = unattributedTopic;
        this.service = service;
        this.metrics = metrics;
        this.serializationBackoffNanos = serializationBackoff.toNanos();
        this.brokerBackoffNanos = brokerBackoff.toNanos();
        this.registrationWaitNanos = registrationWait.toNanos();
        this.registrar = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "tapline-schema-registration");
            t.setDaemon(true);
            return t;
        });
        this.prober = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "tapline-broker-probe");
            t.setDaemon(true);
            return t;
        });
        this.nanoClock = System::nanoTime;
        this.thread = new Thread(this::run, "tapline-publisher");
        this.thread.setDaemon(true);
    }

    /** Starts the thread; {@code primer} (nullable) is serialized first to register the schema early. */
    public void start(Interaction primer) {
        this.primer = primer;
        thread.start();
    }

    /** Called on an event loop: enqueue or drop, never block. */
    public boolean offer(PendingInteraction p) {
        if (closed || !queue.offer(p, p.estimatedBytes())) {
            dropped(p, closed ? DropReason.SHUTDOWN : DropReason.QUEUE_FULL);
            return false;
        }
        return true;
    }

    /** Record key: service and route, so one route's traffic stays on one partition, in order. */
    public static String key(String service, String routeKey) {
        return service + " " + routeKey;
    }

    /**
     * Registers the record schema (through the serializer) before the first capture needs it, so the first real
     * record does not wait on a cold registry. A failure is only logged: records then retry it themselves.
     */
    private void prime() {
        if (primer == null) {
            return;
        }
        try {
            serializer.serialize(topic, primer);
            schemaKnown.add(topic);
            LOG.atInfo().addKeyValue("topic", topic).log("schema for {} registered", topic);
        } catch (RuntimeException e) { // whatever it is, the publisher thread must live on to drain the queue
            LOG.atWarn().addKeyValue("topic", topic).addKeyValue("error", e.getMessage())
                    .log("cannot register the schema for {} yet ({}); captures retry it", topic, e.getMessage());
        }
    }

    /**
     * Why the publisher thread no longer runs although the sidecar was not closed, for the liveness probe: the
     * proxy goes on serving without it, but nothing is published any more and captures pile up in the queue, so the
     * process should be restarted. Null while it runs, before it starts, and once closed.
     */
    public String notRunning() {
        if (closed || thread.getState() == Thread.State.NEW || thread.isAlive()) {
            return null;
        }
        Throwable f = failure;
        return "the capture publisher thread stopped" + (f == null ? "" : ": " + f)
                + "; captures are no longer published";
    }

    /**
     * The thread's body. Whatever ends it early (an Error such as a NoClassDefFoundError) is logged here, through
     * the product's logger, and kept for {@link #notRunning}; nothing is left to the JVM's default handler.
     */
    private void run() {
        try {
            drain();
        } catch (Throwable e) { // the thread ends here either way: say why where operators look
            failure = e;
            LOG.atError().setCause(e).addKeyValue("error", e.toString())
                    .log("the capture publisher thread stopped: {}; captures are no longer published, /healthy answers 503",
                            e.toString());
        }
    }

    private void drain() {
        prime();
        while (!closed) {
            PendingInteraction head = queue.peek();
            if (head != null) {
                long wait = head.publishAfterNanos() - nanoClock.getAsLong();
                if (wait > 0) {
                    // still in its grace period (late outbound calls may attach): FIFO, so everything behind waits too
                    LockSupport.parkNanos(Math.min(wait, TimeUnit.MILLISECONDS.toNanos(5)));
                    continue;
                }
            }
            PendingInteraction p;
            try {
                p = queue.poll(100, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            if (p == null) {
                probesEnded(); // idle: a send after a back-off that ended is counted now, not at the next capture
            } else {
                // one that arrived between peek and poll may still be in its grace period: wait it out
                long wait = p.publishAfterNanos() - nanoClock.getAsLong();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
                try {
                    sealAndPublish(p);
                } catch (RuntimeException | StackOverflowError e) {
                    // Whatever one capture does (a redaction rule overflowing the stack, say), this thread must live
                    // on: it is the only one draining the queue, and capture would stop silently without it.
                    dropped(p, DropReason.ASSEMBLY);
                    LOG.atError().addKeyValue("capture", p.id).addKeyValue("reason", DropReason.ASSEMBLY.label)
                            .addKeyValue("error", e.toString()).log("dropping capture {}: {}", p.id, e.toString());
                } catch (Error e) {
                    dropped(p, DropReason.ASSEMBLY); // counted like any capture lost; the error ends the thread (run)
                    throw e;
                }
            }
        }
    }

    private void sealAndPublish(PendingInteraction p) {
        try {
            p.seal();
        } finally {
            if (onSealed != null && !p.isUnattributed()) {
                onSealed.accept(p); // the correlation registry forgets it in every case
            }
        }
        try {
            publish(p);
        } finally {
            p.releaseBudget(); // published (its bytes are now the producer's) or dropped
        }
    }

    /** Called when an interaction's grace period ends (the correlation registry forgets it). */
    public void onSealed(Consumer<PendingInteraction> callback) {
        this.onSealed = callback;
    }

    void publish(PendingInteraction p) {
        if (p.overBudget()) {
            // a body could not be copied whole within the capture budget: never publish a capture that lies
            dropped(p, DropReason.CAPTURE_MEMORY);
            return;
        }
        long now = nanoClock.getAsLong();
        boolean unattributed = p.isUnattributed();
        Pauses pauses = pauses(unattributed);
        if (pauses.brokerSilent && !brokerMayAnswer(pauses, unattributed, now)) {
            // a send of this topic waited max.block.ms and failed a moment ago: do not pay that wait for every record,
            // nor assemble one that cannot be sent (the other topic's records go on: it is tracked apart)
            dropped(p, DropReason.BROKER_UNAVAILABLE);
            return;
        }
        SpecificRecord record;
        String recordTopic;
        String key;
        try {
            if (p.isUnattributed()) {
                UnattributedCall call = assembler.assembleUnattributed(p);
                record = call;
                recordTopic = unattributedTopic;
                key = service + " " + call.getCall().getDestination();
            } else {
                record = assembler.assemble(p);
                recordTopic = topic;
                key = key(service, assembler.routeKey(p));
            }
        } catch (RuntimeException | StackOverflowError e) {
            // a capture we cannot turn into a record (bug or odd message): drop it, keep serving
            dropped(p, DropReason.ASSEMBLY);
            LOG.atWarn().addKeyValue("capture", p.id).addKeyValue("reason", DropReason.ASSEMBLY.label)
                    .addKeyValue("error", e.toString()).log("dropping capture {}: cannot assemble: {}", p.id, e.toString());
            return;
        }
        if (now < pauses.serializationUntil) {
            // this topic's schema failed a moment ago: do not stall this thread on the registry for every record
            // (the other topic's records go on: their schema id may well be known)
            dropped(p, DropReason.SERIALIZATION);
            return;
        }
        byte[] value;
        try {
            value = schemaKnown.contains(recordTopic) ? serializer.serialize(recordTopic, record) : serializeFirst(recordTopic, record);
            if (value == null) {
                dropped(p, DropReason.SERIALIZATION); // its topic's schema is being registered, not waited for
                return;
            }
        } catch (SerializationException e) {
            // from when the failure was seen: a registry that timed out took longer than the back-off itself
            pauses.serializationUntil = nanoClock.getAsLong() + serializationBackoffNanos;
            dropped(p, DropReason.SERIALIZATION);
            LOG.atWarn().addKeyValue("reason", DropReason.SERIALIZATION.label).addKeyValue("pause_ms", serializationBackoffNanos / 1_000_000)
                    .addKeyValue("error", e.getMessage())
                    .log("dropping captures for {} for {} ms: serialization failed: {}", recordTopic,
                            serializationBackoffNanos / 1_000_000, e.getMessage());
            return;
        }
        // The callback keeps only the size: the producer holds it until the record's batch is acknowledged (up to
        // delivery.timeout.ms while the broker is down, for every record in buffer.memory), and the record's bytes
        // or the interaction held by it would stay reachable all that time, uncompressed, outside every bound.
        ProducerRecord<String, byte[]> out = new ProducerRecord<>(recordTopic, key, value);
        Sent sent = new Sent(unattributed, value.length);
        if (pauses.brokerSilent) {
            // the back-off is over: this record tries the broker, on the prober thread, so that this one does not
            // wait max.block.ms again if it still does not answer; the topic's next records are dropped meanwhile
            try {
                pauses.probe = prober.submit(() -> {
                    try {
                        return send(out, sent);
                    } catch (RuntimeException e) { // counted as the send's failure, as on the publisher thread
                        sent.failedInSend = e;
                        sent.failedAt = nanoClock.getAsLong();
                        return sent;
                    }
                });
            } catch (RejectedExecutionException e) { // closed
                dropped(unattributed, DropReason.SHUTDOWN);
            }
            return;
        }
        send(out, sent);
        if (sent.failedInSend != null) {
            producerFailed(unattributed, sent.failedInSend, sent.failedAt);
        }
    }

    /**
     * Sends one record; a failure on the calling thread, inside {@code send} (the callback run there, or an exception
     * thrown by it), is left in {@code sent} with its time for the publisher thread to take up.
     */
    private Sent send(ProducerRecord<String, byte[]> record, Sent sent) {
        sent.inSend = Thread.currentThread();
        try {
            producer.send(record, sent);
        } catch (KafkaException | IllegalStateException e) {
            // send() itself throws for fatal client states (interrupt, oversize for some configs), and an
            // IllegalStateException once the producer is closed (a thread stuck in the registry while the stop closed it)
            sent.failedInSend = e;
        } finally {
            sent.inSend = null;
        }
        if (sent.failedInSend != null) {
            sent.failedAt = nanoClock.getAsLong();
        }
        return sent;
    }

    /**
     * Whether a topic whose broker did not answer may be sent to again (publisher thread): not while the back-off
     * runs, nor while the send after it is still waiting on the prober thread. Once that send is done, its outcome
     * is taken up here, if the idle poll has not ({@link #probesEnded}): taken by the producer, the topic is sent to
     * again from this record on; failed the same way, the back-off starts again from when it failed.
     */
    private boolean brokerMayAnswer(Pauses pauses, boolean unattributed, long now) {
        Future<Sent> probe = pauses.probe;
        if (probe == null) {
            return now >= pauses.brokerUntil; // over: this record is the one sent from the prober thread
        }
        return probe.isDone() && takeUpProbe(pauses, unattributed, probe);
    }

    /**
     * Takes up the outcome of a topic's send after the back-off once it has ended (publisher thread): the broker
     * answers when the producer took it; failed the same way, the back-off starts again from when it failed (and the
     * failure is counted). Returns whether the topic may be sent to again.
     */
    private boolean takeUpProbe(Pauses pauses, boolean unattributed, Future<Sent> probe) {
        pauses.probe = null;
        Sent tried = outcome(probe);
        if (tried == null || tried.failedInSend == null) {
            pauses.brokerSilent = false; // taken (its callback counts it): the broker answers
            return true;
        }
        producerFailed(unattributed, tried.failedInSend, tried.failedAt);
        return !pauses.brokerSilent; // another failure than the broker's (the record's own) ends the pause
    }

    /**
     * No capture came within a poll (publisher thread): the sends after a back-off that have ended are taken up, so
     * that a failed one is counted while the sidecar is idle, not only when its topic's next capture comes.
     */
    private void probesEnded() {
        Future<Sent> probe = interactionPauses.probe;
        if (probe != null && probe.isDone()) {
            takeUpProbe(interactionPauses, false, probe);
        }
        probe = unattributedPauses.probe;
        if (probe != null && probe.isDone()) {
            takeUpProbe(unattributedPauses, true, probe);
        }
    }

    /** A finished probe's send; null only when it was cancelled or interrupted (the stop). */
    private static Sent outcome(Future<Sent> probe) {
        try {
            return probe.get();
        } catch (ExecutionException | java.util.concurrent.CancellationException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /**
     * Serializes a record of a topic none was serialized for yet, which registers (or looks up) its schema, on the
     * registrar thread, waiting for it up to the registration wait. A registry that does not answer within it (frozen,
     * partitioned: its calls time out instead of being refused) keeps the registrar busy, not this thread: the record
     * is dropped (null), and so are the topic's next ones until that call ends, when its outcome is taken up.
     */
    private byte[] serializeFirst(String topic, SpecificRecord record) {
        Future<byte[]> call = registering.remove(topic);
        if (call != null && !call.isDone()) {
            registering.put(topic, call);
            return null;
        }
        if (call != null && outcome(topic, call) != null) {
            return serializer.serialize(topic, record); // registered since: the id is cached
        }
        try {
            call = registrar.submit(() -> serializer.serialize(topic, record));
        } catch (RejectedExecutionException e) { // closed
            throw new SerializationException("cannot register the schema for " + topic + ": the sidecar is stopping", e);
        }
        try {
            call.get(registrationWaitNanos, TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            registering.put(topic, call);
            long now = nanoClock.getAsLong();
            if (now - lastRegistrationLog > TimeUnit.SECONDS.toNanos(10)) {
                lastRegistrationLog = now;
                LOG.atWarn().addKeyValue("topic", topic).addKeyValue("reason", DropReason.SERIALIZATION.label)
                        .log("the schema registry has not answered for {} within {} ms: dropping its captures until it does",
                                topic, registrationWaitNanos / 1_000_000);
            }
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            registering.put(topic, call);
            return null;
        } catch (ExecutionException e) {
            // taken up below
        }
        return outcome(topic, call);
    }

    /** The value of a finished registration call, the topic now known; its failure thrown as the serializer's. */
    private byte[] outcome(String topic, Future<byte[]> call) {
        try {
            byte[] value = call.get();
            schemaKnown.add(topic);
            return value;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new SerializationException(String.valueOf(cause), cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SerializationException("interrupted", e);
        }
    }

    /** Counts a record not published: an interaction's drop, or an unattributed call's (counted apart). */
    private void dropped(PendingInteraction p, DropReason reason) {
        dropped(p.isUnattributed(), reason);
    }

    private void dropped(boolean unattributed, DropReason reason) {
        if (unattributed) {
            metrics.unattributedDropped(reason);
        } else {
            metrics.dropped(reason);
        }
    }

    /**
     * A send that failed on the calling thread, inside {@code send}, at {@code failedAt} (publisher thread). One that
     * failed with a Kafka {@code TimeoutException} (the topic's metadata, or room in {@code buffer.memory}, did not
     * come within {@code max.block.ms}: the broker does not answer) held its thread that long, and so would every send
     * after it: the topic's records are dropped without a send for the broker back-off, counted from when it failed.
     * Other such failures (a record too large, a closed producer) are the record's or the stop's, not the broker's,
     * and pause nothing.
     */
    private void producerFailed(boolean unattributed, Exception err, long failedAt) {
        Pauses pauses = pauses(unattributed);
        if (!(err instanceof org.apache.kafka.common.errors.TimeoutException)) {
            pauses.brokerSilent = false;
            producerFailed(unattributed, err);
            return;
        }
        dropped(unattributed, DropReason.PRODUCER_ERROR);
        metrics.producerError(err);
        pauses.brokerSilent = true;
        pauses.brokerUntil = failedAt + brokerBackoffNanos;
        if (failedAt - lastBrokerUnavailableLog > TimeUnit.SECONDS.toNanos(10)) {
            lastBrokerUnavailableLog = failedAt;
            String topic = unattributed ? unattributedTopic : this.topic;
            LOG.atWarn().addKeyValue("topic", topic).addKeyValue("reason", DropReason.BROKER_UNAVAILABLE.label)
                    .addKeyValue("pause_ms", brokerBackoffNanos / 1_000_000).addKeyValue("error", err.toString())
                    .log("Kafka did not answer within max.block.ms: dropping captures for {} (counted as {}), one send "
                                    + "tried every {} ms until one is taken; further such lines every 10 s: {}",
                            topic, DropReason.BROKER_UNAVAILABLE.label, brokerBackoffNanos / 1_000_000, err.toString());
        }
    }

    /**
     * A send that failed otherwise: inside {@code send} but not for the broker, or later, reported by the producer's
     * I/O thread (a batch that timed out in {@code delivery.timeout.ms}), or by the stop. Counted; pauses nothing.
     */
    private void producerFailed(boolean unattributed, Exception err) {
        dropped(unattributed, DropReason.PRODUCER_ERROR);
        metrics.producerError(err);
        long now = nanoClock.getAsLong();
        if (now - lastProducerErrorLog > TimeUnit.SECONDS.toNanos(10)) {
            lastProducerErrorLog = now;
            LOG.atWarn().addKeyValue("reason", DropReason.PRODUCER_ERROR.label).addKeyValue("error", err.toString())
                    .log("capture not published (counted as producer_error; further errors logged every 10 s): {}", err.toString());
        }
    }

    private Pauses pauses(boolean unattributed) {
        return unattributed ? unattributedPauses : interactionPauses;
    }

    /** Until when one topic's records are dropped without being tried (publisher thread only); never, until a failure sets it. */
    private static final class Pauses {
        /** After a serialization failure (the registry is per subject): not serialized. */
        long serializationUntil = Long.MIN_VALUE;
        /**
         * From a send that waited {@code max.block.ms} and failed (a broker that does not answer) until a send is
         * taken: not sent, but for one send at the end of each back-off, made on the prober thread.
         */
        boolean brokerSilent;
        long brokerUntil = Long.MIN_VALUE;
        /** That one send, while it runs or until its outcome is taken up. */
        Future<Sent> probe;
    }

    /**
     * One record's send and its callback. The callback keeps only the size (see {@link #publish}). A failure reported
     * on the thread still inside {@code send} ({@code inSend}, written and cleared by that thread, so no other thread
     * finds itself there) is the send's own: it is left here for the publisher thread. One reported later, from the
     * producer's I/O thread or the stop's, is counted where it is reported.
     */
    private final class Sent implements Callback {
        final boolean unattributed;
        final int size;
        Thread inSend;
        Exception failedInSend;
        long failedAt;

        Sent(boolean unattributed, int size) {
            this.unattributed = unattributed;
            this.size = size;
        }

        @Override
        public void onCompletion(RecordMetadata metadata, Exception err) {
            if (err == null && unattributed) {
                metrics.unattributedPublished.inc();
            } else if (err == null) {
                metrics.published.inc();
                metrics.publishedBytes.add(size);
            } else if (inSend == Thread.currentThread()) {
                failedInSend = err; // before the record reached the producer's buffer
            } else {
                producerFailed(unattributed, err);
            }
        }
    }

    public long queuedBytes() {
        return queue.bytes();
    }

    /** Stops taking work, drains what is queued for up to {@code timeout}, then closes the producer. */
    @Override
    public void close() {
        closeWithin(Duration.ofSeconds(5));
    }

    public void closeWithin(Duration timeout) {
        closed = true;
        try {
            thread.join(1000);
            long deadline = System.nanoTime() + timeout.toNanos() / 2;
            if (thread.isAlive()) {
                // stuck in a capture (a registry that does not answer): woken if it can be, within the same deadline
                thread.interrupt();
                thread.join(Math.max(1, timeout.toMillis() / 2));
            }
            // after the thread died of an error, what is queued would meet it again here: it is dropped below instead;
            // and while it still runs, it stays the only one publishing (what is queued is dropped, not raced for)
            boolean publishing = failure == null && !thread.isAlive();
            PendingInteraction p;
            while (publishing && System.nanoTime() < deadline && (p = queue.poll(0, TimeUnit.MILLISECONDS)) != null) {
                sealAndPublish(p); // shutting down: no more waiting for late calls
            }
            while ((p = queue.poll(0, TimeUnit.MILLISECONDS)) != null) {
                p.releaseBudget();
                dropped(p, DropReason.SHUTDOWN);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        registrar.shutdownNow(); // a registry call still running is interrupted; its thread is a daemon either way
        prober.shutdown();
        producer.close(timeout.dividedBy(2)); // a probe still waiting for metadata fails now
        if (!thread.isAlive()) {
            probed(interactionPauses, false);
            probed(unattributedPauses, true);
        }
    }

    /** At the stop: counts the outcome of a topic's probe send that the publisher thread did not take up. */
    private void probed(Pauses pauses, boolean unattributed) {
        Future<Sent> probe = pauses.probe;
        if (probe == null) {
            return;
        }
        pauses.probe = null;
        try {
            Sent tried = probe.get(1, TimeUnit.SECONDS);
            if (tried.failedInSend != null) {
                producerFailed(unattributed, tried.failedInSend);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // cannot be (the task catches what send throws; the producer is closed); its callback counts it if it ends
        }
    }
}
