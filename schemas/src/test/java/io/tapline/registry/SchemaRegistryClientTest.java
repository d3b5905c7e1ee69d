package io.tapline.registry;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.tapline.avro.Interaction;
import org.apache.avro.Schema;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SchemaRegistryClientTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private RegistryStub stub;

    @BeforeEach
    void start() throws IOException {
        stub = new RegistryStub();
    }

    @AfterEach
    void stop() {
        stub.close();
    }

    @Test
    void anUnreadableAnswerIsNoAnswerFromARegistryFailedOverAndNeverTheRecordsFault() throws IOException {
        try (ServerSocket proxy = RegistryStub.brokenProxy()) {
            String broken = "http://127.0.0.1:" + proxy.getLocalPort();
            SchemaRegistryClient alone = new SchemaRegistryClient(RegistryConfig.fromMap(Map.of(
                    RegistryConfig.URL, broken, RegistryConfig.MAX_RETRIES, 0)));
            RuntimeException e = assertThrows(RuntimeException.class, () -> alone.schemaById(1));
            assertTrue(e instanceof SchemaRegistryException, "classified, not escaped: " + e);
            assertFalse(SchemaRegistryException.recordAtFault(e), e.getMessage());

            SchemaRegistryClient failover = new SchemaRegistryClient(RegistryConfig.fromMap(Map.of(
                    RegistryConfig.URL, broken + "," + stub.url(), RegistryConfig.MAX_RETRIES, 0)));
            assertTrue(failover.register("t-value", Interaction.getClassSchema()) > 0, "the next URL answers");
        }
    }

    @Test
    void registersOnceThenAnswersFromCache() {
        SchemaRegistryClient client = new SchemaRegistryClient(RegistryConfig.of(stub.url()));
        int first = client.register("t-value", Interaction.getClassSchema());
        int second = client.register("t-value", Interaction.getClassSchema());
        assertEquals(first, second);
        assertEquals(1, stub.requests().stream().filter(r -> r.startsWith("POST /subjects/t-value/versions")).count());
        assertEquals(Interaction.getClassSchema(), client.schemaById(first));
    }

    @Test
    void retriesUnavailableRegistryABoundedNumberOfTimes() {
        SchemaRegistryClient client = new SchemaRegistryClient(RegistryConfig.fromMap(Map.of(
                RegistryConfig.URL, stub.url(), RegistryConfig.MAX_RETRIES, 2, RegistryConfig.RETRY_BACKOFF_MS, 1)));
        stub.failNext(2, 503);
        assertTrue(client.register("t-value", Interaction.getClassSchema()) > 0);

        stub.failNext(3, 503);
        SchemaRegistryException e = assertThrows(SchemaRegistryException.class,
                () -> client.register("other-value", Interaction.getClassSchema()));
        assertEquals(503, e.httpStatus());
    }

    @Test
    void rejectedRegistrationIsNotRetriedAndNamesSubjectAndRegistry() {
        SchemaRegistryClient client = new SchemaRegistryClient(RegistryConfig.of(stub.url()));
        stub.failNext(1, 409);
        SchemaRegistryException e = assertThrows(SchemaRegistryException.class,
                () -> client.register("tapline.cases-value", Interaction.getClassSchema()));
        assertFalse(e.retriable());
        assertTrue(e.getMessage().contains("tapline.cases-value"), e.getMessage());
        assertTrue(e.getMessage().contains(stub.url()), e.getMessage());
        // One register, then one look-up to tell a lost registration race from a real incompatibility; no retry.
        assertEquals(List.of("POST /subjects/tapline.cases-value/versions", "POST /subjects/tapline.cases-value"),
                stub.requests());
    }

    @Test
    void conflictOnRegisterIsResolvedWhenAnotherClientRegisteredTheSameSchema() {
        SchemaRegistryClient client = new SchemaRegistryClient(RegistryConfig.of(stub.url()));
        int id = stub.put("race-value", Interaction.getClassSchema().toString());
        stub.failNext(1, 409);
        assertEquals(id, client.register("race-value", Interaction.getClassSchema()));
    }

    @Test
    void unreachableRegistryNamesTheUrl() throws IOException {
        int freePort;
        try (ServerSocket socket = new ServerSocket(0)) {
            freePort = socket.getLocalPort();
        }
        String url = "http://127.0.0.1:" + freePort + "/apis/ccompat/v7";
        SchemaRegistryClient client = new SchemaRegistryClient(RegistryConfig.fromMap(Map.of(
                RegistryConfig.URL, url, RegistryConfig.MAX_RETRIES, 0)));
        SchemaRegistryException e = assertThrows(SchemaRegistryException.class, () -> client.schemaById(7));
        assertTrue(e.getMessage().contains(url) && e.getMessage().contains("unreachable"), e.getMessage());
        assertTrue(e.retriable());
    }

    /** Kafka's {@code ConfigException}, as a Kafka serde's missing setting is, like a wrong URL's. */
    @Test
    void missingUrlIsAClearError() {
        for (Map<String, ?> configs : List.<Map<String, ?>>of(Map.of(), Map.of(RegistryConfig.URL, " "))) {
            ConfigException e = assertThrows(ConfigException.class, () -> RegistryConfig.fromMap(configs));
            assertTrue(e.getMessage().contains(RegistryConfig.URL), e.getMessage());
        }
    }

    /** A negative backoff failed each retry with an exception the callers took for a bad record's. */
    @Test
    void aSettingOutOfRangeIsRefusedNamingItsKey() {
        List<Map.Entry<String, Object>> outOfRange = List.of(Map.entry(RegistryConfig.RETRY_BACKOFF_MS, -1),
                Map.entry(RegistryConfig.MAX_RETRIES, "-1"), Map.entry(RegistryConfig.REQUEST_TIMEOUT_MS, 0),
                // not truncated to an int: 2^32 + 1 was a capacity of 1, 2^32 + 2 two retries
                Map.entry(RegistryConfig.CACHE_CAPACITY, "4294967297"), Map.entry(RegistryConfig.MAX_RETRIES, 4_294_967_298L));
        for (Map.Entry<String, Object> setting : outOfRange) {
            ConfigException e = assertThrows(ConfigException.class, () -> RegistryConfig.fromMap(
                    Map.of(RegistryConfig.URL, stub.url(), setting.getKey(), setting.getValue())), setting.toString());
            assertTrue(e.getMessage().startsWith(setting.getKey() + ": expected a whole number from "), e.getMessage());
        }
        RegistryConfig zero = RegistryConfig.fromMap(Map.of(RegistryConfig.URL, stub.url(),
                RegistryConfig.RETRY_BACKOFF_MS, 0, RegistryConfig.MAX_RETRIES, "0"));
        assertEquals(Duration.ZERO, zero.retryBackoff());
        assertEquals(0, zero.maxRetries());
    }

    @Test
    void configToStringHidesCredentials() {
        RegistryConfig config = RegistryConfig.fromMap(Map.of(RegistryConfig.URL, "http://r:8081",
                RegistryConfig.BASIC_AUTH_USER_INFO, "alice:wonderland",
                RegistryConfig.TRUSTSTORE_PASSWORD, "changeit"));
        assertFalse(config.toString().contains("wonderland"), config.toString());
        assertFalse(config.toString().contains("changeit"), config.toString());
    }

    @Test
    void sendsBasicAuthWhenConfigured() {
        SchemaRegistryClient client = new SchemaRegistryClient(RegistryConfig.fromMap(Map.of(
                RegistryConfig.URL, stub.url(), RegistryConfig.BASIC_AUTH_USER_INFO, "alice:secret")));
        assertTrue(client.register("a-value", Interaction.getClassSchema()) > 0);
        assertEquals("Basic " + java.util.Base64.getEncoder().encodeToString("alice:secret".getBytes(
                java.nio.charset.StandardCharsets.UTF_8)), stub.lastAuthorization());
    }

    @Test
    void credentialsInTheUrlAreSentAsBasicAuthAndNeverShown() throws IOException {
        String withCredentials = stub.url().replace("http://", "http://alice:s3cret%40home@");
        RegistryConfig config = RegistryConfig.of(withCredentials);
        assertEquals(List.of(stub.url()), config.urls());
        assertFalse(config.toString().contains("s3cret"), config.toString());
        SchemaRegistryClient client = new SchemaRegistryClient(config);
        assertTrue(client.register("a-value", Interaction.getClassSchema()) > 0);
        assertEquals(basic("alice:s3cret@home"), stub.lastAuthorization());

        stub.failNext(1, 401);
        SchemaRegistryException refused = assertThrows(SchemaRegistryException.class, () -> client.schemaById(99));
        assertFalse(refused.getMessage().contains("s3cret"), refused.getMessage());
        String closed = "http://alice:s3cret@127.0.0.1:" + freePort() + "/apis/ccompat/v7";
        SchemaRegistryClient unreachable = new SchemaRegistryClient(RegistryConfig.fromMap(Map.of(
                RegistryConfig.URL, closed, RegistryConfig.MAX_RETRIES, 0)));
        SchemaRegistryException e = assertThrows(SchemaRegistryException.class, () -> unreachable.schemaById(7));
        assertFalse(e.getMessage().contains("s3cret") || e.getMessage().contains("alice"), e.getMessage());
        assertTrue(e.getMessage().contains(closed.replace("alice:s3cret@", "")), e.getMessage());
    }

    @Test
    void basicAuthUserInfoWinsOverTheUrlUnlessTheUrlIsTheCredentialsSource() {
        String withCredentials = stub.url().replace("http://", "http://alice:from-url@");
        new SchemaRegistryClient(RegistryConfig.fromMap(Map.of(RegistryConfig.URL, withCredentials,
                RegistryConfig.BASIC_AUTH_USER_INFO, "bob:from-user-info"))).register("a-value", Interaction.getClassSchema());
        assertEquals(basic("bob:from-user-info"), stub.lastAuthorization());

        new SchemaRegistryClient(RegistryConfig.fromMap(Map.of(RegistryConfig.URL, withCredentials,
                RegistryConfig.BASIC_AUTH_USER_INFO, "bob:from-user-info", RegistryConfig.BASIC_AUTH_CREDENTIALS_SOURCE, "URL")))
                .register("b-value", Interaction.getClassSchema());
        assertEquals(basic("alice:from-url"), stub.lastAuthorization());

        new SchemaRegistryClient(RegistryConfig.fromMap(Map.of(RegistryConfig.URL, withCredentials,
                RegistryConfig.BASIC_AUTH_CREDENTIALS_SOURCE, "USER_INFO"))).register("c-value", Interaction.getClassSchema());
        assertEquals(null, stub.lastAuthorization());

        ConfigException e = assertThrows(ConfigException.class, () -> RegistryConfig.fromMap(Map.of(
                RegistryConfig.URL, withCredentials, RegistryConfig.BASIC_AUTH_CREDENTIALS_SOURCE, "SASL_INHERIT")));
        assertTrue(e.getMessage().startsWith(RegistryConfig.BASIC_AUTH_CREDENTIALS_SOURCE + ": 'SASL_INHERIT' is not supported")
                && !e.getMessage().contains("from-url"), e.getMessage());
    }

    private static String basic(String userInfo) {
        return "Basic " + java.util.Base64.getEncoder().encodeToString(userInfo.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void onlyAMissingOrUnusableSchemaPutsTheRecordAtFault() {
        assertTrue(SchemaRegistryException.recordAtFault(new SerializationException("cannot decode",
                new SchemaRegistryException("schema id 7 not found", 404, 40403, null))));
        assertTrue(SchemaRegistryException.recordAtFault(new SchemaRegistryException("id 7 is PROTOBUF", 200, -1, null)));
        assertTrue(SchemaRegistryException.recordAtFault(new SerializationException("bad magic byte")));
        for (int status : new int[]{-1, 401, 403, 408, 429, 500, 503}) {
            assertFalse(SchemaRegistryException.recordAtFault(new SerializationException("cannot decode",
                    new SchemaRegistryException("registry said " + status, status, -1, null))), "status " + status);
        }
    }

    @Test
    void onlyANotFoundWithARegistryErrorCodeIsAMissingSchema() {
        for (int code : new int[]{40401, 40402, 40403}) {
            assertTrue(SchemaRegistryException.recordAtFault(new SerializationException("cannot decode",
                    new SchemaRegistryException("not found", 404, code, null))), "error_code " + code);
        }
        for (int code : new int[]{-1, 404, 40400, 40408}) {
            assertFalse(SchemaRegistryException.recordAtFault(new SerializationException("cannot decode",
                    new SchemaRegistryException("not found", 404, code, null))), "error_code " + code);
        }
    }

    @Test
    void aNotFoundPageFromSomethingOtherThanARegistryIsNotTheRecordsFault() {
        SchemaRegistryClient client = new SchemaRegistryClient(RegistryConfig.of(stub.url()));
        String page = "<html><body><h1>404 Not Found</h1>" + "default backend ".repeat(1000) + "</body></html>";
        stub.answerNext(1, 404, "text/html", page);
        SchemaRegistryException e = assertThrows(SchemaRegistryException.class, () -> client.schemaById(7));
        assertFalse(SchemaRegistryException.recordAtFault(new SerializationException("cannot decode", e)), e.getMessage());
        assertTrue(e.getMessage().contains("may not point at a schema registry") && e.getMessage().contains(stub.url()),
                e.getMessage());
        assertTrue(e.getMessage().length() < 1000, "the page is cut short in the message: " + e.getMessage().length());

        // A Confluent registry's answer to a path it does not serve (a URL without its API prefix): JSON, error_code 404.
        stub.answerNext(1, 404, "application/json", "{\"error_code\":404,\"message\":\"HTTP 404 Not Found\"}");
        e = assertThrows(SchemaRegistryException.class, () -> client.schemaById(7));
        assertFalse(SchemaRegistryException.recordAtFault(e), e.getMessage());

        e = assertThrows(SchemaRegistryException.class, () -> client.schemaById(7)); // the stub's own 40403
        assertEquals(40403, e.errorCode());
        assertTrue(SchemaRegistryException.recordAtFault(e), e.getMessage());
    }

    @Test
    void aSuccessThatIsNotRegistryJsonIsNotTheRecordsFault() {
        SchemaRegistryClient client = new SchemaRegistryClient(RegistryConfig.of(stub.url()));
        stub.answerNext(1, 200, "text/html; charset=utf-8", "<!doctype html><html><title>Sign in</title></html>");
        SchemaRegistryException e = assertThrows(SchemaRegistryException.class, () -> client.schemaById(7));
        assertFalse(SchemaRegistryException.recordAtFault(e), e.getMessage());
        assertTrue(e.getMessage().contains("may not point at a schema registry"), e.getMessage());

        // A registry's JSON answer that lacks what is needed, or names an unusable schema, is the record's.
        stub.answerNext(1, 200, "application/json", "{}");
        e = assertThrows(SchemaRegistryException.class, () -> client.schemaById(7));
        assertTrue(SchemaRegistryException.recordAtFault(e), e.getMessage());
        stub.answerNext(1, 200, "application/json", "{\"schemaType\":\"PROTOBUF\",\"schema\":\"syntax = \\\"proto3\\\";\"}");
        e = assertThrows(SchemaRegistryException.class, () -> client.schemaById(7));
        assertTrue(SchemaRegistryException.recordAtFault(e), e.getMessage());
    }

    /** An id always names the same schema: one that is not usable Avro is asked for once, like a usable one. */
    @Test
    void anIdWhoseSchemaIsNotUsableAvroIsAskedForOnce() {
        SchemaRegistryClient client = new SchemaRegistryClient(RegistryConfig.of(stub.url()));
        stub.answerNext(1, 200, "application/json", "{\"schemaType\":\"PROTOBUF\",\"schema\":\"syntax = \\\"proto3\\\";\"}");
        SchemaRegistryException first = assertThrows(SchemaRegistryException.class, () -> client.schemaById(7));
        stub.answerNext(1, 200, "application/json", "{\"schema\":\"{\\\"type\\\": \\\"nothing\\\"}\"}");
        SchemaRegistryException unparsed = assertThrows(SchemaRegistryException.class, () -> client.schemaById(8));

        for (int i = 0; i < 3; i++) {
            SchemaRegistryException again = assertThrows(SchemaRegistryException.class, () -> client.schemaById(7));
            assertEquals(first.getMessage(), again.getMessage());
            assertTrue(SchemaRegistryException.recordAtFault(again), again.getMessage());
            again = assertThrows(SchemaRegistryException.class, () -> client.schemaById(8));
            assertEquals(unparsed.getMessage(), again.getMessage());
            assertEquals(unparsed.getCause(), again.getCause(), "the parser's own error, as at the first call");
        }
        assertTrue(first.getMessage().contains("PROTOBUF, not AVRO"), first.getMessage());
        assertTrue(unparsed.getMessage().contains("not a usable Avro schema"), unparsed.getMessage());
        assertEquals(List.of("GET /schemas/ids/7", "GET /schemas/ids/8"), stub.requests(),
                "one call per id, not per record");
    }

    @Test
    void aSchemaWithReferencesItNeedsIsUnusableAndTheReferencesAreNamed() {
        SchemaRegistryClient client = new SchemaRegistryClient(RegistryConfig.of(stub.url()));
        String schema = "{\"type\":\"record\",\"name\":\"Order\",\"fields\":[{\"name\":\"customer\","
                + "\"type\":\"com.shop.Customer\"}]}";
        var answer = JSON.createObjectNode().put("schema", schema);
        answer.putArray("references").addObject().put("name", "com.shop.Customer").put("subject", "customer-value")
                .put("version", 3);
        stub.answerNext(1, 200, "application/vnd.schemaregistry.v1+json", answer.toString());
        SchemaRegistryException e = assertThrows(SchemaRegistryException.class, () -> client.schemaById(7));
        assertTrue(e.getMessage().contains("not a usable Avro schema") && e.getMessage().contains(
                "references com.shop.Customer (subject customer-value version 3), and the registry client does not "
                        + "fetch referenced schemas"), e.getMessage());
        assertTrue(SchemaRegistryException.recordAtFault(e), "no record of that id can be read: " + e.getMessage());

        // References the text does not need (Apicurio answers an empty list) change nothing.
        var whole = JSON.createObjectNode().put("schema", Interaction.getClassSchema().toString());
        whole.putArray("references");
        stub.answerNext(1, 200, "application/vnd.schemaregistry.v1+json", whole.toString());
        assertEquals(Interaction.getClassSchema(), client.schemaById(8));
    }

    @Test
    void aRegistryStallingInTheMiddleOfItsAnswerTimesOutAndIsAskedAgain() {
        SchemaRegistryClient client = new SchemaRegistryClient(RegistryConfig.fromMap(Map.of(RegistryConfig.URL, stub.url(),
                RegistryConfig.REQUEST_TIMEOUT_MS, 300, RegistryConfig.MAX_RETRIES, 1, RegistryConfig.RETRY_BACKOFF_MS, 1)));
        int first = stub.put("a-value", Interaction.getClassSchema().toString());
        int second = stub.put("b-value", Interaction.getClassSchema().toString());

        stub.stallNext(1);
        Schema schema = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> client.schemaById(first));
        assertEquals(Interaction.getClassSchema(), schema);
        assertEquals(2, stub.requests().size(), "the retry after the timeout got the answer");

        stub.stallNext(2);
        SchemaRegistryException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> assertThrows(SchemaRegistryException.class, () -> client.schemaById(second)));
        assertTrue(e.retriable(), e.getMessage());
        assertFalse(SchemaRegistryException.recordAtFault(e), e.getMessage());
        assertTrue(e.getMessage().contains(stub.url()) && e.getMessage().contains("300 ms"), e.getMessage());
    }

    /**
     * A thread interrupted in a call (a stream thread or a producer closed at shutdown) ends the call at once with its
     * interrupt status kept: the failure is not retriable, and no other URL is tried, however long the registry stalls.
     */
    @Test
    void anInterruptedCallEndsWithoutRetryingAndKeepsTheInterrupt() throws Exception {
        try (RegistryStub other = new RegistryStub()) {
            stub.stallNext(Integer.MAX_VALUE);
            SchemaRegistryClient client = slowToGiveUp(stub.url() + "," + other.url());
            Call call = Call.start(() -> client.schemaById(1));
            while (stub.requests().isEmpty()) {
                Thread.onSpinWait();
            }
            SchemaRegistryException e = call.interruptAndFailure();
            assertTrue(e.getMessage().contains("interrupted while trying to fetch schema id 1 at " + stub.url()),
                    e.getMessage());
            assertTrue(e.interrupted(), e.getMessage());
            assertFalse(e.retriable(), "an interrupted call is not asked again: " + e.getMessage());
            assertFalse(SchemaRegistryException.recordAtFault(e), e.getMessage());
            assertTrue(call.interruptKept(), "the caller still sees its interrupt");
            assertEquals(List.of(), other.requests(), "no other URL was tried");
        }
    }

    @Test
    void anInterruptInTheBackoffBetweenTwoAttemptsEndsTheCall() throws Exception {
        stub.failNext(Integer.MAX_VALUE, 503);
        SchemaRegistryClient client = slowToGiveUp(stub.url());
        Call call = Call.start(() -> client.schemaById(1));
        while (Arrays.stream(call.thread.getStackTrace()).noneMatch(f -> f.getMethodName().equals("sleep"))) {
            Thread.onSpinWait();
        }
        SchemaRegistryException e = call.interruptAndFailure();
        assertTrue(e.getMessage().contains("interrupted while waiting to try again to fetch schema id 1"),
                e.getMessage());
        assertFalse(e.retriable(), e.getMessage());
        assertEquals(503, ((SchemaRegistryException) e.getSuppressed()[0]).httpStatus(), "the failure retried is kept");
        assertTrue(call.interruptKept(), "the caller still sees its interrupt");
        assertEquals(List.of("GET /schemas/ids/1"), stub.requests(), "no attempt after the interrupt");
    }

    @Test
    void aThreadInterruptedBeforeACallSendsNothing() throws Exception {
        int id = stub.put("t-value", Interaction.getClassSchema().toString());
        SchemaRegistryClient client = slowToGiveUp(stub.url());
        Call call = Call.start(() -> {
            Thread.currentThread().interrupt();
            client.schemaById(id);
        });
        call.thread.join();
        SchemaRegistryException e = (SchemaRegistryException) call.failure.get();
        assertTrue(e.getMessage().contains("interrupted before trying to fetch schema id " + id), e.getMessage());
        assertFalse(e.retriable(), e.getMessage());
        assertTrue(call.interruptKept(), "the caller still sees its interrupt");
        assertEquals(List.of(), stub.requests());
    }

    /** Interrupted in the look-up that tells a lost registration race from an incompatibility, a call says so. */
    @Test
    void anInterruptInTheLookUpAfterAConflictIsNotTakenForTheConflict() throws Exception {
        stub.failNext(1, 409);
        stub.stallAfter(1);
        SchemaRegistryClient client = slowToGiveUp(stub.url());
        Call call = Call.start(() -> client.register("race-value", Interaction.getClassSchema()));
        while (stub.requests().size() < 2) {
            Thread.onSpinWait();
        }
        SchemaRegistryException e = call.interruptAndFailure();
        assertTrue(e.interrupted(), "not the 409: " + e.getMessage());
        assertTrue(e.getMessage().contains("interrupted while trying to look up schema"), e.getMessage());
        assertTrue(call.interruptKept(), "the caller still sees its interrupt");
    }

    /** A client that would wait, retry and back off for many minutes before it gave up by itself. */
    private static SchemaRegistryClient slowToGiveUp(String urls) {
        return new SchemaRegistryClient(RegistryConfig.fromMap(Map.of(RegistryConfig.URL, urls,
                RegistryConfig.REQUEST_TIMEOUT_MS, 600_000, RegistryConfig.MAX_RETRIES, 5,
                RegistryConfig.RETRY_BACKOFF_MS, 600_000)));
    }

    /** A registry call on a thread of its own, and what it ended with. */
    private record Call(Thread thread, AtomicReference<Throwable> failure, AtomicBoolean interrupted) {

        static Call start(Runnable call) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicBoolean interrupted = new AtomicBoolean();
            Thread thread = new Thread(() -> {
                try {
                    call.run();
                } catch (Throwable e) {
                    failure.set(e);
                }
                interrupted.set(Thread.interrupted());
            }, "registry-caller");
            thread.start();
            return new Call(thread, failure, interrupted);
        }

        SchemaRegistryException interruptAndFailure() throws InterruptedException {
            thread.interrupt();
            thread.join();
            assertTrue(failure.get() instanceof SchemaRegistryException, "failed as a registry call: " + failure.get());
            return (SchemaRegistryException) failure.get();
        }

        boolean interruptKept() {
            return interrupted.get();
        }
    }

    /** A URL that streams far more than any schema (a misdirected one) costs a bounded read, not the heap. */
    @Test
    void anAnswerLargerThanTheBoundIsNoAnswerAndNotReadWhole() throws Exception {
        SchemaRegistryClient client = new SchemaRegistryClient(RegistryConfig.fromMap(Map.of(
                RegistryConfig.URL, stub.url(), RegistryConfig.MAX_RETRIES, 0)));
        // A valid answer naming a valid schema, only too large: without the bound it would be used.
        String doc = "a".repeat(SchemaRegistryClient.MAX_ANSWER_BYTES);
        String schema = JSON.createObjectNode().put("type", "string").put("doc", doc).toString();
        String body = JSON.createObjectNode().put("schema", schema).toString();
        for (boolean chunked : new boolean[]{false, true}) {
            stub.answerNext(1, 200, "application/vnd.schemaregistry.v1+json", body, chunked);
            SchemaRegistryException e = assertThrows(SchemaRegistryException.class, () -> client.schemaById(7),
                    "chunked " + chunked);
            assertTrue(e.getMessage().contains("larger than 16 MiB") && e.getMessage().contains(stub.url()),
                    e.getMessage());
            assertTrue(e.retriable(), e.getMessage());
            assertFalse(SchemaRegistryException.recordAtFault(e), e.getMessage());
        }
        int id = stub.put("t-value", Interaction.getClassSchema().toString());
        assertEquals(Interaction.getClassSchema(), client.schemaById(id), "the next answer is read as usual");
    }

    @Test
    void aRedirectIsNotFollowedAndItsTargetIsNamed() throws IOException {
        try (RegistryStub elsewhere = new RegistryStub()) {
            SchemaRegistryClient client = new SchemaRegistryClient(RegistryConfig.fromMap(Map.of(RegistryConfig.URL,
                    stub.url(), RegistryConfig.BASIC_AUTH_USER_INFO, "alice:secret", RegistryConfig.MAX_RETRIES, 0)));
            String target = elsewhere.url().replace("http://", "http://bob:hunter2@") + "/schemas/ids/7";
            for (int status : new int[]{301, 307, 308}) {
                stub.redirectNext(1, status, target);
                SchemaRegistryException e = assertThrows(SchemaRegistryException.class, () -> client.schemaById(7));
                assertTrue(e.getMessage().contains("redirects to " + elsewhere.url() + "/schemas/ids/7")
                        && e.getMessage().contains("follows no redirect"), e.getMessage());
                assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
                assertFalse(e.retriable(), e.getMessage());
                assertFalse(SchemaRegistryException.recordAtFault(e), e.getMessage());
            }
            assertEquals(List.of(), elsewhere.requests(), "the credentials never went to the other host");
        }
    }

    @Test
    void failsOverToTheNextUrlWhenOneGivesNoAnswer() throws IOException {
        String closed = "http://127.0.0.1:" + freePort() + "/apis/ccompat/v7";
        SchemaRegistryClient client = new SchemaRegistryClient(RegistryConfig.fromMap(Map.of(
                RegistryConfig.URL, closed + "," + stub.url(), RegistryConfig.MAX_RETRIES, 0)));
        int id = client.register("t-value", Interaction.getClassSchema());
        assertEquals(List.of("POST /subjects/t-value/versions"), stub.requests());

        String alsoClosed = "http://127.0.0.1:" + freePort() + "/apis/ccompat/v7";
        SchemaRegistryClient none = new SchemaRegistryClient(RegistryConfig.fromMap(Map.of(
                RegistryConfig.URL, closed + "," + alsoClosed, RegistryConfig.MAX_RETRIES, 0)));
        SchemaRegistryException e = assertThrows(SchemaRegistryException.class, () -> none.schemaById(id));
        assertTrue(e.getMessage().contains(closed) && e.getMessage().contains(alsoClosed)
                && e.getMessage().contains("unreachable"), e.getMessage());
        assertTrue(e.retriable());
    }

    @Test
    void laterCallsStartFromTheUrlThatAnswered() throws IOException {
        try (RegistryStub stalled = new RegistryStub()) {
            stalled.stallNext(Integer.MAX_VALUE);
            SchemaRegistryClient client = new SchemaRegistryClient(RegistryConfig.fromMap(Map.of(
                    RegistryConfig.URL, stalled.url() + ", " + stub.url() + "/", RegistryConfig.REQUEST_TIMEOUT_MS, 300,
                    RegistryConfig.MAX_RETRIES, 0)));
            int first = stub.put("a-value", Interaction.getClassSchema().toString());
            int second = stub.put("b-value", Interaction.getClassSchema().toString());
            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                assertEquals(Interaction.getClassSchema(), client.schemaById(first));
                assertEquals(Interaction.getClassSchema(), client.schemaById(second));
            });
            assertEquals(1, stalled.requests().size(), "only the first call tried the stalled registry");
            assertEquals(List.of("GET /schemas/ids/" + first, "GET /schemas/ids/" + second), stub.requests());
        }
    }

    @Test
    void readsAutoRegisterAsKafkaReadsABoolean() {
        String url = "http://registry:8081";
        assertTrue(RegistryConfig.fromMap(Map.of(RegistryConfig.URL, url)).autoRegister(), "on by default");
        assertFalse(RegistryConfig.fromMap(Map.of(RegistryConfig.URL, url, RegistryConfig.AUTO_REGISTER, " FALSE "))
                .autoRegister());
        assertFalse(RegistryConfig.fromMap(Map.of(RegistryConfig.URL, url, RegistryConfig.AUTO_REGISTER, false))
                .autoRegister());
        assertTrue(RegistryConfig.fromMap(Map.of(RegistryConfig.URL, url, RegistryConfig.AUTO_REGISTER, "True"))
                .autoRegister());
        assertThrows(ConfigException.class,
                () -> RegistryConfig.fromMap(Map.of(RegistryConfig.URL, url, RegistryConfig.AUTO_REGISTER, "no")));
    }

    @Test
    void keepsEveryUrlOfAListInOrder() {
        RegistryConfig config = RegistryConfig.of(" http://a:8081/ ,http://b:8081/apis/ccompat/v7,");
        assertEquals(List.of("http://a:8081", "http://b:8081/apis/ccompat/v7"), config.urls());
        assertTrue(config.toString().contains("http://b:8081/apis/ccompat/v7"), config.toString());
        assertThrows(ConfigException.class, () -> RegistryConfig.of(" , "));
    }

    @Test
    void takesAListOfUrlsAsConfluentsSerdesDo() {
        RegistryConfig config = RegistryConfig.fromMap(Map.of(RegistryConfig.URL,
                List.of("http://a:8081/", "http://svc:p%40ss@b:8081/apis/ccompat/v7")));
        assertEquals(List.of("http://a:8081", "http://b:8081/apis/ccompat/v7"), config.urls());
        assertThrows(ConfigException.class, () -> RegistryConfig.fromMap(Map.of(RegistryConfig.URL, List.of())));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
