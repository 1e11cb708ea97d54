package io.spindle.search;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindle.api.AttributeFilter;
import io.spindle.store.ChunkRepository;
import io.spindle.store.Database;
import io.spindle.testing.TestPostgres;
import io.spindle.testing.VectorStoreRows;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link IndexFollower} on rows written straight into SQLite and PostgreSQL, with the real embedder. */
class IndexFollowerTest {
    private static final Embedder EMBEDDER = new OnnxEmbedder(OnnxEmbedderTest.CACHE);
    private static final String PROJECT = "default";

    @TempDir
    Path dir;
    private final List<AutoCloseable> open = new ArrayList<>();
    private String ownDatabase;

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
        if (ownDatabase != null) {
            TestPostgres.dropDatabase(ownDatabase);
        }
    }

    private Database database(boolean postgres) {
        Database db;
        if (postgres) {
            ownDatabase = TestPostgres.freshDatabase();
            db = Database.postgres(ownDatabase, 3);
        } else {
            db = Database.sqlite(dir.resolve("db"));
        }
        open.add(db);
        return db;
    }

    private IndexFollower follower(Database db, String name) throws IOException {
        IndexFollower follower = IndexFollower.open(dir.resolve(name), EMBEDDER.modelName(), new ChunkRepository(db));
        open.add(follower);
        return follower;
    }

    private static List<String> files(IndexFollower follower, String store, String query) {
        return search(follower, store, query, Optional.empty()).stream().map(ChunkHit::fileId).distinct().toList();
    }

    private static List<ChunkHit> search(IndexFollower follower, String store, String query, Optional<AttributeFilter> filter) {
        ChunkQuery.Part part = new ChunkQuery.Part(query, EMBEDDER.embedQueries(List.of(query)).getFirst());
        return follower.search(new ChunkQuery(List.of(store), List.of(part), filter, 10, 0.0, ChunkQuery.Mode.HYBRID));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void followsAddsAndRemovesInTheDatabase(boolean postgres) throws IOException {
        Database db = database(postgres);
        VectorStoreRows rows = new VectorStoreRows(db, EMBEDDER);
        IndexFollower follower = follower(db, "index");
        String store = rows.store(PROJECT);
        String bread = rows.file(PROJECT, "bread.txt");
        String rockets = rows.file(PROJECT, "rockets.txt");
        rows.complete(PROJECT, store, bread, Map.of("kind", "food"), "Knead the dough, let it rise for an hour, then bake the loaf.");
        rows.complete(PROJECT, store, rockets, Map.of("kind", "space"), "The rocket engine burns liquid oxygen and kerosene.");

        List<ChunkHit> hits = search(follower, store, "how long should bread dough rise", Optional.empty());
        assertThat(hits.getFirst().fileId()).isEqualTo(bread);
        assertThat(hits.getFirst().fileName()).isEqualTo("bread.txt");
        assertThat(hits.getFirst().attributes()).isEqualTo(Map.of("kind", "food"));
        assertThat(hits.getFirst().score()).isBetween(0.0, 1.0);

        AttributeFilter space = AttributeFilter.parse(io.spindle.api.Json.readTree("{\"type\":\"eq\",\"key\":\"kind\",\"value\":\"space\"}"),
                "filters");
        assertThat(search(follower, store, "how long should bread dough rise", Optional.of(space)))
                .extracting(ChunkHit::fileId).containsOnly(rockets);

        rows.remove(store, bread);
        assertThat(files(follower, store, "bread dough")).containsExactly(rockets);

        rows.deleteStore(store);
        assertThat(files(follower, store, "rocket")).isEmpty();
        assertThat(follower.position()).isEqualTo(4);
    }

    @Test
    void keepsItsPlaceAcrossRestartsAndRebuildsALostOrBrokenIndexFromTheDatabase() throws Exception {
        Database db = database(false);
        VectorStoreRows rows = new VectorStoreRows(db, EMBEDDER);
        String store = rows.store(PROJECT);
        String gone = rows.file(PROJECT, "gone.txt");
        String kept = rows.file(PROJECT, "kept.txt");
        rows.complete(PROJECT, store, gone, Map.of(), "Penguins live in the southern hemisphere.");
        rows.complete(PROJECT, store, kept, Map.of(), "Owls hunt at night and sleep during the day.");
        rows.remove(store, gone);

        IndexFollower first = follower(db, "index");
        assertThat(first.catchUp()).isEqualTo(3);
        assertThat(files(first, store, "owls at night")).containsExactly(kept);
        first.close();
        open.remove(first);

        IndexFollower reopened = follower(db, "index");
        assertThat(reopened.position()).as("the position is kept with the index").isEqualTo(3);
        assertThat(reopened.catchUp()).isZero();
        assertThat(files(reopened, store, "owls at night")).containsExactly(kept);
        reopened.close();
        open.remove(reopened);

        // the index directory is lost: it is rebuilt from the log
        try (Stream<Path> files = Files.walk(dir.resolve("index"))) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        IndexFollower rebuilt = follower(db, "index");
        assertThat(rebuilt.position()).isZero();
        assertThat(files(rebuilt, store, "owls at night")).containsExactly(kept);
        assertThat(files(rebuilt, store, "penguins")).doesNotContain(gone);
        rebuilt.close();
        open.remove(rebuilt);

        // its files are broken: it is rebuilt too
        try (Stream<Path> files = Files.list(dir.resolve("index"))) {
            for (Path file : files.filter(p -> p.getFileName().toString().startsWith("segments")).toList()) {
                Files.write(file, new byte[] {1, 2, 3});
            }
        }
        IndexFollower repaired = follower(db, "index");
        assertThat(repaired.position()).isZero();
        assertThat(files(repaired, store, "owls at night")).containsExactly(kept);
        assertThat(repaired.position()).isEqualTo(3);
    }

    @Test
    void twoNodesOnOnePostgresBothFindAFileAddedAfterTheyStarted() throws IOException {
        Database db = database(true);
        Database other = Database.postgres(ownDatabase, 2);
        open.add(other);
        IndexFollower a = follower(db, "node-a");
        IndexFollower b = follower(other, "node-b");
        assertThat(a.catchUp() + b.catchUp()).isZero();

        VectorStoreRows rows = new VectorStoreRows(db, EMBEDDER);
        String store = rows.store(PROJECT);
        String file = rows.file(PROJECT, "tides.txt");
        rows.complete(PROJECT, store, file, Map.of(), "Tides are caused by the gravity of the moon and the sun.");

        assertThat(files(a, store, "what causes tides")).containsExactly(file);
        assertThat(files(b, store, "what causes tides")).containsExactly(file);
    }

    @Test
    void leavesOutTheFilesOfStoresEmbeddedWithAnotherModel() throws IOException {
        Database db = database(false);
        VectorStoreRows rows = new VectorStoreRows(db, EMBEDDER);
        String foreign = rows.store(PROJECT, "text-embedding-3-small");
        String file = rows.file(PROJECT, "f.txt");
        rows.complete(PROJECT, foreign, file, Map.of(), "Any text at all.");
        IndexFollower follower = follower(db, "index");
        assertThat(follower.catchUp()).isEqualTo(1);
        assertThat(files(follower, foreign, "any text")).isEmpty();
    }
}
