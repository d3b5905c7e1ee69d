package io.tapline.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.tapline.config.ConfigException;
import io.tapline.config.ConfigSpec;
import io.tapline.config.ConfigSpec.Option;
import io.tapline.config.RegistryOptions;
import io.tapline.config.TaplineConfig;
import io.tapline.dedup.DedupOptions;
import io.tapline.http.HttpUrl;
import io.tapline.registry.RegistryConfig;
import io.tapline.replay.FailOn;
import io.tapline.replay.ReplayOptions;
import io.tapline.replay.compare.IgnoreRules;
import io.tapline.replay.mock.MockServerOptions;
import io.tapline.replay.run.RunTopics;
import io.tapline.sidecar.SidecarOptions;
import io.tapline.topics.TaplineTopics;
import io.tapline.topics.TopicSpec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Deploy files that no longer match the code fail here: every env var, port, probe and topic named under
 * {@code deploy/k8s} and {@code deploy/docker} must be one the components know, with the settings the code gives it
 * (the metrics the dashboard and the alert rules name: {@link MonitoringNamesTest}). The negative tests at the end
 * prove each check can fail.
 */
class DeployManifestsTest {

    /** Every Tapline container names its management port this way; the Prometheus scrape config keeps exactly it. */
    static final String MANAGEMENT_PORT_NAME = "tapline-mgmt";
    /** Variables a Tapline container may carry besides TAPLINE_*: read by the JVM launcher itself. */
    static final Set<String> JVM_VARIABLES = Set.of("JDK_JAVA_OPTIONS", "JAVA_TOOL_OPTIONS");
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    static Path deploy;
    static Path repo;
    static List<Doc> docs;

    /** One component and how it is recognised: by image name or container name. */
    enum Component {
        SIDECAR("capture-sidecar"), DEDUP("dedup-stream"), REPLAY("replay-worker");

        final String module;

        Component(String module) {
            this.module = module;
        }

        static Component byName(String name) {
            for (Component c : values()) {
                if (c.module.equals(name)) {
                    return c;
                }
            }
            return null;
        }
    }

    /** One YAML document of one file. */
    record Doc(Path file, JsonNode node) {
        String kind() {
            return node.path("kind").asText("");
        }

        String where() {
            return deploy.relativize(file) + (kind().isEmpty() ? "" : " " + kind() + "/" + node.path("metadata").path("name").asText());
        }
    }

    @BeforeAll
    static void load() throws IOException {
        Path base = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath().normalize();
        deploy = base.getParent();
        repo = deploy.getParent();
        assertTrue(Files.isDirectory(deploy.resolve("k8s")), "no deploy/k8s under " + deploy);
        docs = new ArrayList<>();
        for (Path file : yamlFiles()) {
            docs.addAll(parse(file, Files.readString(file)));
        }
        assertFalse(docs.isEmpty(), "no YAML documents under deploy/k8s");
    }

    // ------------------------------------------------------------------ the checks over the real files

    @Test
    void everyTaplineContainerUsesOnlyOptionsPortsAndProbesTheCodeKnows() {
        List<String> problems = new ArrayList<>();
        int tapline = 0;
        for (Doc doc : docs) {
            for (JsonNode pod : podSpecs(doc.node())) {
                problems.addAll(checkPod(pod, doc.where()));
                tapline += (int) containers(pod).stream().filter(c -> component(c) != null).count();
            }
        }
        assertNoProblems(problems);
        // The sidecar (app Deployment), dedup-stream, and replay-worker (Job and ScaledJob) are all checked.
        assertTrue(tapline >= 4, "expected Tapline containers in the manifests, found " + tapline);
    }

    @Test
    void everyComponentIsDeployed() {
        Set<Component> seen = new TreeSet<>();
        for (Doc doc : docs) {
            for (JsonNode pod : podSpecs(doc.node())) {
                containers(pod).stream().map(DeployManifestsTest::component).filter(c -> c != null).forEach(seen::add);
            }
        }
        assertEquals(Set.of(Component.values()), seen);
    }

    /** The redaction variables whose values must be the same wherever they are set: rules, not the key. */
    static final List<String> REDACTION_RULES = List.of("TAPLINE_REDACTION_HEADERS", "TAPLINE_REDACTION_FIELDS",
            "TAPLINE_REDACTION_JSON_PATHS", "TAPLINE_REDACTION_REGEX");

    @Test
    void everyReplayContainerCarriesTheSidecarsRedactionRules() {
        // A replay worker redacts the candidate's answers by these rules before it publishes results: a rule of the
        // sidecars missing there publishes what production's capture would have redacted.
        Map<String, Map<String, String>> rulesByContainer = new LinkedHashMap<>();
        for (Placed c : containers()) {
            if (c.component() == Component.SIDECAR || c.component() == Component.REPLAY) {
                Map<String, String> env = environment(c.node());
                Map<String, String> rules = new TreeMap<>();
                REDACTION_RULES.stream().filter(env::containsKey).forEach(k -> rules.put(k, env.get(k)));
                rulesByContainer.put(c.component() + " in " + c.doc().where(), rules);
            }
        }
        Map<String, String> sidecar = rulesByContainer.entrySet().stream().filter(e -> e.getKey().startsWith("SIDECAR"))
                .map(Map.Entry::getValue).findFirst().orElseThrow(() -> new AssertionError("no sidecar container"));
        assertFalse(sidecar.isEmpty(), "the example sidecar sets redaction rules");
        List<String> problems = new ArrayList<>();
        rulesByContainer.forEach((where, rules) -> {
            if (!rules.equals(sidecar)) {
                problems.add(where + ": redaction rules " + rules + " are not the sidecar's " + sidecar);
            }
        });
        assertTrue(rulesByContainer.keySet().stream().filter(k -> k.startsWith("REPLAY")).count() >= 2,
                "the Job and the ScaledJob are checked: " + rulesByContainer.keySet());
        assertNoProblems(problems);
    }

    @Test
    void everyServiceReachesItsPodsThroughTheCaptureSidecarByPortNumber() {
        List<String> problems = new ArrayList<>();
        List<JsonNode> templates = podTemplates();
        int services = 0;
        for (Doc doc : docs) {
            if (doc.kind().equals("Service")) {
                services++;
                problems.addAll(checkService(doc.node(), templates, doc.where()));
            }
        }
        assertNoProblems(problems);
        assertTrue(services >= 1, "a Service in front of the example app");
    }

    @Test
    void everyTaplineDeploymentHasANetworkPolicyKeepingItsManagementPortAndTheAppsOwnPortClosed() {
        List<String> problems = new ArrayList<>();
        List<Doc> policies = docs.stream().filter(d -> d.kind().equals("NetworkPolicy")).toList();
        Set<Doc> used = new LinkedHashSet<>();
        int deployments = 0;
        for (Doc doc : docs) {
            JsonNode template = doc.node().path("spec").path("template");
            if (!doc.kind().equals("Deployment") || containers(template.path("spec")).stream().noneMatch(c -> component(c) != null)) {
                continue;
            }
            deployments++;
            String namespace = doc.node().path("metadata").path("namespace").asText("");
            List<Doc> selecting = policies.stream()
                    .filter(p -> p.node().path("metadata").path("namespace").asText("").equals(namespace))
                    .filter(p -> selects(p.node(), template)).toList();
            used.addAll(selecting);
            problems.addAll(checkNetworkPolicies(selecting.stream().map(Doc::node).toList(), template, doc.where()));
        }
        for (Doc doc : docs) {
            JsonNode template = replayTemplate(doc);
            if (template != null) {
                String namespace = doc.node().path("metadata").path("namespace").asText("");
                policies.stream().filter(p -> p.node().path("metadata").path("namespace").asText("").equals(namespace))
                        .filter(p -> selects(p.node(), template)).forEach(used::add);
            }
        }
        policies.stream().filter(p -> !used.contains(p))
                .forEach(p -> problems.add(p.where() + ": selects no Tapline Deployment or replay Job under deploy/k8s"));
        assertNoProblems(problems);
        assertTrue(deployments >= 2, "the example app with its sidecar and dedup-stream are checked, found " + deployments);
    }

    @Test
    void dedupStreamKeepsAWarmCopyOfItsStateThroughDrainsAndNodeLosses() {
        // The state is on an emptyDir: a pod evicted or lost takes its stores with it, and num.standby.replicas keeps
        // a copy on the other pod. Two pods evicted together (a node drain), or on the node that fails, leave no copy,
        // and every store is restored from its changelog before dedup goes on.
        List<String> problems = new ArrayList<>();
        List<Doc> budgets = docs.stream().filter(d -> d.kind().equals("PodDisruptionBudget")).toList();
        int checked = 0;
        for (Doc doc : docs) {
            JsonNode template = doc.node().path("spec").path("template");
            if (!doc.kind().equals("Deployment") && !doc.kind().equals("StatefulSet")
                    || containers(template.path("spec")).stream().noneMatch(c -> component(c) == Component.DEDUP)) {
                continue;
            }
            checked++;
            String namespace = doc.node().path("metadata").path("namespace").asText("");
            List<Doc> selecting = budgets.stream()
                    .filter(b -> b.node().path("metadata").path("namespace").asText("").equals(namespace))
                    .filter(b -> selectsLabels(b.node().path("spec").path("selector"), template.path("metadata").path("labels")))
                    .toList();
            problems.addAll(checkDedupAvailability(doc.node(), selecting.stream().map(Doc::node).toList(), doc.where()));
        }
        assertNoProblems(problems);
        assertEquals(1, checked, "dedup-stream's workload under deploy/k8s");
    }

    /**
     * A dedup-stream workload of more than one replica needs one PodDisruptionBudget that lets one pod at a time go
     * (selecting its pods by matchLabels), and a spread of its pods over nodes, so that the standby copy of a store is
     * not on the node that holds the active one.
     */
    static List<String> checkDedupAvailability(JsonNode workload, List<JsonNode> budgets, String where) {
        List<String> problems = new ArrayList<>();
        int replicas = workload.path("spec").path("replicas").asInt(1);
        if (replicas < 2) {
            return problems;
        }
        if (budgets.size() != 1) {
            problems.add(where + ": " + budgets.size() + " PodDisruptionBudgets select its pods; one is needed, or a node drain"
                    + " evicts every replica at once and each restores its stores from the changelogs");
        } else {
            JsonNode spec = budgets.get(0).path("spec");
            boolean oneAtATime = spec.path("maxUnavailable").isInt() && spec.path("maxUnavailable").asInt() == 1
                    || spec.path("minAvailable").isInt() && spec.path("minAvailable").asInt() == replicas - 1;
            if (!oneAtATime) {
                problems.add(where + ": its PodDisruptionBudget must let one pod go at a time (maxUnavailable: 1), found "
                        + spec);
            }
        }
        JsonNode labels = workload.path("spec").path("template").path("metadata").path("labels");
        JsonNode podSpec = workload.path("spec").path("template").path("spec");
        boolean spread = stream(podSpec.path("topologySpreadConstraints")).anyMatch(t ->
                t.path("topologyKey").asText().equals("kubernetes.io/hostname") && selectsLabels(t.path("labelSelector"), labels));
        boolean apart = stream(podSpec.path("affinity").path("podAntiAffinity").path("preferredDuringSchedulingIgnoredDuringExecution"))
                .map(w -> w.path("podAffinityTerm"))
                .anyMatch(t -> t.path("topologyKey").asText().equals("kubernetes.io/hostname")
                        && selectsLabels(t.path("labelSelector"), labels))
                || stream(podSpec.path("affinity").path("podAntiAffinity").path("requiredDuringSchedulingIgnoredDuringExecution"))
                .anyMatch(t -> t.path("topologyKey").asText().equals("kubernetes.io/hostname")
                        && selectsLabels(t.path("labelSelector"), labels));
        if (!spread && !apart) {
            problems.add(where + ": its pods are not spread over nodes (topologySpreadConstraints or podAntiAffinity on"
                    + " kubernetes.io/hostname selecting them): the standby copy of a store may sit on the active one's node");
        }
        return problems;
    }

    /** A label selector given by matchLabels only, none empty, that the labels satisfy. */
    static boolean selectsLabels(JsonNode selector, JsonNode labels) {
        JsonNode match = selector.path("matchLabels");
        if (match.isEmpty() || selector.has("matchExpressions")) {
            return false;
        }
        List<Map.Entry<String, JsonNode>> wanted = new ArrayList<>();
        match.fields().forEachRemaining(wanted::add);
        return wanted.stream().allMatch(e -> e.getValue().asText().equals(labels.path(e.getKey()).asText(null)));
    }

    @Test
    void replayWorkerHasNoLivenessProbe() {
        // replay's /healthy has no failure of its own (ReplayCommand starts the management server without a liveness
        // check), and the port listens only once the run's bounds are read and the learned noise loaded (each up to
        // --kafka-timeout), never on a rerun of a completed run, which reads the run's results and reports them.
        // A liveness probe there finds nothing wrong and kills such a worker, a Job pod failure each time: retried
        // until backoffLimit, the Job then fails without the verdict. A stuck worker ends at activeDeadlineSeconds.
        List<String> problems = new ArrayList<>();
        int jobs = 0;
        for (Doc doc : docs) {
            JsonNode template = replayTemplate(doc);
            if (template == null) {
                continue;
            }
            jobs++;
            containers(template.path("spec")).stream()
                    .filter(c -> component(c) == Component.REPLAY && c.has("livenessProbe"))
                    .forEach(c -> problems.add(doc.where() + ": container " + c.path("name").asText()
                            + " has a livenessProbe: its management port is not up while the run's bounds are read or a"
                            + " completed run is reported, and /healthy reports nothing else"));
        }
        assertNoProblems(problems);
        assertTrue(jobs >= 2, "the replay Job and the ScaledJob are checked, found " + jobs);
    }

