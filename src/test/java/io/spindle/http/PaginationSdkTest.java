package io.spindle.http;

import static io.spindle.testing.SdkJson.json;
import static io.spindle.testing.SdkThreads.addMessages;
import static io.spindle.testing.SdkThreads.listTexts;
import static io.spindle.testing.SdkThreads.newestFirst;
import static io.spindle.testing.SdkThreads.oldestFirst;
import static io.spindle.testing.SdkThreads.texts;
import static io.spindle.testing.SdkThreads.threadWith;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.errors.BadRequestException;
import com.openai.models.beta.assistants.Assistant;
import com.openai.models.beta.assistants.AssistantCreateParams;
import com.openai.models.beta.assistants.AssistantListParams;
import com.openai.models.beta.threads.messages.Message;
import com.openai.models.beta.threads.messages.MessageListPage;
import com.openai.models.beta.threads.messages.MessageListParams;
import com.openai.services.blocking.beta.AssistantService;
import com.openai.services.blocking.beta.threads.MessageService;
import io.spindle.testing.EndToEnd;
import io.spindle.testing.SdkThreads;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/**
 * The list envelope and its cursors, on both list endpoints (assistants and messages): limit
 * bounds, default order, ties in created_at, empty pages after the last item, SDK auto-pagination.
 */
@SuppressWarnings("deprecation") // OpenAI deprecated the Assistants API, which is what Spindle serves
class PaginationSdkTest extends EndToEnd {
    private static final String EMPTY_PAGE = """
            {"object": "list", "data": [], "first_id": null, "last_id": null, "has_more": false}""";

    private MessageService messages() {
        return sdk().beta().threads().messages();
    }

    private AssistantService assistants() {
        return sdk().beta().assistants();
    }

    private List<String> createAssistants(int count) {
        return IntStream.range(0, count)
                .mapToObj(i -> assistants().create(AssistantCreateParams.builder().model("gpt-4o").name("a" + i).build()).id())
                .toList();
    }

    private static String[] numbered(String prefix, int count) {
        return IntStream.rangeClosed(1, count).mapToObj(i -> prefix + i).toArray(String[]::new);
    }

    @Test
    void limitAcceptsOneToOneHundred() {
        String threadId = threadWith(sdk(), numbered("m", 101));

        MessageListPage one = messages().list(threadId, MessageListParams.builder().limit(1).build());
        assertThat(texts(one.data())).containsExactly("m101");
        assertThat(one.hasMore()).contains(true);

        MessageListPage hundred = messages().list(threadId, MessageListParams.builder().limit(100).build());
        assertThat(hundred.data()).hasSize(100);
        assertThat(hundred.hasMore()).contains(true);

        assertThat(messages().list(threadId).data()).as("default limit").hasSize(20);
    }

    @Test
    void limitOutOfRangeIsABadRequest() {
        String threadId = threadWith(sdk(), "m1");

        assertLimitRejected(() -> messages().list(threadId, MessageListParams.builder().limit(101).build()),
                "integer above maximum value. Expected a value <= 100, but got 101 instead.", "integer_above_max_value");
        assertLimitRejected(() -> assistants().list(AssistantListParams.builder().limit(101).build()),
                "integer above maximum value. Expected a value <= 100, but got 101 instead.", "integer_above_max_value");
        assertLimitRejected(() -> assistants().list(AssistantListParams.builder().limit(0).build()),
                "integer below minimum value. Expected a value >= 1, but got 0 instead.", "integer_below_min_value");
    }

    @Test
    void defaultOrderIsNewestFirst() {
        List<String> created = createAssistants(3);

        List<String> listed = assistants().list().data().stream().map(Assistant::id).toList();

        assertThat(listed).startsWith(created.reversed().toArray(String[]::new));
        String threadId = threadWith(sdk());
        addMessages(sdk(), threadId, "first", "second", "third");
        assertThat(texts(messages().list(threadId).data())).containsExactly("third", "second", "first");
    }

    @Test
    void messagesCreatedInOneRequestKeepTheirInsertionOrder() {
        String threadId = threadWith(sdk(), numbered("t", 5));

        List<Message> ascending = messages().list(threadId, oldestFirst().build()).data();

        assertThat(ascending).extracting(Message::createdAt).containsOnly(ascending.getFirst().createdAt());
        assertThat(texts(ascending)).containsExactly("t1", "t2", "t3", "t4", "t5");
        assertThat(listTexts(sdk(), threadId, newestFirst().build())).containsExactly("t5", "t4", "t3", "t2", "t1");
        assertThat(listTexts(sdk(), threadId, oldestFirst().after(ascending.get(1).id()).limit(2).build()))
                .containsExactly("t3", "t4");
    }

