package io.spindle.http;

/** Who is calling: the project their API key belongs to. Stored in the request context. */
record Caller(String project) {}
