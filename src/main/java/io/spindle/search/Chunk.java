package io.spindle.search;

/** One piece of a file's text, its place in the file (from 0) and its embedding. */
public record Chunk(int ordinal, String text, float[] vector) {}
