package io.spindle;

import io.spindle.upstream.ModelRoute;
import io.spindle.upstream.ModelRoutes;
import io.spindle.upstream.Redaction;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Every setting Spindle reads, in one place. Values come from environment variables; a bad value
 * stops start-up with one line naming the variable.
 */
public record Settings(
        String host,
        int port,
        Path dataDir,
        Optional<String> databaseUrl,
        int databasePoolSize,
        Duration databaseWait,
        Map<String, String> apiKeys,
        long maxBodyBytes,
        long maxFileBytes,
        String nodeId,
        Upstream upstream,
        ModelRoutes.Source models,
        Runs runs,
        int maxConcurrentIngestions,
        Web web,
        Embedding embedding,
        Sandboxing sandbox,
        Retention retention,
        MetricsAccess metrics,
        Telemetry telemetry) {

    /** The OpenAI-compatible model endpoint runs call: the catch-all route, and what the models file's routes default to. */
    public record Upstream(URI url, Optional<String> apiKey, Duration timeout, int retries, Duration retryBase, int contextTokens,
                           int maxLineBytes, int maxAnswerChars, int breakerFailures, Duration breakerCooldown) {}

    /** How runs are executed. */
    public record Runs(Duration expiry, int pollAfterMillis, int maxToolRounds, Duration lease, int maxConcurrent) {}

    /**
     * How the HTTP server guards itself. {@code corsOrigins} and {@code allowedHosts} hold the listed
     * entries beyond the loopback ones (always allowed); {@code "*"} allows any. Without a list, any
     * origin may call a server with API keys, and only loopback origins one without.
     */
    public record Web(Optional<List<String>> corsOrigins, List<String> allowedHosts, int maxConnections,
                      Duration readTimeout, Duration idleTimeout) {}

    /**
     * Where search embeddings come from: with no {@code url}, the bge-small model inside this process; with one, an
     * OpenAI-compatible {@code /embeddings} endpoint, which then needs {@code model} (and takes {@code dimensions}
     * when the vectors are to be shortened, or the model's size is not 1,536).
     */
    public record Embedding(Optional<URI> url, Optional<String> apiKey, Optional<String> model, Optional<Integer> dimensions) {}

    /**
     * code_interpreter's sandbox: whether to use one ({@code SPINDLE_SANDBOX=auto} probes bubblewrap at start), how long
     * an idle session lives, how many live at once, and what each may use.
     */
    public record Sandboxing(boolean enabled, Duration idle, int maxSessions, long memoryBytes, long diskBytes, Duration timeout) {}

    /**
     * What retention deletes for good (engine/Retention): threads idle this long, files unreferenced this long (each
     * off when empty), swept this often by one node of the cluster.
     */
    public record Retention(Optional<Duration> threadIdle, Optional<Duration> fileUnreferenced, Duration every) {}

    /**
     * How Spindle reports what it does: log lines as JSON objects or as text, and the {@code OTEL_*} variables, which
     * the OpenTelemetry SDK reads to configure traces (none of them set: no traces).
     */
    public record Telemetry(boolean jsonLogs, Map<String, String> otel) {}

    /** A documented environment variable; the list below feeds {@code --help} and the README table. */
    /** Who may read {@code GET /metrics} besides loopback clients: anyone ({@code open}), or callers with an admin key. */
    public record MetricsAccess(boolean open, Set<String> adminKeys) {}

    public record Variable(String name, String defaultValue, String description) {}

    public static final List<Variable> VARIABLES = List.of(
            new Variable("SPINDLE_HOST", "127.0.0.1", "Address to listen on. A non-loopback address requires SPINDLE_API_KEYS."),
            new Variable("SPINDLE_PORT", "8080", "Port to listen on."),
            new Variable("SPINDLE_LOG_FORMAT", "text", "`text`: one readable line per log event. `json`: one JSON object per line (time, level, logger, message, thrown, node, and request_id, project, thread_id, run_id, trace_id where known)."),
            new Variable("SPINDLE_DATA_DIR", "./spindle-data", "Directory for the SQLite database and stored blobs."),
            new Variable("SPINDLE_DATABASE_URL", "(unset)", "PostgreSQL URL (postgresql://user:pass@host:5432/db or jdbc:postgresql://...); switches storage from SQLite to PostgreSQL."),
            new Variable("SPINDLE_DATABASE_WAIT_MS", "5000", "How long an API request waits for a free PostgreSQL connection before answering 503 with Retry-After; runs and ingestion wait as long as it takes, and a node whose pool is that busy claims no new work."),
            new Variable("SPINDLE_DATABASE_POOL_SIZE", "32", "Most connections each node opens to PostgreSQL; an idle node keeps 2 (plus its listening one). SQLite uses 8."),
            new Variable("SPINDLE_API_KEYS", "(unset)", "Comma-separated `key` or `key:project` entries. Unset: no authentication (loopback only). A key without a project belongs to project `default`."),
            new Variable("SPINDLE_MODELS_FILE", "(unset)", "Path of the models file (JSON, or YAML when it ends in .yaml/.yml): which endpoint each model's runs go to (see Models). Re-read on SIGHUP. Unset: every run goes to SPINDLE_UPSTREAM_URL."),
            new Variable("SPINDLE_UPSTREAM_URL", "https://api.openai.com/v1", "Base URL of the OpenAI-compatible Chat Completions endpoint runs call: the catch-all route, for models the models file does not route. With a models file and this unset, there is no catch-all: runs of other models are refused."),
            new Variable("SPINDLE_UPSTREAM_API_KEY", "(unset; falls back to OPENAI_API_KEY)", "API key sent to the upstream model endpoint."),
            new Variable("SPINDLE_UPSTREAM_TIMEOUT_SECONDS", "120", "Seconds the model endpoint may stay silent (before its first byte or between chunks) before the call fails; the default of the models file's timeout_seconds."),
            new Variable("SPINDLE_UPSTREAM_RETRIES", "2", "Retries of a failed model call (429, 5xx, time-outs, resets), with exponential backoff; the default of the models file's retries."),
            new Variable("SPINDLE_UPSTREAM_RETRY_BASE_MS", "500", "First backoff delay in milliseconds; doubles per retry, at most 8 s."),
            new Variable("SPINDLE_UPSTREAM_MAX_LINE_BYTES", "1048576", "Longest line (one stream event, or a whole unstreamed answer) the model endpoint may send; a longer one fails the run with server_error."),
            new Variable("SPINDLE_MAX_ANSWER_CHARS", "1000000", "Most characters of one model answer Spindle takes; longer text ends the run incomplete, as a max_completion_tokens cut-off does (longer function calls fail it)."),
            new Variable("SPINDLE_UPSTREAM_BREAKER_FAILURES", "5", "Failed model calls in a row (server errors, refused keys, after retries) after which a route's endpoint is not called for SPINDLE_UPSTREAM_BREAKER_SECONDS: runs fail at once with server_error saying so. 0: never."),
            new Variable("SPINDLE_UPSTREAM_BREAKER_SECONDS", "30", "How long a failing route's endpoint is left alone; then one trial call decides whether it is called again."),
            new Variable("SPINDLE_CONTEXT_TOKENS", "128000", "Context window assumed for the model: truncation `auto` keeps prompts within it; the default of the models file's context_tokens."),
            new Variable("SPINDLE_RUN_EXPIRY_SECONDS", "600", "A run expires this many seconds after creation (expires_at = created_at + this)."),
            new Variable("SPINDLE_POLL_AFTER_MS", "250", "Sent as openai-poll-after-ms on run responses: how often SDK pollers ask again."),
            new Variable("SPINDLE_MAX_TOOL_ROUNDS", "50", "Most function-call rounds one run may take; past it the run fails."),
            new Variable("SPINDLE_LEASE_SECONDS", "30", "A node that stops heartbeating loses its runs to other nodes after this many seconds."),
            new Variable("SPINDLE_MAX_CONCURRENT_RUNS", "1000", "Runs one node executes at the same time; more wait in the queue. 0 makes an API-only node that executes none."),
            new Variable("SPINDLE_MAX_CONCURRENT_INGESTIONS", "2", "Files one node ingests into vector stores (text extraction, chunking, embedding) at the same time; more wait in the queue. 0 makes a node that ingests none."),
            new Variable("SPINDLE_THREAD_RETENTION_DAYS", "(unset)", "Deletes threads, with their messages, runs and steps, after this many days without a message, run or change (see Retention). Unset: kept for ever."),
            new Variable("SPINDLE_FILE_RETENTION_DAYS", "(unset)", "Deletes files, with their bytes, that nothing referred to (assistants, threads, messages, run steps, unexpired vector stores) for this many days (see Retention). Unset: kept for ever."),
            new Variable("SPINDLE_RETENTION_SWEEP_SECONDS", "3600", "How often retention looks for what to delete; one node of a cluster does it at a time."),
            new Variable("SPINDLE_NODE_ID", "(host name:port)", "This node's name in logs and leases; keep it stable across restarts so a node resumes its own runs at once."),
            new Variable("SPINDLE_METRICS_PUBLIC", "false", "`true`: GET /metrics answers anyone. Otherwise it answers loopback clients, and others only with an admin key."),
            new Variable("SPINDLE_ADMIN_KEYS", "(unset)", "Comma-separated keys that open GET /metrics to non-loopback clients (`Authorization: Bearer KEY`). They are not API keys: they open no project."),
            new Variable("SPINDLE_MAX_BODY_BYTES", "16777216", "Largest accepted JSON request body in bytes; larger bodies get 413. File uploads: SPINDLE_MAX_FILE_BYTES."),
            new Variable("SPINDLE_MAX_FILE_BYTES", "536870912", "Largest file accepted by POST /v1/files, in bytes; larger files get 413."),
            new Variable("SPINDLE_CORS_ORIGINS", "(unset)", "Comma-separated origins (e.g. `https://app.example.com`, `http://intranet:*` for any port, `*` for all) whose web pages may call the API, besides loopback origins (http(s)://localhost, 127.x.x.x, [::1], any port). Unset: any origin when SPINDLE_API_KEYS is set, else loopback origins only. A request from another origin gets 403."),
            new Variable("SPINDLE_ALLOWED_HOSTS", "(unset)", "Without SPINDLE_API_KEYS, only requests addressed (Host header) to localhost, 127.x.x.x or [::1] are answered, against DNS rebinding; this comma-separated list adds host names (`*`: any). Ignored when SPINDLE_API_KEYS is set."),
            new Variable("SPINDLE_MAX_CONNECTIONS", "10000", "Most client connections open at once; further ones wait in the listen backlog until one closes."),
            new Variable("SPINDLE_READ_TIMEOUT_SECONDS", "30", "A client must send its request headers within this many seconds of the request line, and keep its body coming with no pause this long; else the connection is closed."),
            new Variable("SPINDLE_IDLE_TIMEOUT_SECONDS", "60", "A connection with no request for this long (idle keep-alive, or a request line never finished) is closed."),
            new Variable("SPINDLE_EMBEDDING_URL", "(unset)", "Base URL of an OpenAI-compatible embeddings endpoint (`POST {url}/embeddings`) for vector stores. Unset: bge-small-en-v1.5 runs inside Spindle (no network). A vector store is searched only with the model its files were embedded with."),
            new Variable("SPINDLE_EMBEDDING_API_KEY", "(unset)", "API key sent to SPINDLE_EMBEDDING_URL."),
            new Variable("SPINDLE_EMBEDDING_MODEL", "(unset)", "Embedding model asked of SPINDLE_EMBEDDING_URL (e.g. `text-embedding-3-small`); required when that is set."),
            new Variable("SPINDLE_EMBEDDING_DIMENSIONS", "(unset)", "Size of the endpoint's vectors. Set: sent as `dimensions` (text-embedding-3 models shorten their vectors). Unset: the model's own size, 1536 assumed."),
            new Variable("SPINDLE_SANDBOX", "auto", "code_interpreter's Python sandbox: `auto` uses bubblewrap when it works here (`spindle sandbox-check` says why not), `off` never runs code."),
            new Variable("SPINDLE_SANDBOX_IDLE_MINUTES", "20", "A thread's Python session (its variables and /mnt/data) ends after this many idle minutes; it lives at most an hour in any case."),
            new Variable("SPINDLE_SANDBOX_MAX_SESSIONS", "20", "Most live Python sessions on one node; past it the longest-idle one ends, or the call fails when all are busy."),
            new Variable("SPINDLE_SANDBOX_MEMORY_MB", "1024", "Address space of each sandboxed process, in MiB; past it Python raises MemoryError."),
            new Variable("SPINDLE_SANDBOX_DISK_MB", "512", "Size of a session's /mnt/data (memory-backed), in MiB; also the largest file code may write."),
            new Variable("SPINDLE_SANDBOX_TIMEOUT_SECONDS", "120", "Wall-clock limit of one code_interpreter call; past it the cell is interrupted (variables kept), and the session restarted if that does not stop it."));

    public static final String DEFAULT_PROJECT = "default";

    /** Thrown for a setting that cannot be used; the message is the single line shown to the user. */
    public static final class Invalid extends RuntimeException {
        public Invalid(String message) {
            super(message);
        }
    }

    public static Settings fromEnvironment(Map<String, String> env) {
        String host = value(env, "SPINDLE_HOST").orElse("127.0.0.1");
        int port = intValue(env, "SPINDLE_PORT", 8080, 0, 65535);
        Path dataDir = Path.of(value(env, "SPINDLE_DATA_DIR").orElse("./spindle-data"));
        Optional<String> databaseUrl = value(env, "SPINDLE_DATABASE_URL");
        databaseUrl.ifPresent(Settings::checkDatabaseUrl);
        int poolSize = intValue(env, "SPINDLE_DATABASE_POOL_SIZE", 32, 2, 10_000);
        Duration databaseWait = Duration.ofMillis(intValue(env, "SPINDLE_DATABASE_WAIT_MS", 5_000, 250, 600_000));
        Map<String, String> apiKeys = apiKeys(value(env, "SPINDLE_API_KEYS").orElse(""));
        if (apiKeys.isEmpty() && !isLoopback(host)) {
            throw new Invalid("SPINDLE_API_KEYS must be set to listen on the non-loopback address SPINDLE_HOST=" + host);
        }
        long maxBody = intValue(env, "SPINDLE_MAX_BODY_BYTES", 16 * 1024 * 1024, 1024, Integer.MAX_VALUE);
        long maxFile = longValue(env, "SPINDLE_MAX_FILE_BYTES", 512L * 1024 * 1024, 1, 1L << 40);
        String nodeId = value(env, "SPINDLE_NODE_ID").orElseGet(() -> hostName() + ":" + port);
        Upstream upstream = new Upstream(
                upstreamUrl(value(env, "SPINDLE_UPSTREAM_URL").orElse("https://api.openai.com/v1")),
                value(env, "SPINDLE_UPSTREAM_API_KEY").or(() -> value(env, "OPENAI_API_KEY")),
                Duration.ofSeconds(intValue(env, "SPINDLE_UPSTREAM_TIMEOUT_SECONDS", 120, 1, 86_400)),
                intValue(env, "SPINDLE_UPSTREAM_RETRIES", 2, 0, 10),
                Duration.ofMillis(intValue(env, "SPINDLE_UPSTREAM_RETRY_BASE_MS", 500, 0, 60_000)),
                intValue(env, "SPINDLE_CONTEXT_TOKENS", 128_000, 1_000, 100_000_000),
                intValue(env, "SPINDLE_UPSTREAM_MAX_LINE_BYTES", 1024 * 1024, 4_096, 1024 * 1024 * 1024),
                intValue(env, "SPINDLE_MAX_ANSWER_CHARS", 1_000_000, 1_000, 100_000_000),
                intValue(env, "SPINDLE_UPSTREAM_BREAKER_FAILURES", 5, 0, 1_000),
                Duration.ofSeconds(intValue(env, "SPINDLE_UPSTREAM_BREAKER_SECONDS", 30, 1, 86_400)));
        Optional<Path> modelsFile = value(env, "SPINDLE_MODELS_FILE").map(Path::of);
        ModelRoutes.Defaults routeDefaults = new ModelRoutes.Defaults(upstream.timeout(), upstream.retries(), upstream.contextTokens());
        // with a models file, SPINDLE_UPSTREAM_URL is the catch-all only when set: unknown models are refused otherwise
        Optional<ModelRoute> catchAll = modelsFile.isEmpty() || value(env, "SPINDLE_UPSTREAM_URL").isPresent()
                ? Optional.of(ModelRoutes.catchAll(upstream.url(), upstream.apiKey(), routeDefaults))
                : Optional.empty();
        ModelRoutes.Source models = new ModelRoutes.Source(modelsFile, routeDefaults, env::get, catchAll);
        Runs runs = new Runs(
                Duration.ofSeconds(intValue(env, "SPINDLE_RUN_EXPIRY_SECONDS", 600, 1, 31_536_000)),
                intValue(env, "SPINDLE_POLL_AFTER_MS", 250, 0, 60_000),
                intValue(env, "SPINDLE_MAX_TOOL_ROUNDS", 50, 1, 10_000),
                Duration.ofSeconds(intValue(env, "SPINDLE_LEASE_SECONDS", 30, 2, 3_600)),
                intValue(env, "SPINDLE_MAX_CONCURRENT_RUNS", 1000, 0, 100_000));
        int maxConcurrentIngestions = intValue(env, "SPINDLE_MAX_CONCURRENT_INGESTIONS", 2, 0, 1_000);
        Web web = new Web(
                value(env, "SPINDLE_CORS_ORIGINS").map(Settings::list).map(Settings::checkOrigins),
                value(env, "SPINDLE_ALLOWED_HOSTS").map(Settings::list).map(Settings::checkHosts).orElse(List.of()),
                intValue(env, "SPINDLE_MAX_CONNECTIONS", 10_000, 1, 1_000_000),
                Duration.ofSeconds(intValue(env, "SPINDLE_READ_TIMEOUT_SECONDS", 30, 1, 3_600)),
                Duration.ofSeconds(intValue(env, "SPINDLE_IDLE_TIMEOUT_SECONDS", 60, 1, 86_400)));
        return new Settings(host, port, dataDir, databaseUrl, poolSize, databaseWait, apiKeys, maxBody, maxFile, nodeId, upstream, models, runs,
                maxConcurrentIngestions, web, embedding(env), sandboxing(env), retention(env),
                metricsAccess(env), telemetry(env));
    }

    private static MetricsAccess metricsAccess(Map<String, String> env) {
        String open = value(env, "SPINDLE_METRICS_PUBLIC").orElse("false");
        if (!open.equals("true") && !open.equals("false")) {
            throw new Invalid("SPINDLE_METRICS_PUBLIC must be true or false, got '" + open + "'");
        }
        return new MetricsAccess(open.equals("true"), Set.copyOf(value(env, "SPINDLE_ADMIN_KEYS").map(Settings::list).orElse(List.of())));
    }

    private static Telemetry telemetry(Map<String, String> env) {
        String format = value(env, "SPINDLE_LOG_FORMAT").orElse("text");
        if (!format.equals("text") && !format.equals("json")) {
            throw new Invalid("SPINDLE_LOG_FORMAT must be text or json, got '" + format + "'");
        }
        Map<String, String> otel = new LinkedHashMap<>();
        env.forEach((name, v) -> {
            if (name.startsWith("OTEL_") && v != null && !v.isBlank()) {
                otel.put(name, v.trim());
            }
        });
        return new Telemetry(format.equals("json"), Map.copyOf(otel));
    }

    /** The secrets no log line may show: the clients' keys and the keys Spindle sends to the model and embedding endpoints. */
    public Set<String> secrets() {
        Set<String> secrets = new HashSet<>(apiKeys.keySet());
        upstream.apiKey().ifPresent(secrets::add);
        embedding.apiKey().ifPresent(secrets::add);
        return Set.copyOf(secrets);
    }

    public boolean authRequired() {
        return !apiKeys.isEmpty();
    }

    private static Optional<String> value(Map<String, String> env, String name) {
        String v = env.get(name);
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.trim());
    }

    private static int intValue(Map<String, String> env, String name, int fallback, int min, int max) {
        return (int) longValue(env, name, fallback, min, max);
    }

    private static long longValue(Map<String, String> env, String name, long fallback, long min, long max) {
        Optional<String> raw = value(env, name);
        if (raw.isEmpty()) {
            return fallback;
        }
        try {
            long v = Long.parseLong(raw.get());
            if (v < min || v > max) {
                throw new Invalid(name + " must be between " + min + " and " + max + ", got " + v);
            }
            return v;
        } catch (NumberFormatException e) {
            throw new Invalid(name + " must be a whole number, got '" + raw.get() + "'");
        }
    }

    /** The non-empty entries of a comma-separated value, trimmed. */
    private static List<String> list(String raw) {
        return java.util.Arrays.stream(raw.split(",")).map(String::trim).filter(e -> !e.isEmpty()).toList();
    }

    private static List<String> checkOrigins(List<String> origins) {
        for (String origin : origins) {
            if (!origin.equals("*") && !origin.matches("(?i)https?://[^/?#@\\s]+/?")) {
                throw new Invalid("SPINDLE_CORS_ORIGINS entries are origins like https://app.example.com or http://intranet:* "
                        + "(or *), got '" + origin + "'");
            }
        }
        return origins;
    }

    private static List<String> checkHosts(List<String> hosts) {
        for (String host : hosts) {
            if (!host.equals("*") && !host.matches("[A-Za-z0-9._\\-]+|\\[[0-9A-Fa-f:.]+\\]")) {
                throw new Invalid("SPINDLE_ALLOWED_HOSTS entries are host names without scheme or port, like spindle.internal "
                        + "(or *), got '" + host + "'");
            }
        }
        return hosts;
    }

    private static Map<String, String> apiKeys(String raw) {
        Map<String, String> keys = new LinkedHashMap<>();
        for (String entry : raw.split(",")) {
            String e = entry.trim();
            if (e.isEmpty()) {
                continue;
            }
            int colon = e.indexOf(':');
            String key = colon < 0 ? e : e.substring(0, colon).trim();
            String project = colon < 0 ? DEFAULT_PROJECT : e.substring(colon + 1).trim();
            if (key.isEmpty() || project.isEmpty()) {
                throw new Invalid("SPINDLE_API_KEYS has an empty key or project in entry '" + e + "'");
            }
            keys.put(key, project);
        }
        return Map.copyOf(keys);
    }

    private static void checkDatabaseUrl(String url) {
        if (!url.startsWith("postgresql://") && !url.startsWith("postgres://") && !url.startsWith("jdbc:postgresql://")) {
            throw new Invalid("SPINDLE_DATABASE_URL must start with postgresql:// or jdbc:postgresql://");
        }
        if (url.startsWith("jdbc:")) {
            return;
        }
        // Database.postgres takes this form apart. The message leaves the URL out: it may hold a password.
        String expected = "SPINDLE_DATABASE_URL is not a valid URL; expected postgresql://user:pass@host:5432/db";
        try {
            if (URI.create(url).getHost() == null) {
                throw new Invalid(expected);
            }
        } catch (IllegalArgumentException e) {
            throw new Invalid(expected);
        }
    }

    private static URI upstreamUrl(String raw) {
        try {
            URI uri = URI.create(raw);
            if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
                throw new Invalid("SPINDLE_UPSTREAM_URL must be an http(s) URL, got '" + Redaction.patterns(raw) + "'");
            }
            return uri;
        } catch (IllegalArgumentException e) {
            // The message leaves the value out: it may hold a password.
            throw new Invalid("SPINDLE_UPSTREAM_URL is not a valid URL; expected e.g. https://api.openai.com/v1");
        }
    }

    private static Embedding embedding(Map<String, String> env) {
        Optional<URI> url = value(env, "SPINDLE_EMBEDDING_URL").map(Settings::embeddingUrl);
        Optional<String> model = value(env, "SPINDLE_EMBEDDING_MODEL");
        if (url.isPresent() && model.isEmpty()) {
            throw new Invalid("SPINDLE_EMBEDDING_MODEL must be set when SPINDLE_EMBEDDING_URL is (the embedding model to ask for, "
                    + "e.g. text-embedding-3-small)");
        }
        Optional<Integer> dimensions = value(env, "SPINDLE_EMBEDDING_DIMENSIONS").isPresent()
                ? Optional.of(intValue(env, "SPINDLE_EMBEDDING_DIMENSIONS", 0, 1, 65_536))
                : Optional.empty();
        return new Embedding(url, value(env, "SPINDLE_EMBEDDING_API_KEY"), model, dimensions);
    }

    private static Retention retention(Map<String, String> env) {
        return new Retention(days(env, "SPINDLE_THREAD_RETENTION_DAYS"), days(env, "SPINDLE_FILE_RETENTION_DAYS"),
                Duration.ofSeconds(intValue(env, "SPINDLE_RETENTION_SWEEP_SECONDS", 3_600, 1, 31_536_000)));
    }

    private static Optional<Duration> days(Map<String, String> env, String name) {
        return value(env, name).map(v -> Duration.ofDays(intValue(env, name, 0, 1, 36_500)));
    }

    private static Sandboxing sandboxing(Map<String, String> env) {
        String mode = value(env, "SPINDLE_SANDBOX").orElse("auto");
        if (!mode.equals("auto") && !mode.equals("off")) {
            throw new Invalid("SPINDLE_SANDBOX must be auto or off, got '" + mode + "'");
        }
        long mib = 1024 * 1024;
        return new Sandboxing(mode.equals("auto"),
                Duration.ofMinutes(intValue(env, "SPINDLE_SANDBOX_IDLE_MINUTES", 20, 1, 60)),
                intValue(env, "SPINDLE_SANDBOX_MAX_SESSIONS", 20, 1, 10_000),
                intValue(env, "SPINDLE_SANDBOX_MEMORY_MB", 1024, 256, 1_048_576) * mib,
                intValue(env, "SPINDLE_SANDBOX_DISK_MB", 512, 1, 1_048_576) * mib,
                Duration.ofSeconds(intValue(env, "SPINDLE_SANDBOX_TIMEOUT_SECONDS", 120, 1, 3_600)));
    }

    private static URI embeddingUrl(String raw) {
        try {
            URI uri = URI.create(raw);
            if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
                throw new Invalid("SPINDLE_EMBEDDING_URL must be an http(s) URL, got '" + Redaction.patterns(raw) + "'");
            }
            return uri;
        } catch (IllegalArgumentException e) {
            // The message leaves the value out: it may hold a password.
            throw new Invalid("SPINDLE_EMBEDDING_URL is not a valid URL; expected e.g. https://api.openai.com/v1");
        }
    }

    private static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "localhost";
        }
    }

    private static boolean isLoopback(String host) {
        return host.equals("localhost") || host.startsWith("127.") || host.equals("::1") || host.equals("[::1]");
    }
}
