package io.spindle.http;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.spindle.api.Body;
import io.spindle.api.DeletedObject;
import io.spindle.api.FileObject;
import io.spindle.api.FileRequest;
import io.spindle.api.Ids;
import io.spindle.api.ListQuery;
import io.spindle.store.Blobs;
import io.spindle.store.FileRepository;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.time.InstantSource;
import java.util.Optional;
import java.util.logging.Logger;

/** {@code /v1/files}: upload, list, retrieve, delete, and download the content. */
final class FileRoutes implements HttpService {
    private static final Logger LOG = Logger.getLogger(FileRoutes.class.getName());
    /** What a file part without a file name is called. */
    private static final String UNNAMED = "upload";
    private static final int LIST_LIMIT = 10_000;

    private final FileRepository files;
    private final InstantSource clock;
    private final long maxFileBytes;

    FileRoutes(FileRepository files, InstantSource clock, long maxFileBytes) {
        this.files = files;
        this.clock = clock;
        this.maxFileBytes = maxFileBytes;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/files", this::upload)
                .get("/files", this::list)
                .any("/files", Http::methodNotAllowed)
                .get("/files/{file_id}", this::retrieve)
                .delete("/files/{file_id}", this::delete)
                .any("/files/{file_id}", Http::methodNotAllowed)
                .get("/files/{file_id}/content", this::content)
                .any("/files/{file_id}/content", Http::methodNotAllowed);
    }

    /**
     * Streams the {@code file} part into storage as it arrives, whatever its size, and checks the
     * text fields as they come (before or after the file); the file exists once its row commits.
     */
    private void upload(ServerRequest req, ServerResponse res) throws IOException {
        String project = Http.project(req);
        UploadForm form = UploadForm.of(req);
        FileRequest request = new FileRequest();
        String id = Ids.file();
        String filename = null;
        Blobs.Received bytes = null;
        try {
            for (Optional<UploadForm.Part> next = form.next(); next.isPresent(); next = form.next()) {
                UploadForm.Part part = next.get();
                if (!part.name().equals(FileRequest.FILE)) {
                    request.field(part.name(), UploadForm.text(part));
                    continue;
                }
                if (bytes != null) {
                    throw FileRequest.sentTwice(FileRequest.FILE);
                }
                filename = part.fileName().filter(name -> !name.isBlank()).orElse(UNNAMED);
                bytes = files.receive(id, UploadForm.limited(part, maxFileBytes,
                        "File too large. The largest file this server accepts is " + maxFileBytes + " bytes."));
            }
            if (bytes == null) {
                throw Body.missing(FileRequest.FILE);
            }
            FileObject file = request.file(id, clock.instant().getEpochSecond(), filename, bytes.size());
            files.insert(project, file, bytes);
            Http.send(req, res, file);
        } finally {
            if (bytes != null) {
                bytes.close();
            }
        }
    }

    private void list(ServerRequest req, ServerResponse res) {
        ListQuery query = ListQuery.parse(name -> req.query().first(name).orElse(null), LIST_LIMIT, LIST_LIMIT);
        Http.send(req, res, files.files(Http.project(req), Http.query(req, "purpose"), query));
    }

    private void retrieve(ServerRequest req, ServerResponse res) {
        Http.send(req, res, find(req));
    }

    private void delete(ServerRequest req, ServerResponse res) {
        String id = fileId(req);
        if (!files.delete(Http.project(req), id)) {
            throw FileObject.notFound(id);
        }
        Http.send(req, res, DeletedObject.of(id, "file"));
    }

    /** The file's bytes as they are stored, streamed. */
    private void content(ServerRequest req, ServerResponse res) throws IOException {
        FileObject file = find(req);
        FileRequest.checkDownloadable(file);
        res.header(HeaderNames.CONTENT_TYPE, "application/octet-stream");
        if (Http.isHead(req)) {
            res.header(HeaderNames.CONTENT_LENGTH, Long.toString(file.bytes()));
            res.send();
            return;
        }
        InputStream in = files.content(file).orElseThrow(() -> FileObject.notFound(file.id()));
        res.contentLength(file.bytes());
        try (in; OutputStream out = res.outputStream()) {
            byte[] buffer = new byte[64 * 1024];
            for (int n = read(in, file, buffer); n >= 0; n = read(in, file, buffer)) {
                out.write(buffer, 0, n);
            }
        } catch (UncheckedIOException e) {
            // the client went away mid-download: nothing to answer, nobody to tell
            throw new CloseConnectionException("client left during the download of " + file.id(), e);
        }
    }

    /** Reads the stored bytes; a failure there (the file deleted mid-read) can only cut the answer short. */
    private static int read(InputStream in, FileObject file, byte[] buffer) {
        try {
            return in.read(buffer);
        } catch (IOException e) {
            LOG.warning("download of " + file.id() + " cut short: " + e.getMessage());
            throw new CloseConnectionException("download of " + file.id() + " cut short", e);
        }
    }

    private FileObject find(ServerRequest req) {
        String id = fileId(req);
        return files.file(Http.project(req), id).orElseThrow(() -> FileObject.notFound(id));
    }

    /** Files have no id prefix check: the live API answered any unknown id with 404. */
    private static String fileId(ServerRequest req) {
        return req.path().pathParameters().get("file_id");
    }
}