    @Test
    void everyTaplineContainersMemoryRequestHoldsItsHeapAndOffHeapBudget() throws IOException {
        // The JVM grows its heap towards the maximum (a share of the limit) and rarely gives it back, and RocksDB's
        // budget is off-heap on top. A container whose request is below that runs above its request for good: the
        // scheduler packs the node by the request, and under memory pressure the kubelet evicts such pods first,
        // whatever their PodDisruptionBudget says. An evicted dedup-stream pod restores its stores from the changelogs.
        Map<Component, Double> percent = new TreeMap<>();
        for (Component c : Component.values()) {
            percent.put(c, maxRamPercentage(Files.readString(deploy.resolve("docker/" + c.module + "/Dockerfile"))));
        }
        List<String> problems = new ArrayList<>();
        int checked = 0;
        for (Placed c : containers()) {
            if (c.component() != null) {
                checked++;
                problems.addAll(checkMemory(c.component(), c.node(), percent.get(c.component()), c.where()));
            }
        }
        assertNoProblems(problems);
        assertTrue(checked >= 4, "Tapline containers checked: " + checked);
    }

    @Test
    void dedupStreamUnpacksRocksDbIntoAWritableVolumeUnderOneName() throws IOException {
        // RocksDB unpacks its native library (about 15 MB) at each start, to a new file in /tmp unless
        // ROCKSDB_SHAREDLIB_DIR names a directory, where it has one name that each start replaces. A killed job's copy
        // stays behind (RocksDbLibraryDirTest); the directory must be a volume the read-only root file system leaves
        // writable, and it outlives the container's restarts.
        String dir = rocksDbLibraryDir(Files.readString(deploy.resolve("docker/dedup-stream/Dockerfile")));
        assertEquals("/tmp", dir, "deploy/docker/dedup-stream/Dockerfile: ENV ROCKSDB_SHAREDLIB_DIR");
        List<String> problems = new ArrayList<>();
        int checked = 0;
        for (Doc doc : docs) {
            for (JsonNode pod : podSpecs(doc.node())) {
                for (JsonNode c : containers(pod)) {
                    if (component(c) == Component.DEDUP) {
                        checked++;
                        problems.addAll(checkRocksDbLibraryDir(pod, c, dir, doc.where()));
                    }
                }
            }
        }
        assertNoProblems(problems);
        assertTrue(checked >= 1, "dedup-stream containers checked: " + checked);
    }

    /** The directory a Dockerfile's {@code ENV ROCKSDB_SHAREDLIB_DIR} names, or null without one. */
    static String rocksDbLibraryDir(String dockerfile) {
        Matcher m = Pattern.compile("(?m)^ENV\\s+ROCKSDB_SHAREDLIB_DIR[=\\s]\"?([^\"\\s]+)\"?\\s*$").matcher(dockerfile);
        return m.find() ? m.group(1) : null;
    }

    /**
     * Problems with where a dedup-stream container unpacks RocksDB's library: {@code imageDir} (the image's
     * ROCKSDB_SHAREDLIB_DIR) or the container's own value of it must be the mount path of a writable volume, an
     * emptyDir or a claim, which a container restart keeps (with the library's one copy in it).
     */
    static List<String> checkRocksDbLibraryDir(JsonNode pod, JsonNode container, String imageDir, String where) {
        String name = where + ": container " + container.path("name").asText();
        String dir = environment(container).getOrDefault("ROCKSDB_SHAREDLIB_DIR", imageDir);
        if (dir == null || dir.isBlank()) {
            return List.of(name + ": ROCKSDB_SHAREDLIB_DIR is not set: RocksDB unpacks its library to a new file at each"
                    + " start, and a killed job's copy stays");
        }
        for (JsonNode mount : container.path("volumeMounts")) {
            if (!mount.path("mountPath").asText().replaceAll("/+$", "").equals(dir.replaceAll("/+$", ""))) {
                continue;
            }
            if (mount.path("readOnly").asBoolean(false)) {
                return List.of(name + ": the volume at " + dir + " (ROCKSDB_SHAREDLIB_DIR) is mounted read-only");
            }
            String volume = mount.path("name").asText();
            for (JsonNode v : pod.path("volumes")) {
                if (v.path("name").asText().equals(volume)) {
                    return v.has("emptyDir") || v.has("persistentVolumeClaim") || v.has("ephemeral") ? List.of()
                            : List.of(name + ": volume " + volume + " at " + dir + " (ROCKSDB_SHAREDLIB_DIR) is not an"
                                    + " emptyDir or a claim");
                }
            }
            return List.of(name + ": volume " + volume + " at " + dir + " is not among the pod's volumes");
        }
        return List.of(name + ": no volume is mounted at " + dir + " (ROCKSDB_SHAREDLIB_DIR), where RocksDB unpacks its"
                + " library; the root file system is read-only");
    }

    /** The JVM's -XX:MaxRAMPercentage in a Dockerfile's ENTRYPOINT (the JVM's default, 25, without one). */
    static double maxRamPercentage(String text) {
        Matcher m = Pattern.compile("-XX:MaxRAMPercentage=([0-9.]+)").matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : 25.0;
    }

    /**
     * The memory request must hold the heap the JVM may take (-Xmx, or MaxRAMPercentage of the limit, from the image
     * or JDK_JAVA_OPTIONS) and, for dedup-stream, the RocksDB budget; the limit must exist, or the heap is a share of
     * the node.
     */
    static List<String> checkMemory(Component component, JsonNode container, double imagePercent, String where) {
        List<String> problems = new ArrayList<>();
        JsonNode resources = container.path("resources");
        if (!resources.path("limits").has("memory") || !resources.path("requests").has("memory")) {
            problems.add(where + ": needs a memory request and limit (the heap is sized from the limit)");
            return problems;
        }
        long limit = quantity(resources.path("limits").path("memory").asText());
        long request = quantity(resources.path("requests").path("memory").asText());
        Map<String, String> env = environment(container);
        String jvm = env.getOrDefault("JDK_JAVA_OPTIONS", "") + " " + env.getOrDefault("JAVA_TOOL_OPTIONS", "");
        Matcher xmx = Pattern.compile("-Xmx(\\d+[kKmMgG]?)").matcher(jvm);
        Matcher pct = Pattern.compile("-XX:MaxRAMPercentage=([0-9.]+)").matcher(jvm);
        long heap = xmx.find() ? quantity(xmx.group(1).toUpperCase(Locale.ROOT).replaceAll("([KMG])$", "$1i"))
                : (long) (limit * (pct.find() ? Double.parseDouble(pct.group(1)) : imagePercent) / 100);
        long offHeap = component == Component.DEDUP
                ? Long.parseLong(env.getOrDefault("TAPLINE_STREAMS_ROCKSDB_MAX_BYTES",
                        Long.toString(io.tapline.dedup.state.BoundedRocksDbMemory.DEFAULT_MAX_BYTES)))
                : 0;
        if (request < heap + offHeap) {
            problems.add(where + ": memory request " + (request >> 20) + " MiB is below the heap the JVM may take ("
                    + (heap >> 20) + " MiB)" + (offHeap > 0 ? " plus the RocksDB budget (" + (offHeap >> 20) + " MiB)" : ""));
        }
        return problems;
    }

    /** A Kubernetes memory quantity in bytes: plain, or with a binary (Ki, Mi, Gi) or decimal (k, M, G) suffix. */
    static long quantity(String text) {
        Matcher m = Pattern.compile("(\\d+)(Ki|Mi|Gi|Ti|k|M|G|T)?").matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("not a memory quantity: " + text);
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "" : m.group(2);
        return switch (unit) {
            case "Ki" -> n << 10;
            case "Mi" -> n << 20;
            case "Gi" -> n << 30;
            case "Ti" -> n << 40;
            case "k" -> n * 1_000L;
            case "M" -> n * 1_000_000L;
            case "G" -> n * 1_000_000_000L;
            case "T" -> n * 1_000_000_000_000L;
            default -> n;
        };
    }

    @Test
    void memoryRequestBelowTheHeapIsReported() {
        JsonNode dedup = pod("""
                name: dedup-stream
                image: registry.example.com/tapline/dedup-stream:0.1.0
                env: [{name: TAPLINE_STREAMS_ROCKSDB_MAX_BYTES, value: "268435456"}]
                resources: {requests: {memory: 1Gi}, limits: {memory: 2Gi}}
                """);
        assertEquals(List.of("test: memory request 1024 MiB is below the heap the JVM may take (1024 MiB) plus the RocksDB"
                + " budget (256 MiB)"), checkMemory(Component.DEDUP, dedup, 50, "test"));
        JsonNode xmx = pod("""
                name: replay-worker
                env: [{name: JDK_JAVA_OPTIONS, value: "-Xmx600m"}]
                resources: {requests: {memory: 512Mi}, limits: {memory: 2Gi}}
                """);
        assertEquals(List.of("test: memory request 512 MiB is below the heap the JVM may take (600 MiB)"),
                checkMemory(Component.REPLAY, xmx, 75, "test"));
        assertEquals(List.of(), checkMemory(Component.SIDECAR, pod("""
                resources: {requests: {memory: 384Mi}, limits: {memory: 512Mi}}
                """), 75, "test"));
    }

    /**
     * TopicCheck's one wait for the brokers at start (15 s, bounded at 20), whose answer the repartition topics'
     * pinning takes: before, the pinning waited for the brokers again.
     */
    static final long DEDUP_TOPIC_CHECK_WAIT_SECONDS = 20;

    @Test
    void dedupStreamIsNotKilledByItsLivenessProbeBeforeItsManagementPortListens() {
        // DedupMain registers its output schemas and pins the repartition topics' partitions before the management
        // port listens. Against a registry or brokers that do not answer that takes up to two registrations with
        // their retries plus two describeTopics waits; a liveness probe failing meanwhile kills the pod before it
        // says why (exit 1 with the registry's error), or before it goes on to wait for the brokers by itself.
        List<String> problems = new ArrayList<>();
        int checked = 0;
        for (Placed c : containers()) {
            if (c.component() == Component.DEDUP) {
                checked++;
                problems.addAll(checkDedupStartup(c.node(), c.where()));
            }
        }
        assertNoProblems(problems);
        assertEquals(1, checked, "dedup-stream containers checked");
    }

    /** Seconds a probe waits before it kills the container: initial delay plus period times failure threshold. */
    static long probeAllowance(JsonNode probe) {
        return probe.path("initialDelaySeconds").asLong(0)
                + probe.path("periodSeconds").asLong(10) * probe.path("failureThreshold").asLong(3);
    }

    static List<String> checkDedupStartup(JsonNode container, String where) {
        if (!container.has("livenessProbe")) {
            return List.of();
        }
        // the registry client's defaults: dedup-stream has no options for them
        long timeoutMs = io.tapline.registry.RegistryConfig.DEFAULT_REQUEST_TIMEOUT.toMillis();
        int retries = io.tapline.registry.RegistryConfig.DEFAULT_MAX_RETRIES;
        long backoffMs = io.tapline.registry.RegistryConfig.DEFAULT_RETRY_BACKOFF.toMillis();
        // one registration: every attempt at the timeout, and the growing backoff between them; two registrations
        long registration = (retries + 1) * timeoutMs + backoffMs * retries * (retries + 1) / 2;
        long needed = (2 * registration + 1000 - 1) / 1000 + DEDUP_TOPIC_CHECK_WAIT_SECONDS;
        JsonNode startup = container.path("startupProbe");
        long allowed = startup.isMissingNode() ? probeAllowance(container.path("livenessProbe")) : probeAllowance(startup);
        if (allowed < needed) {
            return List.of(where + ": its " + (startup.isMissingNode() ? "livenessProbe" : "startupProbe") + " kills it after "
                    + allowed + " s, before its management port can be listening (up to " + needed + " s: output schemas"
                    + " registered, repartition topics pinned); give it a startupProbe that waits that long");
        }
        return List.of();
    }

    @Test
    void everyReplayJobHasANetworkPolicyLettingItReachOnlyKafkaTheRegistryAndDns() {
        // The candidate talks to the worker's mock over loopback; one that calls a real dependency by itself (a URL
        // not pointed at the mock) must find no route to it, or a replay charges real payments.
        List<String> problems = new ArrayList<>();
        List<Doc> policies = docs.stream().filter(d -> d.kind().equals("NetworkPolicy")).toList();
        int jobs = 0;
        for (Doc doc : docs) {
            JsonNode template = replayTemplate(doc);
            if (template == null) {
                continue;
            }
            jobs++;
            String namespace = doc.node().path("metadata").path("namespace").asText("");
            // kubectl apply -k takes one directory: a policy of another kustomization is not applied with the Job.
            List<JsonNode> selecting = policies.stream()
                    .filter(p -> p.file().getParent().equals(doc.file().getParent()))
                    .filter(p -> p.node().path("metadata").path("namespace").asText("").equals(namespace))
                    .filter(p -> selects(p.node(), template)).map(Doc::node).toList();
            problems.addAll(checkReplayNetworkPolicies(selecting, template, namespace, doc.where()));
        }
        assertNoProblems(problems);
        assertTrue(jobs >= 2, "the replay Job and the ScaledJob are checked, found " + jobs);
    }

    @Test
    void kafkaTopicsMatchTheCodesTopics() {
        List<String> problems = new ArrayList<>();
        Set<String> declared = new TreeSet<>();
        for (Doc doc : docs) {
            if (doc.kind().equals("KafkaTopic")) {
                problems.addAll(checkKafkaTopic(doc.node(), doc.where()));
                declared.add(topicName(doc.node()));
            }
        }
        assertNoProblems(problems);
        assertEquals(codeTopicNames(), declared, "a KafkaTopic for every topic of TaplineTopics.all()");
    }

