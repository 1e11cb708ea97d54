package io.spindle.store;

import io.spindle.api.AssistantObject;
import io.spindle.api.ListPage;
import io.spindle.api.ListQuery;
import io.spindle.api.MessageObject;
import io.spindle.api.ThreadObject;
import java.util.List;
import java.util.Optional;

/**
 * Everything Spindle keeps. Every call is scoped to a project: another project's objects do not
 * exist for it. Implemented once on JDBC ({@link JdbcStore}) for SQLite and PostgreSQL.
 */
public interface Store extends AutoCloseable {

    void insertAssistant(String project, AssistantObject assistant);

    Optional<AssistantObject> assistant(String project, String id);

    boolean updateAssistant(String project, AssistantObject assistant);

    boolean deleteAssistant(String project, String id);

    ListPage<AssistantObject> assistants(String project, ListQuery query);

    /** Stores a thread and its initial messages in one transaction. */
    void insertThread(String project, ThreadObject thread, List<MessageObject> messages);

    Optional<ThreadObject> thread(String project, String id);

    boolean updateThread(String project, ThreadObject thread);

    /** Deletes a thread with everything in it. */
    boolean deleteThread(String project, String id);

    void insertMessage(String project, MessageObject message);

    Optional<MessageObject> message(String project, String threadId, String id);

    boolean updateMessage(String project, MessageObject message);

    boolean deleteMessage(String project, String threadId, String id);

    /** Messages of a thread; {@code runId} filters when not null. */
    ListPage<MessageObject> messages(String project, String threadId, String runId, ListQuery query);

    /** True when the database answers. */
    boolean ping();

    @Override
    void close();
}
