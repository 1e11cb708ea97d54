package io.spindle.store;

import io.spindle.api.AssistantObject;
import io.spindle.api.ListPage;
import io.spindle.api.ListQuery;
import io.spindle.api.MessageObject;
import io.spindle.api.RunObject;
import io.spindle.api.RunStepObject;
import io.spindle.api.StoredJson;
import io.spindle.api.ThreadObject;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * Everything Spindle keeps. Every call is scoped to a project: another project's objects do not
 * exist for it. Implemented once on JDBC ({@link JdbcStore}) for SQLite and PostgreSQL.
 */
public interface Store extends AutoCloseable {

    /** Stores an assistant, and the vector store its tool_resources create, in one transaction. */
    void insertAssistant(String project, AssistantObject assistant, Optional<NewVectorStore> newStore);

    Optional<AssistantObject> assistant(String project, String id);

    /** Replaces an assistant and creates the vector store its new tool_resources ask for, in one transaction. */
    boolean updateAssistant(String project, AssistantObject assistant, Optional<NewVectorStore> newStore);

    boolean deleteAssistant(String project, String id);

    ListPage<AssistantObject> assistants(String project, ListQuery query);

    /**
     * Stores a thread, the vector store its tool_resources create, and its initial messages in one
     * transaction. Files the messages attach for file_search go into the thread's vector store, created
     * when it has none; returns the thread as stored.
     */
    ThreadObject insertThread(String project, ThreadObject thread, Optional<NewVectorStore> newStore, List<MessageObject> messages);

    Optional<ThreadObject> thread(String project, String id);

    /** True when the project has this thread; reads nothing of it. */
    boolean threadExists(String project, String id);

    /** Replaces a thread and creates the vector store its new tool_resources ask for, in one transaction. */
    boolean updateThread(String project, ThreadObject thread, Optional<NewVectorStore> newStore);

    /** Deletes a thread with everything in it. */
    boolean deleteThread(String project, String id);

    /**
     * Adds a message and returns it as stored; refused while a run on the thread is active (the thread lock).
     * Files it attaches for file_search go into the thread's vector store, created when it has none.
     */
    StoredJson insertMessage(String project, MessageObject message);

    Optional<MessageObject> message(String project, String threadId, String id);

    /** A message as stored, for answers that send it unchanged. */
    Optional<StoredJson> messageJson(String project, String threadId, String id);

    boolean updateMessage(String project, MessageObject message);

    boolean deleteMessage(String project, String threadId, String id);

    /** Every message of a thread, oldest first: what a run shows the model. */
    List<MessageObject> threadMessages(String project, String threadId);

    /** Messages of a thread as stored; {@code runId} filters when not null. */
    ListPage<StoredJson> messages(String project, String threadId, String runId, ListQuery query);

    /**
     * Creates a run in one transaction with the messages to add first (their file_search attachments as
     * {@link #insertMessage}'s). Refused while the thread has an active run. {@code origin} is kept for the run's trace;
     * {@code streamNode} is the node whose client streams the run's events, or null (see {@link RunChange#streamNode}).
     */
    void insertRun(String project, RunObject run, List<MessageObject> messages, RunOrigin origin, String streamNode);

    /** Create thread and run: {@link #insertThread} and the run, in one transaction; returns the thread as stored. */
    ThreadObject insertThreadAndRun(String project, ThreadObject thread, Optional<NewVectorStore> newStore,
                                    List<MessageObject> messages, RunObject run, RunOrigin origin, String streamNode);

    Optional<RunObject> run(String project, String threadId, String id);

    ListPage<RunObject> runs(String project, String threadId, ListQuery query);

    Optional<RunStepObject> step(String project, String threadId, String runId, String id);

    ListPage<RunStepObject> steps(String project, String threadId, String runId, ListQuery query);

    /**
     * Reads a run, lets {@code change} decide its next state, and stores that state (run, steps,
     * messages) in one transaction with the run's row locked. Every change of a run goes through
     * here, from the API and from the engine alike. With a {@code leaseToken}, the change applies only
     * while that lease still holds ({@link LeaseLostException} otherwise): a node that lost a run
     * can never write to it again.
     */
    <T> T changeRun(String project, String runId, String leaseToken, Function<RunChange, T> change);

    /** True when the database answers. */
    boolean ping();

    @Override
    void close();
}