    @Test
    void firstAndLastIdsNameTheEndsOfThePage() {
        String threadId = threadWith(sdk(), numbered("m", 3));
        List<Message> ascending = messages().list(threadId, oldestFirst().build()).data();

        JsonNode page = api().get("/v1/threads/" + threadId + "/messages?order=asc&limit=2").ok();

        assertThat(page.get("first_id").asText()).isEqualTo(ascending.get(0).id());
        assertThat(page.get("last_id").asText()).isEqualTo(ascending.get(1).id());
        assertThat(page.get("has_more").asBoolean()).isTrue();
    }

    @Test
    void afterTheLastMessageIsAnEmptyPage() {
        String threadId = threadWith(sdk(), numbered("m", 3));
        List<Message> ascending = messages().list(threadId, oldestFirst().build()).data();
        String path = "/v1/threads/" + threadId + "/messages";

        assertThat(api().get(path + "?order=asc&after=" + ascending.getLast().id()).ok()).isEqualTo(json(EMPTY_PAGE));
        assertThat(api().get(path + "?order=desc&after=" + ascending.getFirst().id()).ok()).isEqualTo(json(EMPTY_PAGE));
        assertThat(api().get(path + "?order=asc&before=" + ascending.getFirst().id()).ok()).isEqualTo(json(EMPTY_PAGE));
        assertThat(messages().list(threadId, oldestFirst().after(ascending.getLast().id()).build(), MAY_BE_EMPTY).data())
                .isEmpty();
    }

    @Test
    void afterTheLastAssistantIsAnEmptyPage() {
        createAssistants(2);
        List<Assistant> all = assistants().list(AssistantListParams.builder().limit(100).build()).data();
        assertThat(all).as("the whole list fits one page").hasSizeLessThan(100);

        assertThat(api().get("/v1/assistants?after=" + all.getLast().id()).ok()).isEqualTo(json(EMPTY_PAGE));
        assertThat(api().get("/v1/assistants?order=asc&after=" + all.getFirst().id()).ok()).isEqualTo(json(EMPTY_PAGE));
    }

    @Test
    void autoPagerVisitsEveryMessageOnceInBothOrders() {
        String threadId = threadWith(sdk());
        addMessages(sdk(), threadId, numbered("m", 7));

        List<String> ascending = messages().list(threadId, oldestFirst().limit(2).build())
                .autoPager().stream().map(SdkThreads::text).toList();
        List<String> descending = messages().list(threadId, newestFirst().limit(2).build())
                .autoPager().stream().map(SdkThreads::text).toList();

        List<String> inCreationOrder = List.of(numbered("m", 7));
        assertThat(ascending).isEqualTo(inCreationOrder);
        assertThat(descending).isEqualTo(inCreationOrder.reversed());
    }

    @Test
    void pagesOfTwoFollowTheAfterCursor() {
        String threadId = threadWith(sdk(), numbered("m", 5));

        MessageListPage page = messages().list(threadId, oldestFirst().limit(2).build());
        List<List<String>> pages = new ArrayList<>();
        List<Boolean> hasMore = new ArrayList<>();
        while (true) {
            pages.add(texts(page.data()));
            hasMore.add(page.hasMore().orElseThrow());
            if (!page.hasNextPage()) {
                break;
            }
            page = page.nextPage();
        }

        assertThat(pages).containsExactly(List.of("m1", "m2"), List.of("m3", "m4"), List.of("m5"));
        assertThat(hasMore).containsExactly(true, true, false);
    }

    @Test
    void autoPagerVisitsEveryAssistantOnce() {
        List<String> created = createAssistants(5);

        AssistantListParams.Builder oldestFirst = AssistantListParams.builder().order(AssistantListParams.Order.ASC);

        List<String> paged = assistants().list(oldestFirst.limit(2).build()).autoPager().stream().map(Assistant::id).toList();
        List<String> all = assistants().list(oldestFirst.limit(100).build()).data().stream().map(Assistant::id).toList();

        assertThat(all).as("the whole list fits one page").hasSizeLessThan(100);
        assertThat(paged).doesNotHaveDuplicates().isEqualTo(all);
        assertThat(paged).endsWith(created.toArray(String[]::new));
    }

    private static void assertLimitRejected(ThrowingCallable call, String problem, String code) {
        assertThatThrownBy(call)
                .isInstanceOfSatisfying(BadRequestException.class, e -> {
                    assertThat(e.param()).contains("limit");
                    assertThat(e.code()).contains(code);
                })
                .hasMessageContaining("Invalid 'limit': " + problem);
    }
}
