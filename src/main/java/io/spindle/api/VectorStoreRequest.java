package io.spindle.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The bodies of the vector store endpoints, checked with OpenAI's errors (limits: dossier §9.1).
 * Unknown file ids and unsupported file types are checked later, against the files themselves.
 */
public final class VectorStoreRequest {
    public static final int MAX_FILE_IDS = 500;
    public static final int MAX_BATCH_FILES = 2_000;
    /** The spec's limit for stores created before Nov 2025 (later ones: 100,000,000); request bodies bound it anyway. */
    public static final int MAX_INLINE_FILE_IDS = 10_000;
    private static final int MAX_ATTRIBUTES = 16;
    private static final int ATTRIBUTE_KEY_LENGTH = 64;
    private static final int ATTRIBUTE_VALUE_LENGTH = 512;
    /** Not in the spec; as an assistant's name and description. */
    private static final int NAME_LENGTH = 256;
    private static final int DESCRIPTION_LENGTH = 512;
    private static final int FILE_ID_LENGTH = 256;

    private VectorStoreRequest() {}

    /** A file to attach: its id, how to cut it, and its attributes ({@code {}} when none). */
    public record NewFile(String fileId, ChunkingStrategy chunkingStrategy, ObjectNode attributes) {}

    /**
     * A vector store an assistant or thread creates through {@code tool_resources.file_search.vector_stores[0]}. Its id
     * is chosen when parsed, so that the owner's {@code vector_store_ids} can name it.
     */
    public record InlineStore(String id, List<NewFile> files, Map<String, String> metadata) {}

    /** {@code POST /vector_stores}. */
    public record Create(String name, String description, VectorStoreObject.ExpiresAfter expiresAfter,
                         Map<String, String> metadata, List<NewFile> files) {}

    /**
     * {@code POST /vector_stores/{id}}: each field changes only when {@code set*} says it was sent;
     * {@code metadata} is null when not sent, and {@code "metadata": null} clears it, as on assistants.
     */
    public record Update(boolean setName, String name, boolean setExpiresAfter, VectorStoreObject.ExpiresAfter expiresAfter,
                         Map<String, String> metadata) {}

    public static Create create(JsonNode json) {
        Body body = Body.of(json, Set.of("file_ids", "name", "description", "expires_after", "chunking_strategy", "metadata"));
        List<NewFile> files = filesToChunk(body, MAX_FILE_IDS);
        return new Create(body.string("name", NAME_LENGTH), body.string("description", DESCRIPTION_LENGTH),
                expiresAfter(body), metadata(body), files);
    }

    /** One item of {@code tool_resources.file_search.vector_stores}, found at {@code param}. */
    public static InlineStore inline(JsonNode item, String param) {
        Body body = Body.nested(item, param, Set.of("file_ids", "chunking_strategy", "metadata"));
        List<NewFile> files = filesToChunk(body, MAX_INLINE_FILE_IDS);
        return new InlineStore(Ids.vectorStore(), files, metadata(body));
    }

    /** {@code file_ids}, each to be cut with the body's {@code chunking_strategy}. */
    private static List<NewFile> filesToChunk(Body body, int maxFiles) {
        List<String> ids = fileIds(body, "file_ids", 0, maxFiles);
        ChunkingStrategy chunking = ChunkingStrategy.parse(body, "chunking_strategy");
        return ids.stream().map(id -> new NewFile(id, chunking, Json.object())).toList();
    }

    public static Update update(JsonNode json) {
        Body body = Body.of(json, Set.of("name", "expires_after", "metadata"));
        return new Update(body.has("name"), body.string("name", NAME_LENGTH), body.has("expires_after"), expiresAfter(body),
                body.has("metadata") ? metadata(body) : null);
    }

    /** {@code POST /vector_stores/{id}/files}. */
    public static NewFile file(JsonNode json) {
        Body body = Body.of(json, Set.of("file_id", "chunking_strategy", "attributes"));
        return newFile(body);
    }

    /** {@code POST /vector_stores/{id}/file_batches}: {@code file_ids} with shared settings, or {@code files} each with its own. */
    public static List<NewFile> batch(JsonNode json) {
        Body body = Body.of(json, Set.of("file_ids", "files", "chunking_strategy", "attributes"));
        if (body.has("file_ids") && body.has("files")) {
            throw ApiException.invalid("Invalid 'files': 'file_ids' and 'files' cannot be used together.", "files", "invalid_value");
        }
        if (body.raw("files") != null) {
            List<JsonNode> items = body.array("files", 1, MAX_BATCH_FILES);
            List<NewFile> files = new ArrayList<>();
            Set<String> seen = new LinkedHashSet<>();
            for (int i = 0; i < items.size(); i++) {
                NewFile file = newFile(Body.nested(items.get(i), "files[" + i + "]", Set.of("file_id", "chunking_strategy", "attributes")));
                if (seen.add(file.fileId())) {
                    files.add(file);
                }
            }
            return files;
        }
        if (body.raw("file_ids") == null) {
            throw Body.missing("file_ids");
        }
        List<String> ids = fileIds(body, "file_ids", 1, MAX_BATCH_FILES);
        ChunkingStrategy chunking = ChunkingStrategy.parse(body, "chunking_strategy");
        ObjectNode attributes = attributes(body);
        return ids.stream().map(id -> new NewFile(id, chunking, attributes.deepCopy())).toList();
    }

