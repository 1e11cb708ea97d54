package io.spindle.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A fast, scripted OpenAI-compatible {@code POST /v1/chat/completions} (streaming SSE only), on
 * virtual threads. The model name is the script:
 * <ul>
 *   <li>{@code bench-t<tokens>-r<tokens per second, 0 = no pause>-l<ms before the first token>}:
 *       a text answer of that many tokens; every token is {@code T<System.nanoTime()>;}, written at
 *       the moment it is sent, so a client in the same process measures each token's delay.</li>
 *   <li>{@code bench-tools<n>}: one call of function {@code bench_fn} until the request carries
 *       {@code n} tool outputs, then a 5-token text answer.</li>
 *   <li>{@code bench-code}: calls {@code code_interpreter} with the last user message as the code, then, once the
 *       request carries its output, a 5-token text answer.</li>
 * </ul>
 */
final class ScriptedUpstream implements AutoCloseable {
    private static final Pattern TEXT = Pattern.compile("bench-t(\\d+)-r(\\d+)-l(\\d+)");
    private static final Pattern TOOLS = Pattern.compile("bench-tools(\\d+)");
    private static final Pattern HOLD = Pattern.compile("bench-hold-r(\\d+)");
    /** {@code bench-hold-r<rate>} answers stream tokens at that rate until this turns false (at most 10 minutes). */
    volatile boolean holding = true;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;

    ScriptedUpstream() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 8192);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/v1/chat/completions", this::handle);
        server.start();
    }

    String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            JsonNode body = JSON.readTree(ex.getRequestBody());
            String model = body.path("model").asText();
            ex.getResponseHeaders().set("Content-Type", "text/event-stream");
            ex.sendResponseHeaders(200, 0);
            OutputStream out = ex.getResponseBody();
            Matcher text = TEXT.matcher(model);
            Matcher tools = TOOLS.matcher(model);
            Matcher hold = HOLD.matcher(model);
            if (hold.matches()) {
                int rate = Integer.parseInt(hold.group(1));
                streamText(out, model, rate * 600, rate, 0);
            } else if (text.matches()) {
                streamText(out, model, Integer.parseInt(text.group(1)), Integer.parseInt(text.group(2)),
                        Integer.parseInt(text.group(3)));
            } else if (model.equals("bench-code")) {
                JsonNode messages = body.path("messages");
                int lastUser = -1;
                for (int i = 0; i < messages.size(); i++) {
                    if (messages.get(i).path("role").asText().equals("user")) lastUser = i;
                }
                boolean ran = false;
                for (int i = lastUser + 1; i < messages.size(); i++) {
                    ran |= messages.get(i).path("role").asText().equals("tool");
                }
                if (ran) {
                    streamText(out, model, 5, 0, 0);
                } else {
                    String arguments = JSON.createObjectNode().put("code", text(messages.path(lastUser).path("content"))).toString();
                    var chunk = JSON.createObjectNode().put("id", "chatcmpl-bench").put("object", "chat.completion.chunk")
                            .put("created", 0).put("model", model);
                    var delta = chunk.putArray("choices").addObject().put("index", 0).putNull("finish_reason").putObject("delta");
                    delta.put("role", "assistant").putNull("content");
                    var call = delta.putArray("tool_calls").addObject().put("index", 0).put("id", "call_upcode").put("type", "function");
                    call.putObject("function").put("name", "code_interpreter").put("arguments", arguments);
                    chunk(out, chunk.toString());
                    finish(out, model, "tool_calls", 10);
                }
            } else if (tools.matches()) {
                int outputs = 0;
                for (JsonNode m : body.path("messages")) {
                    if (m.path("role").asText().equals("tool")) outputs++;
                }
                if (outputs < Integer.parseInt(tools.group(1))) {
                    chunk(out, "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":\"" + model
                            + "\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,"
                            + "\"id\":\"call_up" + outputs + "\",\"type\":\"function\",\"function\":{\"name\":\"bench_fn\",\"arguments\":\"{\\\"n\\\":"
                            + outputs + "}\"}}]},\"finish_reason\":null}]}");
                    finish(out, model, "tool_calls", 10);
                } else {
                    streamText(out, model, 5, 0, 0);
                }
            } else {
                chunk(out, "{\"error\":{\"message\":\"unknown bench model " + model + "\"}}");
            }
        } catch (IOException | RuntimeException e) {
            // the client went away mid-answer (Spindle cancelled or stopped the run); nothing to answer
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A chat message's content: a string, or the text of its parts. */
    private static String text(JsonNode content) {
        if (content.isTextual()) return content.asText();
        StringBuilder text = new StringBuilder();
        for (JsonNode part : content) text.append(part.path("text").asText());
        return text.toString();
    }

    private void streamText(OutputStream out, String model, int tokens, int rate, int firstTokenMs)
            throws IOException, InterruptedException {
        String head = "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":\"" + model
                + "\",\"choices\":[{\"index\":0,\"delta\":{";
        chunk(out, head + "\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}");
        if (firstTokenMs > 0) Thread.sleep(firstTokenMs);
        long pauseNanos = rate > 0 ? 1_000_000_000L / rate : 0;
        long next = System.nanoTime();
        boolean held = model.startsWith("bench-hold");
        for (int i = 0; i < tokens; i++) {
            if (held && !holding) {
                tokens = i;
                break;
            }
            if (pauseNanos > 0 && i > 0) {
                next += pauseNanos;
                long wait = next - System.nanoTime();
                if (wait > 0) Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            }
            chunk(out, head + "\"content\":\"T" + System.nanoTime() + ";\"},\"finish_reason\":null}]}");
        }
        finish(out, model, "stop", tokens);
    }

    private static void finish(OutputStream out, String model, String reason, int completionTokens) throws IOException {
        chunk(out, "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":\"" + model
                + "\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"" + reason + "\"}]}");
        chunk(out, "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":\"" + model
                + "\",\"choices\":[],\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":" + completionTokens
                + ",\"total_tokens\":" + (20 + completionTokens) + "}}");
        out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static void chunk(OutputStream out, String json) throws IOException {
        out.write(("data: " + json + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
