package io.spindle.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;
import java.util.function.Function;

/** A page of a list: {@code first_id}/{@code last_id} are null on an empty page, as the live API sent them. */
@JsonPropertyOrder({"object", "data", "first_id", "last_id", "has_more"})
public record ListPage<T>(List<T> data, String firstId, String lastId, boolean hasMore) {

    @JsonProperty("object")
    public String object() {
        return "list";
    }

    public <R> ListPage<R> map(Function<T, R> f) {
        return new ListPage<>(data.stream().map(f).toList(), firstId, lastId, hasMore);
    }
}
