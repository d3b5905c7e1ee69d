package io.tapline.serde;

import io.tapline.avro.HttpRequest;
import io.tapline.avro.HttpResponse;
import io.tapline.avro.Interaction;
import io.tapline.registry.RegistryConfig;
import io.tapline.registry.RegistryStub;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AvroSerdeTest {

    private RegistryStub registry;

    @BeforeEach
    void start() throws IOException {
        registry = new RegistryStub();
    }

    @AfterEach
    void stop() {
        registry.close();
    }

    static Interaction interaction() {
        HttpRequest request = HttpRequest.newBuilder().setMethod("GET").setScheme("http").setAuthority("shop:8080")
                .setPath("/owners/42").setRawQuery("page=2").setHeaders(List.of())
                .setBody(ByteBuffer.wrap(new byte[0])).build();
        HttpResponse response = HttpResponse.newBuilder().setStatus(200).setHeaders(List.of())
                .setBody(ByteBuffer.wrap("{\"id\":42}".getBytes())).setContentType("application/json").build();
        return Interaction.newBuilder().setId("i-1").setTraceId("4bf92f3577b34da6a3ce929d0e0e4736")
                .setService("shop").setInstance("pod-1").setStartedAt(Instant.ofEpochMilli(1_700_000_000_000L))
                .setCompletedAt(Instant.ofEpochMilli(1_700_000_000_012L)).setRequest(request).setResponse(response)
                .setLatencyMicros(12_000).build();
    }


    /** Configures a new serializer, then a new deserializer, with {@code configs}, as a Kafka client does. */
    private static List<Consumer<Map<String, ?>>> configurers() {
        return List.of(configs -> new TaplineAvroSerializer<Interaction>().configure(configs, false),
                configs -> new TaplineAvroDeserializer<Interaction>().configure(configs, false),
                configs -> AvroSerdes.serde(Interaction.class, configs, true));
    }

    /**
     * A registry URL given to the serde by another program, through Kafka's {@code configure}, is held to what the
     * components hold {@code --schema-registry-url} to. Before, a fragment, a query, a right-to-left override or a
     * broken percent-escape was taken, and every API path was then written into it (each call sent to the base path,
     * each registry error showing the override). Now {@code configure} fails with Kafka's {@code ConfigException}, as
     * a Kafka serde's bad setting does, naming the key and what is wrong, the URL shown with codes and without the
     * credentials it was given with (which end at its last {@code @}).
     */
    @Test
    void configureRefusesARegistryUrlNoApiPathCanFollowNamingTheKey() {
        String advice = "; give scheme, host, port and the registry API's base path, like http://registry:8081/apis/ccompat/v7";
        // what is given, and how the refusal starts after "schema.registry.url: "
        String[][] bad = {
                {"http://registry:8081/apis/ccompat/v7#top",
                        "'http://registry:8081/apis/ccompat/v7#top' has a fragment ('#top'), which never reaches a server" + advice},
                {"http://registry:8081/apis/ccompat/v7?tenant=a", "'http://registry:8081/apis/ccompat/v7?tenant=a' has a query" + advice},
                {"http://registry:8081/apis/\u202eccompat/v7",
                        "'http://registry:8081/apis/\\u202eccompat/v7' is not a registry URL: character U+202E at index 26 is not "
                                + "printable ASCII (percent-encoded as UTF-8, it is %E2%80%AE)" + advice},
                {"http://registry:8081/apis/ccompat/v7\u200b", "'http://registry:8081/apis/ccompat/v7\\u200b' is not a registry URL: "
                        + "character U+200B at index 36"},
                {"http://registry:8081/apis/%zz", "'http://registry:8081/apis/%zz' is not a registry URL: '%zz' in the path is "
                        + "not a percent-escape (% and two hex digits; %25 is a %)" + advice},
                {"http://schema_registry:8081", "'http://schema_registry:8081': the registry client (the JDK's HTTP client) cannot "
                        + "call host 'schema_registry'"},
                {"registry:8081", "'registry:8081' is not an http:// or https:// URL"},
                {"http://registry:8081,http://registry-2:8081/apis?x", "'http://registry-2:8081/apis?x' has a query"},
                // the credentials end at the URL's last '@', and are taken out before it is quoted
                {"http://svc:ab@s3cret@registry:8081/apis#x", "'http://registry:8081/apis#x' has a fragment ('#x')"},
                {"https://svc:s3cret@registry/ccompat/\u202e", "'https://registry/ccompat/\\u202e' is not a registry URL"},
                {" , ", "no URL given; e.g. http://127.0.0.1:8081/apis/ccompat/v7"}};
        for (String[] b : bad) {
            for (Consumer<Map<String, ?>> configure : configurers()) {
                ConfigException e = assertThrows(ConfigException.class, () -> configure.accept(Map.of(RegistryConfig.URL, b[0])), b[0]);
                assertTrue(e.getMessage().startsWith(RegistryConfig.URL + ": " + b[1]), e.getMessage());
                assertFalse(e.getMessage().contains("s3cret") || e.getMessage().contains("svc"), e.getMessage());
                assertTrue(e.getMessage().chars().noneMatch(io.tapline.text.ShownText::shownAsCode), "shown with codes: " + e.getMessage());
            }
        }
    }

    /**
     * Every refused setting fails {@code configure} as the URL does: Kafka's {@code ConfigException}, whose message
     * starts with the key and says why, quoting no password and no user info. Before, a number out of range or not a
     * number, an unsupported credentials source and a truststore that could not be loaded (or named by a path the JVM
     * cannot read) were {@code IllegalArgumentException}s, which a Kafka client configuring the serde does not take
     * for a bad setting.
     */
    @Test
    void configureRefusesEveryBadSettingWithKafkasConfigExceptionNamingTheKey(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path garbage = java.nio.file.Files.writeString(dir.resolve("garbage.p12"), "not a keystore");
        java.nio.file.Path store = dir.resolve("store.p12");
        java.security.KeyStore empty = java.security.KeyStore.getInstance("PKCS12");
        empty.load(null, null);
        try (java.io.OutputStream out = java.nio.file.Files.newOutputStream(store)) {
            empty.store(out, "right-s3cret".toCharArray());
        }
        String url = registry.url().replace("http://", "http://svc:s3cret@");
        Object[][] bad = {
                {RegistryConfig.MAX_RETRIES, "two", RegistryConfig.MAX_RETRIES, "expected a whole number, got 'two'"},
                {RegistryConfig.REQUEST_TIMEOUT_MS, 0, RegistryConfig.REQUEST_TIMEOUT_MS, "expected a whole number from 1"},
                {RegistryConfig.RETRY_BACKOFF_MS, -1L, RegistryConfig.RETRY_BACKOFF_MS, "expected a whole number from 0"},
                {RegistryConfig.CACHE_CAPACITY, "4294967297", RegistryConfig.CACHE_CAPACITY, "expected a whole number from 1"},
                {RegistryConfig.AUTO_REGISTER, "yes", RegistryConfig.AUTO_REGISTER, "expected true or false, got 'yes'"},
                {RegistryConfig.BASIC_AUTH_CREDENTIALS_SOURCE, "SASL_INHERIT", RegistryConfig.BASIC_AUTH_CREDENTIALS_SOURCE,
                        "'SASL_INHERIT' is not supported"},
                {RegistryConfig.TRUSTSTORE_LOCATION, dir.resolve("missing.p12").toString(), RegistryConfig.TRUSTSTORE_LOCATION,
                        "cannot load registry truststore " + dir.resolve("missing.p12")},
                {RegistryConfig.TRUSTSTORE_LOCATION, garbage.toString(), RegistryConfig.TRUSTSTORE_LOCATION,
                        "cannot load registry truststore " + garbage},
                {RegistryConfig.TRUSTSTORE_LOCATION, "truststore\0.p12", RegistryConfig.TRUSTSTORE_LOCATION,
                        "cannot load registry truststore truststore\\u0000.p12"},
                {RegistryConfig.TRUSTSTORE_TYPE, "PKCS13", RegistryConfig.TRUSTSTORE_TYPE, "'PKCS13' is not a keystore type"},
                {RegistryConfig.TRUSTSTORE_PASSWORD, "wrong-s3cret", RegistryConfig.TRUSTSTORE_LOCATION,
                        "cannot load registry truststore " + store}};
        for (Object[] b : bad) {
            Map<String, Object> configs = new java.util.HashMap<>(Map.of(RegistryConfig.URL, url,
                    RegistryConfig.BASIC_AUTH_USER_INFO, "svc:s3cret", (String) b[0], b[1]));
            if (b[0].equals(RegistryConfig.TRUSTSTORE_TYPE) || b[0].equals(RegistryConfig.TRUSTSTORE_PASSWORD)) {
                configs.put(RegistryConfig.TRUSTSTORE_LOCATION, store.toString());
            }
            for (Consumer<Map<String, ?>> configure : configurers()) {
                ConfigException e = assertThrows(ConfigException.class, () -> configure.accept(configs), b[0] + "=" + b[1]);
                assertTrue(e.getMessage().startsWith(b[2] + ": " + b[3]), e.getMessage());
                assertFalse(e.getMessage().contains("s3cret") || e.getMessage().contains("svc"), e.getMessage());
                assertTrue(e.getMessage().chars().noneMatch(io.tapline.text.ShownText::shownAsCode), "shown with codes: " + e.getMessage());
            }
        }
        // the store and its password, right: taken
        for (Consumer<Map<String, ?>> configure : configurers()) {
            configure.accept(Map.of(RegistryConfig.URL, registry.url(), RegistryConfig.TRUSTSTORE_LOCATION, store.toString(),
                    RegistryConfig.TRUSTSTORE_PASSWORD, "right-s3cret"));
        }
    }

    /** A ',' in a password splits the list: no part of the value is quoted, not even an item that reads as a URL. */
    @Test
    void configureNeverQuotesAPasswordSplitByAnUnencodedComma() {
        for (String password : new String[] {"qx7,zk9", "8081/qx7#zk,zk9", "8081/qx7%zz,zk9", "8081/qx7\u202e,zk9"}) {
            for (Consumer<Map<String, ?>> configure : configurers()) {
                ConfigException e = assertThrows(ConfigException.class, () -> configure.accept(
                        Map.of(RegistryConfig.URL, "http://svc:" + password + "@registry:8081")), password);
                assertTrue(e.getMessage().startsWith(RegistryConfig.URL + ": not an http:// or https:// URL (or list of them)")
                        && e.getMessage().contains("percent-encoded"), e.getMessage());
                assertFalse(e.getMessage().contains("qx7") || e.getMessage().contains("zk9"), e.getMessage());
            }
        }
    }

    /** What the components take, the serde takes too: credentials with any character, a list with an empty item. */
    @Test
    void configureTakesEveryRegistryUrlTheComponentsTake() {
        for (String url : List.of(registry.url(), registry.url() + "/", registry.url().replace("http://", "http://svc:p@ss/w#rd?@"),
                "http://a:8081,, " + registry.url(), "https://Registry.example.com.:8443/v1;v=2/~me", "http://[::1]:8081")) {
            for (Consumer<Map<String, ?>> configure : configurers()) {
                configure.accept(Map.of(RegistryConfig.URL, url));
            }
        }
        TaplineAvroSerializer<Interaction> serializer = new TaplineAvroSerializer<>();
        serializer.configure(Map.of(RegistryConfig.URL, registry.url().replace("http://", "http://svc:p@ss@")), false);
        serializer.serialize("t", interaction());
        assertEquals("Basic " + java.util.Base64.getEncoder().encodeToString("svc:p@ss".getBytes(
                java.nio.charset.StandardCharsets.UTF_8)), registry.lastAuthorization());
    }

    @Test
    void aRegistryAnswerTheClientCannotReadFailsSerializationAsKafkaExpects() throws IOException {
        try (java.net.ServerSocket proxy = RegistryStub.brokenProxy()) {
            TaplineAvroSerializer<Interaction> serializer = new TaplineAvroSerializer<>();
            serializer.configure(Map.of(RegistryConfig.URL, "http://127.0.0.1:" + proxy.getLocalPort(),
                    RegistryConfig.MAX_RETRIES, 0), false);
            assertThrows(SerializationException.class, () -> serializer.serialize("t", interaction()));
        }
    }

    @Test
    void roundTripsInTheConfluentWireFormat() {
        Serde<Interaction> serde = AvroSerdes.serde(Interaction.class, Map.of(RegistryConfig.URL, registry.url()), false);
        Interaction original = interaction();
        byte[] bytes = serde.serializer().serialize("tapline.interactions", original);

        assertEquals(0, bytes[0], "magic byte");
        int id = ByteBuffer.wrap(bytes, 1, 4).getInt();
        assertTrue(registry.requests().contains("POST /subjects/tapline.interactions-value/versions"));
        assertEquals(id, WireFormat.schemaId("tapline.interactions", bytes));
        assertEquals(original, serde.deserializer().deserialize("tapline.interactions", bytes));
    }

    @Test
    void aSchemaIdAlreadyReadIsNotHeldUpByTheFetchOfAnother() {
        // ids 1, 17 and 33 share a bucket of the deserializer's id map: while 33 is fetched from a registry that does
        // not answer, records of 17 (read before, not the bucket's first entry) must decode from what is cached,
        // as they did before the registry stalled, not wait on that fetch (a stream thread per stalled id)
        Serde<Interaction> serde = AvroSerdes.serde(Interaction.class, Map.of(RegistryConfig.URL, registry.url(),
                RegistryConfig.MAX_RETRIES, 0, RegistryConfig.REQUEST_TIMEOUT_MS, 60_000), false);
        Interaction original = interaction();
        byte[] bytes = serde.serializer().serialize("tapline.interactions", original);
        String schema = Interaction.getClassSchema().toString();
        for (int i = 2; i <= 33; i++) {
            registry.put("other-" + i, schema);
        }
        assertEquals(original, serde.deserializer().deserialize("t", withId(bytes, 1)));
        assertEquals(original, serde.deserializer().deserialize("t", withId(bytes, 17)));
        registry.stallNext(1);
        Thread stalled = new Thread(() -> {
            try {
                serde.deserializer().deserialize("t", withId(bytes, 33));
            } catch (RuntimeException expected) {
                // the registry stub is closed at the test's end
            }
        }, "stalled-fetch");
        stalled.setDaemon(true);
        stalled.start();
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        while (!registry.requests().contains("GET /schemas/ids/33") && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertTrue(registry.requests().contains("GET /schemas/ids/33"), registry.requests().toString());
        assertTimeoutPreemptively(java.time.Duration.ofSeconds(20),
                () -> assertEquals(original, serde.deserializer().deserialize("t", withId(bytes, 17))));
    }

    private static byte[] withId(byte[] framed, int id) {
        byte[] copy = framed.clone();
        ByteBuffer.wrap(copy, 1, 4).putInt(id);
        return copy;
    }

    @Test
    void keySerializerRegistersUnderTheKeySubject() {
        Serde<Interaction> serde = AvroSerdes.serde(Interaction.class, Map.of(RegistryConfig.URL, registry.url()), true);
        serde.serializer().serialize("t", interaction());
        assertTrue(registry.requests().contains("POST /subjects/t-key/versions"), registry.requests().toString());
    }

    @Test
    void nullIsATombstoneBothWays() {
        Serde<Interaction> serde = AvroSerdes.serde(Interaction.class, Map.of(RegistryConfig.URL, registry.url()), false);
        assertNull(serde.serializer().serialize("t", null));
        assertNull(serde.deserializer().deserialize("t", null));
    }

    @Test
    void decodesRecordsWrittenWithAnOlderSchemaUsingDefaults() throws IOException {
        // An older Interaction without the sidecarVersion field.
        Schema current = Interaction.getClassSchema();
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        var tree = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(current.toString());
        var fields = (com.fasterxml.jackson.databind.node.ArrayNode) tree.get("fields");
        for (int i = 0; i < fields.size(); i++) {
            if (fields.get(i).get("name").asText().equals("sidecarVersion")) {
                fields.remove(i);
                break;
            }
        }
        Schema old = new Schema.Parser().parse(tree.toString());
        assertEquals(current.getFields().size() - 1, old.getFields().size(), "test setup: the field was removed");
        int oldId = registry.put("t-value", old.toString());

        GenericRecord record = new GenericData.Record(old);
        Interaction sample = interaction();
        for (Schema.Field field : old.getFields()) {
            record.put(field.name(), GenericData.get().deepCopy(field.schema(),
                    toGeneric(sample, field.name())));
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0);
        out.write(ByteBuffer.allocate(4).putInt(oldId).array());
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(old).write(record, encoder);
        encoder.flush();

        TaplineAvroDeserializer<Interaction> deserializer = new TaplineAvroDeserializer<>();
        deserializer.configure(Map.of(RegistryConfig.URL, registry.url()), false);
        Interaction decoded = deserializer.deserialize("t", out.toByteArray());
        assertEquals("unknown", decoded.getSidecarVersion());
        assertEquals(sample.getTraceId(), decoded.getTraceId());
        assertEquals(sample.getRequest().getPath(), decoded.getRequest().getPath());
    }

    private static Object toGeneric(Interaction sample, String field) {
        // Specific records are GenericRecords too; deepCopy against the generic schema converts nested records.
        Object value = sample.get(field);
        if (value instanceof Instant instant) {
            return instant.toEpochMilli();
        }
        return value;
    }

    @Test
    void rejectsBytesThatAreNotInTheWireFormat() {
        Serde<Interaction> serde = AvroSerdes.serde(Interaction.class, Map.of(RegistryConfig.URL, registry.url()), false);
        SerializationException shortRecord = assertThrows(SerializationException.class,
                () -> serde.deserializer().deserialize("tapline.interactions", new byte[] {0, 1}));
        assertTrue(shortRecord.getMessage().contains("tapline.interactions"), shortRecord.getMessage());
        SerializationException badMagic = assertThrows(SerializationException.class,
                () -> serde.deserializer().deserialize("tapline.interactions", "{\"json\":true}".getBytes()));
        assertTrue(badMagic.getMessage().contains("starts with byte 0x7b, not the Confluent wire-format magic byte 0x00"),
                badMagic.getMessage());
        // a byte over 0x7f as it is read on the wire, not as a signed Java byte (-61)
        SerializationException high = assertThrows(SerializationException.class,
                () -> serde.deserializer().deserialize("tapline.interactions", new byte[] {(byte) 0xC3, 0, 0, 0, 1, 2}));
        assertTrue(high.getMessage().contains("starts with byte 0xc3,"), high.getMessage());
    }

    @Test
    void unknownSchemaIdIsASerializationErrorNamingTheId() {
        Serde<Interaction> serde = AvroSerdes.serde(Interaction.class, Map.of(RegistryConfig.URL, registry.url()), false);
        byte[] framed = {0, 0, 0, 0x7f, 0x7f, 2, 'x'};
        SerializationException e = assertThrows(SerializationException.class,
                () -> serde.deserializer().deserialize("t", framed));
        assertTrue(e.getMessage().contains("schema id " + 0x7f7f), e.getMessage());
    }

    @Test
    void truncatedPayloadIsASerializationError() {
        Serde<Interaction> serde = AvroSerdes.serde(Interaction.class, Map.of(RegistryConfig.URL, registry.url()), false);
        byte[] bytes = serde.serializer().serialize("t", interaction());
        byte[] cut = java.util.Arrays.copyOf(bytes, bytes.length / 2);
        assertThrows(SerializationException.class, () -> serde.deserializer().deserialize("t", cut));
    }

    @Test
    void bytesAfterTheDatumAreASerializationError() {
        Serde<Interaction> serde = AvroSerdes.serde(Interaction.class, Map.of(RegistryConfig.URL, registry.url()), false);
        byte[] bytes = serde.serializer().serialize("t", interaction());
        assertEquals(interaction(), serde.deserializer().deserialize("t", bytes));
        for (int extra : new int[]{1, 7}) {
            byte[] longer = java.util.Arrays.copyOf(bytes, bytes.length + extra);
            SerializationException e = assertThrows(SerializationException.class,
                    () -> serde.deserializer().deserialize("t", longer));
            assertTrue(e.getMessage().contains("has " + extra + " bytes after its datum of schema id "
                    + WireFormat.schemaId("t", bytes)), e.getMessage());
            assertTrue(io.tapline.registry.SchemaRegistryException.recordAtFault(e), e.getMessage());
        }
    }

    @Test
    void registryDownIsASerializationErrorNamingTheRegistry() {
        Serde<Interaction> serde = AvroSerdes.serde(Interaction.class, Map.of(RegistryConfig.URL, registry.url(),
                RegistryConfig.MAX_RETRIES, 0), false);
        registry.failNext(1, 500);
        SerializationException e = assertThrows(SerializationException.class,
                () -> serde.serializer().serialize("t", interaction()));
        assertTrue(e.getMessage().contains(registry.url()) && e.getMessage().contains("t-value"), e.getMessage());
    }
}
