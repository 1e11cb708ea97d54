package io.spindle.engine;

import io.spindle.api.ApiException;
import io.spindle.api.FileObject;
import io.spindle.api.Ids;
import io.spindle.api.MessageObject;
import io.spindle.api.VectorStoreFileObject;
import io.spindle.api.VectorStoreObject;
import io.spindle.api.VectorStoreRequest;
import io.spindle.ingest.TextExtraction;
import io.spindle.store.FileRepository;
import io.spindle.store.NewVectorStore;
import io.spindle.store.VectorStoreRepository;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Files on their way into vector stores, wherever they come from: {@code POST /vector_stores} and its
 * file routes, the stores assistants and threads create inline ({@code tool_resources.file_search.vector_stores}),
 * and message attachments for file_search. Before the write, every file is checked; the write (one
 * transaction with the assistant, thread or message it belongs to) queues them; {@link #queued} then
 * wakes ingestion.
 */
public final class FileSearchStores {
    private final VectorStoreRepository stores;
    private final FileRepository files;
    private final Ingestion ingestion;
    private final ImageFiles images;

    public FileSearchStores(VectorStoreRepository stores, FileRepository files, Ingestion ingestion) {
        this.stores = stores;
        this.files = files;
        this.ingestion = ingestion;
        this.images = new ImageFiles(files);
    }

    /** {@code POST /vector_stores}. */
    public VectorStoreObject create(String project, VectorStoreRequest.Create request, long now) {
        check(project, request.files(), "file_ids");
        VectorStoreObject store = VectorStoreObject.created(Ids.vectorStore(), now, request.name(), request.description(),
                request.expiresAfter(), request.metadata());
        VectorStoreObject created = stores.create(project, new NewVectorStore(store, request.files()));
        if (!request.files().isEmpty()) {
            ingestion.wake();
        }
        return created;
    }

    /** The store an assistant creates inline: it never expires. */
    public Optional<NewVectorStore> forAssistant(String project, Optional<VectorStoreRequest.InlineStore> inline, long now) {
        return inline.map(store -> prepare(project, store, null, now));
    }

    /** The store a thread creates inline: it expires 7 days after its last use, as OpenAI's thread helpers' do. */
    public Optional<NewVectorStore> forThread(String project, Optional<VectorStoreRequest.InlineStore> inline, long now) {
        return inline.map(store -> prepare(project, store, VectorStoreObject.ExpiresAfter.THREAD_HELPER, now));
    }

    private NewVectorStore prepare(String project, VectorStoreRequest.InlineStore inline, VectorStoreObject.ExpiresAfter policy, long now) {
        check(project, inline.files(), "tool_resources.file_search.vector_stores[0].file_ids");
        return new NewVectorStore(VectorStoreObject.created(inline.id(), now, null, null, policy, inline.metadata()), inline.files());
    }

    /**
     * Checks the files messages attach for file_search ({@code param} names where the messages were
     * given); the store they go into is found or made in the messages' transaction. Every new message
     * passes here, so their {@code image_file} parts are checked here too ({@link ImageFiles#check}).
     */
    public void checkAttachments(String project, List<MessageObject> messages, String param) {
        images.check(project, messages);
        List<VectorStoreRequest.NewFile> attached = new ArrayList<>();
        for (MessageObject message : messages) {
            message.fileSearchFileIds().forEach(id -> attached.add(new VectorStoreRequest.NewFile(id, null, null)));
        }
        check(project, attached, param);
    }

    /** After a write: wakes ingestion when it queued files (an inline store's, or attachments for file_search). */
    public void queued(Optional<NewVectorStore> newStore, List<MessageObject> messages) {
        if (newStore.map(s -> !s.files().isEmpty()).orElse(false) || messages.stream().anyMatch(m -> !m.fileSearchFileIds().isEmpty())) {
            ingestion.wake();
        }
    }

    /** After files were attached to an existing store. */
    public void queued() {
        ingestion.wake();
    }

    /**
     * Each file must be one of the project's, of a type file_search reads (dossier §10: 404
     * {@code No file found with id '…'.}; 400 {@code unsupported_file} naming the extensions, at {@code param}).
     */
    public void check(String project, List<VectorStoreRequest.NewFile> attach, String param) {
        List<String> refused = new ArrayList<>();
        for (VectorStoreRequest.NewFile file : attach) {
            FileObject found = files.file(project, file.fileId()).orElseThrow(() -> VectorStoreFileObject.notFound(file.fileId()));
            if (!TextExtraction.supports(found.filename())) {
                String extension = extension(found.filename());
                if (!refused.contains(extension)) {
                    refused.add(extension);
                }
            }
        }
        if (!refused.isEmpty()) {
            throw ApiException.invalid("Files with extensions [" + String.join(", ", refused) + "] are not supported for retrieval. "
                    + "See https://platform.openai.com/docs/assistants/tools/file-search/supported-files", param, "unsupported_file");
        }
    }

    private static String extension(String filename) {
        int dot = filename.lastIndexOf('.');
        return dot < 0 ? "none" : filename.substring(dot).toLowerCase(Locale.ROOT);
    }
}
