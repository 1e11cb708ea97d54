package io.spindle.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.spindle.api.Json;
import io.spindle.api.MessageDeltaObject;
import io.spindle.api.RunObject;
import io.spindle.store.OtherNodes;
import io.spindle.store.RunChange;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Where a run's events go: straight to this node's streams, through another node's channel, or nowhere; and the order
 * a stream shows when this node's events and other nodes' arrive by different ways. The other nodes are a recording
 * double; ClusterTest runs the same over PostgreSQL with real nodes.
 */
class RunEventsTest {
    private static final String HERE = "node-a";
    private static final String THERE = "node-b";
    private static final RunObject RUN = new RunObject("run_1", 0, "asst_1", "thread_1", RunObject.IN_PROGRESS, null, null, null,
            null, null, null, null, "gpt-4o", "", Json.array(), Json.object(), Map.of(), null, null, null, null, null, null, null,
            null, null, null, true);

    private final RecordingNodes others = new RecordingNodes();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final RunEvents events = new RunEvents(others, HERE, null, timer);

    @AfterEach
    void stop() {
        timer.shutdownNow();
    }

    @Test
    void deltasOfATurnStreamedHereGoStraightToTheStreamAndNothingIsSent() throws Exception {
        RunEvents.Subscription stream = events.subscribe(RUN.id(), true);
        events.publish("p", RUN, HERE, new RunEvents.Event("thread.run.created", RUN));
        events.publish("p", RUN, HERE, new RunEvents.Event("thread.run.queued", RUN));
        events.delta("p", RUN, HERE, delta("Hello"));

        assertThat(names(stream.next(100))).containsExactly("thread.run.created", "thread.run.queued", "thread.message.delta");
        assertThat(others.sent).isEmpty();
        assertThat(events.watched(RUN.id(), HERE)).isTrue();
        stream.close();
        assertThat(events.watched(RUN.id(), HERE)).as("nobody streams it here any more").isFalse();
    }

    @Test
    void aTurnNobodyStreamsIsNotWatchedAndSendsNothing() {
        assertThat(events.watched(RUN.id(), null)).isFalse();
        events.publish("p", RUN, null, RunEvents.error("gone"));
        events.delta("p", RUN, null, delta("Hello"));
        events.flushDeltas();
        assertThat(others.sent).isEmpty();
    }

    @Test
    void deltasForAStreamOnAnotherNodeGoToThatNodesChannelAloneInOneMessage() {
        assertThat(events.watched(RUN.id(), THERE)).isTrue();
        events.delta("p", RUN, THERE, delta("Hel"));
        events.delta("p", RUN, THERE, delta("lo"));
        events.flushDeltas();

        assertThat(others.sent).hasSize(1);
        Sent sent = others.sent.get(0);
        assertThat(sent.channel()).isEqualTo(RunEvents.channelOf(THERE)).isNotEqualTo(RunEvents.channelOf(HERE));
        JsonNode batch = Json.read(sent.payload(), JsonNode.class).path("batch");
        assertThat(batch).hasSize(2);
        assertThat(batch.get(1).path("data").path("delta").path("content").get(0).path("text").path("value").asText()).isEqualTo("lo");
    }

    @Test
    void channelsAreIdentifiersListenTakesAsTheyAre() {
        for (String node : List.of("vm:8080", "Spindle Node #2", "x".repeat(300))) {
            assertThat(RunEvents.channelOf(node)).matches("[a-z0-9_]{1,63}");
        }
        assertThat(RunEvents.channelOf("a")).isNotEqualTo(RunEvents.channelOf("b"));
    }

    /**
     * Tool outputs submitted here with a stream, the run executing on another node: an event of the earlier turn that
     * reaches this node late is dropped (it came before the marker), and the executor's first event, should it overtake
     * this node's own {@code queued}, waits for it.
     */
    @Test
    void aStreamOfSubmittedOutputsDropsLateEventsOfTheEarlierTurnAndKeepsItsOwnOrder() throws Exception {
        RunEvents.Subscription stream = events.subscribe(RUN.id(), false);
        String marker = Json.read(others.sent.get(0).payload(), JsonNode.class).path("marker").asText();
        assertThat(others.sent.get(0).channel()).isEqualTo(RunEvents.channelOf(HERE));

        others.receive(RunEvents.channelOf(HERE), batchOf("thread.run.requires_action"));
        others.receive(RunEvents.channelOf(HERE), Json.object().put("run", RUN.id()).put("marker", marker).toString());
        others.receive(RunEvents.channelOf(HERE), batchOf("thread.run.in_progress"));
        assertThat(stream.next(50)).as("the executor's event waits for this node's queued").isEmpty();

        events.publish("p", RUN, HERE, new RunEvents.Event("thread.run.step.completed", Json.object()));
        events.publish("p", RUN, HERE, new RunEvents.Event("thread.run.queued", RUN));
        assertThat(names(stream.next(100))).containsExactly("thread.run.step.completed", "thread.run.queued", "thread.run.in_progress");
        stream.close();
    }

    private static String batchOf(String name) {
        return "{\"batch\":[" + Json.object().put("project", "p").put("thread", RUN.threadId()).put("run", RUN.id()).put("name", name)
                .set("data", Json.tree(RUN)) + "]}";
    }

    private static RunEvents.Event delta(String text) {
        return new RunEvents.Event("thread.message.delta", MessageDeltaObject.text("msg_1", 0, text, null));
    }

    private static List<String> names(List<RunEvents.Event> events) {
        return events.stream().map(RunEvents.Event::name).toList();
    }

    private record Sent(String channel, String payload) {}

    /** Other nodes that record what this node sends them, and let the test play what they send. */
    private static final class RecordingNodes implements OtherNodes {
        final List<Sent> sent = new ArrayList<>();
        final Map<String, Consumer<String>> handlers = new HashMap<>();

        void receive(String channel, String payload) {
            handlers.get(channel).accept(payload);
        }

        @Override
        public boolean exist() {
            return true;
        }

        @Override
        public void on(String channel, Consumer<String> handler) {
            handlers.put(channel, handler);
        }

        @Override
        public void onGap(Runnable action) {
        }

        @Override
        public void start() {
        }

        @Override
        public synchronized void send(String channel, String payload) {
            sent.add(new Sent(channel, payload));
        }

        @Override
        public void sendWith(RunChange change, String channel, String payload) {
            send(channel, payload);
        }

        @Override
        public void close() {
        }
    }
}
