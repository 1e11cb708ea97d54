package io.spindle.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.spindle.api.ApiException;
import io.spindle.api.AssistantObject;
import io.spindle.api.Ids;
import io.spindle.api.Json;
import io.spindle.api.ListPage;
import io.spindle.api.ListQuery;
import io.spindle.api.MessageObject;
import io.spindle.api.StoredJson;
import io.spindle.api.ThreadObject;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link Store} must do, run against each database by a subclass. Each test gets an
 * empty database of its own; {@link #openDatabase} opens the same one again when called twice.
 */
abstract class StoreContract {
    static final String P1 = "project-one";
    static final String P2 = "project-two";

    Database db;
    Store store;

    /** Opens (migrating when new) this test's database; a second call opens the same data again. */
    protected abstract Database openDatabase();

    /** Runs after the store is closed, e.g. to drop the test's database. */
    protected void afterClose() {}

    @BeforeEach
    void openStore() {
        db = openDatabase();
        store = new JdbcStore(db, new VectorStoreRepository(db, InstantSource.system(), "test-model"), InstantSource.system());
    }

    @AfterEach
    void closeStore() {
        store.close();
        afterClose();
    }

    // ---- objects

    static Map<String, String> metadata(String... keysAndValues) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put(keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }

    /** An assistant with every kind of value the API stores: nested tool JSON, doubles, nulls, ordered metadata. */
    static AssistantObject assistant(String id, long createdAt) {
        ArrayNode tools = Json.array();
        tools.addObject().put("type", "code_interpreter");
        ObjectNode fileSearch = tools.addObject().put("type", "file_search").putObject("file_search");
        fileSearch.put("max_num_results", 7);
        fileSearch.putObject("ranking_options").put("ranker", "default_2024_08_21").put("score_threshold", 0.0).putNull("hybrid_search");
        ObjectNode function = tools.addObject().put("type", "function").putObject("function");
        function.put("name", "get_weather").put("description", "Weather, \"quoted\" & ünïcödé ✓ 𝄞");
        ObjectNode parameters = function.putObject("parameters");
        parameters.put("type", "object");
        ObjectNode properties = parameters.putObject("properties");
        properties.putObject("zeta").put("type", "number").put("minimum", 1.0).put("maximum", 2).put("multipleOf", 0.25);
        properties.putObject("alpha").put("type", "array").putObject("items").put("type", "string").putArray("enum").add("b").add("a");
        parameters.putArray("required").add("zeta").add("alpha");
        parameters.put("additionalProperties", false);
        function.put("strict", true);
        ObjectNode resources = Json.object();
        resources.putObject("code_interpreter").putArray("file_ids").add("file-abc");
        resources.putObject("file_search").putArray("vector_store_ids").add("vs_0123456789abcdef0123456789abcdef");
        ObjectNode format = Json.object().put("type", "json_schema");
        format.putObject("json_schema").put("name", "out").put("strict", true).putObject("schema").put("type", "object");
        return new AssistantObject(id, createdAt, "Name " + id, null, "gpt-4o", "Be helpful.\nTwo lines.", tools,
                1.0, 1.0, null, resources, metadata("zebra", "1", "apple", "2", "mango", "3"), format);
    }

    static AssistantObject assistant(long createdAt) {
        return assistant(Ids.assistant(), createdAt);
    }

    static ThreadObject thread(long createdAt) {
        ObjectNode resources = Json.object();
        resources.putObject("code_interpreter").putArray("file_ids");
        return new ThreadObject(Ids.thread(), createdAt, metadata("b", "x", "a", "y"), resources);
    }

    static MessageObject message(String threadId, String runId, long createdAt, String text) {
        ArrayNode content = Json.array();
        ObjectNode part = content.addObject().put("type", "text");
        part.putObject("text").put("value", text).putArray("annotations");
        ArrayNode attachments = Json.array();
        ObjectNode attachment = attachments.addObject().put("file_id", "file-xyz");
        attachment.putArray("tools").addObject().put("type", "code_interpreter");
        return new MessageObject(Ids.message(), createdAt, runId == null ? null : Ids.assistant(), threadId, runId,
                "completed", null, null, createdAt, runId == null ? "user" : "assistant", content, attachments,
                metadata("k", text));
    }

    static <T> List<String> ids(ListPage<T> page, Function<T, String> id) {
        return page.data().stream().map(id).toList();
    }

    static ListQuery asc(int limit, String after, String before) {
        return new ListQuery(limit, true, after, before);
    }

    static ListQuery desc(int limit, String after, String before) {
        return new ListQuery(limit, false, after, before);
    }

    // ---- assistants

    @Test
    void assistantJsonRoundTripsExactly() {
        AssistantObject a = assistant(1_700_000_000L);
        store.insertAssistant(P1, a, Optional.empty());

        AssistantObject read = store.assistant(P1, a.id()).orElseThrow();

        assertThat(Json.write(read)).isEqualTo(Json.write(a));
        assertThat(read).isEqualTo(a);
        String json = Json.write(read);
        assertThat(json).startsWith("{\"id\":\"" + a.id() + "\",\"object\":\"assistant\",\"created_at\":1700000000,");
        assertThat(json).contains("\"top_p\":1.0,\"temperature\":1.0,\"reasoning_effort\":null");
        assertThat(json).contains("\"metadata\":{\"zebra\":\"1\",\"apple\":\"2\",\"mango\":\"3\"}");
        assertThat(json).contains("\"zeta\":{\"type\":\"number\",\"minimum\":1.0,\"maximum\":2,\"multipleOf\":0.25}");
        assertThat(read.tools().get(1).at("/file_search/ranking_options/score_threshold").isDouble()).isTrue();
        assertThat(read.tools().get(2).at("/function/parameters/properties/zeta/maximum").isIntegralNumber()).isTrue();
    }

    @Test
    void assistantKeepsNullsAndFractionalSamplingValues() {
        AssistantObject full = assistant(5);
        AssistantObject a = new AssistantObject(full.id(), 5, null, null, "gpt-4o-mini", null, Json.array(),
                0.1, 1.999, "low", Json.object(), Map.of(), TextNode.valueOf("auto"));
        store.insertAssistant(P1, a, Optional.empty());

        AssistantObject read = store.assistant(P1, a.id()).orElseThrow();

        assertThat(Json.write(read)).isEqualTo(Json.write(a))
                .contains("\"name\":null,\"description\":null")
                .contains("\"top_p\":0.1,\"temperature\":1.999,\"reasoning_effort\":\"low\"")
                .endsWith("\"metadata\":{},\"response_format\":\"auto\"}");
    }

    @Test
    void assistantUpdateReplacesTheStoredBody() {
        AssistantObject a = assistant(10);
        store.insertAssistant(P1, a, Optional.empty());
        AssistantObject changed = new AssistantObject(a.id(), a.createdAt(), "renamed", "now described", "gpt-4.1",
                null, Json.array(), 0.5, 0.0, "high", Json.object(), metadata("new", "yes"), TextNode.valueOf("auto"));

        assertThat(store.updateAssistant(P1, changed, Optional.empty())).isTrue();

        assertThat(Json.write(store.assistant(P1, a.id()).orElseThrow())).isEqualTo(Json.write(changed));
        assertThat(store.assistants(P1, desc(20, null, null)).data()).hasSize(1);
    }

    @Test
    void updatingOrDeletingAMissingAssistantReturnsFalse() {
        AssistantObject never = assistant(1);
        assertThat(store.updateAssistant(P1, never, Optional.empty())).isFalse();
        assertThat(store.deleteAssistant(P1, never.id())).isFalse();
        assertThat(store.assistant(P1, never.id())).isEmpty();
    }

    @Test
    void deletedAssistantIsGoneAndOthersStay() {
        AssistantObject a = assistant(1);
        AssistantObject b = assistant(2);
        store.insertAssistant(P1, a, Optional.empty());
        store.insertAssistant(P1, b, Optional.empty());

        assertThat(store.deleteAssistant(P1, a.id())).isTrue();

        assertThat(store.assistant(P1, a.id())).isEmpty();
        assertThat(store.deleteAssistant(P1, a.id())).isFalse();
        assertThat(store.updateAssistant(P1, a, Optional.empty())).isFalse();
        assertThat(ids(store.assistants(P1, asc(20, null, null)), AssistantObject::id)).containsExactly(b.id());
        assertThat(store.assistant(P1, b.id())).isPresent();
    }

    @Test
    void duplicateIdIsRejected() {
        AssistantObject a = assistant(1);
        store.insertAssistant(P1, a, Optional.empty());
        AssistantObject again = new AssistantObject(a.id(), 2, "other", null, "m", null, Json.array(), 1.0, 1.0,
                null, Json.object(), Map.of(), TextNode.valueOf("auto"));

        assertThatThrownBy(() -> store.insertAssistant(P1, again, Optional.empty())).isInstanceOf(StoreException.class);
        assertThatThrownBy(() -> store.insertAssistant(P2, again, Optional.empty())).isInstanceOf(StoreException.class);
        assertThat(Json.write(store.assistant(P1, a.id()).orElseThrow())).isEqualTo(Json.write(a));
        assertThat(store.assistant(P2, a.id())).isEmpty();
    }

    // ---- threads and messages

    @Test
    void threadIsStoredWithItsInitialMessagesInOrder() {
        ThreadObject t = thread(100);
        List<MessageObject> initial = List.of(message(t.id(), null, 100, "first"),
                message(t.id(), null, 100, "second"), message(t.id(), null, 100, "third"));

        store.insertThread(P1, t, Optional.empty(), initial);

        assertThat(Json.write(store.thread(P1, t.id()).orElseThrow())).isEqualTo(Json.write(t));
        ListPage<StoredJson> page = store.messages(P1, t.id(), null, asc(20, null, null));
        assertThat(page.data()).extracting(Json::write).containsExactlyElementsOf(initial.stream().map(Json::write).toList());
        for (MessageObject m : initial) {
            assertThat(Json.write(store.message(P1, t.id(), m.id()).orElseThrow())).isEqualTo(Json.write(m));
        }
    }

    @Test
    void threadWithoutMessagesHasAnEmptyMessageList() {
        ThreadObject t = thread(1);
        store.insertThread(P1, t, Optional.empty(), List.of());

        ListPage<StoredJson> page = store.messages(P1, t.id(), null, desc(20, null, null));

        assertThat(page.data()).isEmpty();
        assertThat(page.firstId()).isNull();
        assertThat(page.lastId()).isNull();
        assertThat(page.hasMore()).isFalse();
        assertThat(store.thread(P1, t.id())).isPresent();
    }

    @Test
    void threadInsertIsOneTransaction() {
        ThreadObject existing = thread(1);
        MessageObject taken = message(existing.id(), null, 1, "taken");
        store.insertThread(P1, existing, Optional.empty(), List.of(taken));
        ThreadObject t = thread(2);
        MessageObject fresh = message(t.id(), null, 2, "fresh");
        MessageObject clash = new MessageObject(taken.id(), 2, null, t.id(), null, "completed", null, null, 2L, "user",
                fresh.content(), fresh.attachments(), Map.of());

        assertThatThrownBy(() -> store.insertThread(P1, t, Optional.empty(), List.of(fresh, clash))).isInstanceOf(StoreException.class);

        assertThat(store.thread(P1, t.id())).isEmpty();
        assertThat(store.threadExists(P1, t.id())).isFalse();
        assertThat(store.message(P1, t.id(), fresh.id())).isEmpty();
        assertThat(store.messages(P1, t.id(), null, asc(20, null, null)).data()).isEmpty();
        assertThat(Json.write(store.message(P1, existing.id(), taken.id()).orElseThrow())).isEqualTo(Json.write(taken));
        // The failed transaction left the store usable.
        store.insertThread(P1, t, Optional.empty(), List.of(fresh));
        assertThat(store.message(P1, t.id(), fresh.id())).isPresent();
    }

    @Test
    void threadUpdateReplacesTheStoredBody() {
        ThreadObject t = thread(1);
        store.insertThread(P1, t, Optional.empty(), List.of());
        ThreadObject changed = new ThreadObject(t.id(), t.createdAt(), metadata("only", "this"), Json.object());

        assertThat(store.updateThread(P1, changed, Optional.empty())).isTrue();

        assertThat(Json.write(store.thread(P1, t.id()).orElseThrow())).isEqualTo(Json.write(changed))
                .endsWith("\"metadata\":{\"only\":\"this\"},\"tool_resources\":{}}");
        assertThat(store.updateThread(P1, thread(1), Optional.empty())).isFalse();
    }

    @Test
    void aThreadDeletedAfterItsRouteFoundItTakesNoNewMessage() {
        ThreadObject t = thread(1);
        store.insertThread(P1, t, Optional.empty(), List.of());
        assertThat(store.deleteThread(P1, t.id())).isTrue();

        // the route checked the thread before the delete committed; the write itself must not leave an orphan row
        assertThatThrownBy(() -> store.insertMessage(P1, message(t.id(), null, 2, "late")))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.kind()).isEqualTo(ApiException.Kind.NOT_FOUND));
        assertThat(store.threadMessages(P1, t.id())).isEmpty();
    }

    @Test
    void deleteThreadRemovesItsMessagesOnly() {
        ThreadObject t = thread(1);
        ThreadObject other = thread(1);
        MessageObject m1 = message(t.id(), null, 1, "one");
        MessageObject m2 = message(t.id(), null, 2, "two");
        MessageObject kept = message(other.id(), null, 1, "kept");
        store.insertThread(P1, t, Optional.empty(), List.of(m1));
        store.insertMessage(P1, m2);
        store.insertThread(P1, other, Optional.empty(), List.of(kept));

        assertThat(store.deleteThread(P1, t.id())).isTrue();

        assertThat(store.thread(P1, t.id())).isEmpty();
        assertThat(store.message(P1, t.id(), m1.id())).isEmpty();
        assertThat(store.message(P1, t.id(), m2.id())).isEmpty();
        assertThat(store.messages(P1, t.id(), null, asc(100, null, null)).data()).isEmpty();
        assertThat(store.deleteThread(P1, t.id())).isFalse();
        assertThat(store.thread(P1, other.id())).isPresent();
        assertThat(ids(store.messages(P1, other.id(), null, asc(100, null, null)), StoredJson::id)).containsExactly(kept.id());
        // The deleted messages' ids are free again: nothing of them is left behind.
        store.insertThread(P1, thread(3), Optional.empty(), List.of());
        MessageObject reused = new MessageObject(m1.id(), 3, null, other.id(), null, "completed", null, null, 3L, "user",
                m1.content(), m1.attachments(), Map.of());
        store.insertMessage(P1, reused);
        assertThat(store.message(P1, other.id(), m1.id())).isPresent();
    }

    @Test
    void messageInsertGetUpdateDelete() {
        ThreadObject t = thread(1);
        store.insertThread(P1, t, Optional.empty(), List.of());
        MessageObject m = message(t.id(), "run_abc", 7, "hello \u0000 \"world\" \\ é 𝄞");
        store.insertMessage(P1, m);

        assertThat(Json.write(store.message(P1, t.id(), m.id()).orElseThrow())).isEqualTo(Json.write(m));

        MessageObject changed = m.withMetadata(metadata("z", "1", "a", "2"));
        assertThat(store.updateMessage(P1, changed)).isTrue();
        assertThat(Json.write(store.message(P1, t.id(), m.id()).orElseThrow())).isEqualTo(Json.write(changed))
                .contains("\"metadata\":{\"z\":\"1\",\"a\":\"2\"}");

        assertThat(store.deleteMessage(P1, t.id(), m.id())).isTrue();
        assertThat(store.message(P1, t.id(), m.id())).isEmpty();
        assertThat(store.deleteMessage(P1, t.id(), m.id())).isFalse();
        assertThat(store.updateMessage(P1, changed)).isFalse();
        assertThat(store.thread(P1, t.id())).isPresent();
    }

    @Test
    void messageIsOnlyFoundInItsOwnThread() {
        ThreadObject t = thread(1);
        ThreadObject other = thread(1);
        store.insertThread(P1, t, Optional.empty(), List.of());
        store.insertThread(P1, other, Optional.empty(), List.of());
        MessageObject m = message(t.id(), null, 1, "mine");
        store.insertMessage(P1, m);
        MessageObject movedToOther = new MessageObject(m.id(), 1, null, other.id(), null, "completed", null, null, 1L,
                "user", m.content(), m.attachments(), metadata("moved", "yes"));

        assertThat(store.message(P1, other.id(), m.id())).isEmpty();
        assertThat(store.updateMessage(P1, movedToOther)).isFalse();
        assertThat(store.deleteMessage(P1, other.id(), m.id())).isFalse();
        assertThat(store.messages(P1, other.id(), null, asc(20, null, null)).data()).isEmpty();
        assertThat(Json.write(store.message(P1, t.id(), m.id()).orElseThrow())).isEqualTo(Json.write(m));
    }

    // ---- project scoping

    @Test
    void anotherProjectsAssistantsAreInvisible() {
        AssistantObject a = assistant(1);
        store.insertAssistant(P1, a, Optional.empty());
        AssistantObject mine = assistant(2);
        store.insertAssistant(P2, mine, Optional.empty());

        assertThat(store.assistant(P2, a.id())).isEmpty();
        assertThat(store.updateAssistant(P2, new AssistantObject(a.id(), 1, "hijacked", null, "m", null, Json.array(),
                1.0, 1.0, null, Json.object(), Map.of(), TextNode.valueOf("auto")), Optional.empty())).isFalse();
        assertThat(store.deleteAssistant(P2, a.id())).isFalse();
        assertThat(ids(store.assistants(P2, asc(100, null, null)), AssistantObject::id)).containsExactly(mine.id());
        assertThat(ids(store.assistants(P1, asc(100, null, null)), AssistantObject::id)).containsExactly(a.id());
        assertThat(store.assistants("project-three", desc(100, null, null)).data()).isEmpty();
        assertInvalidCursor(() -> store.assistants(P2, asc(20, a.id(), null)), "after");
        assertInvalidCursor(() -> store.assistants(P2, asc(20, null, a.id())), "before");
        assertThat(Json.write(store.assistant(P1, a.id()).orElseThrow())).isEqualTo(Json.write(a));
    }

    @Test
    void anotherProjectsThreadsAndMessagesAreInvisible() {
        ThreadObject t = thread(1);
        MessageObject m = message(t.id(), null, 1, "secret");
        MessageObject r = message(t.id(), "run_1", 2, "from a run");
        store.insertThread(P1, t, Optional.empty(), List.of(m, r));

        assertThat(store.thread(P2, t.id())).isEmpty();
        assertThat(store.threadExists(P2, t.id())).isFalse();
        assertThat(store.threadExists(P1, t.id())).isTrue();
        assertThat(store.updateThread(P2, new ThreadObject(t.id(), 1, metadata("x", "y"), Json.object()), Optional.empty())).isFalse();
        assertThat(store.message(P2, t.id(), m.id())).isEmpty();
        assertThat(store.updateMessage(P2, m.withMetadata(metadata("x", "y")))).isFalse();
        assertThat(store.deleteMessage(P2, t.id(), m.id())).isFalse();
        assertThat(store.messages(P2, t.id(), null, asc(100, null, null)).data()).isEmpty();
        assertThat(store.messages(P2, t.id(), "run_1", asc(100, null, null)).data()).isEmpty();
        assertInvalidCursor(() -> store.messages(P2, t.id(), null, asc(20, m.id(), null)), "after");
        assertThat(store.deleteThread(P2, t.id())).isFalse();
        // Another project may even add messages under the same thread id: they stay apart.
        MessageObject intruder = message(t.id(), null, 3, "intruder");
        store.insertMessage(P2, intruder);
        assertThat(store.deleteThread(P2, t.id())).isFalse();

        assertThat(Json.write(store.thread(P1, t.id()).orElseThrow())).isEqualTo(Json.write(t));
        assertThat(ids(store.messages(P1, t.id(), null, asc(100, null, null)), StoredJson::id))
                .containsExactly(m.id(), r.id());
        assertThat(Json.write(store.message(P1, t.id(), m.id()).orElseThrow())).isEqualTo(Json.write(m));
        assertThat(store.deleteThread(P1, t.id())).isTrue();
        assertThat(store.message(P2, t.id(), intruder.id())).isPresent();
    }

    // ---- pagination

    /** Inserted out of time order, with ties: the list order is (created_at, insertion). */
    private List<String> assistantsInListOrder() {
        long[] createdAt = {200, 100, 100, 150, 100, 300, 150, 100};
        List<AssistantObject> inserted = new ArrayList<>();
        for (long at : createdAt) {
            AssistantObject a = assistant(at);
            store.insertAssistant(P1, a, Optional.empty());
            inserted.add(a);
        }
        store.insertAssistant(P2, assistant(120), Optional.empty());
        // Expected ascending order: 100s in insertion order, then 150s, 200, 300.
        return List.of(inserted.get(1).id(), inserted.get(2).id(), inserted.get(4).id(), inserted.get(7).id(),
                inserted.get(3).id(), inserted.get(6).id(), inserted.get(0).id(), inserted.get(5).id());
    }

    private List<String> assistantIds(ListQuery q) {
        return ids(store.assistants(P1, q), AssistantObject::id);
    }

    @Test
    void listsOrderByCreatedAtThenInsertion() {
        List<String> ascending = assistantsInListOrder();

        assertThat(assistantIds(asc(100, null, null))).containsExactlyElementsOf(ascending);
        assertThat(assistantIds(desc(100, null, null))).containsExactlyElementsOf(ascending.reversed());
        ListPage<AssistantObject> all = store.assistants(P1, desc(100, null, null));
        assertThat(all.firstId()).isEqualTo(ascending.getLast());
        assertThat(all.lastId()).isEqualTo(ascending.getFirst());
        assertThat(all.hasMore()).isFalse();
    }

    @Test
    void limitAndHasMore() {
        List<String> ascending = assistantsInListOrder();

        ListPage<AssistantObject> first = store.assistants(P1, asc(3, null, null));
        assertThat(ids(first, AssistantObject::id)).containsExactlyElementsOf(ascending.subList(0, 3));
        assertThat(first.firstId()).isEqualTo(ascending.get(0));
        assertThat(first.lastId()).isEqualTo(ascending.get(2));
        assertThat(first.hasMore()).isTrue();

        ListPage<AssistantObject> exact = store.assistants(P1, asc(8, null, null));
        assertThat(exact.data()).hasSize(8);
        assertThat(exact.hasMore()).isFalse();
        ListPage<AssistantObject> oneShort = store.assistants(P1, desc(7, null, null));
        assertThat(ids(oneShort, AssistantObject::id)).containsExactlyElementsOf(ascending.reversed().subList(0, 7));
        assertThat(oneShort.hasMore()).isTrue();
        ListPage<AssistantObject> single = store.assistants(P1, desc(1, null, null));
        assertThat(ids(single, AssistantObject::id)).containsExactly(ascending.getLast());
        assertThat(single.firstId()).isEqualTo(single.lastId()).isEqualTo(ascending.getLast());
    }

    @Test
    void afterCursorWalksEveryPageInBothOrders() {
        List<String> ascending = assistantsInListOrder();
        for (boolean asc : new boolean[] {true, false}) {
            List<String> expected = asc ? ascending : ascending.reversed();
            List<String> seen = new ArrayList<>();
            String after = null;
            int pages = 0;
            while (true) {
                ListPage<AssistantObject> page = store.assistants(P1, new ListQuery(3, asc, after, null));
                seen.addAll(ids(page, AssistantObject::id));
                pages++;
                assertThat(page.hasMore()).as("has_more of page %d", pages).isEqualTo(seen.size() < expected.size());
                if (!page.hasMore()) {
                    break;
                }
                after = page.lastId();
            }
            assertThat(pages).isEqualTo(3);
            assertThat(seen).as(asc ? "asc" : "desc").containsExactlyElementsOf(expected);
        }
    }

    @Test
    void beforeCursorReturnsTheItemsNearestIt() {
        List<String> ascending = assistantsInListOrder();

        ListPage<AssistantObject> ascPage = store.assistants(P1, asc(3, null, ascending.get(6)));
        assertThat(ids(ascPage, AssistantObject::id)).containsExactlyElementsOf(ascending.subList(3, 6));
        assertThat(ascPage.firstId()).isEqualTo(ascending.get(3));
        assertThat(ascPage.lastId()).isEqualTo(ascending.get(5));
        assertThat(ascPage.hasMore()).isTrue();

        List<String> descending = ascending.reversed();
        ListPage<AssistantObject> descPage = store.assistants(P1, desc(3, null, descending.get(5)));
        assertThat(ids(descPage, AssistantObject::id)).containsExactlyElementsOf(descending.subList(2, 5));
        assertThat(descPage.hasMore()).isTrue();

        ListPage<AssistantObject> short_ = store.assistants(P1, asc(5, null, ascending.get(2)));
        assertThat(ids(short_, AssistantObject::id)).containsExactlyElementsOf(ascending.subList(0, 2));
        assertThat(short_.hasMore()).isFalse();
    }

    @Test
    void beforeCursorWalksBackToTheStart() {
        List<String> ascending = assistantsInListOrder();
        List<String> seen = new ArrayList<>();
        String before = ascending.getLast();
        seen.add(before);
        while (true) {
            ListPage<AssistantObject> page = store.assistants(P1, asc(3, null, before));
            seen.addAll(0, ids(page, AssistantObject::id));
            if (!page.hasMore()) {
                break;
            }
            before = page.firstId();
        }
        assertThat(seen).containsExactlyElementsOf(ascending);
    }

    @Test
    void afterAndBeforeTogetherBoundThePage() {
        List<String> ascending = assistantsInListOrder();

        ListPage<AssistantObject> window = store.assistants(P1, asc(2, ascending.get(1), ascending.get(6)));
        assertThat(ids(window, AssistantObject::id)).containsExactlyElementsOf(ascending.subList(2, 4));
        assertThat(window.hasMore()).isTrue();

        ListPage<AssistantObject> whole = store.assistants(P1, asc(10, ascending.get(1), ascending.get(6)));
        assertThat(ids(whole, AssistantObject::id)).containsExactlyElementsOf(ascending.subList(2, 6));
        assertThat(whole.hasMore()).isFalse();

        List<String> descending = ascending.reversed();
        ListPage<AssistantObject> descWindow = store.assistants(P1, desc(10, descending.get(0), descending.get(3)));
        assertThat(ids(descWindow, AssistantObject::id)).containsExactlyElementsOf(descending.subList(1, 3));
    }

    @Test
    void pagePastTheEndIsEmpty() {
        List<String> ascending = assistantsInListOrder();

        for (ListQuery q : List.of(asc(20, ascending.getLast(), null), desc(20, ascending.getFirst(), null),
                asc(20, null, ascending.getFirst()), desc(20, null, ascending.getLast()))) {
            ListPage<AssistantObject> page = store.assistants(P1, q);
            assertThat(page.data()).as("%s", q).isEmpty();
            assertThat(page.firstId()).as("%s", q).isNull();
            assertThat(page.lastId()).as("%s", q).isNull();
            assertThat(page.hasMore()).as("%s", q).isFalse();
        }
        assertThat(Json.write(store.assistants(P1, asc(20, ascending.getLast(), null))))
                .isEqualTo("{\"object\":\"list\",\"data\":[],\"first_id\":null,\"last_id\":null,\"has_more\":false}");
    }

    @Test
    void unknownCursorIsAnInvalidRequest() {
        List<String> ascending = assistantsInListOrder();
        String unknown = Ids.assistant();

        assertInvalidCursor(() -> store.assistants(P1, asc(20, unknown, null)), "after");
        assertInvalidCursor(() -> store.assistants(P1, desc(20, null, unknown)), "before");
        assertInvalidCursor(() -> store.assistants(P1, asc(20, ascending.get(0), unknown)), "before");
        assertInvalidCursor(() -> store.assistants(P2, asc(20, ascending.get(0), null)), "after");
    }

    @Test
    void deletedObjectsStillWorkAsCursors() {
        List<String> ascending = assistantsInListOrder();
        // The loop apps write to empty a list: read a page, delete it, read the page after its last id.
        List<String> deleted = new ArrayList<>();
        String after = null;
        while (true) {
            ListPage<AssistantObject> page = store.assistants(P1, asc(4, after, null));
            if (page.data().isEmpty()) {
                break;
            }
            for (AssistantObject a : page.data()) {
                assertThat(store.deleteAssistant(P1, a.id())).isTrue();
                deleted.add(a.id());
            }
            after = page.lastId();
        }
        assertThat(deleted).containsExactlyElementsOf(ascending);
        assertInvalidCursor(() -> store.assistants(P2, asc(20, ascending.get(0), null)), "after");

        ThreadObject t = thread(1);
        MessageObject first = message(t.id(), null, 1, "first");
        MessageObject second = message(t.id(), null, 1, "second");
        store.insertThread(P1, t, Optional.empty(), List.of(first, second));
        assertThat(store.deleteMessage(P1, t.id(), first.id())).isTrue();
        assertThat(ids(store.messages(P1, t.id(), null, asc(20, first.id(), null)), StoredJson::id)).containsExactly(second.id());
    }

    static void assertInvalidCursor(Runnable list, String param) {
        assertThatThrownBy(list::run)
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ApiException.Kind.INVALID_REQUEST);
                    assertThat(e.param()).isEqualTo(param);
                    assertThat(e.code()).isEqualTo("invalid_value");
                    assertThat(e.getMessage()).contains("'" + param + "'");
                });
    }

    @Test
    void messagesPageLikeAssistantsAndStayInTheirThread() {
        ThreadObject t = thread(50);
        List<MessageObject> initial = List.of(message(t.id(), null, 50, "i1"), message(t.id(), null, 50, "i2"));
        store.insertThread(P1, t, Optional.empty(), initial);
        ThreadObject other = thread(50);
        MessageObject elsewhere = message(other.id(), null, 60, "elsewhere");
        store.insertThread(P1, other, Optional.empty(), List.of(elsewhere));
        MessageObject late = message(t.id(), null, 70, "late");
        MessageObject early = message(t.id(), null, 40, "early");
        MessageObject tie = message(t.id(), null, 50, "tie");
        store.insertMessage(P1, late);
        store.insertMessage(P1, early);
        store.insertMessage(P1, tie);
        List<String> ascending = List.of(early.id(), initial.get(0).id(), initial.get(1).id(), tie.id(), late.id());

        assertThat(ids(store.messages(P1, t.id(), null, asc(20, null, null)), StoredJson::id)).containsExactlyElementsOf(ascending);
        assertThat(ids(store.messages(P1, t.id(), null, desc(20, null, null)), StoredJson::id)).containsExactlyElementsOf(ascending.reversed());
        ListPage<StoredJson> page = store.messages(P1, t.id(), null, desc(2, ascending.get(3), null));
        assertThat(ids(page, StoredJson::id)).containsExactly(ascending.get(2), ascending.get(1));
        assertThat(page.hasMore()).isTrue();
        ListPage<StoredJson> nearest = store.messages(P1, t.id(), null, asc(2, null, ascending.get(4)));
        assertThat(ids(nearest, StoredJson::id)).containsExactly(ascending.get(2), ascending.get(3));
        assertThat(nearest.hasMore()).isTrue();
        ListPage<StoredJson> end = store.messages(P1, t.id(), null, asc(2, ascending.getLast(), null));
        assertThat(end.data()).isEmpty();
        assertThat(end.firstId()).isNull();
        assertThat(end.lastId()).isNull();
        assertThat(end.hasMore()).isFalse();

        assertInvalidCursor(() -> store.messages(P1, t.id(), null, asc(20, elsewhere.id(), null)), "after");
        assertInvalidCursor(() -> store.messages(P1, t.id(), null, asc(20, null, elsewhere.id())), "before");
        assertInvalidCursor(() -> store.messages(P1, t.id(), null, asc(20, Ids.message(), null)), "after");
    }

    @Test
    void runIdFiltersMessages() {
        ThreadObject t = thread(1);
        MessageObject user = message(t.id(), null, 1, "question");
        store.insertThread(P1, t, Optional.empty(), List.of(user));
        MessageObject run1a = message(t.id(), "run_one", 2, "answer a");
        MessageObject run2 = message(t.id(), "run_two", 2, "other run");
        MessageObject run1b = message(t.id(), "run_one", 3, "answer b");
        MessageObject run1c = message(t.id(), "run_one", 3, "answer c");
        for (MessageObject m : List.of(run1a, run2, run1b, run1c)) {
            store.insertMessage(P1, m);
        }

        assertThat(ids(store.messages(P1, t.id(), "run_one", asc(20, null, null)), StoredJson::id))
                .containsExactly(run1a.id(), run1b.id(), run1c.id());
        assertThat(ids(store.messages(P1, t.id(), "run_two", desc(20, null, null)), StoredJson::id))
                .containsExactly(run2.id());
        assertThat(store.messages(P1, t.id(), "run_none", desc(20, null, null)).data()).isEmpty();
        assertThat(ids(store.messages(P1, t.id(), null, asc(20, null, null)), StoredJson::id))
                .containsExactly(user.id(), run1a.id(), run2.id(), run1b.id(), run1c.id());
        ListPage<StoredJson> page = store.messages(P1, t.id(), "run_one", desc(1, run1c.id(), null));
        assertThat(ids(page, StoredJson::id)).containsExactly(run1b.id());
        assertThat(page.hasMore()).isTrue();
        assertThat(ids(store.messages(P1, t.id(), "run_one", asc(20, run1a.id(), null)), StoredJson::id))
                .containsExactly(run1b.id(), run1c.id());
        // A cursor must be an item of the filtered list.
        assertInvalidCursor(() -> store.messages(P1, t.id(), "run_one", asc(20, run2.id(), null)), "after");
        assertInvalidCursor(() -> store.messages(P1, t.id(), "run_one", asc(20, null, user.id())), "before");
    }

    // ---- health and lifecycle

    @Test
    void pingIsTrueWhileOpenAndFalseAfterClose() {
        assertThat(store.ping()).isTrue();
        store.close();
        assertThat(store.ping()).isFalse();
    }

    @Test
    void reopeningKeepsDataAndDoesNotMigrateAgain() {
        AssistantObject a = assistant(1);
        ThreadObject t = thread(2);
        MessageObject m = message(t.id(), null, 2, "kept");
        store.insertAssistant(P1, a, Optional.empty());
        store.insertThread(P1, t, Optional.empty(), List.of(m));
        List<String> history = migrationHistory(db);
        assertThat(history).isNotEmpty();
        store.close();

        db = openDatabase();
        store = new JdbcStore(db, new VectorStoreRepository(db, InstantSource.system(), "test-model"), InstantSource.system());

        assertThat(migrationHistory(db)).isEqualTo(history);
        assertThat(Json.write(store.assistant(P1, a.id()).orElseThrow())).isEqualTo(Json.write(a));
        assertThat(Json.write(store.thread(P1, t.id()).orElseThrow())).isEqualTo(Json.write(t));
        assertThat(Json.write(store.message(P1, t.id(), m.id()).orElseThrow())).isEqualTo(Json.write(m));
        // Insertion order continues after the reopen.
        AssistantObject later = assistant(1);
        store.insertAssistant(P1, later, Optional.empty());
        assertThat(ids(store.assistants(P1, asc(20, null, null)), AssistantObject::id)).containsExactly(a.id(), later.id());
    }

    /** Flyway's record of applied migrations: one line per migration, with when it ran. */
    static List<String> migrationHistory(Database db) {
        return db.read(c -> {
            List<String> rows = new ArrayList<>();
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT installed_rank, version, script, checksum, installed_on, success "
                         + "FROM flyway_schema_history ORDER BY installed_rank")) {
                while (rs.next()) {
                    rows.add(rs.getInt(1) + " " + rs.getString(2) + " " + rs.getString(3) + " " + rs.getString(4) + " "
                            + rs.getString(5) + " " + rs.getBoolean(6));
                }
            }
            return rows;
        });
    }
}
