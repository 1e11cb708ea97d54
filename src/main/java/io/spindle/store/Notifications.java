package io.spindle.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * PostgreSQL's LISTEN/NOTIFY, for what several nodes on one database must tell each other. A
 * notification sent inside a transaction is delivered when it commits, and notifications reach
 * every listener in commit order. One connection per node listens; handlers run on its thread.
 */
public final class Notifications implements OtherNodes {
    private static final Logger LOG = Logger.getLogger(Notifications.class.getName());
    /** PostgreSQL refuses payloads of 8,000 bytes or more. */
    public static final int MAX_PAYLOAD_BYTES = 7_900;

    private final Database db;
    private final Map<String, Consumer<String>> handlers = new ConcurrentHashMap<>();
    private volatile Runnable onGap = () -> { };
    private volatile boolean running = true;
    private volatile Connection listening;
    private final Thread listener;

    public Notifications(Database db) {
        this.db = db;
        this.listener = Thread.ofPlatform().daemon().name("pg-listener").unstarted(this::listen);
    }

    @Override
    public boolean exist() {
        return true;
    }

    /** Channels are case-folded identifiers for LISTEN: register lower-case names of at most 63 bytes. */
    @Override
    public void on(String channel, Consumer<String> handler) {
        handlers.put(channel, handler);
    }

    /** Runs when the listening connection broke: notifications sent until it is back are lost. */
    @Override
    public void onGap(Runnable action) {
        onGap = action;
    }

    @Override
    public void start() {
        listener.start();
    }

    /** Sends now (its own transaction). */
    @Override
    public void send(String channel, String payload) {
        db.writeOne(c -> {
            Sql.execute(c, "SELECT pg_notify(?, ?)", channel, payload);
            return null;
        });
    }

    @Override
    public void sendWith(RunChange change, String channel, String payload) {
        change.execute("SELECT pg_notify(?, ?)", channel, payload);
    }

    private void listen() {
        while (running) {
            try (Connection c = db.dedicatedConnection()) {
                listening = c;
                try (Statement s = c.createStatement()) {
                    for (String channel : handlers.keySet()) {
                        s.execute("LISTEN " + channel);
                    }
                }
                PGConnection pg = c.unwrap(PGConnection.class);
                while (running) {
                    PGNotification[] received = pg.getNotifications(500);
                    if (received == null) {
                        continue;
                    }
                    for (PGNotification n : received) {
                        Consumer<String> handler = handlers.get(n.getName());
                        if (handler != null) {
                            deliver(handler, n.getParameter());
                        }
                    }
                }
            } catch (SQLException | RuntimeException e) {
                if (running) {
                    LOG.log(Level.WARNING, "listening for other nodes failed; reconnecting in 1 s", e);
                    onGap.run();
                    sleepQuietly(1_000);
                }
            }
        }
    }

    private static void deliver(Consumer<String> handler, String payload) {
        try {
            handler.accept(payload);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "a notification could not be handled", e);
        }
    }

    @Override
    public void close() {
        running = false;
        Connection c = listening;
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // closing to stop
            }
        }
        try {
            listener.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
