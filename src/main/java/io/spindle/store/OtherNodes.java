package io.spindle.store;

import java.util.function.Consumer;

/**
 * What this node tells the other nodes sharing its database, and hears from them: nothing on a single node
 * ({@link #NONE}), PostgreSQL's LISTEN/NOTIFY ({@link Notifications}) in a cluster.
 */
public interface OtherNodes extends AutoCloseable {
    /** A single node: there is nobody to tell, and nothing is ever heard. */
    OtherNodes NONE = new OtherNodes() {
        @Override
        public boolean exist() {
            return false;
        }

        @Override
        public void on(String channel, Consumer<String> handler) {
        }

        @Override
        public void onGap(Runnable action) {
        }

        @Override
        public void start() {
        }

        @Override
        public void send(String channel, String payload) {
        }

        @Override
        public void sendWith(RunChange change, String channel, String payload) {
        }

        @Override
        public void close() {
        }
    };

    /** Whether other nodes may share the database (and so make changes this node hears of only late). */
    boolean exist();

    /** Calls {@code handler} with every payload sent on {@code channel}, by any node (this one included). */
    void on(String channel, Consumer<String> handler);

    /** Runs when this node may have missed messages (its connection broke). */
    void onGap(Runnable action);

    void start();

    /** Sends now. */
    void send(String channel, String payload);

    /** Sends when the run change commits, and only if it does. */
    void sendWith(RunChange change, String channel, String payload);

    @Override
    void close();
}
