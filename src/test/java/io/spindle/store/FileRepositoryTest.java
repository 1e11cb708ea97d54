package io.spindle.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spindle.api.FileObject;
import io.spindle.api.Ids;
import io.spindle.api.Json;
import io.spindle.testing.TestPostgres;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What the HTTP tests cannot reach: the expiry sweep (it runs once a minute) and received bytes
 * that never become a file, on both storages.
 */
class FileRepositoryTest {
    enum Storage { SQLITE, POSTGRESQL }

    private static final String PROJECT = "p";

    @TempDir
    Path dataDir;

    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-12-01T00:00:00Z"));
    private Database db;
    private String postgresUrl;

    @AfterEach
    void close() {
        if (db != null) {
            db.close();
        }
        if (postgresUrl != null) {
            TestPostgres.dropDatabase(postgresUrl);
        }
    }

    private FileRepository open(Storage storage) {
        if (storage == Storage.SQLITE) {
            db = Database.sqlite(dataDir);
        } else {
            postgresUrl = TestPostgres.freshDatabase();
            db = Database.postgres(postgresUrl, 2);
        }
        return FileRepository.open(db, dataDir, now::get);
    }

    private FileObject store(FileRepository files, byte[] bytes, Long expiresIn) throws IOException {
        String id = Ids.file();
        long created = now.get().getEpochSecond();
        try (Blobs.Received received = files.receive(id, new ByteArrayInputStream(bytes))) {
            FileObject file = new FileObject(id, "batch", "f.bin", received.size(), created, expiresIn == null ? null : created + expiresIn);
            files.insert(PROJECT, file, received);
            return file;
        }
    }

    @ParameterizedTest
    @EnumSource(Storage.class)
    void theSweepDeletesExpiredFilesWithTheirBytesAndReferences(Storage storage) throws IOException {
        FileRepository files = open(storage);
        FileObject expiring = store(files, new byte[] {1, 2, 3}, 3_600L);
        FileObject lasting = store(files, new byte[] {4, 5}, null);
        db.write(c -> Sql.update(c, "INSERT INTO assistants (id, project, created_at, body) VALUES (?, ?, ?, ?)", "asst_1", PROJECT, 0,
                "{\"id\":\"asst_1\",\"tool_resources\":{\"code_interpreter\":{\"file_ids\":[\"" + expiring.id() + "\",\""
                        + lasting.id() + "\"]}}}"));

        assertThat(files.deleteExpired()).isZero();
        now.set(now.get().plus(Duration.ofSeconds(3_600)));
        assertThat(files.file(PROJECT, expiring.id())).as("read as deleted at expires_at").isEmpty();
        assertThat(files.deleteExpired()).isEqualTo(1);

        assertThat(rowCount(expiring.id())).isZero();
        assertThat(bytesLeft(storage, expiring.id())).isFalse();
        assertThat(files.file(PROJECT, lasting.id())).contains(lasting);
        assertThat(bytesLeft(storage, lasting.id())).isTrue();
        String assistant = db.read(c -> {
            try (var ps = Sql.prepare(c, "SELECT body FROM assistants WHERE id = 'asst_1'"); var rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        });
        assertThat(Json.readTree(assistant).at("/tool_resources/code_interpreter/file_ids").toString())
                .isEqualTo("[\"" + lasting.id() + "\"]");
        assertThat(files.deleteExpired()).isZero();
    }

    @ParameterizedTest
    @EnumSource(Storage.class)
    void bytesThatNeverBecomeAFileLeaveNothing(Storage storage) throws IOException {
        FileRepository files = open(storage);
        String dropped = Ids.file();
        try (Blobs.Received received = files.receive(dropped, new ByteArrayInputStream(new byte[3 * 1024 * 1024]))) {
            assertThat(received.size()).isEqualTo(3 * 1024 * 1024);
        } // closed without insert: e.g. the form's purpose was wrong

        String broken = Ids.file();
        InputStream failing = new SequenceInputStream(new ByteArrayInputStream(new byte[2 * 1024 * 1024 + 5]), new InputStream() {
            @Override
            public int read() throws IOException {
                throw new IOException("client went away");
            }
        });
        assertThatThrownBy(() -> files.receive(broken, failing)).hasMessage("client went away");

        for (String id : new String[] {dropped, broken}) {
            assertThat(rowCount(id)).isZero();
            assertThat(bytesLeft(storage, id)).as("bytes of %s", id).isFalse();
        }
        if (storage == Storage.SQLITE) {
            try (Stream<Path> incoming = Files.list(dataDir.resolve("files").resolve("incoming"))) {
                assertThat(incoming).isEmpty();
            }
        }
    }

    private long rowCount(String id) {
        return db.read(c -> {
            try (var ps = Sql.prepare(c, "SELECT count(*) FROM files WHERE id = ?", id); var rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    private boolean bytesLeft(Storage storage, String id) {
        if (storage == Storage.SQLITE) {
            return Files.exists(dataDir.resolve("files").resolve(id));
        }
        return db.read(c -> Sql.exists(c, "SELECT 1 FROM file_chunks WHERE file_id = ?", id));
    }
}
