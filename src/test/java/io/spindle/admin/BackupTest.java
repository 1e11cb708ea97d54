package io.spindle.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.spindle.testing.Api;
import io.spindle.testing.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code spindle backup DIR} beside a SQLite server that keeps writing: the backup is a data directory a server starts
 * on, holding the database as of one commit and the bytes of its files.
 */
class BackupTest {
    /** Each thread is created with this many messages, in one transaction: a consistent copy never has fewer. */
    private static final int MESSAGES_PER_THREAD = 3;

    @TempDir
    Path dir;

    @Test
    void aBackupTakenWhileTheServerWritesIsConsistentAndOneTakenAtRestIsIdentical() throws Exception {
        Path data = dir.resolve("data");
        Path during = dir.resolve("during");
        Path atRest = dir.resolve("at-rest");
        byte[] bytes = new byte[3 * 1024 * 1024 + 17];
        new Random(16).nextBytes(bytes);
        Map<String, String> settings = Map.of("SPINDLE_DATA_DIR", data.toString());
        String fileId;
        try (TestServer server = TestServer.start(TestServer.Storage.SQLITE, settings)) {
            Api api = server.api();
            fileId = api.uploadFile("batch", "random.bin", bytes);
            AtomicBoolean writing = new AtomicBoolean(true);
            AtomicInteger created = new AtomicInteger();
            List<Thread> writers = new ArrayList<>();
            for (int w = 0; w < 2; w++) {
                writers.add(Thread.ofVirtual().start(() -> {
                    while (writing.get()) {
                        List<Map<String, String>> messages = new ArrayList<>();
                        for (int m = 0; m < MESSAGES_PER_THREAD; m++) {
                            messages.add(Map.of("role", "user", "content", "message " + m + " of thread " + created.get()));
                        }
                        api.post("/v1/threads", Map.of("messages", messages)).ok();
                        created.incrementAndGet();
                    }
                }));
            }
            while (created.get() < 20) {
                Thread.sleep(10);
            }
            int beforeBackup = created.get();
            SpindleCommand.Result backup = SpindleCommand.run(settings, "backup", during.toString());
            int afterBackup = created.get();
            writing.set(false);
            for (Thread writer : writers) {
                writer.join();
            }
            assertThat(backup.stderr()).isEmpty();
            assertThat(backup.status()).isZero();
            assertThat(backup.stdout()).singleElement().asString().contains("into " + during).contains("1 file(s) (" + bytes.length + " bytes)");
            assertThat(afterBackup).as("threads created while the backup ran").isGreaterThan(beforeBackup);

            SpindleCommand.Result quiet = SpindleCommand.run(settings, "backup", atRest.toString());
            assertThat(quiet.status()).as("%s", quiet.stderr()).isZero();
            Map<String, List<List<Object>>> live = SqliteRows.of(data.resolve("spindle.db"));
            assertThat(SqliteRows.of(atRest.resolve("spindle.db"))).as("every table's rows").isEqualTo(live);
            assertThat(Files.readAllBytes(atRest.resolve("files").resolve(fileId))).isEqualTo(bytes);

            Map<String, List<List<Object>>> copy = SqliteRows.of(during.resolve("spindle.db"));
            assertThat(copy.keySet()).isEqualTo(live.keySet());
            copy.forEach((table, rows) -> {
                if (!table.equals("sqlite_sequence")) { // the counters of AUTOINCREMENT went on
                    assertThat(live.get(table)).as("rows of %s in the backup taken while writing", table).containsAll(rows);
                }
            });
            int threads = copy.get("threads").size();
            assertThat(threads).isBetween(beforeBackup, live.get("threads").size());
            assertThat(copy.get("messages")).as("each thread's messages, whole").hasSize(threads * MESSAGES_PER_THREAD);
        }

        try (TestServer restored = TestServer.start(TestServer.Storage.SQLITE, Map.of("SPINDLE_DATA_DIR", during.toString()))) {
            Api api = restored.api();
            try (var content = api.download("/v1/files/" + fileId + "/content")) {
                assertThat(content.readAllBytes()).isEqualTo(bytes);
            }
            List<List<Object>> threadRows = SqliteRows.of(during.resolve("spindle.db")).get("threads");
            String lastThread = (String) threadRows.getLast().get(1);
            JsonNode messages = api.get("/v1/threads/" + lastThread + "/messages?order=asc").ok();
            assertThat(messages.get("data")).hasSize(MESSAGES_PER_THREAD);
            assertThat(api.post("/v1/threads", Map.of()).status()).as("the restored database takes writes").isEqualTo(200);
        }
    }

    @Test
    void aBackupNeedsANewDirectoryAndSqliteAndIsNeverHalfWritten() throws Exception {
        Path data = dir.resolve("data");
        try (TestServer server = TestServer.start(TestServer.Storage.SQLITE, Map.of("SPINDLE_DATA_DIR", data.toString()))) {
            String lost = server.api().uploadFile("batch", "lost.bin", new byte[] {1, 2, 3});
            Files.delete(data.resolve("files").resolve(lost)); // as if deleted during every attempt
            SpindleCommand.Result missing = SpindleCommand.run(Map.of("SPINDLE_DATA_DIR", data.toString()), "backup",
                    dir.resolve("half").toString());
            assertThat(missing.status()).isEqualTo(2);
            assertThat(missing.stderr()).containsExactly("spindle backup: the bytes of " + lost + " were missing from "
                    + data.resolve("files") + " at each of 5 attempts (files deleted while the backup ran, or lost); no backup was "
                    + "written");
            assertThat(dir.resolve("half")).doesNotExist();

            Files.createDirectory(dir.resolve("taken"));
            SpindleCommand.Result exists = SpindleCommand.run(Map.of("SPINDLE_DATA_DIR", data.toString()), "backup",
                    dir.resolve("taken").toString());
            assertThat(exists.status()).isEqualTo(2);
            assertThat(exists.stderr()).containsExactly("spindle backup: " + dir.resolve("taken") + " exists already; a backup goes "
                    + "into a new directory");
        }
        SpindleCommand.Result noDatabase = SpindleCommand.run(Map.of("SPINDLE_DATA_DIR", dir.resolve("empty").toString()), "backup",
                dir.resolve("b").toString());
        assertThat(noDatabase.status()).isEqualTo(2);
        assertThat(noDatabase.stderr()).singleElement().asString().startsWith("spindle backup: there is no database to back up in ");
        SpindleCommand.Result postgres = SpindleCommand.run(Map.of("SPINDLE_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/any"),
                "backup", dir.resolve("b").toString());
        assertThat(postgres.status()).isEqualTo(2);
        assertThat(postgres.stderr()).singleElement().asString().contains("pg_dump");
        SpindleCommand.Result usage = SpindleCommand.run(Map.of(), "backup");
        assertThat(usage.status()).isEqualTo(2);
        assertThat(usage.stderr()).containsExactly("spindle backup: usage: spindle backup DIR");
    }
}
