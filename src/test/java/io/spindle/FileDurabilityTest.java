package io.spindle;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.spindle.testing.Api;
import io.spindle.testing.Multipart;
import io.spindle.testing.ServerProcesses;
import io.spindle.testing.ServerProcesses.Server;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Uploads against Spindle as a separate process ({@link ServerProcesses}): a file far larger than
 * the server's heap streams through it and comes back byte for byte, and a server killed with
 * SIGKILL mid-upload restarts with no trace of that upload (no row, no blob, no half-written
 * bytes) and everything it had answered before. Server output goes to {@code target/file-logs/}.
 */
class FileDurabilityTest {
    enum Storage { SQLITE, POSTGRESQL }

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final long MIB = 1024 * 1024;

    @TempDir
    Path dataDir;

    private ServerProcesses servers;
    private Thread uploader;
    private final CountDownLatch releaseStalledUpload = new CountDownLatch(1);

    @AfterEach
    void cleanUp() throws Exception {
        releaseStalledUpload.countDown();
        try {
            if (servers != null) {
                servers.close();
            }
        } finally {
            if (uploader != null) {
                uploader.join(60_000);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Storage.class)
    void aFileFarLargerThanTheHeapStreamsInAndOut(Storage storage) throws Exception {
        servers = new ServerProcesses("file-logs", "large-" + storage.name().toLowerCase());
        // 512 MiB, OpenAI's (and Spindle's default) largest file, through a 256 MiB heap; PostgreSQL writes
        // slower, so it gets a quarter, still the size of the whole heap
        long size = storage == Storage.SQLITE ? 512 * MIB : 256 * MIB;
        Server server = servers.start(storageEnv(storage), List.of("-Xmx256m"));

        MessageDigest sent = sha256();
        long started = System.nanoTime();
        HttpResponse<String> answer = HTTP.send(Multipart.post(server.api().baseUrl() + "/v1/files", null,
                        () -> Multipart.streamed("batch", "large.bin", new DigestInputStream(new Generated(size, 42, -1), sent))),
                HttpResponse.BodyHandlers.ofString());
        double uploadSeconds = (System.nanoTime() - started) / 1e9;

        assertThat(answer.statusCode()).as("upload answered %s", answer.body()).isEqualTo(200);
        JsonNode file = io.spindle.api.Json.readTree(answer.body());
        assertThat(file.get("bytes").asLong()).isEqualTo(size);
        MessageDigest received = sha256();
        long count;
        started = System.nanoTime();
        try (InputStream in = new DigestInputStream(server.api().download("/v1/files/" + file.get("id").asText() + "/content"), received)) {
            count = in.transferTo(OutputStream.nullOutputStream());
        }
        double downloadSeconds = (System.nanoTime() - started) / 1e9;
        assertThat(count).isEqualTo(size);
        assertThat(HexFormat.of().formatHex(received.digest())).isEqualTo(HexFormat.of().formatHex(sent.digest()));
        assertThat(Files.readString(servers.log())).doesNotContain("OutOfMemoryError");
        servers.note(String.format("%d MiB: upload %.1f s (%.0f MB/s), download %.1f s (%.0f MB/s)", size / MIB,
                uploadSeconds, size / 1e6 / uploadSeconds, downloadSeconds, size / 1e6 / downloadSeconds));
    }

    @ParameterizedTest
    @EnumSource(Storage.class)
    void aKillMidUploadLeavesNoTrace(Storage storage) throws Exception {
        servers = new ServerProcesses("file-logs", "kill-" + storage.name().toLowerCase());
        Map<String, String> env = storageEnv(storage);
        Server first = servers.start(env);
        byte[] keptBytes = "answered before the crash\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        JsonNode kept = first.api().send(Multipart.post(first.api().baseUrl() + "/v1/files", null,
                new Multipart().text("purpose", "batch").file("file", "kept.txt", keptBytes).end(), Multipart.CONTENT_TYPE)).ok();

        // an upload that sends 24 MiB, then waits, mid-file, for the kill
        uploader = Thread.ofPlatform().start(() -> {
            try {
                HTTP.send(Multipart.post(first.api().baseUrl() + "/v1/files", null,
                        () -> Multipart.streamed("batch", "doomed.bin", new Generated(64 * MIB, 7, 24 * MIB))),
                        HttpResponse.BodyHandlers.ofString());
            } catch (IOException expected) {
                // the server died under it
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Path incoming = dataDir.resolve("files").resolve("incoming");
        if (storage == Storage.SQLITE) {
            waitFor("the upload's bytes to reach files/incoming", () -> sizeOfFiles(incoming) >= 16 * MIB);
        } else {
            waitFor("the upload's transaction to write chunks", () -> openWritingTransactions(env) > 0);
        }
        servers.kill(first);
        releaseStalledUpload.countDown();
        if (storage == Storage.SQLITE) {
            assertThat(sizeOfFiles(incoming)).as("half-received bytes the crash left").isGreaterThan(0);
            // and what a crash between a blob's rename and its row's commit leaves: a blob without a row
            Files.write(dataDir.resolve("files").resolve("file-NoRowWasEverCommitted0"), new byte[] {1, 2, 3});
        }

        Server second = servers.start(env);

        JsonNode files = second.api().get("/v1/files").ok().get("data");
        assertThat(files).extracting(f -> f.get("id").asText()).containsExactly(kept.get("id").asText());
        try (InputStream in = second.api().download("/v1/files/" + kept.get("id").asText() + "/content")) {
            assertThat(in.readAllBytes()).isEqualTo(keptBytes);
        }
        if (storage == Storage.SQLITE) {
            assertThat(listing(incoming)).as("files/incoming after the restart").isEmpty();
            assertThat(listing(dataDir.resolve("files"))).as("files/ after the restart")
                    .containsExactlyInAnyOrder("incoming", kept.get("id").asText());
        } else {
            assertThat(chunkOwners(env)).as("files that own chunks after the restart").containsExactly(kept.get("id").asText());
        }
    }

    // ---- helpers

    /**
     * {@code size} pseudo-random bytes made as they are read (never held whole); with {@code stallAt}
     * at or above zero, reading stops there until the test lets go, then fails.
     */
    private final class Generated extends InputStream {
        private final SplittableRandom random;
        private final byte[] block = new byte[64 * 1024];
        private final long stallAt;
        private long left;
        private long position;
        private int blockPos = block.length;

        Generated(long size, long seed, long stallAt) {
            this.random = new SplittableRandom(seed);
            this.left = size;
            this.stallAt = stallAt;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (stallAt >= 0 && position >= stallAt) {
                try {
                    releaseStalledUpload.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                throw new IOException("stalled upload given up");
            }
            if (left == 0) {
                return -1;
            }
            if (blockPos == block.length) {
                random.nextBytes(block);
                blockPos = 0;
            }
            int n = (int) Math.min(Math.min(len, block.length - blockPos), left);
            if (stallAt >= 0) {
                n = (int) Math.min(n, stallAt - position);
            }
            System.arraycopy(block, blockPos, b, off, n);
            blockPos += n;
            left -= n;
            position += n;
            return n;
        }
    }

    private Map<String, String> storageEnv(Storage storage) {
        return storage == Storage.SQLITE
                ? Map.of("SPINDLE_DATA_DIR", dataDir.toString())
                : Map.of("SPINDLE_DATA_DIR", dataDir.toString(), "SPINDLE_DATABASE_URL", servers.freshPostgres(),
                        "SPINDLE_DATABASE_POOL_SIZE", "4");
    }

    /** Transactions on the server's database that have written something and not ended. */
    private static int openWritingTransactions(Map<String, String> env) {
        String url = env.get("SPINDLE_DATABASE_URL");
        String name = url.substring(url.lastIndexOf('/') + 1, url.indexOf('?'));
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE datname = '" + name
                     + "' AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String> chunkOwners(Map<String, String> env) {
        try (Connection c = DriverManager.getConnection(env.get("SPINDLE_DATABASE_URL")); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT DISTINCT file_id FROM file_chunks")) {
            List<String> owners = new java.util.ArrayList<>();
            while (rs.next()) {
                owners.add(rs.getString(1));
            }
            return owners;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static long sizeOfFiles(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.mapToLong(f -> {
                try {
                    return Files.size(f);
                } catch (IOException gone) {
                    return 0;
                }
            }).sum();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).toList();
        }
    }

    private static void waitFor(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waited 120 s for " + what).isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    private static MessageDigest sha256() throws NoSuchAlgorithmException {
        return MessageDigest.getInstance("SHA-256");
    }
}
