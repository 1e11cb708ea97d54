package io.spindle.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code ./spindle bench}: starts a scripted upstream in this process and a Spindle server as a
 * separate process, drives it over HTTP, and writes a Markdown table and JSON to bench/results/.
 */
public final class Bench {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Pattern TOKEN = Pattern.compile("T(\\d+);");
    static final int WARM_UP_SECONDS = 15;
    static final int POSTGRES_POOL = 16;

    final Path root;
    final String java;
    final boolean quick;
    final boolean jfr;
    final int seconds;
    final List<String> databases;
    final List<String> phases;
    final List<Integer> scaleSizes;
    final List<Integer> searchSizes;
    final int searchBuildSeconds;
    /** How many Spindle nodes share the PostgreSQL database, one bench per count (SQLite is always one node). */
    final List<Integer> nodeCounts;
    final List<Map<String, Object>> rows = new ArrayList<>();
    ScriptedUpstream upstream;

    // per server: one entry per node
    final List<String> bases = new ArrayList<>();
    final List<Process> spindles = new ArrayList<>();
    final List<Long> pids = new ArrayList<>();

    Bench(String[] args) {
        Path r = Path.of(".");
        String j = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        boolean q = false, f = false;
        int s = 10;
        List<String> dbs = new ArrayList<>(List.of("sqlite", "postgresql"));
        List<String> ph = List.of("crud", "runs", "scale", "tools");
        List<Integer> sizes = null;
        List<Integer> chunks = List.of(10_000);
        int build = 120;
        List<Integer> nodes = List.of(1, 3);
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--root" -> r = Path.of(args[++i]);
                case "--java" -> j = args[++i];
                case "--quick" -> q = true;
                case "--jfr" -> f = true;
                case "--seconds" -> s = Integer.parseInt(args[++i]);
                case "--db" -> dbs = List.of(args[++i].split(","));
                case "--phases" -> ph = List.of(args[++i].split(","));
                case "--scale" -> sizes = Stream.of(args[++i].split(",")).map(Integer::valueOf).toList();
                case "--search-chunks" -> chunks = Stream.of(args[++i].split(",")).map(Integer::valueOf).toList();
                case "--search-build-seconds" -> build = Integer.parseInt(args[++i]);
                case "--nodes" -> nodes = Stream.of(args[++i].split(",")).map(Integer::valueOf).toList();
                case "--help", "-h" -> {
                    System.out.println("usage: ./spindle bench [--quick] [--seconds N] [--db sqlite,postgresql] [--nodes 1,3] [--jfr]"
                            + " [--phases crud,runs,scale,tools,files,ingest,search,sandbox] [--scale 100,1000,5000] [--search-chunks 10000,100000] [--search-build-seconds 120]");
                    System.out.println("default phases: crud,runs,scale,tools; files, ingest, search and sandbox (a few minutes each) only when named");
                    System.out.println("--nodes: PostgreSQL is benchmarked once per count of nodes sharing its database (default 1,3)");
                    System.exit(0);
                }
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        root = r.toAbsolutePath().normalize();
        java = j;
        quick = q;
        jfr = f;
        seconds = s;
        databases = dbs;
        phases = ph;
        scaleSizes = sizes != null ? sizes : quick ? List.of(100, 1000) : List.of(100, 1000, 5000);
        searchSizes = chunks;
        searchBuildSeconds = build;
        nodeCounts = nodes;
    }

    public static void main(String[] args) throws Exception {
        // The JDK server leaves Nagle on: its small SSE chunks would wait for delayed ACKs (~40 ms).
        System.setProperty("sun.net.httpserver.nodelay", "true");
        new Bench(args).run();
        System.exit(0);
    }

