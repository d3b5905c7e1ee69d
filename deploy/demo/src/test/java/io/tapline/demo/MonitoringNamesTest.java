package io.tapline.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.sun.net.httpserver.HttpServer;
import io.tapline.dedup.DedupSeries;
import io.tapline.ops.ExpositionCheck;
import io.tapline.ops.ManagementServer;
import io.tapline.ops.Metrics;
import io.tapline.replay.ReplaySeries;
import io.tapline.sidecar.SidecarOptions;
import io.tapline.sidecar.impl.ProxyEventSeries;
import io.tapline.sidecar.impl.SidecarImpl;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The metric and label names the monitoring files and the READMEs use are ones the components export. What they export
 * is read from their real registries, rendered as Prometheus scrapes them (a {@code /metrics} read back through
 * {@link ExpositionCheck}): the capture sidecar started on a loopback origin, with traffic that makes its lazily
 * registered series (an upstream timeout, a failed Kafka send), and the series its proxy registers at events that
 * traffic cannot make as simply ({@link ProxyEventSeries}); the dedup stream's {@code DedupMetrics} and the
 * {@code TopicWatch} of a start-up check; the replay worker's {@code registerMetrics}. Every PromQL expression of the
 * Grafana dashboard and of the alert rules is parsed ({@link PromQl}) and each metric it selects, each label it matches,
 * groups or joins by and each label its legend or annotations print must be exported (or added by the scrape:
 * {@code job}, {@code instance} and the labels both scrape configurations set). The alert rules' structure is checked
 * too, and that the dashboard filters by installation wherever it filters by namespace. The negative tests at the end
 * prove each check can fail.
 */
@Timeout(120)
class MonitoringNamesTest {

    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    static final ObjectMapper JSON = new ObjectMapper();
    static final Path RULES = Path.of("k8s/prometheus/070-PrometheusRule-tapline.yaml");
    static final Set<String> SEVERITIES = Set.of("critical", "warning", "info");
    /** Keys Prometheus's rule file format takes (rulefmt): anything else makes it refuse the file. */
    static final Set<String> GROUP_KEYS = Set.of("name", "interval", "rules", "limit", "query_offset", "labels");
    static final Set<String> RULE_KEYS = Set.of("alert", "expr", "for", "keep_firing_for", "labels", "annotations");
    static final Pattern DURATION = Pattern.compile("([0-9]+(ms|s|m|h|d|w|y))+");
    static final Pattern TEMPLATE = Pattern.compile("\\{\\{(.*?)}}");
    static final Pattern TEMPLATE_LABEL = Pattern.compile("\\$labels\\.([a-zA-Z_][a-zA-Z0-9_]*)");
    /** A metric named in a README, with the label names it is given there in braces ({@code {listener,status}}). */
    static final Pattern DOC_METRIC = Pattern.compile("\\btapline_[a-z0-9_]*[a-z0-9](?![a-z0-9_*])(\\{([^}]*)})?");
    static final List<String> READMES = List.of("README.md", "capture-sidecar/README.md", "dedup-stream/README.md",
            "replay-worker/README.md", "deploy/README.md");

    static Path deploy;
    static Path repo;
    /** Every exported series name (a histogram's as _bucket, _sum and _count), with the label names it carries. */
    static final Map<String, Set<String>> SERIES = new TreeMap<>();
    /** Every exported family (a histogram's under its base name), with the component that exports it. */
    static final Map<String, String> FAMILIES = new TreeMap<>();
    /** Every exported series name with, for each of its labels, the values rendered. */
    static final Map<String, Map<String, Set<String>>> VALUES = new TreeMap<>();
    /**
     * Labels whose every value is registered when the component starts (an enum's, each listener's), so a value a
     * query matches must be a rendered one; {@code listener} is so on every series. Other labels' values (a status,
     * an exception class, a topic) depend on what happened, and are not checked.
     */
    static final Map<String, String> CLOSED = Map.of("tapline_sidecar_dropped_total", "reason",
            "tapline_sidecar_unattributed_dropped_total", "reason", "tapline_sidecar_outbound_calls_total", "attribution",
            "tapline_dedup_dead_letters_total", "reason", "tapline_dedup_unencodable_removed_total", "output",
            "tapline_dedup_stream_state", "state", "tapline_replay_cases_total", "verdict", "up", "container");
    /** Labels the scrape adds to every series, whichever configuration scrapes. */
    static Set<String> scrapeLabels;

    @BeforeAll
    static void render() throws Exception {
        Path base = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath().normalize();
        deploy = base.getParent();
        repo = deploy.getParent();
        read(sidecarScrape(), "capture-sidecar");
        Metrics events = new Metrics();
        ProxyEventSeries.register(events);
        read(served(events), "capture-sidecar");
        Metrics dedup = new Metrics();
        DedupSeries.register(dedup);
        read(served(dedup), "dedup-stream");
        Metrics replay = new Metrics();
        ReplaySeries.register(replay);
        read(served(replay), "replay-worker");
        scrapeLabels = scrapeLabels();
        // the series Prometheus writes for each target it scrapes; its container, one of the manifests' containers
        // with a management port
        SERIES.put("up", scrapeLabels);
        VALUES.put("up", Map.of("container", scrapedContainers()));
    }

