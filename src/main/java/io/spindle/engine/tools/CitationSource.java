package io.spindle.engine.tools;

/**
 * A search result the model saw in this run, shown to it under {@link #marker()}: result number {@code result}
 * (0-based rank) of the run's file_search call number {@code search} (0-based, in the order the run made them).
 */
public record CitationSource(int search, int result, String fileId, String fileName) {

    /** The marker the model is asked to copy to cite this result, {@code 【search:result†fileName】}. */
    public String marker() {
        return String.valueOf(MarkerSyntax.OPEN) + search + ":" + result + MarkerSyntax.DAGGER + fileName + MarkerSyntax.CLOSE;
    }
}
