package io.spindle.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * The {@code sandbox} phase (only when named): code_interpreter through the HTTP API. Each sample is a streamed run
 * whose scripted model ({@code bench-code}) calls code_interpreter with the user message as the code and then answers;
 * its latency, to {@code done}, is the cell plus two zero-latency model calls and the run's own work (a few ms, the
 * {@code runs} phase). Then the memory of idle sessions, found in {@code /proc} by their session id (the thread id).
 */
final class SandboxPhase {
    static final String SECTION = "sandbox";
    static final int CSV_ROWS = 100_000;
    static final String SESSION_VARIABLE = "SPINDLE_SANDBOX_SESSION";

    static final String TRIVIAL = "1 + 1";
    static final String PLOT = """
            import matplotlib.pyplot as plt
            plt.figure()
            plt.plot(range(100), [x * x for x in range(100)])
            plt.title("squares")""";
    static final String GROUP_BY = """
            import pandas as pd
            df = pd.read_csv("sales.csv")
            print(df.groupby("region")["amount"].agg(["sum", "mean", "count"]))""";
    static final String DATA_STACK = "import numpy, pandas, matplotlib.pyplot";

    final Bench bench;
    final String db;
    final int samples;

    SandboxPhase(Bench bench, String db) {
        this.bench = bench;
        this.db = db;
        this.samples = bench.quick ? 20 : 100;
    }

    void run() throws Exception {
        ObjectNode a = Bench.JSON.createObjectNode().put("model", "bench-code");
        a.putArray("tools").addObject().put("type", "code_interpreter");
        String assistant = bench.post("/assistants", a).path("id").asText();

        measured("session start + first trivial cell (new thread each)", Math.max(5, samples / 10), () -> {
            String thread = bench.post("/threads", Map.of()).path("id").asText();
            return runCell(assistant, thread, TRIVIAL, "2");
        });
        String warm = bench.post("/threads", Map.of()).path("id").asText();
        runCell(assistant, warm, TRIVIAL, "2");
        measured("trivial cell `1 + 1`, warm session", samples, () -> runCell(assistant, warm, TRIVIAL, "2"));
        runCell(assistant, warm, PLOT, null);
        measured("plot cell (one matplotlib figure → image output and file)", samples / 2, () -> runCell(assistant, warm, PLOT, null));

        byte[] sales = salesCsv();
        String csv = new StorePhases(bench, db).upload("sales.csv", sales.length, out -> out.write(sales)).path("id").asText();
        ObjectNode t = Bench.JSON.createObjectNode();
        t.putObject("tool_resources").putObject("code_interpreter").putArray("file_ids").add(csv);
        String data = bench.post("/threads", t).path("id").asText();
        runCell(assistant, data, GROUP_BY, "count");
        measured("pandas read_csv + group-by, " + CSV_ROWS / 1000 + "k-row CSV (" + Bench.round(sales.length / 1e6) + " MB)", samples / 5,
                () -> runCell(assistant, data, GROUP_BY, "count"));

        String bare = bench.post("/threads", Map.of()).path("id").asText();
        runCell(assistant, bare, TRIVIAL, "2");
        String stack = bench.post("/threads", Map.of()).path("id").asText();
        runCell(assistant, stack, DATA_STACK, null);
        memory("RSS of an idle session (bare Python)", bare);
        memory("RSS of an idle session with numpy, pandas, matplotlib imported", stack);
    }

    /** Runs one cell as a run on the thread and answers its latency to {@code done}, in micros. */
    long runCell(String assistant, String thread, String code, String expected) throws IOException {
        bench.post("/threads/" + thread + "/messages", Map.of("role", "user", "content", code));
        long t0 = System.nanoTime();
        Bench.StreamEnd end = bench.stream("/threads/" + thread + "/runs",
                Bench.JSON.createObjectNode().put("assistant_id", assistant), null, null);
        long micros = (System.nanoTime() - t0) / 1000;
        if (!"completed".equals(end.lastState())) throw new IOException("run ended " + end.lastState());
        if (expected != null) {
            String run = end.lastRun().path("id").asText();
            JsonNode steps = bench.get("/threads/" + thread + "/runs/" + run + "/steps?order=asc").path("data");
            String logs = steps.path(0).path("step_details").path("tool_calls").path(0).path("code_interpreter")
                    .path("outputs").path(0).path("logs").asText();
            if (!logs.contains(expected)) throw new IOException("the cell printed " + logs);
        }
        return micros;
    }