    void run() throws Exception {
        Path jar = root.resolve("target/spindle.jar");
        if (!Files.exists(jar)) throw new IllegalStateException("missing " + jar + "; run ./spindle bench");
        upstream = new ScriptedUpstream();
        long started = System.nanoTime();
        List<String> skipped = new ArrayList<>();
        for (String db : databases) {
            for (int nodes : db.equals("postgresql") ? nodeCounts : List.of(1)) {
                String dbUrl = null;
                String pgName = null;
                if (db.equals("postgresql")) {
                    String why = postgresUnavailable();
                    if (why != null) {
                        String line = "PostgreSQL skipped: " + why;
                        System.out.println(line);
                        skipped.add(line);
                        break;
                    }
                    pgName = "spindle_bench_" + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffffL);
                    psql("CREATE DATABASE " + pgName);
                    dbUrl = "postgresql://postgres@127.0.0.1:5432/" + pgName;
                }
                String label = nodes == 1 ? db : db + ", " + nodes + " nodes";
                try {
                    for (int i = 0; i < nodes; i++) startSpindle(db, dbUrl, i);
                    benchmarkOne(label);
                } finally {
                    stopSpindle();
                    if (pgName != null) psql("DROP DATABASE IF EXISTS " + pgName + " WITH (FORCE)");
                }
            }
        }
        upstream.close();
        write(skipped, (System.nanoTime() - started) / 1e9);
    }

    // ---------------------------------------------------------------- server process

    /** Starts node {@code index} (its own port, data directory, node id and log) and waits until it is ready. */
    void startSpindle(String db, String dbUrl, int index) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path data = Files.createTempDirectory("spindle-bench-");
        String name = index == 0 ? db : db + "-" + index;
        Path log = root.resolve("bench/target/spindle-" + name + ".log");
        Files.createDirectories(log.getParent());
        // through the launcher, as users start it (its JVM options included); it execs java, so the pid stays
        ProcessBuilder pb = new ProcessBuilder(root.resolve("spindle").toString(), "serve")
                .redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> env = pb.environment();
        env.put("JAVA_HOME", Path.of(java).getParent().getParent().toString());
        if (jfr) {
            env.put("JDK_JAVA_OPTIONS", "-XX:StartFlightRecording=filename=" + root.resolve("bench/target/spindle-" + name + ".jfr")
                    + ",settings=profile");
        }
        env.put("SPINDLE_PORT", String.valueOf(port));
        env.put("SPINDLE_HOST", "127.0.0.1");
        env.put("SPINDLE_DATA_DIR", data.toString());
        env.put("SPINDLE_UPSTREAM_URL", upstream.baseUrl());
        env.put("SPINDLE_UPSTREAM_API_KEY", "bench");
        env.put("SPINDLE_POLL_AFTER_MS", "50");
        env.put("SPINDLE_MAX_CONCURRENT_RUNS", "6000");
        env.put("SPINDLE_NODE_ID", "bench-" + index);
        env.remove("SPINDLE_API_KEYS");
        env.remove("SPINDLE_DATABASE_URL");
        if (dbUrl != null) {
            env.put("SPINDLE_DATABASE_URL", dbUrl);
            // the PostgreSQL server may be shared (other benches, test suites): a small pool unless told otherwise
            env.putIfAbsent("SPINDLE_DATABASE_POOL_SIZE", String.valueOf(POSTGRES_POOL));
        }
        Process spindle = pb.start();
        spindles.add(spindle);
        pids.add(spindle.pid());
        String base = "http://127.0.0.1:" + port + "/v1";
        bases.add(base);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try (RawHttp probe = new RawHttp("http://127.0.0.1:" + port)) {
                if (probe.send("GET", "/readyz", null).status() == 200) break;
            } catch (IOException e) {
                // not yet
            }
            if (!spindle.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("Spindle did not start; see " + log);
            }
            Thread.sleep(100);
        }
        System.out.printf("== %s: Spindle pid %d on %s (log %s)%n", db, spindle.pid(), base, log);
    }

    void stopSpindle() throws InterruptedException {
        closeConnections();
        for (Process spindle : spindles) spindle.destroy();
        for (Process spindle : spindles) {
            if (!spindle.waitFor(30, TimeUnit.SECONDS)) spindle.destroyForcibly().waitFor();
        }
        spindles.clear();
        pids.clear();
        bases.clear();
    }

    String postgresUnavailable() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", 5432), 2000);
        } catch (IOException e) {
            return "nothing answers on 127.0.0.1:5432 (" + e.getMessage() + ")";
        }
        try {
            psql("SELECT 1");
            return null;
        } catch (Exception e) {
            return "psql as postgres failed: " + e.getMessage();
        }
    }

    static void psql(String sql) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("psql", "-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "-d", "postgres",
                "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) throw new IOException(out.strip());
    }

    // ---------------------------------------------------------------- process metrics

    /** utime+stime of every node, in milliseconds. */
    long cpuMillis() {
        long sum = 0;
        for (long pid : pids) {
            long ms = cpuMillis(pid);
            if (ms < 0) return -1;
            sum += ms;
        }
        return sum;
    }

    static long cpuMillis(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14, 15)
            return ticks * 10; // CLK_TCK = 100 on Linux
        } catch (Exception e) {
            return -1;
        }
    }

    /** A /proc status figure in MiB, summed over every node. */
    long status(String key) {
        long sum = 0;
        for (long pid : pids) {
            long mib = status(pid, key);
            if (mib < 0) return -1;
            sum += mib;
        }
        return sum;
    }

    static long status(long pid, String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith(key + ":")) return Long.parseLong(line.replaceAll("\\D", "")) / 1024; // MiB
            }
        } catch (Exception e) {
            // gone
        }
        return -1;
    }

    /** Resets VmHWM to the current RSS, so each phase reports its own peak (Linux >= 4.0). */
    boolean peakResets = true;

    void resetPeak() {
        try {
            for (long pid : pids) Files.writeString(Path.of("/proc/" + pid + "/clear_refs"), "5");
            long hwm = status("VmHWM"), rss = status("VmRSS");
            if (hwm > rss + 16 * pids.size()) peakResets = false;
        } catch (IOException e) {
            peakResets = false; // then VmHWM is the peak since start
        }
    }

    /** Heap committed/used in MiB of the first node, from jcmd GC.heap_info, or null. */
    String heap() {
        long pid = pids.get(0);
        try {
            Path jcmd = Path.of(java).resolveSibling("jcmd");
            Process p = new ProcessBuilder(jcmd.toString(), String.valueOf(pid), "GC.heap_info").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            p.waitFor(20, TimeUnit.SECONDS);
            Matcher m = Pattern.compile("committed (\\d+)K, used (\\d+)K").matcher(out);
            if (m.find()) return (Long.parseLong(m.group(2)) / 1024) + "/" + (Long.parseLong(m.group(1)) / 1024);
        } catch (Exception e) {
            // no jcmd
        }
        return null;
    }

    // ---------------------------------------------------------------- HTTP helpers

    /**
     * Each load thread keeps one connection to each Spindle node and one to the upstream, as an SDK client would; with
     * several nodes, each request goes to the next one (a round-robin balancer in front of them).
     */
    final ThreadLocal<Balancer> toSpindle = ThreadLocal.withInitial(() -> new Balancer(bases));

    static final class Balancer {
        private final List<RawHttp> nodes;
        private int next = ThreadLocalRandom.current().nextInt(1 << 16);

        Balancer(List<String> bases) {
            this.nodes = bases.stream().map(RawHttp::new).toList();
        }

        /** The connection to the node the next request goes to. */
        RawHttp next() {
            return nodes.get(Math.floorMod(next++, nodes.size()));
        }

        void close() {
            nodes.forEach(RawHttp::close);
        }
    }
    final ThreadLocal<RawHttp> toUpstream = ThreadLocal.withInitial(() -> new RawHttp(upstream.baseUrl()));

    /** Closes the calling thread's connections (a load thread that is done). */
    void closeConnections() {
        toSpindle.get().close();
        toSpindle.remove();
        toUpstream.get().close();
        toUpstream.remove();
    }

    JsonNode post(String path, Object body) throws IOException {
        RawHttp.Response r = toSpindle.get().next().send("POST", path, JSON.writeValueAsBytes(body));
        String text = r.text();
        if (r.status() != 200) throw new IOException("POST " + path + " -> " + r.status() + " " + text);
        return JSON.readTree(text);
    }

    JsonNode get(String path) throws IOException {
        RawHttp.Response r = toSpindle.get().next().send("GET", path, null);
        String text = r.text();
        if (r.status() != 200) throw new IOException("GET " + path + " -> " + r.status() + " " + text);
        return JSON.readTree(text);
    }

    /** What one SSE stream from Spindle ended with. */
    record StreamEnd(String lastState, JsonNode lastRun) {}

    interface DeltaSink {
        void token(long sentNanos, long receivedNanos);
    }

    /** POSTs with stream: true and reads events until {@code done}, then the rest of the body (keeping the connection). */
    StreamEnd stream(String path, ObjectNode body, DeltaSink sink, Runnable onFirstDelta) throws IOException {
        body.put("stream", true);
        RawHttp.Response r = toSpindle.get().next().send("POST", path, JSON.writeValueAsBytes(body));
        if (r.status() != 200) {
            throw new IOException("POST " + path + " -> " + r.status() + " " + r.text());
        }
        String event = null;
        String state = null;
        JsonNode run = null;
        boolean first = true;
        BufferedReader lines = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
        for (String line = lines.readLine(); line != null; line = lines.readLine()) {
            if (line.startsWith("event: ")) {
                event = line.substring(7);
                if (event.equals("done")) {
                    r.body().transferTo(OutputStream.nullOutputStream());
                    return new StreamEnd(state, run);
                }
            } else if (line.startsWith("data: ") && event != null) {
                if (event.equals("thread.message.delta")) {
                    long now = System.nanoTime();
                    if (first && onFirstDelta != null) onFirstDelta.run();
                    first = false;
                    if (sink != null) {
                        Matcher m = TOKEN.matcher(line);
                        while (m.find()) sink.token(Long.parseLong(m.group(1)), now);
                    }
                } else if (event.startsWith("thread.run.") && !event.startsWith("thread.run.step")) {
                    state = event.substring("thread.run.".length());
                    if (state.equals("requires_action") || state.equals("completed") || state.equals("failed")
                            || state.equals("incomplete") || state.equals("expired") || state.equals("cancelled")) {
                        run = JSON.readTree(line.substring(6));
                    }
                } else if (event.equals("error")) {
                    toSpindle.get().close();
                    throw new IOException("error event: " + line);
                }
            }
        }
        toSpindle.get().close();
        throw new IOException("stream ended without done (last state " + state + ")");
    }

    /** Sends one chat completion straight to the scripted upstream and waits for [DONE]. */
    void direct(String model) throws IOException {
        ObjectNode body = JSON.createObjectNode().put("model", model).put("stream", true);
        body.putArray("messages").addObject().put("role", "user").put("content", "hi");
        body.putObject("stream_options").put("include_usage", true);
        RawHttp.Response r = toUpstream.get().send("POST", "/chat/completions", JSON.writeValueAsBytes(body));
        if (!r.text().contains("data: [DONE]")) throw new IOException("no [DONE] from upstream");
    }

    String assistant(String model, boolean tools) throws IOException, InterruptedException {
        ObjectNode a = JSON.createObjectNode().put("model", model).put("instructions", "You are a benchmark.");
        if (tools) {
            ObjectNode fn = a.putArray("tools").addObject().put("type", "function").putObject("function");
            fn.put("name", "bench_fn").putObject("parameters").put("type", "object").putObject("properties")
                    .putObject("n").put("type", "integer");
        }
        return post("/assistants", a).path("id").asText();
    }

    ObjectNode threadAndRun(String assistantId) {
        ObjectNode b = JSON.createObjectNode().put("assistant_id", assistantId);
        b.putObject("thread").putArray("messages").addObject().put("role", "user").put("content", "Say something.");
        return b;
    }

    // ---------------------------------------------------------------- load driver

    interface Op {
        /** One operation; returns an extra latency sample in micros to record (or -1). */
        long call() throws Exception;
    }

    record Result(double opsPerSec, Histogram latency, Histogram extra, long errors, long ops, String firstError) {}

    /** {@code concurrency} virtual threads loop on {@code op}: warm-up first, then the measured window. */
    Result load(int concurrency, int warmupSec, int measureSec, Op op) throws InterruptedException {
        Tally tally = new Tally();
        long measureFrom = System.nanoTime() + TimeUnit.SECONDS.toNanos(warmupSec);
        long end = measureFrom + TimeUnit.SECONDS.toNanos(measureSec);
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < concurrency; i++) {
                ex.submit(() -> {
                    try {
                        while (System.nanoTime() < end) {
                            tally.call(op, measureFrom, end);
                        }
                    } finally {
                        closeConnections();
                    }
                });
            }
        }
        return new Result(tally.ops.get() / (double) measureSec, tally.latency, tally.extra, tally.errors.get(), tally.ops.get(),
                tally.firstError);
    }

    /** Latencies, extra samples and errors of the operations that started and ended inside the measured window. */
    static final class Tally {
        final ConcurrentHistogram latency = new ConcurrentHistogram(3_600_000_000L, 3);
        final ConcurrentHistogram extra = new ConcurrentHistogram(3_600_000_000L, 3);
        final AtomicLong ops = new AtomicLong();
        final AtomicLong errors = new AtomicLong();
        volatile String firstError;

        void call(Op op, long measureFrom, long end) {
            long t0 = System.nanoTime();
            try {
                long x = op.call();
                long t1 = System.nanoTime();
                if (t0 >= measureFrom && t1 <= end) {
                    latency.recordValue((t1 - t0) / 1000);
                    if (x >= 0) extra.recordValue(x);
                    ops.incrementAndGet();
                }
            } catch (Exception e) {
                if (t0 >= measureFrom) errors.incrementAndGet();
                if (firstError == null) firstError = String.valueOf(e.getMessage());
            }
        }
    }

    // ---------------------------------------------------------------- the phases

    void benchmarkOne(String db) throws Exception {
        int warm = Math.max(2, seconds / 4);

        String plain = assistant("bench-t10-r0-l0", false);
        warmUp(plain);
        if (phases.contains("crud")) crud(db, warm);
        if (phases.contains("runs")) runOverhead(db, warm, plain);
        if (phases.contains("scale")) {
            String holdAssistant = assistant("bench-hold-r20", false);
            for (int n : scaleSizes) phaseScale(db, n, holdAssistant);
        }
        if (phases.contains("tools")) toolRoundTrips(db, warm);
        StorePhases store = new StorePhases(this, db);
        if (phases.contains("files")) store.files();
        if (phases.contains("ingest")) store.ingest();
        if (phases.contains("search")) store.search(searchSizes, searchBuildSeconds, warm);
        if (phases.contains("sandbox")) new SandboxPhase(this, db).run();
    }

    /**
     * A fresh JVM spends its first seconds compiling (the C2 compiler took about half a core for 12 s),
     * which no phase should measure: every kind of request runs unmeasured first.
     */
    void warmUp(String assistantId) throws Exception {
        System.out.printf("   warm-up (%d s) ...%n", WARM_UP_SECONDS);
        String thread = post("/threads", Map.of()).path("id").asText();
        AtomicInteger n = new AtomicInteger();
        load(16, 0, WARM_UP_SECONDS, () -> {
            switch (n.getAndIncrement() % 3) {
                case 0 -> post("/threads/" + thread + "/messages", Map.of("role", "user", "content", "warming up"));
                case 1 -> get("/threads/" + thread + "/messages?limit=20");
                default -> stream("/threads/runs", threadAndRun(assistantId), null, null);
            }
            return -1;
        });
    }

    /** Create message and list messages on 32 seeded threads of 20 messages. */
    void crud(String db, int warm) throws Exception {
        List<String> threads = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            ObjectNode t = JSON.createObjectNode();
            ArrayNode msgs = t.putArray("messages");
            for (int k = 0; k < 20; k++) msgs.addObject().put("role", "user").put("content", "message " + k + " of the seed thread");
            threads.add(post("/threads", t).path("id").asText());
        }
        AtomicInteger rr = new AtomicInteger();
        phase(db, "create message (c=32)", () -> load(32, warm, seconds, () -> {
            String t = threads.get(Math.floorMod(rr.getAndIncrement(), threads.size()));
            post("/threads/" + t + "/messages", Map.of("role", "user", "content", "hello from the benchmark"));
            return -1;
        }), null);
        phase(db, "list messages limit 20 (c=32)", () -> load(32, warm, seconds, () -> {
            String t = threads.get(Math.floorMod(rr.getAndIncrement(), threads.size()));
            JsonNode page = get("/threads/" + t + "/messages?limit=20");
            if (page.path("data").size() != 20) throw new IOException("expected 20 messages");
            return -1;
        }), null);
    }

    /** Streamed create-thread-and-run, 10 tokens, zero-latency upstream, each paired with a direct upstream call. */
    void runOverhead(String db, int warm, String plain) throws Exception {
        String model10 = "bench-t10-r0-l0";
        ConcurrentHistogram directLat = new ConcurrentHistogram(3_600_000_000L, 3);
        Op paired = () -> {
            long d0 = System.nanoTime();
            direct(model10);
            long d1 = System.nanoTime();
            directLat.recordValue((d1 - d0) / 1000);
            StreamEnd end = stream("/threads/runs", threadAndRun(plain), null, null);
            long s1 = System.nanoTime();
            if (!"completed".equals(end.lastState())) throw new IOException("run ended " + end.lastState());
            return Math.max(0, ((s1 - d1) - (d1 - d0)) / 1000);
        };
        phase(db, "streamed run, added latency (c=1)", () -> load(1, warm, seconds, paired), "extra");
        lastRow().put("direct_upstream_p50_ms", ms(directLat, 50));
        directLat.reset();
        phase(db, "streamed run throughput (c=32)", () -> load(32, warm, seconds, paired), "extra");
        lastRow().put("direct_upstream_p50_ms", ms(directLat, 50));
    }

    /** Runs with three function-call round trips, outputs submitted with stream: true. */
    void toolRoundTrips(String db, int warm) throws Exception {
        String tools = assistant("bench-tools3", true);
        phase(db, "run with 3 tool round trips, streamed (c=32)", () -> load(32, warm, seconds, () -> {
            StreamEnd end = stream("/threads/runs", threadAndRun(tools), null, null);
            int rounds = 0;
            while ("requires_action".equals(end.lastState())) {
                JsonNode run = end.lastRun();
                ObjectNode body = JSON.createObjectNode();
                ArrayNode outs = body.putArray("tool_outputs");
                for (JsonNode call : run.path("required_action").path("submit_tool_outputs").path("tool_calls")) {
                    outs.addObject().put("tool_call_id", call.path("id").asText()).put("output", "ok");
                }
                end = stream("/threads/" + run.path("thread_id").asText() + "/runs/" + run.path("id").asText()
                        + "/submit_tool_outputs", body, null, null);
                rounds++;
            }
            if (!"completed".equals(end.lastState()) || rounds != 3) {
                throw new IOException("run ended " + end.lastState() + " after " + rounds + " rounds");
            }
            return -1;
        }), null);
    }

    interface Phase {
        Result run() throws Exception;
    }

    void phase(String db, String name, Phase p, String extraName) throws Exception {
        System.out.printf("   %s ...%n", name);
        resetPeak();
        long cpu0 = cpuMillis();
        long t0 = System.nanoTime();
        Result r = p.run();
        double wall = (System.nanoTime() - t0) / 1e9;
        Map<String, Object> row = row(db, name);
        row.put("ops_per_s", round(r.opsPerSec()));
        row.put("ops", r.ops());
        row.put("p50_ms", ms(r.latency(), 50));
        row.put("p99_ms", ms(r.latency(), 99));
        if (extraName != null) {
            row.put("added_p50_ms", ms(r.extra(), 50));
            row.put("added_p99_ms", ms(r.extra(), 99));
        }
        row.put("errors", r.errors());
        if (r.firstError() != null) row.put("first_error", r.firstError());
        finishRow(row, cpu0, wall);
    }

    /**
     * Starts n streamed runs at once; the upstream streams 20 tokens/s to each until all n receive
     * (or 60 s pass), then per-token delays are measured for {@code seconds}, then the upstream ends
     * every answer.
     */
    void phaseScale(String db, int n, String assistantId) throws Exception {
        String name = "streaming scale N=" + n + " (20 tok/s)";
        System.out.printf("   %s ...%n", name);
        resetPeak();
        long cpu0 = cpuMillis();
        long t0 = System.nanoTime();
        upstream.holding = true;
        ConcurrentHistogram delta = new ConcurrentHistogram(3_600_000_000L, 3);
        AtomicInteger live = new AtomicInteger();
        AtomicLong errors = new AtomicLong();
        AtomicLong ok = new AtomicLong();
        String[] firstError = new String[1];
        long[] window = {Long.MAX_VALUE, Long.MAX_VALUE};
        int minLive = Integer.MAX_VALUE, maxLive = 0;
        double rampSeconds;
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < n; i++) {
                ex.submit(() -> {
                    boolean[] counted = {false};
                    try {
                        StreamEnd end = stream("/threads/runs", threadAndRun(assistantId),
                                (sent, got) -> {
                                    if (sent >= window[0] && sent < window[1]) delta.recordValue(Math.max(0, (got - sent) / 1000));
                                },
                                () -> {
                                    counted[0] = true;
                                    live.incrementAndGet();
                                });
                        if (!"completed".equals(end.lastState())) throw new IOException("run ended " + end.lastState());
                        ok.incrementAndGet();
                    } catch (Exception e) {
                        errors.incrementAndGet();
                        synchronized (firstError) {
                            if (firstError[0] == null) firstError[0] = String.valueOf(e.getMessage());
                        }
                    } finally {
                        if (counted[0]) live.decrementAndGet();
                        closeConnections();
                    }
                    return null;
                });
            }
            long rampDeadline = t0 + TimeUnit.SECONDS.toNanos(60);
            while (live.get() + errors.get() < n && System.nanoTime() < rampDeadline) Thread.sleep(50);
            rampSeconds = (System.nanoTime() - t0) / 1e9;
            window[0] = System.nanoTime();
            long windowEnd = window[0] + TimeUnit.SECONDS.toNanos(seconds);
            while (System.nanoTime() < windowEnd) {
                int l = live.get();
                minLive = Math.min(minLive, l);
                maxLive = Math.max(maxLive, l);
                Thread.sleep(100);
            }
            window[1] = System.nanoTime();
            upstream.holding = false;
            ex.shutdown();
            if (!ex.awaitTermination(240, TimeUnit.SECONDS)) {
                ex.shutdownNow();
                synchronized (firstError) {
                    if (firstError[0] == null) firstError[0] = "time-out";
                }
            }
        }
        upstream.holding = true;
        double wall = (System.nanoTime() - t0) / 1e9;
        Map<String, Object> row = row(db, name);
        row.put("ops_per_s", round(n / rampSeconds));
        row.put("ops", ok.get());
        row.put("ramp_s", round(rampSeconds));
        row.put("added_p50_ms", ms(delta, 50));
        row.put("added_p99_ms", ms(delta, 99));
        row.put("tokens_measured", delta.getTotalCount());
        row.put("errors", n - ok.get());
        row.put("live_streams_min", minLive);
        row.put("live_streams_max", maxLive);
        if (firstError[0] != null) row.put("first_error", firstError[0]);
        finishRow(row, cpu0, wall);
    }

    Map<String, Object> lastRow() {
        return rows.get(rows.size() - 1);
    }

    /** The table the rows made now go to: null for the main one, "files" for files and vector stores, "sandbox" for code_interpreter. */
    String section;

    Map<String, Object> row(String db, String name) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("db", db);
        row.put("phase", name);
        if (section != null) row.put("section", section);
        return row;
    }

    void finishRow(Map<String, Object> row, long cpu0, double wall) {
        long cpu1 = cpuMillis();
        row.put("wall_s", round(wall));
        row.put("cpu_s", round((cpu1 - cpu0) / 1000.0));
        row.put("peak_rss_mib", status("VmHWM"));
        String heap = heap();
        if (heap != null) row.put("heap_used_committed_mib", heap);
        rows.add(row);
        System.out.println("     " + row);
    }

    static double ms(Histogram h, double pct) {
        return h.getTotalCount() == 0 ? Double.NaN : round(h.getValueAtPercentile(pct) / 1000.0);
    }

    static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    // ---------------------------------------------------------------- output

    void write(List<String> skipped, double totalSeconds) throws IOException {
        int cores = Runtime.getRuntime().availableProcessors();
        long memMib = -1;
        String cpuModel = "?";
        try {
            for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (l.startsWith("MemTotal:")) memMib = Long.parseLong(l.replaceAll("\\D", "")) / 1024;
            }
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) {
                    cpuModel = l.substring(l.indexOf(':') + 1).strip();
                    break;
                }
            }
        } catch (IOException e) {
            // not Linux
        }
        String when = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss"));
        String machine = cores + " cores (" + cpuModel + "), " + memMib + " MiB RAM, Java " + javaVersion();
        StringBuilder md = new StringBuilder();
        md.append("Spindle benchmark, ").append(when).append(quick ? " (--quick)" : "").append("\n\n");
        md.append("Machine: ").append(machine).append(". Client, scripted upstream and Spindle share it.\n\n");
        List<Map<String, Object>> sectioned = rows.stream().filter(r -> r.containsKey("section")).toList();
        if (sectioned.size() < rows.size()) {
            md.append("| DB | Phase | ops/s | latency p50 / p99 (ms) | added p50 / p99 (ms) | errors | peak RSS (MiB) | CPU (s) / wall (s) | heap used/committed (MiB) |\n");
            md.append("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
            for (Map<String, Object> r : rows) {
                if (r.containsKey("section")) continue;
                md.append("| ").append(r.get("db")).append(" | ").append(r.get("phase"));
                if (r.containsKey("live_streams_min")) {
                    md.append(", ").append(r.get("live_streams_min")).append("–").append(r.get("live_streams_max"))
                            .append(" live while measured, started in ").append(r.get("ramp_s")).append(" s");
                }
                md.append(" | ").append(r.get("ops_per_s"))
                        .append(" | ").append(r.containsKey("p50_ms") ? r.get("p50_ms") + " / " + r.get("p99_ms") : "")
                        .append(" | ").append(r.containsKey("added_p50_ms") ? r.get("added_p50_ms") + " / " + r.get("added_p99_ms") : "")
                        .append(" | ").append(r.get("errors"))
                        .append(" | ").append(r.get("peak_rss_mib"))
                        .append(" | ").append(r.get("cpu_s")).append(" / ").append(r.get("wall_s"))
                        .append(" | ").append(r.getOrDefault("heap_used_committed_mib", ""))
                        .append(" |\n");
            }
        }
        for (String section : List.of(StorePhases.SECTION, SandboxPhase.SECTION)) {
            List<Map<String, Object>> inSection = sectioned.stream().filter(r -> r.get("section").equals(section)).toList();
            if (inSection.isEmpty()) continue;
            md.append(section.equals(SandboxPhase.SECTION) ? "\ncode_interpreter (streamed runs through the HTTP API; idle sessions found in /proc):\n\n"
                    : "\nFiles and vector stores:\n\n");
            md.append("| DB | Phase | result | ops/s | latency p50 / p99 (ms) | errors | peak RSS (MiB) | CPU (s) / wall (s) |\n");
            md.append("|---|---|---|---:|---:|---:|---:|---:|\n");
            for (Map<String, Object> r : inSection) {
                md.append("| ").append(r.get("db")).append(" | ").append(r.get("phase"))
                        .append(" | ").append(r.getOrDefault("result", r.containsKey("first_error") ? r.get("first_error") : ""))
                        .append(" | ").append(r.getOrDefault("ops_per_s", ""))
                        .append(" | ").append(r.containsKey("p50_ms") ? r.get("p50_ms") + " / " + r.get("p99_ms") : "")
                        .append(" | ").append(r.get("errors"))
                        .append(" | ").append(r.get("peak_rss_mib"))
                        .append(" | ").append(r.get("cpu_s")).append(" / ").append(r.get("wall_s"))
                        .append(" |\n");
            }
        }
        for (String s : skipped) md.append("\n").append(s).append("\n");
        md.append("\nAdded latency: streamed runs = time to `done` through Spindle minus the same chat completion sent straight to the "
                + "scripted upstream just before; streaming scale = per token sent during the measured window (which starts once all N streams receive, or 60 s after the start), client receipt minus the upstream's send time; its ops/s is runs started per second until then. "
                + (peakResets ? "Peak RSS is VmHWM of the Spindle process, reset before each phase. "
                        : "Peak RSS is VmHWM of the Spindle process since its start (this kernel did not reset it per phase). ")
                + "CPU is the Spindle process's utime+stime in the phase. "
                + "Total ").append(round(totalSeconds)).append(" s.\n");
        ObjectNode json = JSON.createObjectNode();
        json.put("date", when);
        json.put("quick", quick);
        json.put("seconds_per_phase", seconds);
        json.put("cores", cores);
        json.put("memory_mib", memMib);
        json.put("cpu", cpuModel);
        json.put("java", javaVersion());
        json.put("total_seconds", round(totalSeconds));
        json.set("skipped", JSON.valueToTree(skipped));
        json.set("results", JSON.valueToTree(rows));
        Path dir = root.resolve("bench/results");
        Files.createDirectories(dir);
        String stem = "bench-" + LocalDate.now();
        for (int n = 2; Files.exists(dir.resolve(stem + ".md")); n++) stem = "bench-" + LocalDate.now() + "-" + n; // keep earlier runs of the day
        Files.writeString(dir.resolve(stem + ".md"), md);
        Files.writeString(dir.resolve(stem + ".json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json) + "\n");
        System.out.println();
        System.out.println(md);
        System.out.println("written: " + dir.resolve(stem + ".md") + " and .json");
    }

    String javaVersion() {
        try {
            Process p = new ProcessBuilder(java, "-version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            p.waitFor();
            Matcher m = Pattern.compile("version \"([^\"]+)\"").matcher(out);
            return m.find() ? m.group(1) : "?";
        } catch (Exception e) {
            return "?";
        }
    }
}
