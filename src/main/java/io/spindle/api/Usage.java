package io.spindle.api;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * Token usage of a run step or run. Keys as the live API sent them, including its spelling
 * {@code prompt_token_details} (singular "token").
 */
@JsonPropertyOrder({"prompt_tokens", "completion_tokens", "total_tokens", "prompt_token_details", "completion_tokens_details"})
public record Usage(long promptTokens, long completionTokens, long totalTokens,
                    PromptDetails promptTokenDetails, CompletionDetails completionTokensDetails) {

    public record PromptDetails(long cachedTokens) {}

    public record CompletionDetails(long reasoningTokens) {}

    public static final Usage ZERO = of(0, 0, 0, 0);

    public static Usage of(long prompt, long completion, long cached, long reasoning) {
        return new Usage(prompt, completion, prompt + completion, new PromptDetails(cached), new CompletionDetails(reasoning));
    }

    public Usage plus(Usage other) {
        if (other == null) {
            return this;
        }
        return of(promptTokens + other.promptTokens, completionTokens + other.completionTokens,
                cached() + other.cached(), reasoning() + other.reasoning());
    }

    private long cached() {
        return promptTokenDetails == null ? 0 : promptTokenDetails.cachedTokens();
    }

    private long reasoning() {
        return completionTokensDetails == null ? 0 : completionTokensDetails.reasoningTokens();
    }
}
