package io.spindle.metrics;

import java.time.Duration;
import java.util.function.DoubleSupplier;

/**
 * What Spindle tells about its own work, for {@code GET /metrics}. The parts call it at the moment something
 * happened; figures that are a state (queue depth, sessions alive) are read when scraped, through {@link #gauge}.
 * Label values are always from a small known set (route templates, statuses, error codes, route and model names),
 * never ids.
 */
public interface Metrics {

    /** An HTTP request was answered: {@code route} is its route's template, or {@code unmatched}. */
    void request(String method, String route, int status, Duration took);

    void runCreated();

    /** A run reached a final status; {@code errorCode} is its {@code last_error.code}, or empty. */
    void runEnded(String status, String errorCode);

    /** A model call ended, with or without an answer. */
    void modelCall(ModelCall call);

    /** A file's ingestion into a vector store ended: {@code completed}, or its {@code last_error.code}. */
    void fileIngested(String outcome, Duration took);

    /** A code_interpreter cell ended: {@code ok}, {@code error}, {@code timed_out}, {@code session_ended} or {@code failed}. */
    void codeExecuted(String outcome, Duration took);

    /** A figure read at every scrape, e.g. from the database; {@code name} in Micrometer's dotted style. */
    void gauge(String name, String description, DoubleSupplier value);

    /** The figures in Prometheus' text exposition format. */
    String scrape();
}
