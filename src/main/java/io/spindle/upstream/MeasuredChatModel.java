package io.spindle.upstream;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindle.api.Usage;
import io.spindle.metrics.Metrics;
import io.spindle.metrics.ModelCall;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;

/**
 * The model calls of runs, measured: how long until the first token and until the end, the tokens the endpoint
 * reported, and the outcome, by the route the model takes ({@link ModelRouter}) and the model.
 */
public final class MeasuredChatModel implements ChatModel {
    private final ModelRouter router;
    private final Metrics metrics;

    public MeasuredChatModel(ModelRouter router, Metrics metrics) {
        this.router = router;
        this.metrics = metrics;
    }

    @Override
    public ChatResult complete(ObjectNode body, ChatListener listener, Cancellation cancellation) throws UpstreamException {
        String model = body.path("model").asText();
        String route = router.route(model).map(ModelRoute::name).orElse("none");
        FirstToken first = new FirstToken(listener, System.nanoTime());
        String outcome = "error";
        Usage usage = null;
        try {
            ChatResult result = router.complete(body, first, cancellation);
            outcome = "ok";
            usage = result.usage();
            return result;
        } catch (UpstreamException e) {
            outcome = e.kind().name().toLowerCase(Locale.ROOT);
            throw e;
        } finally {
            metrics.modelCall(new ModelCall(route, model, outcome, first.after(), first.since(),
                    usage == null ? 0 : usage.promptTokens(), usage == null ? 0 : usage.completionTokens()));
        }
    }

    /** Passes the answer on, noting when its first piece (text or a function call) arrived. */
    private static final class FirstToken implements ChatListener {
        private final ChatListener listener;
        private final long startNanos;
        private volatile long firstNanos;

        FirstToken(ChatListener listener, long startNanos) {
            this.listener = listener;
            this.startNanos = startNanos;
        }

        private void arrived() {
            if (firstNanos == 0) {
                firstNanos = System.nanoTime();
            }
        }

        Optional<Duration> after() {
            long at = firstNanos;
            return at == 0 ? Optional.empty() : Optional.of(Duration.ofNanos(at - startNanos));
        }

        Duration since() {
            return Duration.ofNanos(System.nanoTime() - startNanos);
        }

        @Override
        public void text(String delta) {
            arrived();
            listener.text(delta);
        }

        @Override
        public void toolCallStarted(int index, String name) {
            arrived();
            listener.toolCallStarted(index, name);
        }

        @Override
        public void toolCallArguments(int index, String delta) {
            listener.toolCallArguments(index, delta);
        }
    }
}
