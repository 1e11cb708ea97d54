package io.spindle.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.openai.client.OpenAIClient;
import com.openai.core.MultipartField;
import com.openai.models.files.FileCreateParams;
import com.openai.models.files.FilePurpose;
import com.openai.models.vectorstores.VectorStore;
import com.openai.models.vectorstores.VectorStoreCreateParams;
import com.openai.models.vectorstores.VectorStoreSearchParams;
import com.openai.models.vectorstores.VectorStoreSearchResponse;
import io.spindle.testing.TestServer;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A vector store used across three nodes on one PostgreSQL database, through the official SDK only: files uploaded
 * and attached on node A are ingested for real (the ONNX embedder, on whichever node claims them), node B sees the
 * store completed, and searches on B and C, whose indexes follow the database, find each file's chunk.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ClusterSearchSdkTest {
    /** How long ingestion may take on a loaded machine. */
    private static final Duration INGESTED = Duration.ofSeconds(120);
    private static final String BREAD = "Knead the dough for ten minutes, let it rise in a warm place for an hour, "
            + "then bake the loaf until its crust is brown.";
    private static final String ROCKETS = "The rocket engine burns liquid oxygen and kerosene to lift the first stage "
            + "and its payload towards orbit.";

    @Test
    void filesAttachedOnOneNodeAreIngestedAndFoundByTheOthers() throws Exception {
        try (TestServer cluster = TestServer.start(TestServer.Storage.CLUSTER)) {
            List<OpenAIClient> nodes = cluster.nodeSdks();
            OpenAIClient a = nodes.get(0);
            OpenAIClient b = nodes.get(1);
            OpenAIClient c = nodes.get(2);

            String bread = upload(a, "bread.txt", BREAD);
            String rockets = upload(a, "rockets.txt", ROCKETS);
            VectorStore store = a.vectorStores().create(VectorStoreCreateParams.builder().name("kitchen and space").build());
            for (String file : List.of(bread, rockets)) {
                a.vectorStores().files().create(store.id(),
                        com.openai.models.vectorstores.files.FileCreateParams.builder().fileId(file).build());
            }

            VectorStore done = awaitIngested(b, store.id());
            assertThat(done.status()).isEqualTo(VectorStore.Status.COMPLETED);
            assertThat(done.fileCounts().completed()).isEqualTo(2);
            assertThat(done.fileCounts().failed()).isZero();

            for (OpenAIClient node : List.of(b, c)) {
                List<VectorStoreSearchResponse> breadHits = search(node, store.id(), "how long should bread dough rise before baking");
                assertThat(breadHits).hasSize(2);
                assertThat(breadHits.getFirst().fileId()).isEqualTo(bread);
                assertThat(breadHits.getFirst().filename()).isEqualTo("bread.txt");
                assertThat(breadHits.getFirst().content()).singleElement()
                        .satisfies(part -> assertThat(part.text()).isEqualTo(BREAD));

                List<VectorStoreSearchResponse> rocketHits = search(node, store.id(), "what fuel does the rocket engine burn");
                assertThat(rocketHits.getFirst().fileId()).isEqualTo(rockets);
                assertThat(rocketHits.getFirst().filename()).isEqualTo("rockets.txt");
                assertThat(rocketHits.getFirst().content()).singleElement()
                        .satisfies(part -> assertThat(part.text()).isEqualTo(ROCKETS));
            }
        }
    }

    private static String upload(OpenAIClient node, String name, String text) {
        return node.files().create(FileCreateParams.builder()
                .file(MultipartField.<InputStream>builder()
                        .value(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8))).filename(name).build())
                .purpose(FilePurpose.ASSISTANTS)
                .build()).id();
    }

    private static List<VectorStoreSearchResponse> search(OpenAIClient node, String store, String query) {
        return node.vectorStores().search(VectorStoreSearchParams.builder().vectorStoreId(store).query(query).build()).data();
    }

    /** Retrieves the store every 100 ms until none of its files is in progress. */
    private static VectorStore awaitIngested(OpenAIClient node, String store) throws InterruptedException {
        long until = System.nanoTime() + INGESTED.toNanos();
        VectorStore last = null;
        while (System.nanoTime() < until) {
            last = node.vectorStores().retrieve(store);
            if (last.fileCounts().inProgress() == 0) {
                return last;
            }
            Thread.sleep(100);
        }
        return fail("still ingesting after %s: %s", INGESTED, last);
    }
}
