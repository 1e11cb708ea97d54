package io.spindle.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The file and vector store phases ({@code files}, {@code ingest}, {@code search}), not in the
 * default set: a 512 MiB upload and download, ingestion through the local embedder, and search
 * latency on a store of as many small chunks as the time allows.
 */
final class StorePhases {
    static final ObjectMapper JSON = Bench.JSON;
    static final long BIG_FILE_BYTES = 512L * 1024 * 1024;
    static final double MB = 1_000_000.0;
    static final int SEARCH_FILE_WORDS = 5_000;
    static final int SEARCH_FILES_PER_BATCH = 8;
    static final String SECTION = "files";

    final Bench bench;
    final String db;

    StorePhases(Bench bench, String db) {
        this.bench = bench;
        this.db = db;
    }

    // ---------------------------------------------------------------- files

    /** Uploads 512 MiB generated as it is sent, then downloads it back (purpose batch: assistants files are not downloadable). */
    void files() throws Exception {
        String[] id = new String[1];
        measured("upload a 512 MiB file", row -> {
            long t0 = System.nanoTime();
            id[0] = upload("big.bin", "batch", BIG_FILE_BYTES, out -> Corpus.bytes(out, BIG_FILE_BYTES)).path("id").asText();
            double s = (System.nanoTime() - t0) / 1e9;
            row.put("result", round(BIG_FILE_BYTES / MB / s) + " MB/s");
            row.put("mb_per_s", round(BIG_FILE_BYTES / MB / s));
        });
        measured("download the 512 MiB file", row -> {
            long t0 = System.nanoTime();
            RawHttp.Response r = bench.toSpindle.get().next().send("GET", "/files/" + id[0] + "/content", null);
            if (r.status() != 200) throw new IOException("download -> " + r.status() + " " + r.text());
            long n = count(r.body());
            double s = (System.nanoTime() - t0) / 1e9;
            if (n != BIG_FILE_BYTES) throw new IOException("downloaded " + n + " bytes, not " + BIG_FILE_BYTES);
            row.put("result", round(n / MB / s) + " MB/s");
            row.put("mb_per_s", round(n / MB / s));
        });
        bench.toSpindle.get().next().send("DELETE", "/files/" + id[0], null).text();
    }