    /** {@code POST /vector_stores/{id}/files/{file_id}}: the attributes that replace the file's. */
    public static ObjectNode attributes(JsonNode json) {
        Body body = Body.of(json, Set.of("attributes"));
        if (!body.has("attributes")) {
            throw Body.missing("attributes");
        }
        return attributes(body);
    }

    /** The {@code filter} of a file list: a status, or null for all. */
    public static String statusFilter(String value) {
        List<String> statuses = List.of(VectorStoreFileObject.IN_PROGRESS, VectorStoreFileObject.COMPLETED,
                VectorStoreFileObject.FAILED, VectorStoreFileObject.CANCELLED);
        if (value != null && !statuses.contains(value)) {
            throw Body.invalidValue("filter", value, statuses);
        }
        return value;
    }

    private static NewFile newFile(Body body) {
        String fileId = body.requiredString("file_id", FILE_ID_LENGTH);
        checkId(body.param("file_id"), fileId);
        return new NewFile(fileId, ChunkingStrategy.parse(body, "chunking_strategy"), attributes(body));
    }

    /** The ids of an array, each once, in order. */
    private static List<String> fileIds(Body body, String key, int min, int max) {
        List<JsonNode> items = body.array(key, min, max);
        if (items == null) {
            return List.of();
        }
        Set<String> ids = new LinkedHashSet<>();
        for (int i = 0; i < items.size(); i++) {
            String param = body.param(key) + "[" + i + "]";
            JsonNode item = items.get(i);
            if (!item.isTextual()) {
                throw Body.wrongType(param, "a string", item);
            }
            ids.add(checkId(param, Body.checkLength(param, item.textValue(), FILE_ID_LENGTH)));
        }
        return List.copyOf(ids);
    }

    private static String checkId(String param, String id) {
        if (id.isEmpty() || Ids.hasControlCharacter(id)) {
            throw ApiException.invalid("Invalid '" + param + "': '" + id + "' is not a file id.", param, "invalid_value");
        }
        return id;
    }

    private static Map<String, String> metadata(Body body) {
        Map<String, String> metadata = body.metadata("metadata");
        return metadata == null ? Map.of() : metadata;
    }

    /** {@code expires_after}: absent or null is none. */
    private static VectorStoreObject.ExpiresAfter expiresAfter(Body body) {
        Body policy = body.object("expires_after", Set.of("anchor", "days"));
        if (policy == null) {
            return null;
        }
        String anchor = policy.choice("anchor", List.of(VectorStoreObject.ExpiresAfter.LAST_ACTIVE_AT));
        if (anchor == null) {
            throw Body.missing(policy.param("anchor"));
        }
        Long days = policy.integer("days", 1, 365);
        if (days == null) {
            throw Body.missing(policy.param("days"));
        }
        return new VectorStoreObject.ExpiresAfter(anchor, days.intValue());
    }

    /** Attributes: at most 16 pairs, keys up to 64 characters, values strings up to 512, numbers or booleans. */
    private static ObjectNode attributes(Body body) {
        JsonNode v = body.raw("attributes");
        if (v == null) {
            return Json.object();
        }
        String p = body.param("attributes");
        if (!v.isObject()) {
            throw Body.wrongType(p, "an object", v);
        }
        if (v.size() > MAX_ATTRIBUTES) {
            throw ApiException.invalid("Invalid '" + p + "': too many properties. Expected an object with at most "
                    + MAX_ATTRIBUTES + " properties, but got an object with " + v.size() + " properties instead.", p,
                    "object_above_max_properties");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = p + "." + e.getKey();
            if (e.getKey().length() > ATTRIBUTE_KEY_LENGTH) {
                throw ApiException.invalid("Invalid '" + p + "': attribute key '" + e.getKey() + "' is too long. Expected a key with maximum length "
                        + ATTRIBUTE_KEY_LENGTH + ", but got a key with length " + e.getKey().length() + " instead.", p, "string_above_max_length");
            }
            JsonNode value = e.getValue();
            if (value.isTextual()) {
                Body.checkLength(key, value.textValue(), ATTRIBUTE_VALUE_LENGTH);
            } else if (!value.isNumber() && !value.isBoolean()) {
                throw Body.wrongType(key, "a string, number or boolean", value);
            }
        }
        return ((ObjectNode) v).deepCopy();
    }
}
