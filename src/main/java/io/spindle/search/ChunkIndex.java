package io.spindle.search;

import com.fasterxml.jackson.core.type.TypeReference;
import io.spindle.api.ApiException;
import io.spindle.api.Json;
import java.io.Closeable;
import java.io.EOFException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.CorruptIndexException;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexFormatTooNewException;
import org.apache.lucene.index.IndexFileNames;
import org.apache.lucene.index.IndexFormatTooOldException;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.BooleanClause.Occur;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.TermInSetQuery;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.store.Lock;
import org.apache.lucene.util.BytesRef;
import org.apache.lucene.util.QueryBuilder;

/**
 * The chunks of every vector store in one Lucene index: BM25 over their text, HNSW over their embeddings (cosine),
 * filters on their files' attributes, and the two rankings fused ({@link ScoreFusion}). The index is a cache of what
 * the database holds: it can be thrown away and rebuilt by putting every file's chunks again. {@link #open} starts
 * an empty index when there is none, when it cannot be read, or when its vectors came from another embedding model,
 * and then says so ({@link #needsRebuild()}). Every change is committed before it returns, and searches see it at
 * once. Safe for many threads.
 */
public final class ChunkIndex implements Closeable {
    private static final Logger LOG = Logger.getLogger(ChunkIndex.class.getName());
    private static final String EMBEDDING_MODEL = "embedding_model";
    private static final String NO_INDEX = "there was none";
    /** The last change of the database's index log this index holds (see {@link #position()}). */
    private static final String LOG_POSITION = "log_position";
    private static final String VECTOR_STORE = "vector_store_id";
    private static final String FILE = "file_id";
    /** Vector store and file together: the unit that {@link #put} replaces. */
    private static final String STORE_FILE = "vector_store_file";
    private static final String FILE_NAME = "filename";
    private static final String ORDINAL = "ordinal";
    private static final String TEXT = "text";
    private static final String ATTRIBUTES = "attributes";
    private static final String VECTOR = "vector";
    /** How many hits each ranking contributes to the fusion, at least. */
    private static final int CANDIDATES = 50;
    /**
     * Vector search counts 0.87, keyword search 0.13: the middle of the range of keyword weights (0.09 to 0.17 of the
     * total) that gave the best MRR on the retrieval test corpus ({@code RetrievalQualityTest.main} prints the range).
     */
    static final Fusion FUSION = new Fusion(0.13, 0.87);
    private static final TypeReference<Map<String, Object>> ATTRIBUTE_MAP = new TypeReference<>() {};

    private final Directory directory;
    private final Analyzer analyzer;
    private final IndexWriter writer;
    private final SearcherManager searchers;
    private final String embeddingModel;
    private final boolean needsRebuild;
    private final Fusion fusion;
    private volatile long position;

    /** How much the keyword and the vector ranking count in the fused score. */
    record Fusion(double keywordWeight, double vectorWeight) {}

    private ChunkIndex(Directory directory, Analyzer analyzer, IndexWriter writer, String embeddingModel, boolean needsRebuild,
                       Fusion fusion) throws IOException {
        this.fusion = fusion;
        this.directory = directory;
        this.analyzer = analyzer;
        this.writer = writer;
        this.embeddingModel = embeddingModel;
        this.needsRebuild = needsRebuild;
        this.searchers = new SearcherManager(writer, null);
        this.position = needsRebuild ? 0 : committedPosition(writer);
    }

    private static long committedPosition(IndexWriter writer) {
        if (writer.getLiveCommitData() == null) {
            return 0;
        }
        for (Map.Entry<String, String> entry : writer.getLiveCommitData()) {
            if (entry.getKey().equals(LOG_POSITION)) {
                return Long.parseLong(entry.getValue());
            }
        }
        return 0;
    }

    /**
     * Opens the index in {@code dir}, made for vectors of {@code embeddingModel}. When there is no index, or it cannot
     * be read, or it holds another model's vectors, the index starts empty and {@link #needsRebuild()} is true.
     * Fails when another process has the index open.
     */
    public static ChunkIndex open(Path dir, String embeddingModel) throws IOException {
        return open(dir, embeddingModel, FUSION);
    }