    @Test
    void topicScriptCreatesTheCodesTopicsWithTheSameSettings() throws IOException {
        Path script = deploy.resolve("k8s/topics/create-topics.sh");
        List<String> problems = new ArrayList<>();
        Map<String, ScriptTopic> topics = parseTopicScript(Files.readString(script), problems);
        for (ScriptTopic t : topics.values()) {
            problems.addAll(checkTopic(t.name(), t.partitions(), t.configs(), "create-topics.sh"));
        }
        assertNoProblems(problems);
        assertEquals(codeTopicNames(), topics.keySet(), "create-topics.sh creates every topic of TaplineTopics.all()");
    }

    @Test
    void everyTopicNamedInAManifestIsATaplineTopic() throws IOException {
        List<String> problems = new ArrayList<>();
        for (Placed c : containers()) {
            for (String value : environment(c.node()).values()) {
                problems.addAll(topicTokens(value, c.where()));
            }
        }
        for (Doc doc : docs) {
            if (doc.kind().equals("ScaledJob")) {
                for (JsonNode trigger : doc.node().path("spec").path("triggers")) {
                    problems.addAll(topicTokens(trigger.path("metadata").path("topic").asText(""), doc.where() + " trigger"));
                }
            }
        }
        problems.addAll(topicTokens(Files.readString(deploy.resolve("k8s/topics/create-topics.sh")), "create-topics.sh"));
        assertNoProblems(problems);
    }

    @Test
    void everyReplayJobEndsBeforeTheCasesItReadsMayBeCompacted() {
        // A run reads tapline.cases below its bounds while dedup-stream writes newer versions above them; the log
        // cleaner must not remove the older ones before the run is over (replay-worker README, Known limitations).
        long lagMs = Long.parseLong(TaplineTopics.CASES_SPEC.configs().getOrDefault("min.compaction.lag.ms", "0"));
        List<String> problems = new ArrayList<>();
        int jobs = 0;
        for (Doc doc : docs) {
            if (doc.kind().equals("Job") || doc.kind().equals("ScaledJob")) {
                jobs++;
                problems.addAll(checkRunDeadline(doc.node(), lagMs, doc.where()));
            }
        }
        assertNoProblems(problems);
        assertTrue(jobs >= 2, "the replay Job and the ScaledJob are checked");
    }

    @Test
    void kedaTriggerWatchesTheRunsConsumerGroupAndCasesTopic() {
        List<String> problems = new ArrayList<>();
        int scaledJobs = 0;
        for (Doc doc : docs) {
            if (doc.kind().equals("ScaledJob")) {
                scaledJobs++;
                problems.addAll(checkScaledJob(doc.node(), doc.where()));
            }
            if (doc.kind().equals("ScaledObject")) {
                problems.add(doc.where() + ": replay workers exit when their run is complete; scale them with a ScaledJob, not a ScaledObject");
            }
        }
        assertNoProblems(problems);
        assertTrue(scaledJobs >= 1, "a KEDA ScaledJob example under deploy/k8s");
    }

    @Test
    void kedaLeavesARunsJobsRunningWhenItsScaledJobIsEdited() {
        // KEDA's default rollout deletes the Jobs a ScaledJob started whenever the ScaledJob is edited: every worker of
        // the run was killed mid-run. And KEDA 2.20's CRD refused the file's "scalingStrategy: {strategy: default}".
        List<String> problems = new ArrayList<>();
        int scaledJobs = 0;
        for (Doc doc : docs) {
            if (doc.kind().equals("ScaledJob")) {
                scaledJobs++;
                problems.addAll(checkScaledJobRollout(doc.node(), doc.where()));
            }
        }
        assertNoProblems(problems);
        assertTrue(scaledJobs >= 1, "a KEDA ScaledJob example under deploy/k8s");
    }

