package io.spindle.upstream;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Where the runs of some models go, and how to talk to that endpoint: one entry of the models file, or the catch-all
 * route made from {@code SPINDLE_UPSTREAM_URL}.
 *
 * @param name           the route's name, for logs, errors and {@code /v1/models} ({@code owned_by})
 * @param models         the model names it serves: exact names, or patterns with {@code *} ({@code "llama*"}, {@code "*"})
 * @param kind           the endpoint's protocol
 * @param baseUrl        the endpoint's base URL ({@code …/v1} for OpenAI-compatible servers; the resource URL for Azure)
 * @param apiKey         the key sent to it, if any
 * @param upstreamModel  the model name the endpoint serves, when it differs from the assistant's ({@code gpt-4o} →
 *                       {@code llama3.1:70b}); for Azure, the deployment name; empty: the run's model as it is
 * @param apiVersion     Azure's {@code api-version} query parameter
 * @param contextTokens  the model's context window, in tokens
 * @param maxConcurrent  at most this many calls at once to the endpoint (more wait their turn); 0 for no limit
 * @param timeout        how long a call may go without a byte from the endpoint
 * @param retries        how often a failed call is retried before anything of its answer was handed on
 * @param images         what to do with images in a prompt
 * @param reasoning      true: a reasoning model ({@code reasoning_effort} and {@code max_completion_tokens} sent);
 *                       false: not one ({@code max_tokens}, no {@code reasoning_effort}); empty: as the run says
 * @param developerRole  instructions go as the {@code developer} role rather than {@code system}
 * @param sampling       whether {@code temperature} and {@code top_p} are sent (reasoning models reject them)
 */
public record ModelRoute(String name, List<String> models, Kind kind, URI baseUrl, Optional<String> apiKey,
                         Optional<String> upstreamModel, Optional<String> apiVersion, int contextTokens, int maxConcurrent,
                         Duration timeout, int retries, Images images, Optional<Boolean> reasoning, boolean developerRole,
                         boolean sampling) {

    /** The endpoint's protocol. */
    public enum Kind {
        /** OpenAI's {@code POST {base}/chat/completions}, bearer key: OpenAI, vLLM, Ollama, llama.cpp, LM Studio… */
        OPENAI,
        /** Azure OpenAI: {@code POST {base}/openai/deployments/{deployment}/chat/completions?api-version=…}, {@code api-key}. */
        AZURE
    }

    /** What a route does with images in a prompt. */
    public enum Images {
        /** Sent to the model. */
        ACCEPT,
        /** The run fails with {@code invalid_prompt}, saying the model takes no images. */
        REFUSE,
        /** Each image becomes a short text placeholder. */
        PLACEHOLDER
    }

    public ModelRoute {
        models = List.copyOf(models);
    }
}
