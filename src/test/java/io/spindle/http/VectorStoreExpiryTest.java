package io.spindle.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.spindle.Settings;
import io.spindle.Spindle;
import io.spindle.testing.Api;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A vector store's expiry anchored at {@code last_active_at}, on a server whose clock the test moves: a search is a use
 * that moves the anchor, and past {@code expires_at} the store is expired at once (before the minutely sweep marks
 * it): it reads {@code expired}, and attaching files or searching answers 400.
 */
class VectorStoreExpiryTest {
    /** How long ingestion may take on a loaded machine. */
    private static final Duration INGESTED = Duration.ofSeconds(120);
    private static final long DAY = 86_400;

    @Test
    void aSearchKeepsTheStoreAliveAndPastItsExpiryItIsExpiredEverywhere() throws Exception {
        // whole seconds, so that the store's times are exactly the clock's
        AtomicReference<Instant> now = new AtomicReference<>(Instant.ofEpochSecond(Instant.now().getEpochSecond()));
        InstantSource clock = now::get;
        Map<String, String> env = Map.of("SPINDLE_PORT", "0", "SPINDLE_DATA_DIR", Files.createTempDirectory("spindle-vs-expiry").toString());
        try (Spindle spindle = Spindle.start(Settings.fromEnvironment(env), clock)) {
            Api api = new Api("http://127.0.0.1:" + spindle.port(), null);
            String file = api.uploadFile("assistants", "looms.txt", "A loom weaves thread into cloth; the shuttle carries the weft across the warp.".getBytes(StandardCharsets.UTF_8));
            String other = api.uploadFile("assistants", "spindles.txt", "A spindle twists fibres into thread.".getBytes(StandardCharsets.UTF_8));
            JsonNode created = api.post("/v1/vector_stores", Map.of("file_ids", List.of(file),
                    "expires_after", Map.of("anchor", "last_active_at", "days", 1))).ok();
            String store = created.get("id").asText();
            long createdAt = now.get().getEpochSecond();
            assertThat(created.get("last_active_at").asLong()).isEqualTo(createdAt);
            assertThat(created.get("expires_at").asLong()).isEqualTo(createdAt + DAY);
            api.await("/v1/vector_stores/" + store, s -> s.get("status").asText().equals("completed"), INGESTED);

            // a search an hour later moves last_active_at, and expires_at with it
            now.set(now.get().plus(Duration.ofHours(1)));
            JsonNode found = api.post("/v1/vector_stores/" + store + "/search", Map.of("query", "how does a loom weave")).ok();
            assertThat(found.get("data").get(0).get("file_id").asText()).isEqualTo(file);
            long searchedAt = now.get().getEpochSecond();
            JsonNode afterSearch = api.get("/v1/vector_stores/" + store).ok();
            assertThat(afterSearch.get("last_active_at").asLong()).isEqualTo(searchedAt);
            assertThat(afterSearch.get("expires_at").asLong()).isEqualTo(searchedAt + DAY);
            assertThat(afterSearch.get("status").asText()).isEqualTo("completed");

            // a day after that search: expired at once, though the sweep (every minute) has not marked it yet
            now.set(now.get().plus(Duration.ofSeconds(DAY)));
            JsonNode expired = api.get("/v1/vector_stores/" + store).ok();
            assertThat(expired.get("status").asText()).isEqualTo("expired");
            assertThat(expired.get("last_active_at").asLong()).isEqualTo(searchedAt);
            assertThat(expired.get("expires_at").asLong()).isEqualTo(searchedAt + DAY);
            assertThat(expired.get("expires_after").toString()).isEqualTo("{\"anchor\":\"last_active_at\",\"days\":1}");

            String message = "Vector store '" + store + "' has expired";
            assertThat(api.post("/v1/vector_stores/" + store + "/files", Map.of("file_id", other)).error(400).get("message").asText())
                    .isEqualTo(message);
            assertThat(api.post("/v1/vector_stores/" + store + "/file_batches", Map.of("file_ids", List.of(other))).error(400)
                    .get("message").asText()).isEqualTo(message);
            assertThat(api.post("/v1/vector_stores/" + store + "/search", Map.of("query", "loom")).error(400).get("message").asText())
                    .isEqualTo(message);
            // neither the refused search nor the refused attachments brought it back
            JsonNode still = api.get("/v1/vector_stores/" + store).ok();
            assertThat(still.get("status").asText()).isEqualTo("expired");
            assertThat(still.get("last_active_at").asLong()).isEqualTo(searchedAt);
            assertThat(still.get("file_counts").get("total").asLong()).isEqualTo(1);
        }
    }


}