    static ChunkIndex open(Path dir, String embeddingModel, Fusion fusion) throws IOException {
        Files.createDirectories(dir);
        Directory directory = FSDirectory.open(dir);
        try {
            String problem;
            Lock lock = directory.obtainLock(IndexWriter.WRITE_LOCK_NAME);
            try {
                problem = problem(directory, embeddingModel);
                if (problem != null) {
                    deleteIndexFiles(directory);
                }
            } finally {
                lock.close();
            }
            if (problem != null) {
                LOG.log(problem.equals(NO_INDEX) ? Level.INFO : Level.WARNING,
                        "search index in " + dir + " starts empty (" + problem + "); vector store files must be indexed again");
            }
            Analyzer analyzer = new EnglishAnalyzer();
            IndexWriter writer = new IndexWriter(directory, new IndexWriterConfig(analyzer));
            try {
                ChunkIndex index = new ChunkIndex(directory, analyzer, writer, embeddingModel, problem != null, fusion);
                index.commit();
                return index;
            } catch (IOException | RuntimeException e) {
                writer.close();
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            directory.close();
            throw e;
        }
    }

    /** Why the index in {@code directory} cannot be used as it is, or {@code null}. */
    private static String problem(Directory directory, String embeddingModel) throws IOException {
        if (!DirectoryReader.indexExists(directory)) {
            return NO_INDEX;
        }
        try (DirectoryReader reader = DirectoryReader.open(directory)) {
            String model = reader.getIndexCommit().getUserData().get(EMBEDDING_MODEL);
            if (!embeddingModel.equals(model)) {
                return "its vectors came from the embedding model " + model + ", not " + embeddingModel;
            }
            return null;
        } catch (CorruptIndexException | IndexFormatTooOldException | IndexFormatTooNewException | EOFException
                 | NoSuchFileException | FileNotFoundException e) {
            return "it could not be read: " + e.getMessage();
        }
    }

    /** Lucene's own files only (segments, codec files), in case the directory holds something else too. */
    private static void deleteIndexFiles(Directory directory) throws IOException {
        for (String name : directory.listAll()) {
            if (name.startsWith(IndexFileNames.SEGMENTS) || name.startsWith(IndexFileNames.PENDING_SEGMENTS)
                    || IndexFileNames.CODEC_FILE_PATTERN.matcher(name).matches()) {
                directory.deleteFile(name);
            }
        }
    }

    /** True when {@link #open} started an empty index: the caller should put every file's chunks again. */
    public boolean needsRebuild() {
        return needsRebuild;
    }

    /** Puts the chunks of one file in one vector store, replacing those it had. */
    public void put(FileChunks file) {
        List<Document> docs = documents(file);
        change(w -> w.updateDocuments(new Term(STORE_FILE, storeFile(file.vectorStoreId(), file.fileId())), docs));
    }

    private static List<Document> documents(FileChunks file) {
        List<Document> docs = new ArrayList<>(file.chunks().size());
        String attributes = Json.write(file.attributes());
        for (Chunk chunk : file.chunks()) {
            Document doc = new Document();
            doc.add(new StringField(VECTOR_STORE, file.vectorStoreId(), Field.Store.YES));
            doc.add(new StringField(FILE, file.fileId(), Field.Store.YES));
            doc.add(new StringField(STORE_FILE, storeFile(file.vectorStoreId(), file.fileId()), Field.Store.NO));
            doc.add(new StoredField(FILE_NAME, file.fileName()));
            doc.add(new StoredField(ORDINAL, chunk.ordinal()));
            doc.add(new TextField(TEXT, chunk.text(), Field.Store.YES));
            doc.add(new StoredField(ATTRIBUTES, attributes));
            doc.add(new KnnFloatVectorField(VECTOR, chunk.vector(), VectorSimilarityFunction.COSINE));
            AttributeFields.add(doc, file.attributes());
            docs.add(doc);
        }
        return docs;
    }

    /** Removes one file's chunks from one vector store. */
    public void deleteFile(String vectorStoreId, String fileId) {
        change(w -> w.deleteDocuments(new Term(STORE_FILE, storeFile(vectorStoreId, fileId))));
    }

    /** Removes a file's chunks from every vector store (the file itself was deleted). */
    public void deleteFile(String fileId) {
        change(w -> w.deleteDocuments(new Term(FILE, fileId)));
    }

    public void deleteVectorStore(String vectorStoreId) {
        change(w -> w.deleteDocuments(new Term(VECTOR_STORE, vectorStoreId)));
    }

    /** Removes every chunk, to rebuild the index from the database; the position goes back to 0. */
    public void clear() {
        position = 0;
        change(IndexWriter::deleteAll);
    }

    /**
     * Where this index stands in the database's log of chunk changes: the seq of the last change it holds, kept in
     * the same Lucene commit as the chunks it brought; 0 for a new or rebuilt index.
     */
    public long position() {
        return position;
    }

    /** One change {@link #apply} makes. */
    public sealed interface Edit {
        /** The file's chunks replace those it had ({@link #put}). */
        record Put(FileChunks file) implements Edit {}
        /** A file's chunks leave one vector store. */
        record RemoveFile(String vectorStoreId, String fileId) implements Edit {}
        /** Every chunk of a vector store leaves. */
        record RemoveStore(String vectorStoreId) implements Edit {}
    }

    /** Makes the edits, in order, and moves {@link #position()} to {@code newPosition}, all in one commit. */
    public void apply(List<Edit> edits, long newPosition) {
        change(w -> {
            for (Edit edit : edits) {
                switch (edit) {
                    case Edit.Put put -> w.updateDocuments(storeFileTerm(put.file().vectorStoreId(), put.file().fileId()), documents(put.file()));
                    case Edit.RemoveFile remove -> w.deleteDocuments(storeFileTerm(remove.vectorStoreId(), remove.fileId()));
                    case Edit.RemoveStore remove -> w.deleteDocuments(new Term(VECTOR_STORE, remove.vectorStoreId()));
                }
            }
            position = newPosition;
        });
    }

    private static Term storeFileTerm(String vectorStoreId, String fileId) {
        return new Term(STORE_FILE, storeFile(vectorStoreId, fileId));
    }

    /** How many chunks the index holds. */
    public int size() {
        return withSearcher(searcher -> searcher.getIndexReader().numDocs());
    }

    public List<ChunkHit> search(ChunkQuery query) {
        return withSearcher(searcher -> {
            Query scope = scope(query);
            int candidates = Math.max(CANDIDATES, 2 * query.maxResults());
            List<List<ScoreFusion.Scored<Integer>>> perPart = new ArrayList<>();
            for (ChunkQuery.Part part : query.parts()) {
                List<ScoreFusion.Ranking<Integer>> rankings = new ArrayList<>(2);
                if (query.mode() != ChunkQuery.Mode.VECTOR) {
                    rankings.add(new ScoreFusion.Ranking<>(keyword(searcher, part.text(), scope, candidates), fusion.keywordWeight()));
                }
                if (query.mode() != ChunkQuery.Mode.KEYWORD) {
                    rankings.add(new ScoreFusion.Ranking<>(nearest(searcher, part.vector(), scope, candidates), fusion.vectorWeight()));
                }
                perPart.add(ScoreFusion.fuse(rankings));
            }
            StoredFields stored = searcher.storedFields();
            List<ChunkHit> hits = new ArrayList<>();
            for (ScoreFusion.Scored<Integer> scored : ScoreFusion.best(perPart)) {
                if (hits.size() == query.maxResults() || scored.score() < query.scoreThreshold()) {
                    break;
                }
                hits.add(hit(stored.document(scored.item()), scored.score()));
            }
            return hits;
        });
    }

    /** The chunks of the query's vector stores that pass its filter. */
    private static Query scope(ChunkQuery query) {
        List<BytesRef> stores = query.vectorStoreIds().stream().map(BytesRef::new).toList();
        BooleanQuery.Builder scope = new BooleanQuery.Builder().add(new TermInSetQuery(VECTOR_STORE, stores), Occur.FILTER);
        query.filter().ifPresent(filter -> scope.add(AttributeFields.query(filter), Occur.FILTER));
        return scope.build();
    }

    private List<ScoreFusion.Scored<Integer>> keyword(IndexSearcher searcher, String text, Query scope, int candidates) throws IOException {
        Query words = new QueryBuilder(analyzer).createBooleanQuery(TEXT, text);
        if (words == null) {
            return List.of();
        }
        Query query = new BooleanQuery.Builder().add(words, Occur.MUST).add(scope, Occur.FILTER).build();
        return docs(searcher.search(query, candidates).scoreDocs);
    }

    private static List<ScoreFusion.Scored<Integer>> nearest(IndexSearcher searcher, float[] vector, Query scope, int candidates) throws IOException {
        return docs(searcher.search(new KnnFloatVectorQuery(VECTOR, vector, candidates, scope), candidates).scoreDocs);
    }

    private static List<ScoreFusion.Scored<Integer>> docs(ScoreDoc[] scoreDocs) {
        List<ScoreFusion.Scored<Integer>> docs = new ArrayList<>(scoreDocs.length);
        for (ScoreDoc scoreDoc : scoreDocs) {
            docs.add(new ScoreFusion.Scored<>(scoreDoc.doc, scoreDoc.score));
        }
        return docs;
    }

    private static ChunkHit hit(Document doc, double score) {
        Map<String, Object> attributes;
        try {
            attributes = Json.MAPPER.readValue(doc.get(ATTRIBUTES), ATTRIBUTE_MAP);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new ChunkHit(doc.get(VECTOR_STORE), doc.get(FILE), doc.get(FILE_NAME), doc.getField(ORDINAL).numericValue().intValue(),
                doc.get(TEXT), attributes, score);
    }

    private static String storeFile(String vectorStoreId, String fileId) {
        return vectorStoreId + "/" + fileId;
    }

    private interface Change {
        void apply(IndexWriter writer) throws IOException;
    }

    private interface Read<T> {
        T apply(IndexSearcher searcher) throws IOException;
    }

    private void change(Change change) {
        try {
            change.apply(writer);
            commit();
        } catch (IOException e) {
            throw new UncheckedIOException("could not change the search index: " + e.getMessage(), e);
        }
    }

    private void commit() throws IOException {
        writer.setLiveCommitData(Map.of(EMBEDDING_MODEL, embeddingModel, LOG_POSITION, Long.toString(position)).entrySet());
        writer.commit();
        searchers.maybeRefreshBlocking();
    }

    private <T> T withSearcher(Read<T> read) {
        try {
            IndexSearcher searcher = searchers.acquire();
            try {
                return read.apply(searcher);
            } finally {
                searchers.release(searcher);
            }
        } catch (IndexSearcher.TooManyClauses e) {
            throw ApiException.invalid("Invalid 'filters': the filter has too many conditions (at most "
                    + IndexSearcher.getMaxClauseCount() + ").", "filters", "invalid_value");
        } catch (IOException e) {
            throw new UncheckedIOException("could not search the index: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() throws IOException {
        try (directory; writer; searchers) {
            // closes the searchers, then the writer, then the directory
        }
    }
}
