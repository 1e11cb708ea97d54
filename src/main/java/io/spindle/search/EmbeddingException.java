package io.spindle.search;

/** Embedding failed: the model could not be loaded or run, or the embeddings endpoint refused or failed. */
public final class EmbeddingException extends RuntimeException {

    public EmbeddingException(String message, Throwable cause) {
        super(message, cause);
    }

    public EmbeddingException(String message) {
        super(message);
    }
}