    /**
     * The sidecar's {@code /metrics} after an interaction whose Kafka send fails (the producer is closed: a
     * producer error of its class) and a request the app answers too late (a 504, an upstream error).
     */
    static String sidecarScrape() throws Exception {
        HttpServer origin = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 8);
        // /slow answers once the scrape is taken, long after the sidecar's upstream timeout; the timeout is 2 s, not
        // less, so that /items, the first request of a cold JVM on a busy machine, is still answered in time
        CountDownLatch release = new CountDownLatch(1);
        origin.createContext("/", ex -> {
            if (ex.getRequestURI().getPath().equals("/slow")) {
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            byte[] body = "ok".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        origin.start();
        MockProducer<String, byte[]> closed = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        closed.close();
        String app = "http://127.0.0.1:" + origin.getAddress().getPort();
        SidecarOptions options = new SidecarOptions().listen("127.0.0.1", 0).egressListen("127.0.0.1", 0)
                .management("127.0.0.1", 0).app(app).service("shop").instance("test-1").addEgress("inv", app)
                .redactionKey("test-key-0123456789abcdef").upstreamTimeout(Duration.ofSeconds(2))
                .outboundGrace(Duration.ofMillis(20));
        try (SidecarImpl sidecar = SidecarImpl.start(options, closed, (topic, record) -> new byte[1])) {
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            String proxy = "http://127.0.0.1:" + sidecar.port();
            assertEquals(200, http.send(HttpRequest.newBuilder(URI.create(proxy + "/items")).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode());
            assertEquals(504, http.send(HttpRequest.newBuilder(URI.create(proxy + "/slow")).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode());
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            String scrape;
            do {
                Thread.sleep(20);
                scrape = get(http, sidecar.managementPort());
            } while (!scrape.contains("tapline_sidecar_producer_errors_total{") && System.nanoTime() < deadline);
            return scrape;
        } finally {
            release.countDown();
            origin.stop(0);
        }
    }

    /** {@code registry} as its component's management port serves it. */
    static String served(Metrics registry) throws IOException, InterruptedException {
        ManagementServer server = ManagementServer.start("127.0.0.1", 0, registry, () -> true);
        try {
            return get(HttpClient.newHttpClient(), server.port());
        } finally {
            server.close();
        }
    }

    static String get(HttpClient http, int port) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8)).body();
    }

    static void read(String exposition, String component) {
        ExpositionCheck check = ExpositionCheck.check(exposition.getBytes(StandardCharsets.UTF_8));
        for (ExpositionCheck.Sample s : check.samples()) {
            SERIES.computeIfAbsent(s.name(), k -> new TreeSet<>()).addAll(s.labels().keySet());
            s.labels().forEach((label, value) -> VALUES.computeIfAbsent(s.name(), k -> new TreeMap<>())
                    .computeIfAbsent(label, k -> new TreeSet<>()).add(value));
        }
        Matcher type = Pattern.compile("(?m)^# TYPE (\\S+) (\\S+)$").matcher(exposition);
        while (type.find()) {
            FAMILIES.putIfAbsent(type.group(1), component);
        }
    }

    /**
     * job and instance, which Prometheus adds to every target, and the labels both scrape configurations add: the
     * plain job's relabelings' target labels, and the PodMonitor's together with the operator's own (namespace, pod,
     * container, endpoint). A label only one of them adds is not one an alert or panel may count on.
     */
    static Set<String> scrapeLabels() throws IOException {
        Set<String> plain = new TreeSet<>(Set.of("job", "instance"));
        for (JsonNode job : YAML.readTree(deploy.resolve("k8s/prometheus/scrape-config.yaml").toFile()).path("scrape_configs")) {
            job.path("relabel_configs").forEach(r -> {
                if (r.has("target_label")) {
                    plain.add(r.path("target_label").asText());
                }
            });
        }
        Set<String> operator = new TreeSet<>(Set.of("job", "instance", "namespace", "pod", "container", "endpoint"));
        JsonNode podMonitor = YAML.readTree(deploy.resolve("k8s/prometheus/060-PodMonitor-tapline.yaml").toFile());
        podMonitor.path("spec").path("podMetricsEndpoints").forEach(e -> e.path("relabelings").forEach(r -> {
            if (r.has("targetLabel")) {
                operator.add(r.path("targetLabel").asText());
            }
        }));
        plain.retainAll(operator);
        return plain;
    }

    /** The containers under deploy/k8s with a port named tapline-mgmt: the ones Prometheus scrapes. */
    static Set<String> scrapedContainers() throws IOException {
        Set<String> out = new TreeSet<>();
        try (Stream<Path> files = Files.walk(deploy.resolve("k8s"))) {
            for (Path p : files.filter(f -> f.toString().endsWith(".yaml")).toList()) {
                for (JsonNode doc : YAML.readerFor(JsonNode.class).<JsonNode>readValues(p.toFile()).readAll()) {
                    collectContainers(doc, out);
                }
            }
        }
        return out;
    }

    static void collectContainers(JsonNode node, Set<String> out) {
        if (node.isObject() && node.has("name") && node.path("ports").isArray()) {
            for (JsonNode port : node.path("ports")) {
                if (port.path("name").asText().equals(DeployManifestsTest.MANAGEMENT_PORT_NAME)) {
                    out.add(node.path("name").asText());
                }
            }
        }
        node.forEach(child -> collectContainers(child, out));
    }

    // ------------------------------------------------------------------ the checks over the real files

    @Test
    void everyComponentsMetricsWereRendered() {
        for (String component : List.of("capture-sidecar", "dedup-stream", "replay-worker")) {
            assertTrue(FAMILIES.containsValue(component), "no family of " + component + " rendered: " + FAMILIES);
        }
        // the lazily registered series the traffic above makes
        assertEquals(Set.of("error"), SERIES.get("tapline_sidecar_producer_errors_total"));
        assertEquals(Set.of("listener", "status"), SERIES.get("tapline_sidecar_upstream_errors_total"));
        assertEquals(Set.of("topic"), SERIES.get("tapline_dedup_topic_settings_checked_timestamp_seconds"));
        assertEquals(Set.of("state"), SERIES.get("tapline_dedup_stream_state"));
        assertEquals(Set.of("le", "listener"), SERIES.get("tapline_sidecar_proxy_added_seconds_bucket"));
        assertTrue(scrapeLabels.containsAll(Set.of("namespace", "pod", "container", "job", "instance")), scrapeLabels.toString());
    }

    @Test
    void dashboardQueriesUseOnlyExportedMetricsAndLabels() throws IOException {
        List<String> problems = new ArrayList<>();
        int queries = 0;
        try (Stream<Path> files = Files.list(deploy.resolve("grafana"))) {
            for (Path p : files.filter(f -> f.toString().endsWith(".json")).sorted().toList()) {
                JsonNode dashboard = JSON.readTree(p.toFile());
                List<JsonNode> panels = new ArrayList<>();
                collectPanels(dashboard.path("panels"), panels);
                for (JsonNode panel : panels) {
                    for (JsonNode target : panel.path("targets")) {
                        String where = p.getFileName() + " panel \"" + panel.path("title").asText() + "\"";
                        problems.addAll(checkQuery(where, target.path("expr").asText(),
                                templateLabels(target.path("legendFormat").asText())));
                        problems.addAll(checkCounters(where, target.path("expr").asText()));
                        queries++;
                    }
                }
                // names in titles and descriptions too
                StringBuilder prose = new StringBuilder();
                collectProse(dashboard, prose);
                problems.addAll(checkDocument(p.getFileName() + " (a title or description)", prose.toString()));
                for (JsonNode variable : dashboard.path("templating").path("list")) {
                    if (variable.path("type").asText().equals("query")) {
                        problems.addAll(checkLabelValues(p.getFileName() + " variable " + variable.path("name").asText(),
                                variable.path("definition").asText()));
                    }
                }
            }
        }
        assertNoProblems(problems);
        assertTrue(queries > 0, "no dashboard query found");
    }

    /**
     * The sidecars run in their apps' namespaces, dedup-stream and the replay pods in Tapline's: a namespace cannot pick
     * one installation, the {@code installation} label can. Every selector a panel filters by {@code $namespace}
     * filters by {@code $installation} too, and the dashboard defines that variable so that All matches pods without
     * the label ({@code .*}, not the values found joined).
     */
    @Test
    void dashboardQueriesFilterByInstallationWhereverTheyFilterByNamespace() throws IOException {
        List<String> problems = new ArrayList<>();
        try (Stream<Path> files = Files.list(deploy.resolve("grafana"))) {
            for (Path p : files.filter(f -> f.toString().endsWith(".json")).sorted().toList()) {
                problems.addAll(checkInstallationFilter(p.getFileName().toString(), JSON.readTree(p.toFile())));
            }
        }
        assertNoProblems(problems);
    }

    @Test
    void readmesNameOnlyExportedMetricsAndLabels() throws IOException {
        List<String> problems = new ArrayList<>();
        for (String readme : READMES) {
            problems.addAll(checkDocument(readme, Files.readString(repo.resolve(readme), StandardCharsets.UTF_8)));
        }
        assertNoProblems(problems);
    }

    @Test
    void alertRulesAreWellFormedAndUseOnlyExportedMetricsAndLabels() throws IOException {
        JsonNode rule = YAML.readTree(deploy.resolve(RULES).toFile());
        String readme = Files.readString(deploy.resolve("README.md"), StandardCharsets.UTF_8);
        List<String> problems = checkRules(rule, readme);
        assertNoProblems(problems);
        assertTrue(rule.path("spec").path("groups").size() > 0, "no rule group");
    }

    @Test
    void prometheusRuleFollowsThePodMonitorsConventionsAndIsInTheKustomization() throws IOException {
        JsonNode rule = YAML.readTree(deploy.resolve(RULES).toFile());
        JsonNode podMonitor = YAML.readTree(deploy.resolve("k8s/prometheus/060-PodMonitor-tapline.yaml").toFile());
        assertEquals("monitoring.coreos.com/v1", rule.path("apiVersion").asText());
        assertEquals("PrometheusRule", rule.path("kind").asText());
        assertEquals(podMonitor.path("metadata").path("namespace"), rule.path("metadata").path("namespace"));
        assertEquals(podMonitor.path("metadata").path("labels"), rule.path("metadata").path("labels"));
        JsonNode kustomization = YAML.readTree(deploy.resolve("k8s/prometheus/kustomization.yaml").toFile());
        List<String> resources = new ArrayList<>();
        kustomization.path("resources").forEach(r -> resources.add(r.asText()));
        assertTrue(resources.contains(RULES.getFileName().toString()), "kustomization.yaml lists " + resources);
    }

    // ------------------------------------------------------------------ the checks

    /**
     * One PromQL expression: it parses, and every metric it selects is an exported series, every label it matches,
     * groups, joins or prints ({@code printed}: a legend's or an annotation's) one that series carries or the scrape
     * adds.
     */
    static List<String> checkQuery(String where, String expr, Set<String> printed) {
        List<String> problems = new ArrayList<>();
        PromQl.Node root;
        try {
            root = PromQl.parse(expr);
        } catch (IllegalArgumentException e) {
            return List.of(where + ": " + e.getMessage());
        }
        for (PromQl.Selector s : PromQl.selectors(root)) {
            if (s.metric() == null) {
                continue;
            }
            Set<String> labels = SERIES.get(s.metric());
            if (labels == null) {
                problems.add(where + ": metric " + s.metric() + " is exported by no component" + hint(s.metric()));
                continue;
            }
            for (PromQl.Matcher m : s.matchers()) {
                if (!labels.contains(m.label()) && !scrapeLabels.contains(m.label())) {
                    problems.add(where + ": " + s.metric() + " has no label " + m.label() + " (it has " + labels + ")");
                } else if (m.label().equals(CLOSED.get(s.metric())) || m.label().equals("listener")) {
                    Set<String> known = VALUES.get(s.metric()).get(m.label());
                    for (String value : matchedValues(m)) {
                        if (!known.contains(value)) {
                            problems.add(where + ": " + s.metric() + " has no " + m.label() + " \"" + value + "\" (its values: "
                                    + known + ")");
                        }
                    }
                }
            }
        }
        PromQl.walk(root, node -> {
            if (node instanceof PromQl.Aggregation a && a.grouping() != null) {
                for (PromQl.Selector s : PromQl.selectors(a.arg())) {
                    for (String label : a.grouping()) {
                        if (s.metric() != null && SERIES.containsKey(s.metric()) && !carries(s.metric(), label)) {
                            problems.add(where + ": " + a.op() + (a.without() ? " without " : " by ") + label + ": "
                                    + s.metric() + " has no label " + label + " (it has " + SERIES.get(s.metric()) + ")");
                        }
                    }
                }
            } else if (node instanceof PromQl.Binary b && b.matching() != null) {
                for (PromQl.Node side : List.of(b.left(), b.right())) {
                    Set<String> labels = PromQl.resultLabels(side, MonitoringNamesTest::labelsOf);
                    for (String label : b.matching()) {
                        if (!labels.contains(label)) {
                            problems.add(where + ": " + (b.ignoring() ? "ignoring" : "on") + "(" + label + "): the "
                                    + (side == b.left() ? "left" : "right") + " side of " + b.op() + " has no label " + label);
                        }
                    }
                }
                Set<String> one = PromQl.resultLabels(b.right(), MonitoringNamesTest::labelsOf);
                for (String label : b.include()) {
                    if (!one.contains(label)) {
                        problems.add(where + ": group_left/right(" + label + "): the other side has no label " + label);
                    }
                }
            }
        });
        Set<String> result = PromQl.resultLabels(root, MonitoringNamesTest::labelsOf);
        for (String label : printed) {
            if (!result.contains(label)) {
                problems.add(where + ": prints label " + label + ", which the query's result does not carry " + result);
            }
        }
        return problems;
    }

    /**
     * The values a matcher names: its value, or a regex's alternatives when they are plain words (dots escaped or
     * not); none for a regex of another form or a Grafana variable.
     */
    static List<String> matchedValues(PromQl.Matcher m) {
        if (m.op().equals("=") || m.op().equals("!=")) {
            return List.of(m.value());
        }
        String word = "[A-Za-z0-9_-]+(\\\\*\\.[A-Za-z0-9_-]+)*"; // a dot escaped (once as PromQL's string) or not
        if (!m.value().matches(word + "(\\|" + word + ")*")) {
            return List.of();
        }
        return List.of(m.value().replaceAll("\\\\+\\.", ".").split("\\|"));
    }

    static boolean carries(String metric, String label) {
        return SERIES.getOrDefault(metric, Set.of()).contains(label) || scrapeLabels.contains(label);
    }

    static Set<String> labelsOf(String metric) {
        Set<String> out = new TreeSet<>(SERIES.getOrDefault(metric, Set.of()));
        out.addAll(scrapeLabels);
        return out;
    }

    /** An exported family the name is close to: a histogram's base name, or a name missing its _total. */
    static String hint(String metric) {
        if (SERIES.containsKey(metric + "_bucket")) {
            return " (a histogram: select " + metric + "_bucket, _sum or _count)";
        }
        if (FAMILIES.containsKey(metric)) {
            return " (the family is exported, but the test renders no series of it: add a representative one)";
        }
        return "";
    }

    /** Grafana's {@code label_values(selector, label)}: the selector's names, and the label one its series carry. */
    static List<String> checkLabelValues(String where, String definition) {
        Matcher m = Pattern.compile("label_values\\((.*),\\s*([a-zA-Z_][a-zA-Z0-9_]*)\\s*\\)").matcher(definition.trim());
        if (!m.matches()) {
            return List.of(where + ": not a label_values(selector, label) query: " + definition);
        }
        List<String> problems = new ArrayList<>(checkQuery(where, m.group(1), Set.of()));
        if (!scrapeLabels.contains(m.group(2))) {
            problems.add(where + ": label " + m.group(2) + " is not one the scrape adds to every series " + scrapeLabels);
        }
        return problems;
    }

    /** The labels a legend ({@code {{reason}}}) or an annotation ({@code {{ $labels.reason }}}) prints. */
    static Set<String> templateLabels(String text) {
        Set<String> out = new LinkedHashSet<>();
        Matcher t = TEMPLATE.matcher(text);
        while (t.find()) {
            String inside = t.group(1).trim();
            if (inside.matches("[a-zA-Z_][a-zA-Z0-9_]*")) {
                out.add(inside);
            }
            Matcher label = TEMPLATE_LABEL.matcher(inside);
            while (label.find()) {
                out.add(label.group(1));
            }
        }
        return out;
    }

    /** Every metric a README names is an exported family or series, with the labels it gives it in braces. */
    static List<String> checkDocument(String where, String text) {
        List<String> problems = new ArrayList<>();
        Matcher m = DOC_METRIC.matcher(text);
        Set<String> seen = new HashSet<>();
        while (m.find()) {
            String metric = m.group().replaceAll("\\{.*", "");
            if (!FAMILIES.containsKey(metric) && !SERIES.containsKey(metric)) {
                if (seen.add(metric)) {
                    problems.add(where + ": metric " + metric + " is exported by no component" + hint(metric));
                }
                continue;
            }
            if (m.group(2) == null) {
                continue;
            }
            // a series name carries its own labels; a family name those of its series, a histogram's le aside
            Set<String> labels = SERIES.containsKey(metric) ? SERIES.get(metric) : labelsOfFamily(metric);
            for (String matcher : m.group(2).split(",")) {
                String label = matcher.replaceAll("[=!~].*", "").trim();
                if (!label.isEmpty() && !labels.contains(label) && !scrapeLabels.contains(label)
                        && seen.add(metric + "{" + label)) {
                    problems.add(where + ": " + metric + " has no label " + label + " (it has " + labels + ")");
                }
            }
        }
        return problems;
    }

    /** The labels of a family's series: a histogram's those of its _bucket series, le aside. */
    static Set<String> labelsOfFamily(String family) {
        String series = SERIES.containsKey(family + "_bucket") ? family + "_bucket" : family;
        Set<String> out = new TreeSet<>(SERIES.getOrDefault(series, Set.of()));
        out.remove("le");
        return out;
    }

    /**
     * A dashboard filtering by {@code $namespace} filters every such selector by {@code installation=~"$installation"}
     * too, and defines {@code installation} as a multi-value variable of label values whose All is {@code .*} and is
     * the default.
     */
    static List<String> checkInstallationFilter(String where, JsonNode dashboard) {
        List<String> problems = new ArrayList<>();
        boolean byNamespace = false;
        List<JsonNode> panels = new ArrayList<>();
        collectPanels(dashboard.path("panels"), panels);
        for (JsonNode panel : panels) {
            for (JsonNode target : panel.path("targets")) {
                PromQl.Node root;
                try {
                    root = PromQl.parse(target.path("expr").asText());
                } catch (IllegalArgumentException e) {
                    continue; // reported by checkQuery
                }
                for (PromQl.Selector s : PromQl.selectors(root)) {
                    if (s.matchers().stream().noneMatch(m -> m.label().equals("namespace") && m.value().contains("$namespace"))) {
                        continue;
                    }
                    byNamespace = true;
                    if (!s.matchers().contains(new PromQl.Matcher("installation", "=~", "$installation"))) {
                        problems.add(where + " panel \"" + panel.path("title").asText() + "\" " + target.path("refId").asText()
                                + ": " + s.metric() + " filters by namespace but not by installation=~\"$installation\"");
                    }
                }
            }
        }
        if (!byNamespace) {
            return problems;
        }
        JsonNode variable = null;
        for (JsonNode v : dashboard.path("templating").path("list")) {
            if (v.path("name").asText().equals("installation")) {
                variable = v;
            }
        }
        if (variable == null) {
            problems.add(where + ": no installation variable");
            return problems;
        }
        if (!variable.path("type").asText().equals("query")
                || !variable.path("definition").asText().matches("label_values\\(.*,\\s*installation\\s*\\)")) {
            problems.add(where + " variable installation: not label_values(..., installation)");
        }
        if (!variable.path("multi").asBoolean() || !variable.path("includeAll").asBoolean()) {
            problems.add(where + " variable installation: not multi-value with All");
        }
        if (!variable.path("allValue").asText().equals(".*")) {
            problems.add(where + " variable installation: All is not .* (pods without the label would not show)");
        }
        if (!variable.path("current").path("value").toString().contains("$__all")) {
            problems.add(where + " variable installation: the default is not All");
        }
        return problems;
    }

    /** {@code expr} parsed, or null when it does not parse (which checkQuery reports). */
    private static PromQl.Node parsedOrNull(String expr) {
        try {
            return PromQl.parse(expr);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** The functions that read a counter across the resets of a restarted process. */
    static final Set<String> COUNTER_FUNCTIONS = Set.of("rate", "irate", "increase");

    /**
     * Every counter (a {@code _total} series, a histogram's {@code _bucket}, {@code _sum} and {@code _count}) is read
     * through {@code rate}, {@code irate} or {@code increase} of its range: its raw value (or a sum of raw values) falls to
     * 0 whenever a pod restarts, and a replay pod's ends with its Job, so over time it means nothing.
     */
    static List<String> checkCounters(String where, String expr) {
        PromQl.Node root = parsedOrNull(expr);
        if (root == null) {
            return List.of(); // reported by checkQuery
        }
        Set<String> raw = new LinkedHashSet<>();
        rawCounters(root, raw);
        return raw.stream().map(metric -> where + ": counter " + metric + " is shown raw (it restarts at 0 with its"
                + " pod): read it with rate, irate or increase of a range").toList();
    }

    private static void rawCounters(PromQl.Node node, Set<String> out) {
        if (node instanceof PromQl.Selector s) {
            if (isCounter(s.metric())) {
                out.add(s.metric());
            }
            return;
        }
        if (node instanceof PromQl.Call c && COUNTER_FUNCTIONS.contains(c.function())) {
            PromQl.Node range = c.args().get(0);
            while (range instanceof PromQl.Ranged r) {
                range = r.inner();
            }
            if (range instanceof PromQl.Selector) {
                return; // the function's own range of the series: what it is for
            }
        }
        PromQl.children(node).forEach(child -> rawCounters(child, out));
    }

    static boolean isCounter(String metric) {
        if (metric == null) {
            return false;
        }
        Matcher histogram = Pattern.compile("(.*)_(bucket|sum|count)").matcher(metric);
        return metric.endsWith("_total") || histogram.matches() && SERIES.containsKey(histogram.group(1) + "_bucket");
    }

    /**
     * An operation between two vectors (a comparison, {@code and}, {@code unless}, arithmetic) pairs their series by
     * their labels. A side aggregated without {@code by} (or {@code by ()}), or paired {@code on()}, is one series for
     * every installation one Prometheus scrapes: one installation's series then stands in for another's (a dedup-stream
     * that reads hides one that does not). Group both sides by the label that tells installations apart.
     */
    static List<String> checkJoins(String where, String expr) {
        PromQl.Node root = parsedOrNull(expr);
        if (root == null) {
            return List.of(); // reported by checkQuery
        }
        Set<String> problems = new LinkedHashSet<>();
        PromQl.walk(root, node -> {
            if (!(node instanceof PromQl.Binary b) || b.left().type() != PromQl.Type.VECTOR
                    || b.right().type() != PromQl.Type.VECTOR
                    || PromQl.selectors(b.left()).isEmpty() || PromQl.selectors(b.right()).isEmpty()) {
                return;
            }
            if (b.matching() != null && !b.ignoring() && b.matching().isEmpty()) {
                problems.add(where + ": " + b.op() + " on(): pairs the two sides across every installation; name the "
                        + "labels that pair them");
            }
            for (PromQl.Node side : List.of(b.left(), b.right())) {
                PromQl.walk(side, n -> {
                    if (n instanceof PromQl.Aggregation a && !KEEP_LABELS.contains(a.op())
                            && (a.grouping() == null || !a.without() && a.grouping().isEmpty())) {
                        problems.add(where + ": " + a.op() + " without by on the " + (side == b.left() ? "left" : "right")
                                + " side of " + b.op() + ": adds up every installation; group by the label that tells"
                                + " them apart");
                    }
                });
            }
        });
        return List.copyOf(problems);
    }

    /** Aggregations whose result keeps its series' labels. */
    static final Set<String> KEEP_LABELS = Set.of("topk", "bottomk", "limitk", "limit_ratio");

    /**
     * A PrometheusRule: its spec a valid rule file (only the keys Prometheus takes), group names unique, and each rule
     * an alert with a unique name, an expression that parses and uses exported names only, a {@code for}, a
     * {@code severity}, and a summary and a description printing only labels its expression gives, the description its
     * value; each alert named in {@code readme} (its runbook line).
     */
    static List<String> checkRules(JsonNode rule, String readme) {
        List<String> problems = new ArrayList<>();
        JsonNode spec = rule.path("spec");
        spec.fieldNames().forEachRemaining(k -> {
            if (!k.equals("groups")) {
                problems.add("spec: key " + k + " is not one of a rule file");
            }
        });
        Set<String> groups = new HashSet<>();
        Set<String> alerts = new HashSet<>();
        for (JsonNode group : spec.path("groups")) {
            String name = group.path("name").asText();
            if (name.isBlank() || !groups.add(name)) {
                problems.add("group \"" + name + "\": a group needs a name of its own");
            }
            group.fieldNames().forEachRemaining(k -> {
                if (!GROUP_KEYS.contains(k)) {
                    problems.add("group " + name + ": key " + k + " is not one of a rule group");
                }
            });
            if (group.path("rules").isEmpty()) {
                problems.add("group " + name + ": no rules");
            }
            for (JsonNode r : group.path("rules")) {
                String alert = r.path("alert").asText();
                String where = "alert " + (alert.isBlank() ? "(no name) in group " + name : alert);
                r.fieldNames().forEachRemaining(k -> {
                    if (!RULE_KEYS.contains(k)) {
                        problems.add(where + ": key " + k + " is not one of an alerting rule");
                    }
                });
                if (!alert.matches("[A-Z][A-Za-z0-9]*")) {
                    problems.add(where + ": an alert's name is CamelCase letters and digits");
                } else if (!alerts.add(alert)) {
                    problems.add(where + ": named twice");
                }
                String expr = r.path("expr").asText();
                Set<String> printed = new LinkedHashSet<>();
                JsonNode annotations = r.path("annotations");
                for (String a : List.of("summary", "description")) {
                    if (annotations.path(a).asText().isBlank()) {
                        problems.add(where + ": no " + a + " annotation");
                    }
                }
                annotations.forEach(a -> printed.addAll(templateLabels(a.asText())));
                annotations.forEach(a -> problems.addAll(checkTemplate(where, a.asText())));
                if (!annotations.path("description").asText().contains("$value")) {
                    problems.add(where + ": the description does not print the value ({{ $value }})");
                }
                if (expr.isBlank()) {
                    problems.add(where + ": no expr");
                } else {
                    problems.addAll(checkQuery(where, expr, printed));
                    problems.addAll(checkCounters(where, expr));
                    problems.addAll(checkJoins(where, expr));
                    try {
                        if (PromQl.parse(expr).type() != PromQl.Type.VECTOR) {
                            problems.add(where + ": an alert's expr must give an instant vector");
                        }
                    } catch (IllegalArgumentException e) {
                        // reported by checkQuery
                    }
                }
                if (!DURATION.matcher(r.path("for").asText()).matches()) {
                    problems.add(where + ": no for: duration (\"" + r.path("for").asText() + "\")");
                }
                String severity = r.path("labels").path("severity").asText();
                if (!SEVERITIES.contains(severity)) {
                    problems.add(where + ": severity \"" + severity + "\" is not one of " + new TreeSet<>(SEVERITIES));
                }
                if (!alert.isBlank() && !readme.contains("`" + alert + "`")) {
                    problems.add(where + ": deploy/README.md has no runbook line naming `" + alert + "`");
                }
            }
        }
        if (alerts.isEmpty()) {
            problems.add("no alert");
        }
        return problems;
    }

    /** An annotation's Go template: its actions closed, and only the variables and functions alerts have. */
    static List<String> checkTemplate(String where, String text) {
        List<String> problems = new ArrayList<>();
        if (text.split("\\{\\{", -1).length != text.split("}}", -1).length) {
            problems.add(where + ": unbalanced {{ }} in \"" + text + "\"");
        }
        Matcher t = TEMPLATE.matcher(text);
        while (t.find()) {
            String action = t.group(1).trim();
            if (!action.matches("\\$(value|labels\\.[a-zA-Z_][a-zA-Z0-9_]*)"
                    + "(\\s*\\|\\s*(humanize|humanize1024|humanizeDuration|humanizePercentage|humanizeTimestamp|printf \"[^\"]*\"))*")) {
                problems.add(where + ": template action {{ " + action + " }} is not $value or $labels.NAME, piped to humanize*");
            }
        }
        return problems;
    }

    // ------------------------------------------------------------------ proof that each check can fail

    @Test
    void aRenamedMetricOrAMissingLabelIsReported() {
        assertEquals(List.of("test: metric tapline_sidecar_droped_total is exported by no component"),
                checkQuery("test", "sum(rate(tapline_sidecar_droped_total[5m]))", Set.of()));
        assertEquals(List.of("test: tapline_sidecar_dropped_total has no label reson (it has [reason])"),
                checkQuery("test", "rate(tapline_sidecar_dropped_total{reson=\"queue_full\"}[5m])", Set.of()));
        assertEquals(List.of("test: sum by reson: tapline_sidecar_dropped_total has no label reson (it has [reason])"),
                checkQuery("test", "sum by (reson) (rate(tapline_sidecar_dropped_total[5m]))", Set.of("reson")));
        assertEquals(List.of("test: prints label listener, which the query's result does not carry []"),
                checkQuery("test", "sum(rate(tapline_sidecar_proxied_total[5m]))", Set.of("listener")));
        assertEquals(List.of("test: on(topic): the left side of / has no label topic",
                        "test: on(topic): the right side of / has no label topic"),
                checkQuery("test", "tapline_sidecar_queue_bytes / on(topic) tapline_sidecar_queue_max_bytes", Set.of()));
        assertEquals(List.of("test: unknown function rat at offset 0 of: rat(up[5m])"),
                checkQuery("test", "rat(up[5m])", Set.of()));
        // the scrape's labels are on every series; a label only the Prometheus Operator adds is not
        assertEquals(List.of(), checkQuery("test", "max by (namespace, pod) (tapline_sidecar_queue_bytes{container=\"x\"})",
                Set.of("pod")));
        assertEquals(List.of("test: tapline_sidecar_queue_bytes has no label endpoint (it has [])"),
                checkQuery("test", "tapline_sidecar_queue_bytes{endpoint=\"x\"}", Set.of()));
    }

    @Test
    void aValueOfALabelWhoseValuesAreAllRegisteredIsChecked() {
        assertEquals(List.of(), checkQuery("test", "tapline_sidecar_dropped_total{reason=~\"queue_full|assembly\","
                + "listener!=\"x\"}", Set.of()).stream().filter(p -> !p.contains("listener")).toList());
        assertEquals(List.of("test: tapline_sidecar_dropped_total has no reason \"queue_ful\" (its values: "
                        + VALUES.get("tapline_sidecar_dropped_total").get("reason") + ")"),
                checkQuery("test", "tapline_sidecar_dropped_total{reason=~\"queue_ful|assembly\"}", Set.of()));
        assertEquals(List.of("test: tapline_sidecar_proxied_total has no listener \"ingress\" (its values: [egress, inbound])"),
                checkQuery("test", "tapline_sidecar_proxied_total{listener=\"ingress\"}", Set.of()));
        assertEquals(List.of("test: up has no container \"sidecar\" (its values: [capture-sidecar, dedup-stream, replay-worker])"),
                checkQuery("test", "up{container=~\"sidecar|dedup-stream\"}", Set.of()));
        assertEquals(List.of("test: tapline_dedup_stream_state has no state \"Running\" (its values: [CREATED, ERROR, "
                        + "NOT_RUNNING, PENDING_ERROR, PENDING_SHUTDOWN, REBALANCING, RUNNING])"),
                checkQuery("test", "tapline_dedup_stream_state{state=\"Running\"} == 0", Set.of()));
        // a status or a topic depends on what happened: not checked
        assertEquals(List.of(), checkQuery("test", "tapline_sidecar_upstream_errors_total{status=\"503\"}", Set.of()));
        assertEquals(List.of(), checkQuery("test", "tapline_sidecar_dropped_total{reason=~\".*_full\"}", Set.of()));
    }

    @Test
    void aHistogramIsSelectedByItsSeriesAndLeOnlyOnBuckets() {
        assertEquals(List.of(), checkQuery("test", "histogram_quantile(0.99, sum by (le, listener) "
                + "(rate(tapline_sidecar_proxy_added_seconds_bucket[5m])))", Set.of("listener")));
        assertEquals(List.of(), checkQuery("test", "rate(tapline_replay_candidate_seconds_sum[5m]) "
                + "/ rate(tapline_replay_candidate_seconds_count[5m])", Set.of()));
        assertEquals(List.of("test: metric tapline_sidecar_proxy_added_seconds is exported by no component (a histogram:"
                        + " select tapline_sidecar_proxy_added_seconds_bucket, _sum or _count)"),
                checkQuery("test", "tapline_sidecar_proxy_added_seconds", Set.of()));
        assertEquals(List.of("test: sum by le: tapline_sidecar_proxy_added_seconds_count has no label le (it has [listener])"),
                checkQuery("test", "sum by (le) (tapline_sidecar_proxy_added_seconds_count)", Set.of()));
        assertEquals(List.of("test: prints label le, which the query's result does not carry [listener]"),
                checkQuery("test", "histogram_quantile(0.5, sum by (le, listener) "
                        + "(rate(tapline_sidecar_proxy_added_seconds_bucket[5m])))", Set.of("le")));
    }

    @Test
    void promQlThatPrometheusRefusesIsReported() {
        for (String bad : List.of("sum(rate(up[5m])", "rate(up)", "sum(up[5m])", "up{job=\"a\"", "up{job=a}",
                "up[5m] > 0", "up > bool", "sum by (job (up)", "up and 1", "histogram_quantile(up)", "up +", "(up",
                "rate(up[5m:])) ", "up[five]", "sum(up) by (job) by (instance)", "up or on(job", "time(up)", "")) {
            assertThrows(IllegalArgumentException.class, () -> PromQl.parse(bad), bad);
        }
        for (String good : List.of("up", "-up", "sum without (pod) (up)", "sum(up) by (job)", "up > bool 0",
                "up / on(job) group_left(pod) up", "max_over_time(up[1h:5m])", "rate(up[5m] offset 1h)",
                "topk(3, up)", "time() - up", "absent(up{job=\"x\"})", "up{job=~\"a|b\",}", "1 + 2 * 3",
                "rate(up[$__rate_interval])", "{__name__=~\"tapline_.+\"}", "count_values(\"v\", up)")) {
            PromQl.parse(good);
        }
    }

    @Test
    void aRuleMissingItsPartsIsReported() {
        JsonNode rules = yaml("""
                spec:
                  groups:
                    - name: g
                      rules:
                        - alert: TaplineA
                          expr: sum by (namespace) (rate(tapline_sidecar_dropped_total[5m])) > 0
                          for: 5m
                          labels: {severity: warning}
                          annotations:
                            summary: "drops in {{ $labels.namespace }}"
                            description: "{{ $value | humanize }} drops/s in {{ $labels.reason }} {{ .Foo }}"
                        - alert: TaplineA
                          expr: ""
                          labels: {severity: page}
                          annotations: {summary: s}
                          record: x
                    - name: g
                      rules: []
                """);
        assertEquals(List.of(
                "alert TaplineA: template action {{ .Foo }} is not $value or $labels.NAME, piped to humanize*",
                "alert TaplineA: prints label reason, which the query's result does not carry [namespace]",
                "alert TaplineA: deploy/README.md has no runbook line naming `TaplineA`",
                "alert TaplineA: key record is not one of an alerting rule",
                "alert TaplineA: named twice",
                "alert TaplineA: no description annotation",
                "alert TaplineA: the description does not print the value ({{ $value }})",
                "alert TaplineA: no expr",
                "alert TaplineA: no for: duration (\"\")",
                "alert TaplineA: severity \"page\" is not one of [critical, info, warning]",
                "alert TaplineA: deploy/README.md has no runbook line naming `TaplineA`",
                "group \"g\": a group needs a name of its own",
                "group g: no rules"), checkRules(rules, "no alerts here"));
    }

    @Test
    void aReadmeNamingAMetricOrLabelNobodyExportsIsReported() {
        assertEquals(List.of(
                        "test: metric tapline_sidecar_droped_total is exported by no component",
                        "test: tapline_sidecar_upstream_errors_total has no label code (it has [listener, status])",
                        "test: tapline_sidecar_proxy_added_seconds has no label le (it has [listener])"),
                checkDocument("test", "`tapline_sidecar_droped_total`, `tapline_sidecar_dropped_total{reason}`, "
                        + "`tapline_sidecar_upstream_errors_total{listener,code}`, `tapline_sidecar_*`, "
                        + "`tapline_sidecar_proxy_added_seconds{listener}` (histogram), "
                        + "tapline_sidecar_proxy_added_seconds{le=\"1\"}, "
                        + "`tapline_dedup_topic_settings_refused{topic=\"tapline.cases\",setting=\"exists\"}`"));
    }

    @Test
    void aCounterShownWithoutRateOrIncreaseIsReported() {
        String raw = " is shown raw (it restarts at 0 with its pod): read it with rate, irate or increase of a range";
        assertEquals(List.of("test: counter tapline_replay_mock_live_calls_total" + raw),
                checkCounters("test", "sum(tapline_replay_mock_live_calls_total{namespace=~\"$namespace\"})"));
        assertEquals(List.of("test: counter tapline_sidecar_proxy_added_seconds_count" + raw),
                checkCounters("test", "sum by (listener) (tapline_sidecar_proxy_added_seconds_count)"));
        // a subquery over a sum of raw counters adds up values that restart at 0
        assertEquals(List.of("test: counter tapline_sidecar_published_total" + raw),
                checkCounters("test", "rate(sum(tapline_sidecar_published_total)[10m:1m])"));
        assertEquals(List.of(), checkCounters("test", "sum(rate(tapline_replay_mock_live_calls_total[$__rate_interval]))"
                + " + sum(increase(tapline_replay_mock_unattributable_calls_total[$__range]))"
                + " + irate(tapline_sidecar_published_total[5m] offset 1h)"
                + " + histogram_quantile(0.5, sum by (le) (rate(tapline_sidecar_proxy_added_seconds_bucket[5m])))"
                + " + tapline_sidecar_queue_bytes"));
    }

    @Test
    void aJoinOfSumsOverEveryInstallationIsReported() {
        assertEquals(List.of("test: unless on(): pairs the two sides across every installation; name the labels that pair them",
                        "test: sum without by on the left side of unless: adds up every installation; group by the"
                                + " label that tells them apart",
                        "test: sum without by on the right side of unless: adds up every installation; group by the label"
                                + " that tells them apart"),
                checkJoins("test", "sum(rate(tapline_sidecar_published_total[10m])) > 0"
                        + " unless on() sum(rate(tapline_dedup_interactions_total[10m])) > 0"));
        assertEquals(List.of("test: sum without by on the right side of /: adds up every installation; group by the label"
                        + " that tells them apart"),
                checkJoins("test", "sum by (namespace) (tapline_sidecar_queue_bytes) / sum by () (tapline_sidecar_queue_max_bytes)"));
        // grouped on both sides; a comparison with a number; topk keeps its labels
        assertEquals(List.of(), checkJoins("test", "sum by (namespace) (rate(tapline_sidecar_published_total[10m])) > 0"
                + " unless on(namespace) sum by (namespace) (rate(tapline_dedup_interactions_total[10m])) > 0"));
        assertEquals(List.of(), checkJoins("test", "sum(rate(tapline_sidecar_published_total[10m])) > 0"));
        assertEquals(List.of(), checkJoins("test", "topk(3, tapline_sidecar_queue_bytes) / tapline_sidecar_queue_max_bytes"));
    }

    @Test
    void aQueryFilteringByNamespaceButNotByInstallationIsReported() {
        String all = "\"current\": {\"text\": [\"All\"], \"value\": [\"$__all\"]}";
        JsonNode dashboard = json("""
                {"panels": [{"type": "row", "title": "r", "panels": [{"title": "p", "targets": [
                  {"refId": "A", "expr": "sum(tapline_sidecar_queue_bytes{namespace=~\\"$namespace\\"})"},
                  {"refId": "B", "expr": "tapline_sidecar_ready{namespace=~\\"$namespace\\",installation=~\\"$installation\\"}"},
                  {"refId": "C", "expr": "sum(tapline_sidecar_ready{namespace=\\"tapline\\"})"}]}]}],
                 "templating": {"list": [{"name": "installation", "type": "query", "multi": true, "includeAll": true,
                   "definition": "label_values(tapline_log_lines_dropped_total, installation)", %s}]}}
                """.formatted(all));
        assertEquals(List.of("d panel \"p\" A: tapline_sidecar_queue_bytes filters by namespace but not by"
                        + " installation=~\"$installation\"",
                        "d variable installation: All is not .* (pods without the label would not show)"),
                checkInstallationFilter("d", dashboard));
        JsonNode none = json("""
                {"panels": [{"title": "p", "targets": [{"refId": "A",
                  "expr": "tapline_sidecar_ready{namespace=~\\"$namespace\\",installation=~\\"$installation\\"}"}]}],
                 "templating": {"list": [{"name": "namespace", "type": "query", "multi": true, "includeAll": true,
                   "allValue": ".*", "definition": "label_values(up, namespace)", %s}]}}
                """.formatted(all));
        assertEquals(List.of("d: no installation variable"), checkInstallationFilter("d", none));
    }

    // ------------------------------------------------------------------ helpers

    static void collectPanels(JsonNode panels, List<JsonNode> out) {
        for (JsonNode panel : panels) {
            out.add(panel);
            collectPanels(panel.path("panels"), out);
        }
    }

    static void collectProse(JsonNode node, StringBuilder out) {
        node.fields().forEachRemaining(e -> {
            if ((e.getKey().equals("title") || e.getKey().equals("description")) && e.getValue().isTextual()) {
                out.append(e.getValue().asText()).append('\n');
            }
        });
        node.forEach(child -> collectProse(child, out));
    }

    static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static JsonNode yaml(String text) {
        try {
            return YAML.readTree(text);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static void assertNoProblems(List<String> problems) {
        assertTrue(problems.isEmpty(), problems.size() + " problem(s):\n  " + String.join("\n  ", problems));
    }
}