    @Test
    void scaledJobWithKedasDefaultRolloutOrAnExplicitDefaultIsReported() throws IOException {
        JsonNode unset = YAML.readTree("""
                kind: ScaledJob
                spec: {jobTargetRef: {template: {}}}
                """);
        assertEquals(1, checkScaledJobRollout(unset, "test").size());
        assertTrue(checkScaledJobRollout(unset, "test").get(0).contains("rollout.strategy: gradual"));
        JsonNode immediate = YAML.readTree("""
                kind: ScaledJob
                spec: {rollout: {strategy: immediate}}
                """);
        assertEquals(1, checkScaledJobRollout(immediate, "test").size());
        JsonNode defaults = YAML.readTree("""
                kind: ScaledJob
                spec:
                  rollout: {strategy: default}
                  scalingStrategy: {strategy: default}
                """);
        List<String> problems = checkScaledJobRollout(defaults, "test");
        assertEquals(3, problems.size(), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("spec.scalingStrategy.strategy: default")), problems.toString());
        assertEquals(List.of(), checkScaledJobRollout(YAML.readTree("""
                kind: ScaledJob
                spec: {rollout: {strategy: gradual}, scalingStrategy: {strategy: eager}}
                """), "test"));
        // KEDA before 2.8 reads only the deprecated field
        assertEquals(List.of(), checkScaledJobRollout(YAML.readTree("kind: ScaledJob\nspec: {rolloutStrategy: gradual}\n"), "test"));
    }

    @Test
    void manifestFilesAreNumberedByApplyOrderAndListedInTheirKustomization() throws IOException {
        List<String> problems = new ArrayList<>();
        Pattern numbered = Pattern.compile("(\\d{3})-([A-Za-z]+)-([a-z0-9.-]+)\\.yaml");
        for (Doc doc : docs) {
            Matcher m = numbered.matcher(doc.file().getFileName().toString());
            if (doc.kind().isEmpty() || doc.kind().equals("Kustomization")) {
                continue;
            }
            if (!m.matches()) {
                problems.add(doc.where() + ": not named NNN-Kind-name.yaml");
            } else if (!m.group(2).equals(doc.kind()) || !m.group(3).equals(doc.node().path("metadata").path("name").asText())) {
                problems.add(doc.where() + ": file name says " + m.group(2) + "/" + m.group(3));
            }
        }
        for (Doc doc : docs) {
            if (!doc.kind().equals("Kustomization")) {
                continue;
            }
            Path dir = doc.file().getParent();
            List<String> listed = new ArrayList<>();
            doc.node().path("resources").forEach(r -> listed.add(r.asText()));
            for (String r : listed) {
                if (!Files.exists(dir.resolve(r))) {
                    problems.add(doc.where() + ": lists missing " + r);
                }
            }
            List<String> sorted = new ArrayList<>(listed);
            sorted.sort(null);
            if (!sorted.equals(listed)) {
                problems.add(doc.where() + ": resources not in apply (file number) order: " + listed);
            }
            try (Stream<Path> files = Files.list(dir)) {
                files.map(p -> p.getFileName().toString()).filter(n -> numbered.matcher(n).matches())
                        .filter(n -> !listed.contains(n))
                        .forEach(n -> problems.add(doc.where() + ": does not list " + n));
            }
        }
        assertNoProblems(problems);
    }

    @Test
    void prometheusScrapesTheManagementPortsByName() throws IOException {
        String scrape = Files.readString(deploy.resolve("k8s/prometheus/scrape-config.yaml"));
        JsonNode config = YAML.readTree(scrape);
        String keep = null;
        for (JsonNode job : config.path("scrape_configs")) {
            for (JsonNode relabel : job.path("relabel_configs")) {
                if (relabel.path("action").asText().equals("keep")
                        && relabel.path("source_labels").toString().contains("__meta_kubernetes_pod_container_port_name")) {
                    keep = relabel.path("regex").asText();
                }
            }
        }
        assertEquals(MANAGEMENT_PORT_NAME, keep, "scrape-config.yaml keeps the ports named " + MANAGEMENT_PORT_NAME);
        boolean podMonitor = docs.stream().filter(d -> d.kind().equals("PodMonitor"))
                .flatMap(d -> stream(d.node().path("spec").path("podMetricsEndpoints")))
                .anyMatch(e -> e.path("port").asText().equals(MANAGEMENT_PORT_NAME));
        assertTrue(podMonitor, "a PodMonitor scraping port " + MANAGEMENT_PORT_NAME);
    }

    @Test
    void containerFilesCopyTheModulesRunnableJarAndExposeTheDefaultPorts() throws IOException {
        List<String> problems = new ArrayList<>();
        for (Component c : Component.values()) {
            Path dockerfile = deploy.resolve("docker/" + c.module + "/Dockerfile");
            if (!Files.exists(dockerfile)) {
                problems.add("missing " + deploy.relativize(dockerfile));
                continue;
            }
            String pom = Files.readString(repo.resolve(c.module + "/pom.xml"));
            Matcher out = Pattern.compile("<outputFile>\\$\\{project\\.build\\.directory}/([^<]+\\.jar)</outputFile>").matcher(pom);
            String jar = out.find() ? c.module + "/target/" + out.group(1) : "(no shaded outputFile in " + c.module + "/pom.xml)";
            problems.addAll(checkDockerfile(c, Files.readString(dockerfile), jar));
            Path ignore = deploy.resolve("docker/" + c.module + "/Dockerfile.dockerignore");
            if (!Files.exists(ignore) || !Files.readString(ignore).contains("!" + jar)) {
                problems.add(deploy.relativize(ignore) + ": must let " + jar + " into the build context");
            }
        }
        assertNoProblems(problems);
    }

    @Test
    void specDefaultsAgreeWithTheDocumentedPortConstants() {
        assertEquals(Integer.toString(SidecarOptions.DEFAULT_MANAGEMENT_PORT),
                SidecarOptions.spec().options().get(SidecarOptions.KEY_MANAGEMENT_PORT).defaultValue());
        assertEquals(SidecarOptions.DEFAULT_LISTEN, SidecarOptions.spec().options().get(SidecarOptions.KEY_LISTEN).defaultValue());
        assertEquals(SidecarOptions.DEFAULT_EGRESS_LISTEN, SidecarOptions.spec().options().get(SidecarOptions.KEY_EGRESS_LISTEN).defaultValue());
        assertEquals(Integer.toString(DedupOptions.DEFAULT_MANAGEMENT_PORT),
                DedupOptions.SPEC.options().get(DedupOptions.MANAGEMENT_PORT).defaultValue());
    }

    // ------------------------------------------------------------------ negative tests: each check can fail

    @ParameterizedTest
    @EnumSource(Component.class)
    void anImageWithoutASmallMallocArenaCapIsReported(Component c) {
        String jar = imageJar(c);
        String compilers = c == Component.DEDUP ? "" : "\"-XX:CICompilerCount=2\", ";
        String where = "deploy/docker/" + c.module + "/Dockerfile";
        assertEquals(List.of(where + ": must cap glibc's malloc arenas (ENV MALLOC_ARENA_MAX=1..4)"),
                checkDockerfile(c, dockerfile(c, "# no cap", compilers), jar));
        assertEquals(List.of(where + ": must cap glibc's malloc arenas (ENV MALLOC_ARENA_MAX=1..4), not 128"),
                checkDockerfile(c, dockerfile(c, "ENV MALLOC_ARENA_MAX=128", compilers), jar));
        assertEquals(List.of(), checkDockerfile(c, dockerfile(c, "ENV MALLOC_ARENA_MAX=2", compilers), jar));
        assertEquals(List.of(), checkDockerfile(c, dockerfile(c, "ENV MALLOC_ARENA_MAX \"2\"", compilers), jar));
    }

    @ParameterizedTest
    @EnumSource(value = Component.class, names = {"SIDECAR", "REPLAY"})
    void anImageWithoutACompilerThreadCapIsReported(Component c) {
        String jar = imageJar(c);
        String arenas = "ENV MALLOC_ARENA_MAX=2";
        String where = "deploy/docker/" + c.module + "/Dockerfile";
        String missing = where + ": must cap the JIT compiler threads in its ENTRYPOINT (-XX:CICompilerCount=2..4)";
        assertEquals(List.of(missing), checkDockerfile(c, dockerfile(c, arenas, ""), jar));
        assertEquals(List.of(missing + ", not 12"),
                checkDockerfile(c, dockerfile(c, arenas, "\"-XX:CICompilerCount=12\", "), jar));
        // in a comment, not in the ENTRYPOINT: not a cap
        assertEquals(List.of(missing),
                checkDockerfile(c, dockerfile(c, arenas + "\n# \"-XX:CICompilerCount=2\"", ""), jar));
        assertEquals(List.of(), checkDockerfile(c, dockerfile(c, arenas, "\"-XX:CICompilerCount=2\", "), jar));
    }

    /** The module's shaded jar, as its Dockerfile must COPY it. */
    private static String imageJar(Component c) {
        return c.module + "/target/" + c.module + ".jar";
    }

    /**
     * A Dockerfile for {@code c} that passes the checks other than those of {@code lines} (written before its
     * EXPOSE of the default ports) and of {@code flags} (quoted and comma-ended, first in its ENTRYPOINT).
     */
    private static String dockerfile(Component c, String lines, String flags) {
        return """
                FROM eclipse-temurin:17-jre
                COPY %1$s /opt/tapline/%2$s.jar
                USER 10001:10001
                %3$s
                EXPOSE %4$s
                ENTRYPOINT ["java", %5$s"-jar", "/opt/tapline/%2$s.jar"]
                """.formatted(imageJar(c), c.module, lines, switch (c) {
                    case SIDECAR -> "8080 9464";
                    case DEDUP -> "9402";
                    case REPLAY -> "9403";
                }, flags);
    }

    @Test
    void aDedupContainerWithoutAWritableRocksDbLibraryDirIsReported() {
        String prefix = "f.yaml: container dedup-stream: ";
        assertEquals(List.of(), rocksDbProblems("emptyDir: {sizeLimit: 256Mi}", "", "", "/tmp"));
        assertEquals(List.of(), rocksDbProblems("emptyDir: {}", "", "", "/tmp/"));
        assertEquals(List.of(), rocksDbProblems("persistentVolumeClaim: {claimName: c}", "", "", "/tmp"));
        assertEquals(List.of(prefix + "ROCKSDB_SHAREDLIB_DIR is not set: RocksDB unpacks its library to a new file at"
                + " each start, and a killed job's copy stays"), rocksDbProblems("emptyDir: {}", "", "", null));
        assertEquals(List.of(prefix + "no volume is mounted at /var/rocksdb (ROCKSDB_SHAREDLIB_DIR), where RocksDB"
                + " unpacks its library; the root file system is read-only"), rocksDbProblems("emptyDir: {}",
                "env: [{name: ROCKSDB_SHAREDLIB_DIR, value: /var/rocksdb}]", "", "/tmp"));
        assertEquals(List.of(prefix + "the volume at /tmp (ROCKSDB_SHAREDLIB_DIR) is mounted read-only"),
                rocksDbProblems("emptyDir: {}", "", "readOnly: true", "/tmp"));
        assertEquals(List.of(prefix + "volume tmp at /tmp (ROCKSDB_SHAREDLIB_DIR) is not an emptyDir or a claim"),
                rocksDbProblems("configMap: {name: x}", "", "", "/tmp"));
        assertEquals("/tmp", rocksDbLibraryDir("FROM x\nENV ROCKSDB_SHAREDLIB_DIR=/tmp\n"));
        assertEquals("/tmp", rocksDbLibraryDir("FROM x\nENV ROCKSDB_SHAREDLIB_DIR \"/tmp\"\n"));
        assertEquals(null, rocksDbLibraryDir("FROM x\n# ENV ROCKSDB_SHAREDLIB_DIR=/tmp\n"));
    }

    /** {@link #checkRocksDbLibraryDir} of a pod whose volume {@code tmp} (mounted at /tmp) is {@code volume}. */
    private static List<String> rocksDbProblems(String volume, String env, String mount, String imageDir) {
        JsonNode pod = pod("""
                volumes:
                  - name: tmp
                    %s
                containers:
                  - name: dedup-stream
                    image: example/tapline/dedup-stream:1
                    %s
                    volumeMounts:
                      - name: tmp
                        mountPath: /tmp
                        %s
                """.formatted(volume, env, mount));
        return checkRocksDbLibraryDir(pod, pod.path("containers").get(0), imageDir, "f.yaml");
    }

    @Test
    void unknownEnvVarIsReported() {
        List<String> problems = checkPod(pod("""
                containers:
                  - name: capture-sidecar
                    image: example/tapline/capture-sidecar:1
                    env:
                      - {name: TAPLINE_APP, value: "http://127.0.0.1:8081"}
                      - {name: TAPLINE_CAPTURE_MAX_BODY_BYTE, value: "1024"}
                  - name: app
                    image: example/app:1
                    ports: [{containerPort: 8081}]
                """), "test");
        assertTrue(problems.stream().anyMatch(p -> p.contains("TAPLINE_CAPTURE_MAX_BODY_BYTE")), problems.toString());
    }

    @Test
    void anotherComponentsOptionIsReported() {
        List<String> problems = checkPod(pod("""
                containers:
                  - name: dedup-stream
                    image: example/tapline/dedup-stream:1
                    ports: [{name: tapline-mgmt, containerPort: 9402}]
                    env:
                      - {name: TAPLINE_SAMPLING_RATE, value: "10"}
                      - {name: TAPLINE_KAFKA_PRODUCER_ACKS, value: "1"}
                      - {name: TAPLINE_KAFKA_STREAMS_NUM_STANDBY_REPLICAS, value: "1"}
                """), "test");
        assertEquals(2, problems.stream().filter(p -> p.contains("unknown env var")).count(), problems.toString());
        assertFalse(problems.stream().anyMatch(p -> p.contains("TAPLINE_KAFKA_STREAMS_NUM_STANDBY_REPLICAS")), problems.toString());
    }

    @Test
    void invalidOptionValueIsReported() {
        List<String> problems = checkPod(pod("""
                containers:
                  - name: capture-sidecar
                    image: example/tapline/capture-sidecar:1
                    env:
                      - {name: TAPLINE_APP, value: "http://127.0.0.1:8081"}
                      - {name: TAPLINE_SAMPLING_RATE, value: "250"}
                  - name: app
                    image: example/app:1
                    ports: [{containerPort: 8081}]
                """), "test");
        assertTrue(problems.stream().anyMatch(p -> p.contains("sampling-rate")), problems.toString());
    }

    @Test
    void portAndProbeTheCodeDoesNotListenOnAreReported() {
        List<String> problems = checkPod(pod("""
                containers:
                  - name: dedup-stream
                    image: example/tapline/dedup-stream:1
                    ports: [{name: tapline-mgmt, containerPort: 9464}]
                    livenessProbe: {httpGet: {path: /health, port: 9402}}
                """), "test");
        assertTrue(problems.stream().anyMatch(p -> p.contains("port 9464")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("/health ")), problems.toString());
        // The same port is fine once the env var that sets it says so.
        List<String> declared = checkPod(pod("""
                containers:
                  - name: dedup-stream
                    image: example/tapline/dedup-stream:1
                    ports: [{name: tapline-mgmt, containerPort: 9464}]
                    env: [{name: TAPLINE_MANAGEMENT_PORT, value: "9464"}]
                    livenessProbe: {httpGet: {path: /healthy, port: tapline-mgmt}}
                """), "test");
        assertEquals(List.of(), declared);
    }

    @Test
    void podLocalUrlToAPortNobodyListensOnIsReported() {
        List<String> problems = checkPod(pod("""
                containers:
                  - name: capture-sidecar
                    image: example/tapline/capture-sidecar:1
                    ports: [{name: tapline-mgmt, containerPort: 9464}]
                    env: [{name: TAPLINE_APP, value: "http://127.0.0.1:8081"}]
                  - name: app
                    image: example/app:1
                    ports: [{containerPort: 8081}]
                    env: [{name: INVENTORY_URL, value: "http://127.0.0.1:15002/inventory"}]
                """), "test");
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("15002"), problems.toString());
    }

    @Test
    void serviceNamingASidecarPortOrBypassingTheSidecarIsReported() {
        JsonNode template = pod("""
                metadata: {labels: {app: shop}}
                spec:
                  initContainers:
                    - name: capture-sidecar
                      image: example/tapline/capture-sidecar:1
                      restartPolicy: Always
                      ports: [{name: http, containerPort: 8080}]
                  containers:
                    - name: shop
                      image: example/shop:1
                      ports: [{name: app, containerPort: 8081}]
                """);
        JsonNode named = pod("""
                kind: Service
                spec: {selector: {app: shop}, ports: [{port: 80, targetPort: http}]}
                """);
        List<String> problems = checkService(named, List.of(template), "test");
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("initContainer"), problems.toString());
        JsonNode bypass = pod("""
                kind: Service
                spec: {selector: {app: shop}, ports: [{port: 80, targetPort: app}]}
                """);
        problems = checkService(bypass, List.of(template), "test");
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("bypasses the capture sidecar"), problems.toString());
        JsonNode numbered = pod("""
                kind: Service
                spec: {selector: {app: shop}, ports: [{port: 80, targetPort: 8080}]}
                """);
        assertEquals(List.of(), checkService(numbered, List.of(template), "test"));
        JsonNode nothing = pod("""
                kind: Service
                spec: {selector: {app: cart}, ports: [{port: 80, targetPort: 8080}]}
                """);
        assertTrue(checkService(nothing, List.of(template), "test").get(0).contains("selects no pod template"));
    }

    @Test
    void networkPolicyOpeningTheAppsPortOrTheManagementPortIsReported() {
        JsonNode template = pod("""
                metadata: {labels: {app: shop}}
                spec:
                  initContainers:
                    - name: capture-sidecar
                      image: example/tapline/capture-sidecar:1
                      restartPolicy: Always
                      ports: [{name: http, containerPort: 8080}, {name: tapline-mgmt, containerPort: 9464}]
                  containers:
                    - name: shop
                      image: example/shop:1
                      ports: [{name: app, containerPort: 8081}]
                """);
        JsonNode open = pod("""
                kind: NetworkPolicy
                spec:
                  podSelector: {matchLabels: {app: shop}}
                  ingress:
                    - from: [{namespaceSelector: {}}]
                      ports: [{port: 8080}, {port: 8081}, {port: 9464}, {port: 9999}]
                    - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]
                """);
        List<String> problems = checkNetworkPolicies(List.of(open), template, "test");
        assertEquals(4, problems.size(), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("8081") && p.contains("bypasses the capture sidecar")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("management port 9464") && p.contains("every")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("without ports")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("9999")), problems.toString());
        JsonNode named = pod("""
                kind: NetworkPolicy
                spec:
                  podSelector: {matchLabels: {app: shop}}
                  policyTypes: [Ingress]
                  ingress:
                    - ports: [{port: http}]
                    - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]
                      ports: [{port: tapline-mgmt}]
                """);
        problems = checkNetworkPolicies(List.of(named), template, "test");
        assertEquals(2, problems.size(), problems.toString());
        assertTrue(problems.stream().allMatch(p -> p.contains("initContainer")), problems.toString());
        JsonNode closed = pod("""
                kind: NetworkPolicy
                spec:
                  podSelector: {matchLabels: {app: shop}}
                  ingress:
                    - from: [{namespaceSelector: {}}]
                      ports: [{port: 8080}]
                """);
        problems = checkNetworkPolicies(List.of(closed), template, "test");
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("9464 is admitted from nowhere"), problems.toString());
        assertTrue(checkNetworkPolicies(List.of(), template, "test").get(0).contains("no NetworkPolicy"));
        JsonNode egressOnly = pod("""
                kind: NetworkPolicy
                spec: {podSelector: {}, policyTypes: [Egress], egress: [{}]}
                """);
        assertTrue(checkNetworkPolicies(List.of(egressOnly), template, "test").get(0).contains("no NetworkPolicy"));
        JsonNode good = pod("""
                kind: NetworkPolicy
                spec:
                  podSelector: {matchLabels: {app: shop}}
                  ingress:
                    - from: [{namespaceSelector: {}}]
                      ports: [{protocol: TCP, port: 8080}]
                    - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]
                      ports: [{protocol: TCP, port: 9464}]
                """);
        assertEquals(List.of(), checkNetworkPolicies(List.of(good), template, "test"));
        assertTrue(selects(good, template));
        assertFalse(selects(pod("spec: {podSelector: {matchLabels: {app: cart}}}"), template));
    }

    /** A replay pod's template: its worker's Kafka in namespace kafka, its registry in namespace registry. */
    static JsonNode replayPod(String... extraEnv) {
        StringBuilder env = new StringBuilder();
        for (String e : extraEnv) {
            env.append("\n        - ").append(e);
        }
        return pod("""
                metadata: {labels: {app.kubernetes.io/name: tapline-replay}}
                spec:
                  initContainers:
                    - name: candidate
                      image: example/shop:1
                      restartPolicy: Always
                      ports: [{name: app, containerPort: 8081}]
                      env: [{name: INVENTORY_URL, value: "http://127.0.0.1:15001/inventory"}]
                  containers:
                    - name: replay-worker
                      image: example/tapline/replay-worker:1
                      args: [replay]
                      ports: [{name: tapline-mgmt, containerPort: 9403}]
                      env:
                        - {name: TAPLINE_RUN, value: r1}
                        - {name: TAPLINE_TARGET, value: "http://127.0.0.1:8081"}
                        - {name: TAPLINE_MOCK_PORT, value: "15001"}
                        - {name: TAPLINE_KAFKA_BOOTSTRAP_SERVERS, value: "my-cluster-kafka-bootstrap.kafka.svc:9092"}
                        - {name: TAPLINE_SCHEMA_REGISTRY_URL, value: "http://schema-registry.registry.svc:8081/apis/ccompat/v7"}"""
                + env);
    }

    /** A policy that lets replay pods reach exactly what {@link #replayPod} needs. */
    static final String REPLAY_POLICY = """
            kind: NetworkPolicy
            spec:
              podSelector: {matchLabels: {app.kubernetes.io/name: tapline-replay}}
              policyTypes: [Ingress, Egress]
              ingress:
                - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]
                  ports: [{protocol: TCP, port: tapline-mgmt}]
              egress:
                - to:
                    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
                      podSelector: {matchLabels: {k8s-app: kube-dns}}
                  ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
                - to:
                    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kafka}}
                      podSelector: {matchLabels: {strimzi.io/cluster: my-cluster}}
                  ports: [{protocol: TCP, port: 9092}]
                - to:
                    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: registry}}
                      podSelector: {matchLabels: {app: registry}}
                  ports: [{port: 8081}]
            """;

    static List<String> replayProblems(JsonNode template, String... policies) {
        return checkReplayNetworkPolicies(Stream.of(policies).map(DeployManifestsTest::pod).toList(), template, "tapline", "test");
    }

    @Test
    void replayNetworkPolicyLettingThePodsReachAnythingElseIsReported() {
        JsonNode template = replayPod();
        assertEquals(List.of(), replayProblems(template, REPLAY_POLICY));
        assertTrue(selects(pod(REPLAY_POLICY), template));

        List<String> none = replayProblems(template);
        assertEquals(2, none.size(), none.toString());
        String ingressOnly = """
                kind: NetworkPolicy
                spec:
                  podSelector: {matchLabels: {app.kubernetes.io/name: tapline-replay}}
                  policyTypes: [Ingress]
                  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}], ports: [{port: 9403}]}]
                """;
        List<String> problems = replayProblems(template, ingressOnly);
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("for Egress"), problems.toString());
        // Egress rules count only in a policy whose policyTypes name Egress.
        problems = replayProblems(template, REPLAY_POLICY.replace("[Ingress, Egress]", "[Ingress]"));
        assertTrue(problems.get(0).contains("for Egress"), problems.toString());

        String allowAll = """
                kind: NetworkPolicy
                spec: {podSelector: {}, policyTypes: [Egress], egress: [{}]}
                """;
        problems = replayProblems(template, REPLAY_POLICY, allowAll);
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("without 'to' lets the pods reach every address, on every port"), problems.toString());

        String anywhere = REPLAY_POLICY + """
                    - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}]
                      ports: [{port: 443}]
                """;
        problems = replayProblems(template, anywhere);
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("ipBlock"), problems.toString());

        problems = replayProblems(template, REPLAY_POLICY.replace("port: 9092}", "port: 9092}, {port: 5432}"));
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("port 5432/TCP of pods in namespace kafka"), problems.toString());

        problems = replayProblems(template, REPLAY_POLICY.replace("kubernetes.io/metadata.name: kafka", "team: data"));
        assertTrue(problems.stream().anyMatch(p -> p.contains("every namespace its selector matches")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("no egress rule reaches Kafka bootstrap")), problems.toString());

        problems = replayProblems(template, REPLAY_POLICY.replace("{matchLabels: {app: registry}}", "{}"));
        assertTrue(problems.stream().anyMatch(p -> p.contains("every pod of namespace registry")), problems.toString());

        problems = replayProblems(template, REPLAY_POLICY.replace("{protocol: UDP, port: 53}, ", ""));
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("no egress rule reaches cluster DNS (namespace kube-system, 53/UDP)"), problems.toString());

        problems = replayProblems(template, REPLAY_POLICY.replace("ports: [{port: 8081}]", "ports: [{protocol: TCP}]"));
        assertTrue(problems.stream().anyMatch(p -> p.contains("is not one port number")), problems.toString());

        // Ingress: the management port from chosen sources, nothing else (the candidate's port stays closed).
        problems = replayProblems(template, REPLAY_POLICY.replace("ports: [{protocol: TCP, port: tapline-mgmt}]",
                "ports: [{protocol: TCP, port: tapline-mgmt}, {port: 8081}]"));
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("admits port 8081, which is not the management port"), problems.toString());
        problems = replayProblems(template, REPLAY_POLICY.replace("{matchLabels: {kubernetes.io/metadata.name: monitoring}}", "{}"));
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("management port 9403 from every pod"), problems.toString());

        // A host --allow-live names is reached for real: the policy must let the pods reach it, on its route's port.
        JsonNode live = replayPod("{name: TAPLINE_MOCK_ROUTE, value: \"inventory=http://inventory.shop.svc:8080\"}",
                "{name: TAPLINE_ALLOW_LIVE, value: inventory.shop.svc}");
        problems = replayProblems(live, REPLAY_POLICY);
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("no egress rule reaches live dependency inventory"), problems.toString());
        assertEquals(List.of(), replayProblems(live, REPLAY_POLICY + """
                    - to:
                        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}}
                          podSelector: {matchLabels: {app: inventory}}
                      ports: [{port: 8080}]
                """));
    }

    /**
     * The registry a replay pod must reach is the one its worker's registry client dials: credentials in a
     * {@code TAPLINE_SCHEMA_REGISTRY_URL} end at the URL's last {@code @} (a password pasted unencoded may hold an
     * {@code @} or a {@code /}), as the product reads them, and are never shown.
     */
    @Test
    void replayPodsRegistryIsTheHostItsClientDialsAfterTheCredentials() {
        for (String credentials : List.of("", "svc:s3cret@", "svc:p@ss@", "svc:Zm9v/YmFy@", "svc:a@b/c?d#e@")) {
            JsonNode own = replayPod();
            registryUrl(own, "http://" + credentials + "schema-registry.registry.svc:8081/apis/ccompat/v7");
            assertEquals(List.of(), replayProblems(own, REPLAY_POLICY), credentials);

            JsonNode elsewhere = replayPod();
            registryUrl(elsewhere, "http://" + credentials + "schema-registry.kafka.svc:8082/apis/ccompat/v7");
            List<String> problems = replayProblems(elsewhere, REPLAY_POLICY);
            assertTrue(problems.stream().anyMatch(p -> p.contains("no egress rule reaches schema registry "
                    + "schema-registry.kafka.svc:8082 (namespace kafka, 8082/TCP)")), problems.toString());
            for (String secret : List.of("s3cret", "p@ss", "YmFy", "c?d")) {
                assertFalse(problems.toString().contains(secret), problems.toString());
            }
        }
    }

    /** Sets the registry URL of {@link #replayPod}'s worker. */
    static void registryUrl(JsonNode replayPod, String url) {
        for (JsonNode e : replayPod.path("spec").path("containers").get(0).path("env")) {
            if (e.path("name").asText().equals("TAPLINE_SCHEMA_REGISTRY_URL")) {
                ((com.fasterxml.jackson.databind.node.ObjectNode) e).put("value", url);
            }
        }
    }

    @Test
    void replayJobOutlastingTheCasesCompactionLagIsReported() throws IOException {
        JsonNode job = YAML.readTree("""
                kind: Job
                spec:
                  activeDeadlineSeconds: 7200
                  template: {spec: {containers: [{name: replay-worker, image: example/tapline/replay-worker:1}]}}
                """);
        List<String> problems = checkRunDeadline(job, 3_600_000, "test");
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("min.compaction.lag.ms"), problems.toString());
        JsonNode unbounded = YAML.readTree("""
                kind: ScaledJob
                spec:
                  jobTargetRef:
                    template: {spec: {containers: [{name: replay-worker, image: example/tapline/replay-worker:1}]}}
                """);
        assertTrue(checkRunDeadline(unbounded, 3_600_000, "test").get(0).contains("activeDeadlineSeconds"));
        assertEquals(List.of(), checkRunDeadline(job, 7_200_001, "test"));
    }

    @Test
    void topicWithDriftedSettingsIsReported() throws IOException {
        JsonNode topic = YAML.readTree("""
                kind: KafkaTopic
                metadata: {name: tapline-cases}
                spec:
                  topicName: tapline.cases
                  partitions: 3
                  config: {cleanup.policy: delete}
                """);
        List<String> problems = checkKafkaTopic(topic, "test");
        assertTrue(problems.stream().anyMatch(p -> p.contains("partitions 3")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("cleanup.policy")), problems.toString());
        assertFalse(checkTopic("tapline.casez", 6, Map.of(), "test").isEmpty());
        assertEquals(List.of("test: tapline.result is not a topic of TaplineTopics " + codeTopicNames()),
                topicTokens("--topic tapline.result", "test"));
    }

    // ------------------------------------------------------------------ pods, containers, env

    static List<String> checkPod(JsonNode pod, String where) {
        List<String> problems = new ArrayList<>();
        Set<Integer> podPorts = new TreeSet<>();
        Map<JsonNode, TaplineConfig> configs = new LinkedHashMap<>();
        for (JsonNode c : containers(pod)) {
            c.path("ports").forEach(p -> podPorts.add(p.path("containerPort").asInt()));
            Component component = component(c);
            if (component == null) {
                continue;
            }
            String at = where + " container " + c.path("name").asText();
            ConfigSpec spec = spec(component, c, at, problems);
            if (spec == null) {
                continue;
            }
            Map<String, String> env = environment(c);
            problems.addAll(checkEnvNames(spec, new ArrayList<>(env.keySet()), referencedVariables(c), at));
            TaplineConfig config = validate(component, spec, env, at, problems);
            if (config != null) {
                configs.put(c, config);
                problems.addAll(checkPortsAndProbes(component, c, config, at));
                podPorts.addAll(listeningPorts(component, config));
            }
        }
        if (configs.isEmpty()) {
            return problems;
        }
        // URLs to 127.0.0.1/localhost must reach something in this pod: the app, the egress proxy, the mock.
        Pattern local = Pattern.compile("(?:127\\.0\\.0\\.1|localhost):(\\d+)");
        for (JsonNode c : containers(pod)) {
            for (Map.Entry<String, String> e : environment(c).entrySet()) {
                Matcher m = local.matcher(e.getValue());
                while (m.find()) {
                    int port = Integer.parseInt(m.group(1));
                    if (!podPorts.contains(port)) {
                        problems.add(where + " container " + c.path("name").asText() + ": " + e.getKey() + " points at pod-local port "
                                + port + ", which nothing in the pod listens on " + podPorts);
                    }
                }
            }
        }
        return problems;
    }

    /** Each name must be an option (or fall under a prefix option) of the spec; other variables need a reason. */
    static List<String> checkEnvNames(ConfigSpec spec, List<String> names, Set<String> referenced, String where) {
        List<String> problems = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (String name : names) {
            if (!seen.add(name)) {
                problems.add(where + ": env var " + name + " declared twice");
            }
            if (name.startsWith("TAPLINE_")) {
                if (optionForEnv(spec, name) == null) {
                    problems.add(where + ": unknown env var " + name + " for " + spec.command() + " (no option "
                            + name.substring("TAPLINE_".length()).toLowerCase(Locale.ROOT).replace('_', '.') + ")");
                }
            } else if (!JVM_VARIABLES.contains(name) && !referenced.contains(name)) {
                problems.add(where + ": env var " + name + " is not a TAPLINE_* option of " + spec.command()
                        + " (nor a JVM variable, nor used by another variable through $(" + name + "))");
            }
        }
        return problems;
    }

    static Option optionForEnv(ConfigSpec spec, String name) {
        for (Option o : spec.options().values()) {
            if (o.kind() == Option.Kind.PREFIX) {
                String prefix = ConfigSpec.envVar(o.key());
                if (name.startsWith(prefix) && name.length() > prefix.length()) {
                    return o;
                }
            } else if (o.envVar().equals(name)) {
                return o;
            }
        }
        return null;
    }

    static ConfigSpec spec(Component component, JsonNode container, String where, List<String> problems) {
        switch (component) {
            case SIDECAR:
                return SidecarOptions.spec();
            case DEDUP:
                return DedupOptions.SPEC;
            default:
                String command = container.path("args").path(0).asText(container.path("command").path(0).asText(""));
                if (command.equals("replay")) {
                    return ReplayOptions.replaySpec();
                }
                if (command.equals("report")) {
                    return ReplayOptions.reportSpec();
                }
                problems.add(where + ": replay-worker needs args [replay] or [report], has " + container.path("args"));
                return null;
        }
    }

    /** Loads the container's TAPLINE_* environment like the component does, and validates the values. */
    static TaplineConfig validate(Component component, ConfigSpec spec, Map<String, String> env, String where, List<String> problems) {
        Map<String, String> tapline = new TreeMap<>();
        env.forEach((k, v) -> {
            if (k.startsWith("TAPLINE_")) {
                tapline.put(k, v);
            }
        });
        try {
            TaplineConfig config = TaplineConfig.load(spec, new String[0], tapline);
            for (Map.Entry<String, String> e : tapline.entrySet()) {
                Option o = optionForEnv(spec, e.getKey());
                if (o != null && o.kind() == Option.Kind.VALUE) {
                    typed(config, o);
                }
            }
            switch (component) {
                case SIDECAR -> SidecarOptions.from(config);
                case DEDUP -> {
                    DedupOptions.topology(config);
                    DedupOptions.streams(config);
                }
                case REPLAY -> {
                    for (String required : List.of(ReplayOptions.RUN, ReplayOptions.TARGET)) {
                        if (spec.options().containsKey(required) && !config.has(required)) {
                            problems.add(where + ": " + ConfigSpec.envVar(required) + " is required");
                        }
                    }
                    FailOn.parse(config.get(ReplayOptions.FAIL_ON), config.getBoolean(ReplayOptions.FAIL_ON_ERRORS));
                    if (spec.options().containsKey(ReplayOptions.MOCK_ROUTE)) {
                        MockServerOptions.parseRoutes(config.getList(ReplayOptions.MOCK_ROUTE));
                        IgnoreRules.parse(config.getList(ReplayOptions.IGNORE));
                    }
                }
            }
            return config;
        } catch (ConfigException | IllegalArgumentException e) {
            problems.add(where + ": " + e.getMessage());
            return null;
        }
    }

    /** A value of an option whose default is a number, duration or boolean must parse as one. */
    static void typed(TaplineConfig config, Option o) {
        String d = o.defaultValue() == null ? "" : o.defaultValue();
        if (d.matches("-?\\d+(\\.\\d+)?")) {
            try {
                config.getLong(o.key());
            } catch (ConfigException notWhole) {
                config.getDouble(o.key());
            }
        } else if (d.matches("\\d+(ms|s|m|h|d)")) {
            config.getDuration(o.key());
        } else if (d.equals("true") || d.equals("false")) {
            config.getBoolean(o.key());
        }
    }

    /** The ports the component binds with this configuration. */
    static Set<Integer> listeningPorts(Component component, TaplineConfig config) {
        Set<Integer> ports = new TreeSet<>();
        int management = config.getInt("management.port");
        if (management > 0) {
            ports.add(management);
        }
        switch (component) {
            case SIDECAR -> {
                ports.add(SidecarOptions.Listen.parse(SidecarOptions.KEY_LISTEN, config.get(SidecarOptions.KEY_LISTEN), "0.0.0.0").port());
                String egress = config.get(SidecarOptions.KEY_EGRESS_LISTEN);
                if (!"off".equalsIgnoreCase(egress.trim())) {
                    ports.add(SidecarOptions.Listen.parse(SidecarOptions.KEY_EGRESS_LISTEN, egress, "127.0.0.1").port());
                }
            }
            case REPLAY -> {
                if (config.spec().options().containsKey(ReplayOptions.MOCK_PORT)) {
                    ports.add(config.getInt(ReplayOptions.MOCK_PORT));
                }
            }
            default -> {
            }
        }
        return ports;
    }

    static List<String> checkPortsAndProbes(Component component, JsonNode c, TaplineConfig config, String where) {
        List<String> problems = new ArrayList<>();
        Set<Integer> listening = listeningPorts(component, config);
        int management = config.getInt("management.port");
        Map<String, Integer> named = new LinkedHashMap<>();
        for (JsonNode p : c.path("ports")) {
            int port = p.path("containerPort").asInt();
            named.put(p.path("name").asText(""), port);
            if (!listening.contains(port)) {
                problems.add(where + ": containerPort " + port + " is none of the ports " + config.spec().command()
                        + " listens on with this configuration " + listening + " (port " + port + ")");
            }
            if (p.path("name").asText().equals(MANAGEMENT_PORT_NAME) && port != management) {
                problems.add(where + ": port " + port + " is named " + MANAGEMENT_PORT_NAME + " but the management port is " + management);
            }
        }
        if (management > 0 && !named.containsKey(MANAGEMENT_PORT_NAME)) {
            problems.add(where + ": declare the management port " + management + " as containerPort named " + MANAGEMENT_PORT_NAME
                    + " (Prometheus scrapes by that name)");
        }
        Map<String, Set<String>> paths = Map.of("livenessProbe", Set.of("/healthy"), "readinessProbe", Set.of("/ready"),
                "startupProbe", Set.of("/healthy", "/ready"));
        for (Map.Entry<String, Set<String>> probe : paths.entrySet()) {
            JsonNode get = c.path(probe.getKey()).path("httpGet");
            if (get.isMissingNode()) {
                continue;
            }
            JsonNode portNode = get.path("port");
            Integer port = portNode.isInt() ? Integer.valueOf(portNode.asInt()) : named.get(portNode.asText());
            if (port == null || port != management) {
                problems.add(where + ": " + probe.getKey() + " probes port " + portNode.asText() + ", the management port is " + management);
            }
            String path = get.path("path").asText();
            if (!probe.getValue().contains(path)) {
                problems.add(where + ": " + probe.getKey() + " probes " + path + " (must be one of " + probe.getValue() + ")");
            }
        }
        return problems;
    }

    /** Container env as Kubernetes would give it, with references resolved to placeholders of the right shape. */
    static Map<String, String> environment(JsonNode container) {
        Map<String, String> env = new LinkedHashMap<>();
        for (JsonNode e : container.path("env")) {
            String name = e.path("name").asText();
            String value;
            if (e.has("value")) {
                value = expand(e.path("value").asText(), env);
            } else if (e.path("valueFrom").has("fieldRef")) {
                String field = e.path("valueFrom").path("fieldRef").path("fieldPath").asText();
                value = field.contains("completion-index") ? "0" : field.contains("job-name") ? "tapline-replay" : "pod-name";
            } else {
                // Secrets and config map keys: a value long enough for a redaction key.
                value = "placeholder-from-" + name.toLowerCase(Locale.ROOT).replace('_', '-');
            }
            env.put(name, value);
        }
        return env;
    }

    /** Kubernetes {@code $(VAR)} expansion from the variables defined before. */
    static String expand(String value, Map<String, String> defined) {
        Matcher m = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)").matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String v = defined.get(m.group(1));
            m.appendReplacement(out, Matcher.quoteReplacement(v == null ? m.group() : v));
        }
        m.appendTail(out);
        return out.toString();
    }

    static Set<String> referencedVariables(JsonNode container) {
        Set<String> out = new TreeSet<>();
        Pattern ref = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)");
        for (JsonNode e : container.path("env")) {
            Matcher m = ref.matcher(e.path("value").asText(""));
            while (m.find()) {
                out.add(m.group(1));
            }
        }
        return out;
    }

    static Component component(JsonNode container) {
        String image = container.path("image").asText("");
        String last = image.substring(image.lastIndexOf('/') + 1).replaceAll("[:@].*$", "");
        Component byImage = Component.byName(last);
        Component byName = Component.byName(container.path("name").asText());
        if (byImage != null && byName != null && byImage != byName) {
            throw new AssertionError("container " + container.path("name").asText() + " runs image " + image);
        }
        return byImage != null ? byImage : byName;
    }

    /** A container of a pod spec in the manifests, with its document and its component (null: not Tapline's). */
    record Placed(Doc doc, JsonNode node, Component component) {
        String where() {
            return doc.where() + " container " + node.path("name").asText();
        }
    }

    /** Every container of every pod spec in the manifests, in the order of the files. */
    private List<Placed> containers() {
        List<Placed> out = new ArrayList<>();
        for (Doc doc : docs) {
            for (JsonNode pod : podSpecs(doc.node())) {
                for (JsonNode c : containers(pod)) {
                    out.add(new Placed(doc, c, component(c)));
                }
            }
        }
        return out;
    }

    static List<JsonNode> containers(JsonNode pod) {
        List<JsonNode> out = new ArrayList<>();
        pod.path("initContainers").forEach(out::add);
        pod.path("containers").forEach(out::add);
        return out;
    }

    /** Pod specs anywhere in a document: Deployment, Job, ScaledJob's jobTargetRef, ... */
    static List<JsonNode> podSpecs(JsonNode node) {
        List<JsonNode> out = new ArrayList<>();
        if (node.isObject()) {
            if (node.path("containers").isArray()) {
                out.add(node);
                return out;
            }
            node.forEach(child -> out.addAll(podSpecs(child)));
        } else if (node.isArray()) {
            node.forEach(child -> out.addAll(podSpecs(child)));
        }
        return out;
    }

    // ------------------------------------------------------------------ services

    /** Pod templates ({@code metadata} + {@code spec}) of the workloads under deploy/k8s. */
    static List<JsonNode> podTemplates() {
        List<JsonNode> out = new ArrayList<>();
        for (Doc doc : docs) {
            JsonNode template = doc.node().path("spec").path("template");
            if (template.path("spec").path("containers").isArray()) {
                out.add(template);
            }
        }
        return out;
    }

    /**
     * Each port of a Service must reach the pods it selects through the capture sidecar's inbound listener, when the
     * pod has one (traffic to the app's own port is not captured), and must give a native sidecar's port by number:
     * Kubernetes before 1.32 resolves a named targetPort against regular containers only (kubernetes#127958), so a
     * name that only an initContainer declares leaves the Service without endpoints.
     */
    static List<String> checkService(JsonNode service, List<JsonNode> templates, String where) {
        List<String> problems = new ArrayList<>();
        Map<String, String> selector = new TreeMap<>();
        service.path("spec").path("selector").fields().forEachRemaining(e -> selector.put(e.getKey(), e.getValue().asText()));
        List<JsonNode> selected = new ArrayList<>();
        for (JsonNode t : templates) {
            JsonNode labels = t.path("metadata").path("labels");
            if (!selector.isEmpty() && selector.entrySet().stream().allMatch(e -> e.getValue().equals(labels.path(e.getKey()).asText(null)))) {
                selected.add(t);
            }
        }
        if (selected.isEmpty()) {
            problems.add(where + ": selector " + selector + " selects no pod template under deploy/k8s");
            return problems;
        }
        for (JsonNode port : service.path("spec").path("ports")) {
            JsonNode target = port.has("targetPort") ? port.path("targetPort") : port.path("port");
            for (JsonNode t : selected) {
                JsonNode pod = t.path("spec");
                Integer number = target.isInt() ? Integer.valueOf(target.asInt()) : null;
                if (!target.isInt()) {
                    for (JsonNode c : pod.path("initContainers")) {
                        for (JsonNode p : c.path("ports")) {
                            if (p.path("name").asText().equals(target.asText())) {
                                problems.add(where + ": targetPort " + target.asText() + " names a port of initContainer "
                                        + c.path("name").asText() + "; Kubernetes before 1.32 finds no endpoint for it, give "
                                        + p.path("containerPort").asInt() + " instead");
                                number = p.path("containerPort").asInt();
                            }
                        }
                    }
                    for (JsonNode c : pod.path("containers")) {
                        for (JsonNode p : c.path("ports")) {
                            if (p.path("name").asText().equals(target.asText())) {
                                number = p.path("containerPort").asInt();
                            }
                        }
                    }
                }
                if (number == null) {
                    problems.add(where + ": targetPort " + target.asText() + " is no port of the selected pods");
                    continue;
                }
                for (JsonNode c : containers(pod)) {
                    if (component(c) == Component.SIDECAR) {
                        String listen = environment(c).getOrDefault(ConfigSpec.envVar(SidecarOptions.KEY_LISTEN), SidecarOptions.DEFAULT_LISTEN);
                        int inbound = SidecarOptions.Listen.parse(SidecarOptions.KEY_LISTEN, listen, "0.0.0.0").port();
                        if (number != inbound) {
                            problems.add(where + ": port " + port.path("port").asText() + " goes to " + number
                                    + ", which bypasses the capture sidecar (its inbound listener is " + inbound + ")");
                        }
                    }
                }
            }
        }
        return problems;
    }

    // ------------------------------------------------------------------ network policies

    /** Whether the policy's {@code podSelector} (its {@code matchLabels}; empty: every pod) selects the template's pods. */
    static boolean selects(JsonNode policy, JsonNode template) {
        JsonNode labels = template.path("metadata").path("labels");
        List<Map.Entry<String, JsonNode>> wanted = new ArrayList<>();
        policy.path("spec").path("podSelector").path("matchLabels").fields().forEachRemaining(wanted::add);
        return wanted.stream().allMatch(e -> e.getValue().asText().equals(labels.path(e.getKey()).asText(null)));
    }

    /** A policy isolates its pods for ingress when its policyTypes say Ingress, or name no type at all. */
    static boolean isolatesIngress(JsonNode policy) {
        JsonNode types = policy.path("spec").path("policyTypes");
        return !types.isArray() || stream(types).anyMatch(t -> t.asText().equals("Ingress"));
    }

    /**
     * The NetworkPolicies that select a pod template must, together, admit its capture sidecar's inbound listener
     * (the Service goes there), admit each Tapline container's management port only from chosen sources (a
     * namespace or pods by label, never every pod: it carries the capture switch), and never admit the app
     * container's own port (traffic there bypasses the sidecar and is not captured). Every rule names its ports (a
     * rule without them admits every port), each port is one the pod declares, and a port of a native sidecar is given
     * by number: implementations that resolve named ports against regular containers only admit nothing for a name
     * only an initContainer declares (kubernetes/kubernetes#125285).
     */
    static List<String> checkNetworkPolicies(List<JsonNode> policies, JsonNode template, String where) {
        List<String> problems = new ArrayList<>();
        JsonNode pod = template.path("spec");
        boolean sidecar = containers(pod).stream().anyMatch(c -> component(c) == Component.SIDECAR);
        if (policies.stream().noneMatch(DeployManifestsTest::isolatesIngress)) {
            problems.add(where + ": no NetworkPolicy selects its pods for Ingress, so every pod in the cluster reaches every "
                    + "port: the management port" + (sidecar ? ", and the app's own port around the capture sidecar" : ""));
            return problems;
        }
        Set<Integer> declared = new TreeSet<>();
        Set<Integer> management = new TreeSet<>();
        Set<Integer> inbound = new TreeSet<>();
        Set<Integer> app = new TreeSet<>();
        for (JsonNode c : containers(pod)) {
            Component component = component(c);
            for (JsonNode p : c.path("ports")) {
                int port = p.path("containerPort").asInt();
                declared.add(port);
                if (component != null && p.path("name").asText().equals(MANAGEMENT_PORT_NAME)) {
                    management.add(port);
                }
                if (component == null && sidecar) {
                    app.add(port);
                }
            }
            if (component == Component.SIDECAR) {
                String listen = environment(c).getOrDefault(ConfigSpec.envVar(SidecarOptions.KEY_LISTEN), SidecarOptions.DEFAULT_LISTEN);
                inbound.add(SidecarOptions.Listen.parse(SidecarOptions.KEY_LISTEN, listen, "0.0.0.0").port());
            }
        }
        Set<Integer> admitted = new TreeSet<>();
        for (JsonNode policy : policies) {
            if (!isolatesIngress(policy)) {
                continue;
            }
            for (JsonNode rule : policy.path("spec").path("ingress")) {
                if (!rule.path("ports").isArray() || rule.path("ports").isEmpty()) {
                    problems.add(where + ": an ingress rule without ports admits every port of the pod"
                            + (app.isEmpty() ? "" : ", the app's own " + app + " too"));
                    continue;
                }
                boolean chosen = chosenSources(rule.path("from"));
                for (JsonNode p : rule.path("ports")) {
                    Integer first = policyPort(p.path("port"), pod, where, problems);
                    if (first == null) {
                        continue;
                    }
                    int last = p.has("endPort") ? p.path("endPort").asInt() : first;
                    if (!p.has("endPort") && !declared.contains(first)) {
                        problems.add(where + ": admits port " + first + ", which no container of the pod declares " + declared);
                    }
                    for (int port : declared) {
                        if (port < first || port > last) {
                            continue;
                        }
                        admitted.add(port);
                        if (app.contains(port)) {
                            problems.add(where + ": admits the app container's own port " + port + ", which bypasses the "
                                    + "capture sidecar (its traffic is not captured); admit the sidecar's listener " + inbound);
                        }
                        if (management.contains(port) && !chosen) {
                            problems.add(where + ": admits the management port " + port + " from every pod (or every pod of a "
                                    + "namespace): keep it to the namespace Prometheus runs in");
                        }
                    }
                }
            }
        }
        for (int port : inbound) {
            if (!admitted.contains(port)) {
                problems.add(where + ": the capture sidecar's listener " + port + " is admitted from nowhere: the Service cannot reach it");
            }
        }
        for (int port : management) {
            if (!admitted.contains(port)) {
                problems.add(where + ": the management port " + port + " is admitted from nowhere: Prometheus cannot scrape it");
            }
        }
        return problems;
    }

    /**
     * Whether every source of a rule is a chosen one: a namespace or pods picked by label, or an address block short
     * of everything. No {@code from}, {@code namespaceSelector: {}} alone, or a bare {@code podSelector: {}} (every pod
     * of the policy's namespace) are not.
     */
    static boolean chosenSources(JsonNode from) {
        if (!from.isArray() || from.isEmpty()) {
            return false;
        }
        for (JsonNode peer : from) {
            boolean byLabel = !peer.path("namespaceSelector").isEmpty() || !peer.path("podSelector").isEmpty();
            String cidr = peer.path("ipBlock").path("cidr").asText("");
            boolean byAddress = !cidr.isEmpty() && !cidr.endsWith("/0");
            if (!byLabel && !byAddress) {
                return false;
            }
        }
        return true;
    }

    /** A policy port as a number: a name resolved against the pod's containers; null (and a problem) when none has it. */
    static Integer policyPort(JsonNode port, JsonNode pod, String where, List<String> problems) {
        if (port.isInt()) {
            return port.asInt();
        }
        for (JsonNode c : pod.path("containers")) {
            for (JsonNode p : c.path("ports")) {
                if (p.path("name").asText().equals(port.asText())) {
                    return p.path("containerPort").asInt();
                }
            }
        }
        for (JsonNode c : pod.path("initContainers")) {
            for (JsonNode p : c.path("ports")) {
                if (p.path("name").asText().equals(port.asText())) {
                    problems.add(where + ": port " + port.asText() + " names a port of initContainer " + c.path("name").asText()
                            + "; implementations that resolve named ports against regular containers only admit nothing "
                            + "for it (kubernetes/kubernetes#125285), give " + p.path("containerPort").asInt() + " instead");
                    return p.path("containerPort").asInt();
                }
            }
        }
        problems.add(where + ": port " + port.asText() + " is no port of the selected pods");
        return null;
    }

    /** The pod template of a Job, or of a ScaledJob's Jobs, that runs replay-worker; null for any other document. */
    static JsonNode replayTemplate(Doc doc) {
        JsonNode spec = switch (doc.kind()) {
            case "Job" -> doc.node().path("spec");
            case "ScaledJob" -> doc.node().path("spec").path("jobTargetRef");
            default -> null;
        };
        if (spec == null) {
            return null;
        }
        JsonNode template = spec.path("template");
        return containers(template.path("spec")).stream().anyMatch(c -> component(c) == Component.REPLAY) ? template : null;
    }

    /** A policy isolates its pods for egress when its policyTypes say Egress, or name no type and it has egress rules. */
    static boolean isolatesEgress(JsonNode policy) {
        JsonNode types = policy.path("spec").path("policyTypes");
        return types.isArray() ? stream(types).anyMatch(t -> t.asText().equals("Egress")) : policy.path("spec").has("egress");
    }

    /** Somewhere a replay pod must connect to: pods of a namespace, on a port. */
    record Destination(String what, String namespace, String protocol, int port) {
        @Override
        public String toString() {
            return what + " (namespace " + namespace + ", " + port + "/" + protocol + ")";
        }
    }

    /**
     * Where a replay pod connects: cluster DNS (kube-system, 53 over UDP and TCP), the Kafka bootstrap servers and the
     * schema registry its replay-worker is given, and the hosts of the mock routes that {@code --allow-live} names.
     * A host is a cluster Service name ({@code name}, {@code name.namespace}, {@code name.namespace.svc...}), whose
     * second part is the namespace.
     */
    static List<Destination> replayDestinations(JsonNode pod, String namespace, String where, List<String> problems) {
        List<Destination> out = new ArrayList<>();
        out.add(new Destination("cluster DNS", "kube-system", "UDP", 53));
        out.add(new Destination("cluster DNS", "kube-system", "TCP", 53));
        for (JsonNode c : containers(pod)) {
            if (component(c) != Component.REPLAY) {
                continue;
            }
            String at = where + " container " + c.path("name").asText();
            ConfigSpec spec = spec(Component.REPLAY, c, at, problems);
            TaplineConfig config = spec == null ? null : validate(Component.REPLAY, spec, environment(c), at, problems);
            if (config == null) {
                continue;
            }
            for (String server : config.getList(ReplayOptions.BOOTSTRAP)) {
                int colon = server.lastIndexOf(':');
                if (colon < 0 || !server.substring(colon + 1).matches("\\d+")) {
                    problems.add(at + ": Kafka bootstrap server " + server + " is not host:port");
                    continue;
                }
                addDestination(out, "Kafka bootstrap " + server, server.substring(0, colon), Integer.parseInt(server.substring(colon + 1)),
                        namespace, at, problems);
            }
            // The URLs the worker's registry client dials, read as it reads them (credentials end at a URL's last '@').
            List<String> registries;
            try {
                registries = RegistryConfig.fromMap(RegistryOptions.clientConfigs(config)).urls();
            } catch (ConfigException e) {
                problems.add(at + ": " + e.getMessage());
                registries = List.of();
            }
            for (String registry : registries) {
                HttpUrl url = HttpUrl.parse(registry);
                addDestination(out, "schema registry " + url.authority(), url.host(), url.port(), namespace, at, problems);
            }
            if (spec.options().containsKey(ReplayOptions.MOCK_ROUTE)) {
                Set<String> live = config.getList(ReplayOptions.ALLOW_LIVE).stream().map(h -> h.toLowerCase(Locale.ROOT))
                        .collect(Collectors.toSet());
                MockServerOptions.parseRoutes(config.getList(ReplayOptions.MOCK_ROUTE)).forEach((name, url) -> {
                    if (live.contains(url.host().toLowerCase(Locale.ROOT))) {
                        addDestination(out, "live dependency " + name + " " + url.authority(), url.host(), url.port(), namespace, at, problems);
                    }
                });
            }
        }
        return out;
    }

    static void addDestination(List<Destination> out, String what, String host, int port, String own, String where, List<String> problems) {
        String[] parts = host.toLowerCase(Locale.ROOT).split("\\.");
        String namespace = host.startsWith("[") || host.matches("[0-9.]+") ? null
                : parts.length == 1 ? own
                : parts.length == 2 || parts[2].equals("svc") ? parts[1] : null;
        if (namespace == null) {
            problems.add(where + ": " + what + " is no cluster Service name (name.namespace.svc), so no NetworkPolicy rule can name "
                    + "its pods, and this check cannot tell which rule reaches it");
            return;
        }
        out.add(new Destination(what, namespace, "TCP", port));
    }

    /** The one namespace a peer's pods are in: its namespaceSelector's kubernetes.io/metadata.name, else the policy's. */
    static String peerNamespace(JsonNode peer, String own) {
        if (!peer.has("namespaceSelector")) {
            return own;
        }
        JsonNode selector = peer.path("namespaceSelector");
        JsonNode labels = selector.path("matchLabels");
        if (labels.size() != 1 || !labels.has("kubernetes.io/metadata.name") || !selector.path("matchExpressions").isEmpty()) {
            return null;
        }
        return labels.path("kubernetes.io/metadata.name").asText();
    }

    /**
     * The NetworkPolicies that select a replay pod (and are applied with its Job) must isolate it both ways. Ingress:
     * nothing but the Tapline containers' management ports, from chosen sources; the worker reaches the candidate over
     * loopback, so the candidate's port stays closed. Egress: every rule names its destinations (no {@code to}: every
     * address; no ports: every port) as pods by label in one namespace, and every pair of them and a port is one of
     * {@link #replayDestinations}; each of those is reached. An address block, every namespace, or another port lets
     * a candidate that calls a dependency by itself reach it, and the point of replay is that it reaches none.
     */
    static List<String> checkReplayNetworkPolicies(List<JsonNode> policies, JsonNode template, String namespace, String where) {
        List<String> problems = new ArrayList<>();
        JsonNode pod = template.path("spec");
        boolean ingress = policies.stream().anyMatch(DeployManifestsTest::isolatesIngress);
        boolean egress = policies.stream().anyMatch(DeployManifestsTest::isolatesEgress);
        if (!ingress) {
            problems.add(where + ": no NetworkPolicy applied with it selects its pods for Ingress, so every pod in the cluster "
                    + "reaches the candidate's port and the management port");
        }
        if (!egress) {
            problems.add(where + ": no NetworkPolicy applied with it selects its pods for Egress, so a candidate that calls a "
                    + "dependency by itself (not through the mock) reaches the real one");
        }
        if (!ingress || !egress) {
            return problems;
        }
        Set<Integer> management = new TreeSet<>();
        for (JsonNode c : containers(pod)) {
            for (JsonNode p : c.path("ports")) {
                if (component(c) != null && p.path("name").asText().equals(MANAGEMENT_PORT_NAME)) {
                    management.add(p.path("containerPort").asInt());
                }
            }
        }
        Set<Integer> admitted = new TreeSet<>();
        for (JsonNode policy : policies) {
            if (!isolatesIngress(policy)) {
                continue;
            }
            for (JsonNode rule : policy.path("spec").path("ingress")) {
                if (!rule.path("ports").isArray() || rule.path("ports").isEmpty()) {
                    problems.add(where + ": an ingress rule without ports admits every port of the pod, the candidate's too");
                    continue;
                }
                boolean chosen = chosenSources(rule.path("from"));
                for (JsonNode p : rule.path("ports")) {
                    Integer port = policyPort(p.path("port"), pod, where, problems);
                    if (port == null) {
                        continue;
                    }
                    if (p.has("endPort") && p.path("endPort").asInt() != port) {
                        problems.add(where + ": admits ports " + port + "-" + p.path("endPort").asInt() + ": a replay pod takes "
                                + "traffic on its management port " + management + " only");
                    } else if (!management.contains(port)) {
                        problems.add(where + ": admits port " + port + ", which is not the management port " + management
                                + ": a replay pod takes no other traffic (the worker reaches the candidate over loopback)");
                    } else {
                        admitted.add(port);
                        if (!chosen) {
                            problems.add(where + ": admits the management port " + port + " from every pod (or every pod of a "
                                    + "namespace): keep it to the namespace Prometheus runs in");
                        }
                    }
                }
            }
        }
        for (int port : management) {
            if (!admitted.contains(port)) {
                problems.add(where + ": the management port " + port + " is admitted from nowhere: Prometheus cannot scrape it");
            }
        }
        List<Destination> destinations = replayDestinations(pod, namespace, where, problems);
        Set<Destination> reached = new LinkedHashSet<>();
        for (JsonNode policy : policies) {
            if (!isolatesEgress(policy)) {
                continue;
            }
            for (JsonNode rule : policy.path("spec").path("egress")) {
                JsonNode to = rule.path("to");
                JsonNode ports = rule.path("ports");
                if (!to.isArray() || to.isEmpty()) {
                    problems.add(where + ": an egress rule without 'to' lets the pods reach every address"
                            + (ports.isEmpty() ? ", on every port" : " on " + ports));
                    continue;
                }
                if (!ports.isArray() || ports.isEmpty()) {
                    problems.add(where + ": an egress rule without ports lets the pods reach every port of " + to);
                    continue;
                }
                for (JsonNode peer : to) {
                    String peerNamespace = peerNamespace(peer, namespace);
                    if (peer.has("ipBlock")) {
                        problems.add(where + ": egress to ipBlock " + peer.path("ipBlock") + ": addresses are none of the pods' "
                                + "destinations " + destinations + "; name the destination's pods by namespace and labels");
                        continue;
                    }
                    if (peerNamespace == null) {
                        problems.add(where + ": egress to " + peer + " reaches pods of every namespace its selector matches: "
                                + "name one namespace with kubernetes.io/metadata.name");
                        continue;
                    }
                    JsonNode pods = peer.path("podSelector");
                    if (pods.path("matchLabels").isEmpty() && pods.path("matchExpressions").isEmpty()) {
                        problems.add(where + ": egress to every pod of namespace " + peerNamespace + ": name the destination's "
                                + "pods by label");
                        continue;
                    }
                    for (JsonNode p : ports) {
                        if (!p.path("port").isInt() || p.has("endPort") && p.path("endPort").asInt() != p.path("port").asInt()) {
                            problems.add(where + ": egress port " + p + " is not one port number (a name is resolved against "
                                    + "the destination's pods, no port is every port)");
                            continue;
                        }
                        int port = p.path("port").asInt();
                        String protocol = p.path("protocol").asText("TCP");
                        Destination match = destinations.stream().filter(d -> d.namespace().equals(peerNamespace)
                                && d.port() == port && d.protocol().equals(protocol)).findFirst().orElse(null);
                        if (match == null) {
                            problems.add(where + ": lets the pods reach port " + port + "/" + protocol + " of pods in namespace "
                                    + peerNamespace + ", which is none of their destinations " + destinations);
                        } else {
                            reached.add(match);
                        }
                    }
                }
            }
        }
        for (Destination d : destinations) {
            if (!reached.contains(d)) {
                problems.add(where + ": no egress rule reaches " + d + ": without it "
                        + (d.what().startsWith("live") ? "the calls --allow-live forwards fail" : "the replay cannot run"));
            }
        }
        return problems;
    }

    // ------------------------------------------------------------------ topics

    static Set<String> codeTopicNames() {
        return TaplineTopics.all().stream().map(TopicSpec::name).collect(Collectors.toCollection(TreeSet::new));
    }

    static String topicName(JsonNode kafkaTopic) {
        String name = kafkaTopic.path("spec").path("topicName").asText("");
        return name.isEmpty() ? kafkaTopic.path("metadata").path("name").asText() : name;
    }

    static List<String> checkKafkaTopic(JsonNode kafkaTopic, String where) {
        Map<String, String> configs = new TreeMap<>();
        kafkaTopic.path("spec").path("config").fields().forEachRemaining(e -> configs.put(e.getKey(), e.getValue().asText()));
        List<String> problems = checkTopic(topicName(kafkaTopic), kafkaTopic.path("spec").path("partitions").asInt(0), configs, where);
        if (kafkaTopic.path("spec").path("replicas").asInt(1) < 1) {
            problems.add(where + ": replicas must be >= 1");
        }
        return problems;
    }

    /** A topic must be one of the code's, with at least its partitions and exactly its configs. */
    static List<String> checkTopic(String name, int partitions, Map<String, String> configs, String where) {
        List<String> problems = new ArrayList<>();
        TopicSpec spec = TaplineTopics.all().stream().filter(t -> t.name().equals(name)).findFirst().orElse(null);
        if (spec == null) {
            problems.add(where + ": " + name + " is not a topic of TaplineTopics " + codeTopicNames());
            return problems;
        }
        if (partitions < Math.max(1, spec.partitions())) {
            problems.add(where + ": " + name + " has partitions " + partitions + ", the code's minimum is " + spec.partitions());
        }
        Map<String, String> expected = new TreeMap<>(spec.configs());
        Map<String, String> actual = new TreeMap<>(configs);
        if (!expected.equals(actual)) {
            Set<String> keys = new TreeSet<>(expected.keySet());
            keys.addAll(actual.keySet());
            for (String k : keys) {
                if (!String.valueOf(expected.get(k)).equals(String.valueOf(actual.get(k)))) {
                    problems.add(where + ": " + name + " config " + k + " is " + actual.get(k) + ", the code says " + expected.get(k));
                }
            }
        }
        return problems;
    }

    /** Every {@code tapline.<x>} token (not part of a longer host name) must be a topic. */
    static List<String> topicTokens(String text, String where) {
        List<String> problems = new ArrayList<>();
        Matcher m = Pattern.compile("(?<![\\w.-])tapline\\.[a-z]+(?:\\.[a-z]+)*").matcher(text);
        while (m.find()) {
            if (!codeTopicNames().contains(m.group())) {
                problems.add(where + ": " + m.group() + " is not a topic of TaplineTopics " + codeTopicNames());
            }
        }
        return problems;
    }

    record ScriptTopic(String name, int partitions, Map<String, String> configs) {
    }

    /** {@code create_topic NAME "${PARTITIONS_X:-N}" key=value ...} lines (with continuations) of create-topics.sh. */
    static Map<String, ScriptTopic> parseTopicScript(String script, List<String> problems) {
        Map<String, ScriptTopic> out = new TreeMap<>();
        String joined = script.replace("\\\n", " ");
        for (String line : joined.split("\n")) {
            String t = line.trim();
            if (!t.startsWith("create_topic ")) {
                continue;
            }
            String[] words = t.split("\\s+");
            Matcher parts = Pattern.compile("(?:\"?\\$\\{[A-Z_]+:-)?(\\d+)}?\"?").matcher(words[2]);
            if (!parts.matches()) {
                problems.add("create-topics.sh: partitions of " + words[1] + " is not N or \"${VAR:-N}\": " + words[2]);
                continue;
            }
            Map<String, String> configs = new TreeMap<>();
            for (int i = 3; i < words.length; i++) {
                int eq = words[i].indexOf('=');
                configs.put(words[i].substring(0, eq), words[i].substring(eq + 1));
            }
            out.put(words[1], new ScriptTopic(words[1], Integer.parseInt(parts.group(1)), configs));
        }
        return out;
    }

    /**
     * A Job (or a ScaledJob's Jobs) running replay-worker must have an {@code activeDeadlineSeconds} shorter than the
     * cases topic's {@code min.compaction.lag.ms}, so that no version of a case a run may still read is compacted away
     * while it runs.
     */
    static List<String> checkRunDeadline(JsonNode job, long compactionLagMs, String where) {
        List<String> problems = new ArrayList<>();
        JsonNode spec = job.path("kind").asText().equals("ScaledJob") ? job.path("spec").path("jobTargetRef") : job.path("spec");
        boolean replay = podSpecs(spec).stream().flatMap(p -> containers(p).stream()).anyMatch(c -> component(c) == Component.REPLAY);
        if (!replay) {
            return problems;
        }
        long deadline = spec.path("activeDeadlineSeconds").asLong(0);
        if (deadline <= 0) {
            problems.add(where + ": a replay Job needs activeDeadlineSeconds (below the cases topic's min.compaction.lag.ms, "
                    + compactionLagMs + " ms): an unbounded run can lose cases to compaction");
        } else if (deadline * 1000 >= compactionLagMs) {
            problems.add(where + ": activeDeadlineSeconds " + deadline + " is not below the cases topic's min.compaction.lag.ms ("
                    + compactionLagMs + " ms): cases can be compacted away while the run still reads them");
        }
        return problems;
    }

    static List<String> checkScaledJob(JsonNode scaledJob, String where) {
        List<String> problems = new ArrayList<>();
        String run = null;
        String casesTopic = TaplineTopics.CASES;
        for (JsonNode pod : podSpecs(scaledJob.path("spec").path("jobTargetRef"))) {
            for (JsonNode c : containers(pod)) {
                if (component(c) == Component.REPLAY) {
                    for (JsonNode e : c.path("env")) {
                        if (e.path("name").asText().equals(ConfigSpec.envVar(ReplayOptions.RUN)) && e.has("value")) {
                            run = e.path("value").asText();
                        }
                        if (e.path("name").asText().equals(ConfigSpec.envVar(ReplayOptions.TOPIC_CASES))) {
                            casesTopic = e.path("value").asText();
                        }
                    }
                }
            }
        }
        if (run == null) {
            problems.add(where + ": the replay-worker of a ScaledJob needs a literal " + ConfigSpec.envVar(ReplayOptions.RUN)
                    + " (KEDA names each Job itself, so the Job name cannot be the run id)");
            return problems;
        }
        for (JsonNode trigger : scaledJob.path("spec").path("triggers")) {
            if (!trigger.path("type").asText().contains("kafka")) {
                continue;
            }
            JsonNode md = trigger.path("metadata");
            if (!md.path("consumerGroup").asText().equals(RunTopics.groupId(run))) {
                problems.add(where + ": trigger consumerGroup " + md.path("consumerGroup").asText() + " is not the run's group "
                        + RunTopics.groupId(run));
            }
            if (!md.path("topic").asText().equals(casesTopic)) {
                problems.add(where + ": trigger topic " + md.path("topic").asText() + " is not the cases topic " + casesTopic);
            }
        }
        return problems;
    }

    /**
     * A ScaledJob must leave the Jobs it started running when it is edited ({@code rollout.strategy: gradual}, KEDA 2.8;
     * {@code rolloutStrategy: gradual} before): under KEDA's default rollout an edit deletes them, every worker of the
     * run with them. No strategy may be written as {@code default}, a value the CRD of KEDA 2.20.0 and 2.20.1 refuses
     * at admission (kedacore/keda#7855, #7864); left out, it is the default.
     */
    static List<String> checkScaledJobRollout(JsonNode scaledJob, String where) {
        List<String> problems = new ArrayList<>();
        JsonNode spec = scaledJob.path("spec");
        if (!spec.path("rollout").path("strategy").asText().equals("gradual")
                && !spec.path("rolloutStrategy").asText().equals("gradual")) {
            problems.add(where + ": KEDA deletes the running Jobs of a ScaledJob when it is edited, the run's workers with them;"
                    + " set spec.rollout.strategy: gradual (spec.rolloutStrategy: gradual before KEDA 2.8)");
        }
        for (String field : List.of("rollout.strategy", "rolloutStrategy", "scalingStrategy.strategy")) {
            JsonNode value = spec;
            for (String name : field.split("\\.")) {
                value = value.path(name);
            }
            if (value.asText().equals("default")) {
                problems.add(where + ": spec." + field + ": default is refused by the CRD of KEDA 2.20.0 and 2.20.1;"
                        + " leave it out, it is the default");
            }
        }
        return problems;
    }

    // ------------------------------------------------------------------ container files

    /**
     * The most malloc arenas the images may allow (each sets 2; the soaks measured 2 and glibc's default).
     */
    static final int MAX_MALLOC_ARENAS = 4;

    /**
     * The most JIT compiler threads the sidecar's and the replay worker's images may allow (both set 2, the JVM's count
     * on 2 CPUs, which their soaks measured with 16 CPUs emulated; 2 is the least the tiered compilers take).
     */
    static final int MAX_COMPILER_THREADS = 4;

    static List<String> checkDockerfile(Component c, String dockerfile, String jar) {
        List<String> problems = new ArrayList<>();
        String where = "deploy/docker/" + c.module + "/Dockerfile";
        if (!Pattern.compile("(?m)^FROM eclipse-temurin:17-jre\\S*\\s*$").matcher(dockerfile).find()) {
            problems.add(where + ": base image must be eclipse-temurin:17-jre");
        }
        Matcher copy = Pattern.compile("(?m)^COPY\\s+(?:--\\S+\\s+)*(\\S+)\\s+(\\S+)\\s*$").matcher(dockerfile);
        if (!copy.find() || !copy.group(1).equals(jar)) {
            problems.add(where + ": must COPY " + jar + " (the module's shaded jar)");
        } else if (!dockerfile.contains("\"-jar\", \"" + copy.group(2) + "\"")) {
            problems.add(where + ": ENTRYPOINT must run the copied jar " + copy.group(2));
        }
        Matcher user = Pattern.compile("(?m)^USER\\s+(\\S+)").matcher(dockerfile);
        if (!user.find() || user.group(1).startsWith("0") || user.group(1).startsWith("root")) {
            problems.add(where + ": must switch to a non-root USER");
        }
        // glibc gives each thread that mallocs an arena of its own, up to 8 per CPU of the node (not of the
        // container), and their free, fragmented memory counts against the pod's limit: RocksDB's blocks and
        // memtables took dedup-stream to within 41 MiB of its 2 GiB limit on a 16-CPU node; what the sidecar's JIT
        // compilers freed, 85 MiB kept by glibc, helped take it 52 MiB past its 512 MiB; the replay worker's, with
        // its heap at its maximum, took it to its 768 MiB limit (deploy/README.md, Sizing).
        Matcher arenas = Pattern.compile("(?m)^ENV\\s+MALLOC_ARENA_MAX[=\\s]\"?(\\d+)\"?\\s*$").matcher(dockerfile);
        int n = arenas.find() ? Integer.parseInt(arenas.group(1)) : 0;
        if (n < 1 || n > MAX_MALLOC_ARENAS) {
            problems.add(where + ": must cap glibc's malloc arenas (ENV MALLOC_ARENA_MAX=1.."
                    + MAX_MALLOC_ARENAS + ")" + (n > 0 ? ", not " + n : ""));
        }
        if (c == Component.SIDECAR || c == Component.REPLAY) {
            // Neither has a CPU limit, so the JVM starts compiler threads by the node's CPUs, 12 on 16: their scratch
            // memory, up to 129 MiB in the sidecar and 104 MiB in the replay worker, took the sidecar 14 MiB past its
            // 512 MiB with the arenas capped alone, and the replay worker within 67 MiB of its 768 (Sizing).
            Matcher entrypoint = Pattern.compile("(?m)^ENTRYPOINT\\s+\\[(.*)]\\s*$").matcher(dockerfile);
            Matcher compilers = Pattern.compile("\"-XX:CICompilerCount=(\\d+)\"")
                    .matcher(entrypoint.find() ? entrypoint.group(1) : "");
            int threads = compilers.find() ? Integer.parseInt(compilers.group(1)) : 0;
            if (threads < 2 || threads > MAX_COMPILER_THREADS) {
                problems.add(where + ": must cap the JIT compiler threads in its ENTRYPOINT (-XX:CICompilerCount=2.."
                        + MAX_COMPILER_THREADS + ")" + (threads > 0 ? ", not " + threads : ""));
            }
        }
        Set<Integer> defaults = new TreeSet<>();
        switch (c) {
            case SIDECAR -> {
                defaults.add(SidecarOptions.Listen.parse("listen", SidecarOptions.DEFAULT_LISTEN, "0.0.0.0").port());
                defaults.add(SidecarOptions.DEFAULT_MANAGEMENT_PORT);
            }
            case DEDUP -> defaults.add(DedupOptions.DEFAULT_MANAGEMENT_PORT);
            case REPLAY -> defaults.add(Integer.parseInt(ReplayOptions.replaySpec().options().get(ReplayOptions.MANAGEMENT_PORT).defaultValue()));
        }
        Matcher expose = Pattern.compile("(?m)^EXPOSE\\s+(.+)$").matcher(dockerfile);
        while (expose.find()) {
            for (String p : expose.group(1).trim().split("\\s+")) {
                int port = Integer.parseInt(p.replaceAll("/.*", ""));
                if (!defaults.contains(port)) {
                    problems.add(where + ": EXPOSE " + port + " is not a default port of " + c.module + " " + defaults);
                }
            }
        }
        return problems;
    }

    // ------------------------------------------------------------------ helpers

    static List<Path> yamlFiles() throws IOException {
        try (Stream<Path> files = Files.walk(deploy.resolve("k8s"))) {
            return files.filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml")).sorted().toList();
        }
    }

    static List<Doc> parse(Path file, String text) throws IOException {
        List<Doc> out = new ArrayList<>();
        try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(text)) {
            while (it.hasNext()) {
                JsonNode node = it.next();
                if (node != null && node.isObject()) {
                    out.add(new Doc(file, node));
                }
            }
        }
        return out;
    }

    static JsonNode pod(String yaml) {
        try {
            return YAML.readTree(yaml);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Stream<JsonNode> stream(JsonNode node) {
        List<JsonNode> out = new ArrayList<>();
        node.forEach(out::add);
        return out.stream();
    }

    static void assertNoProblems(List<String> problems) {
        assertTrue(problems.isEmpty(), problems.size() + " problem(s) in the deploy files:\n  " + String.join("\n  ", problems));
    }
}
