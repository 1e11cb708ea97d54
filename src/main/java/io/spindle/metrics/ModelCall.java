package io.spindle.metrics;

import java.time.Duration;
import java.util.Optional;

/**
 * One call to a model endpoint as measured from the outside.
 *
 * @param route      the name of the models file's route the model took ({@code default} for the catch-all)
 * @param outcome    {@code ok}, or why it failed ({@code rate_limit}, {@code server}, {@code aborted}, …)
 * @param firstToken time until the first text or function call arrived; empty when none did
 * @param tokensIn   prompt tokens the endpoint reported (0 when it reported no usage)
 * @param tokensOut  completion tokens the endpoint reported
 */
public record ModelCall(String route, String model, String outcome, Optional<Duration> firstToken, Duration total,
                        long tokensIn, long tokensOut) {}