    interface Sample {
        long micros() throws Exception;
    }

    void measured(String name, int n, Sample sample) throws Exception {
        System.out.printf("   %s ...%n", name);
        bench.resetPeak();
        long cpu0 = bench.cpuMillis();
        long t0 = System.nanoTime();
        Map<String, Object> row = row(name);
        Histogram latency = new Histogram(3_600_000_000L, 3);
        long errors = 0;
        for (int i = 0; i < n; i++) {
            try {
                latency.recordValue(sample.micros());
            } catch (Exception e) {
                if (errors++ == 0) row.put("first_error", String.valueOf(e.getMessage()));
                bench.toSpindle.get().close();
                bench.toSpindle.remove();
            }
        }
        row.put("ops", latency.getTotalCount());
        row.put("errors", errors);
        row.put("p50_ms", Bench.ms(latency, 50));
        row.put("p99_ms", Bench.ms(latency, 99));
        row.put("result", "p50 " + Bench.ms(latency, 50) + " ms, p99 " + Bench.ms(latency, 99) + " ms (" + latency.getTotalCount() + " runs)");
        bench.finishRow(row, cpu0, (System.nanoTime() - t0) / 1e9);
    }

    /**
     * The summed RSS and PSS of the thread's session processes (bwrap, its PID 1 and Python); how many such sessions
     * fit is total memory less Spindle's own RSS, divided by the session's RSS (RSS counts the shared libraries in full
     * for every session, so this is a lower bound; PSS shares them out).
     */
    void memory(String name, String thread) throws Exception {
        System.out.printf("   %s ...%n", name);
        long cpu0 = bench.cpuMillis();
        List<Path> processes = sessionProcesses(thread);
        long rss = processes.stream().mapToLong(p -> kib(p.resolve("status"), "VmRSS")).sum() / 1024;
        long pss = processes.stream().mapToLong(p -> kib(p.resolve("smaps_rollup"), "Pss")).sum() / 1024;
        long total = kib(Path.of("/proc/meminfo"), "MemTotal") / 1024;
        long spindle = bench.status("VmRSS");
        Map<String, Object> row = row(name);
        row.put("errors", processes.isEmpty() ? 1 : 0);
        row.put("session_processes", processes.size());
        row.put("session_rss_mib", rss);
        row.put("session_pss_mib", pss);
        long fitHere = rss == 0 ? 0 : (total - spindle) / rss;
        long fit24 = rss == 0 ? 0 : (24 * 1024 - spindle) / rss;
        row.put("sessions_fit_here", fitHere);
        row.put("sessions_fit_24gib", fit24);
        row.put("result", rss + " MiB RSS (" + pss + " MiB PSS) in " + processes.size() + " processes; by RSS, "
                + fitHere + " fit in this machine's " + total + " MiB, " + fit24 + " in 24 GiB");
        bench.finishRow(row, cpu0, 0);
    }

    Map<String, Object> row(String name) {
        bench.section = SECTION;
        Map<String, Object> row = bench.row(db, name);
        bench.section = null;
        return row;
    }

    static byte[] salesCsv() {
        String[] regions = {"north", "south", "east", "west", "centre"};
        StringBuilder csv = new StringBuilder("order_id,region,product,amount\n");
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int i = 0; i < CSV_ROWS; i++) {
            csv.append(i).append(',').append(regions[random.nextInt(regions.length)]).append(",product-")
                    .append(random.nextInt(500)).append(',').append(random.nextInt(100_000) / 100.0).append('\n');
        }
        return csv.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Processes whose environment or arguments (bwrap's {@code --setenv}) name a session of this thread. */
    static List<Path> sessionProcesses(String thread) throws IOException {
        String inEnvironment = SESSION_VARIABLE + "=" + thread + "-";
        String inArguments = SESSION_VARIABLE + "\0" + thread + "-";
        try (Stream<Path> processes = Files.list(Path.of("/proc"))) {
            return processes.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).filter(p -> {
                try {
                    return new String(Files.readAllBytes(p.resolve("environ")), StandardCharsets.ISO_8859_1).contains(inEnvironment)
                            || new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.ISO_8859_1).contains(inArguments);
                } catch (IOException e) {
                    return false;
                }
            }).toList();
        }
    }

    /** A {@code Key:   123 kB} line's number. */
    static long kib(Path file, String key) {
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.startsWith(key + ":")) return Long.parseLong(line.replaceAll("\\D", ""));
            }
        } catch (IOException e) {
            // ended meanwhile
        }
        return 0;
    }
}