    static long count(InputStream in) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long n = 0;
        for (int r = in.read(buf); r >= 0; r = in.read(buf)) n += r;
        return n;
    }

    // ---------------------------------------------------------------- ingest

    /** A 100-page PDF alone, then a set of text files, each into a new store, default chunking. */
    void ingest() throws Exception {
        Corpus corpus = new Corpus(11);
        Path dir = Files.createTempDirectory("spindle-bench-ingest-");
        Path pdf = dir.resolve("report.pdf");
        int pdfWords = corpus.pdf(pdf, 100, 48);
        String pdfId = uploadFile(pdf, "report.pdf");
        measured("ingest a 100-page PDF (" + pdfWords / 1000 + "k words, 800/400-token chunks)", row -> {
            long t0 = System.nanoTime();
            String store = createStore(List.of(pdfId), null);
            waitIngested(store);
            double s = (System.nanoTime() - t0) / 1e9;
            long chunks = chunks(store, List.of(pdfId));
            row.put("chunks", chunks);
            row.put("pages_per_s", round(100 / s));
            row.put("chunks_per_s", round(chunks / s));
            row.put("result", round(100 / s) + " pages/s, " + chunks + " chunks, " + round(chunks / s) + " chunks/s");
        });
        List<String> ids = new ArrayList<>();
        long bytes = 0;
        for (int i = 0; i < 6; i++) {
            byte[] text = corpus.text(15_000).getBytes(StandardCharsets.UTF_8);
            bytes += text.length;
            ids.add(upload("notes-" + i + ".txt", text.length, out -> out.write(text)).path("id").asText());
        }
        long textBytes = bytes;
        measured("ingest 6 text files (" + textBytes / 1000 + " kB, 90k words, 800/400-token chunks)", row -> {
            long t0 = System.nanoTime();
            String store = createStore(ids, null);
            waitIngested(store);
            double s = (System.nanoTime() - t0) / 1e9;
            long chunks = chunks(store, ids);
            row.put("chunks", chunks);
            row.put("chunks_per_s", round(chunks / s));
            row.put("result", chunks + " chunks, " + round(chunks / s) + " chunks/s, " + round(textBytes / 1000.0 / s) + " kB/s");
        });
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) Files.delete(f);
        }
        Files.delete(dir);
    }

    // ---------------------------------------------------------------- search

    /**
     * Grows one store of 100-token chunks (no overlap) in batches of files, and at each size of {@code sizes}
     * (ascending) it reaches, searches it with varied queries at c=1 and c=8 before growing on. The build time,
     * searches not included, is limited to {@code buildSeconds} in all: a size not reached by then is measured
     * at the size the store holds, and growing stops. Chunks are counted from each file's content parts.
     */
    void search(List<Integer> sizes, int buildSeconds, int warm) throws Exception {
        Corpus corpus = new Corpus(7);
        ObjectNode small = JSON.createObjectNode().put("type", "static");
        small.putObject("static").put("max_chunk_size_tokens", 100).put("chunk_overlap_tokens", 0);
        String store = createStore(List.of(), null);
        List<String> ids = new ArrayList<>();
        long[] chunks = {0};
        double[] building = {0};
        Bench.Op op = searchOp(store);
        List<Integer> targets = sizes.stream().sorted().toList();
        for (int target : targets) {
            boolean[] outOfTime = {false};
            long before = chunks[0];
            boolean grown = measured("grow the search store of 100-token chunks to " + target + " chunks", row -> {
                long t0 = System.nanoTime();
                long deadline = t0 + (long) ((buildSeconds - building[0]) * 1e9);
                while (chunks[0] < target && System.nanoTime() < deadline) {
                    List<String> batch = new ArrayList<>();
                    for (int i = 0; i < SEARCH_FILES_PER_BATCH; i++) {
                        byte[] text = corpus.text(SEARCH_FILE_WORDS).getBytes(StandardCharsets.UTF_8);
                        batch.add(upload("doc-" + ids.size() + "-" + i + ".txt", text.length, out -> out.write(text)).path("id").asText());
                    }
                    ObjectNode body = JSON.createObjectNode();
                    batch.forEach(body.putArray("file_ids")::add);
                    body.set("chunking_strategy", small);
                    bench.post("/vector_stores/" + store + "/file_batches", body);
                    waitIngested(store);
                    ids.addAll(batch);
                    chunks[0] += chunks(store, batch);
                }
                double s = (System.nanoTime() - t0) / 1e9;
                building[0] += s;
                outOfTime[0] = chunks[0] < target;
                row.put("chunks", chunks[0]);
                row.put("files", ids.size());
                row.put("build_s", round(building[0]));
                row.put("chunks_per_s", round((chunks[0] - before) / s));
                row.put("result", chunks[0] + " chunks in " + ids.size() + " files after " + Math.round(building[0]) + " s of building"
                        + (outOfTime[0] ? " (the build time ran out)" : "") + ", " + round((chunks[0] - before) / s) + " chunks/s");
            });
            if (!grown || (chunks[0] == before && before > 0)) {
                break; // failed, or nothing added since the last size searched
            }
            bench.section = SECTION;
            bench.phase(db, "search, " + chunks[0] + " chunks, 10 results (c=1)", () -> bench.load(1, warm, bench.seconds, op), null);
            bench.phase(db, "search, " + chunks[0] + " chunks, 10 results (c=8)", () -> bench.load(8, warm, bench.seconds, op), null);
            bench.section = null;
            if (outOfTime[0]) {
                break;
            }
        }
    }

    /** One search of the store with a 3-6 word query from a seeded sequence, expecting 10 results. */
    Bench.Op searchOp(String store) {
        Corpus queries = new Corpus(99);
        return () -> {
            String q;
            synchronized (queries) {
                q = queries.query();
            }
            JsonNode page = bench.post("/vector_stores/" + store + "/search", Map.of("query", q, "max_num_results", 10));
            if (page.path("data").size() != 10) throw new IOException("expected 10 results, got " + page.path("data").size());
            return -1;
        };
    }

    // ---------------------------------------------------------------- helpers

    interface Measured {
        void run(Map<String, Object> row) throws Exception;
    }

    /** One row of the files section: wall time, CPU and peak RSS of Spindle around {@code m}; false when it failed. */
    boolean measured(String name, Measured m) throws Exception {
        System.out.printf("   %s ...%n", name);
        bench.resetPeak();
        long cpu0 = bench.cpuMillis();
        long t0 = System.nanoTime();
        bench.section = SECTION;
        Map<String, Object> row = bench.row(db, name);
        bench.section = null;
        boolean done = false;
        try {
            m.run(row);
            row.put("errors", 0);
            done = true;
        } catch (Exception e) {
            row.put("errors", 1);
            row.put("first_error", String.valueOf(e.getMessage()));
            bench.toSpindle.get().close();
        }
        bench.finishRow(row, cpu0, (System.nanoTime() - t0) / 1e9);
        return done;
    }

    /** {@code multipart/form-data} with purpose and one file part, written as it is sent. */
    JsonNode upload(String filename, long size, RawHttp.BodyWriter content) throws IOException {
        return upload(filename, "assistants", size, content);
    }

    JsonNode upload(String filename, String purpose, long size, RawHttp.BodyWriter content) throws IOException {
        String boundary = "spindlebench" + Long.toHexString(System.nanoTime());
        byte[] head = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n" + purpose + "\r\n"
                + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename + "\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII);
        RawHttp.Response r = bench.toSpindle.get().next().send("POST", "/files", "multipart/form-data; boundary=" + boundary,
                head.length + size + tail.length, out -> {
                    out.write(head);
                    content.writeTo(out);
                    out.write(tail);
                });
        String text = r.text();
        if (r.status() != 200) throw new IOException("POST /files -> " + r.status() + " " + text);
        return JSON.readTree(text);
    }

    String uploadFile(Path file, String name) throws IOException {
        return upload(name, Files.size(file), out -> Files.copy(file, out)).path("id").asText();
    }

    String createStore(List<String> fileIds, ObjectNode chunking) throws IOException {
        ObjectNode body = JSON.createObjectNode().put("name", "bench");
        if (!fileIds.isEmpty()) fileIds.forEach(body.putArray("file_ids")::add);
        if (chunking != null) body.set("chunking_strategy", chunking);
        return bench.post("/vector_stores", body).path("id").asText();
    }

    /** Polls every 200 ms until no file of the store is in progress (10 minutes at most); fails if one failed. */
    void waitIngested(String store) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        while (true) {
            JsonNode counts = bench.get("/vector_stores/" + store).path("file_counts");
            if (counts.path("in_progress").asLong() == 0) {
                if (counts.path("failed").asLong() > 0 || counts.path("cancelled").asLong() > 0) {
                    throw new IOException("ingestion ended with " + counts);
                }
                return;
            }
            if (System.nanoTime() > deadline) throw new IOException("still ingesting after 10 minutes: " + counts);
            Thread.sleep(200);
        }
    }

    /** The chunks the store really holds for these files: the parts of each file's content. */
    long chunks(String store, List<String> fileIds) throws IOException {
        long n = 0;
        for (String f : fileIds) n += bench.get("/vector_stores/" + store + "/files/" + f + "/content").path("data").size();
        return n;
    }

    static double round(double v) {
        return Bench.round(v);
    }
}
