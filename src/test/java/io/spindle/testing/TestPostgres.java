package io.spindle.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A PostgreSQL for tests: the server on 127.0.0.1:5432 when one answers, else an embedded
 * PostgreSQL started once per JVM; {@code SPINDLE_TEST_POSTGRES=embedded} takes the embedded one
 * whatever answers on 5432. Never skipped. Each call to {@link #freshDatabase} creates an empty
 * database of its own.
 *
 * <p>While this JVM has databases, a sampler counts their connections every 200 ms and keeps the
 * peak ({@link PostgresConnectionBudget} checks it after every test class).
 */
public final class TestPostgres {
    /** Where the tests' PostgreSQL runs: unset, the server on 127.0.0.1:5432 if it answers; {@code embedded}. */
    static final String CHOICE = "SPINDLE_TEST_POSTGRES";
    private static final long SAMPLE_EVERY_MILLIS = 200;

    private static String adminUrl;
    private static EmbeddedPostgres embedded;
    /** The databases this JVM made and has not dropped. */
    private static final Set<String> databases = ConcurrentHashMap.newKeySet();
    private static volatile int peakConnections;
    private static volatile String samplerFailure;
    private static Thread sampler;

    private TestPostgres() {}

    /** A JDBC URL (with user) of a new, empty database. */
    public static synchronized String freshDatabase() {
        String admin = adminUrl();
        String name = "spindle_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        try (Connection c = DriverManager.getConnection(admin); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create test database: " + e.getMessage(), e);
        }
        databases.add(name);
        startSampler();
        return admin.replace("/postgres?", "/" + name + "?");
    }

    /** Drops a database made by {@link #freshDatabase}, closing the connections that still use it. */
    public static void dropDatabase(String url) {
        String name = url.substring(url.lastIndexOf('/') + 1, url.indexOf('?'));
        try (Connection c = DriverManager.getConnection(url.replace("/" + name + "?", "/postgres?"));
             Statement s = c.createStatement()) {
            s.execute("DROP DATABASE " + name + " WITH (FORCE)");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot drop test database " + name, e);
        }
        databases.remove(name);
    }

    /** Where the tests' PostgreSQL runs, for the logs. */
    public static synchronized String describe() {
        adminUrl();
        return embedded == null ? "PostgreSQL on 127.0.0.1:5432" : "embedded PostgreSQL on port " + embedded.getPort();
    }

    /**
     * The most connections this JVM's test databases had at one sample since the last call, then starts
     * counting afresh. Throws when the sampler broke down: an unmeasured peak must not pass for a low one.
     */
    static int takePeakConnections() {
        if (samplerFailure != null) {
            throw new IllegalStateException("the PostgreSQL connection sampler stopped: " + samplerFailure);
        }
        int peak = peakConnections;
        peakConnections = 0;
        return peak;
    }

    /** Counts, on a connection of its own to the {@code postgres} database, the connections to this JVM's databases. */
    private static synchronized void startSampler() {
        if (sampler != null) {
            return;
        }
        String admin = adminUrl();
        sampler = Thread.ofPlatform().daemon().name("test-postgres-connections").start(() -> {
            try (Connection c = DriverManager.getConnection(admin);
                 PreparedStatement count = c.prepareStatement(
                         "SELECT count(*) FROM pg_stat_activity WHERE datname::text = ANY(?)")) {
                while (true) {
                    count.setArray(1, c.createArrayOf("text", databases.toArray()));
                    try (ResultSet rs = count.executeQuery()) {
                        rs.next();
                        peakConnections = Math.max(peakConnections, rs.getInt(1));
                    }
                    Thread.sleep(SAMPLE_EVERY_MILLIS);
                }
            } catch (SQLException e) {
                samplerFailure = e.getMessage();
            } catch (InterruptedException e) {
                samplerFailure = "interrupted";
            }
        });
    }

    private static synchronized String adminUrl() {
        if (adminUrl != null) {
            return adminUrl;
        }
        String choice = System.getenv().getOrDefault(CHOICE, "");
        if (!choice.isBlank() && !choice.equals("embedded")) {
            throw new IllegalStateException(CHOICE + " must be unset or 'embedded', got '" + choice + "'");
        }
        if (choice.isBlank()) {
            String local = "jdbc:postgresql://127.0.0.1:5432/postgres?user=" + localUser() + "&connectTimeout=2";
            try (Connection ignored = DriverManager.getConnection(local)) {
                adminUrl = local;
                return adminUrl;
            } catch (SQLException unreachable) {
                // the embedded one, below
            }
        }
        try {
            embedded = EmbeddedPostgres.builder().start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    embedded.close();
                } catch (IOException ignoredOnExit) {
                    // the JVM is exiting
                }
            }));
            adminUrl = "jdbc:postgresql://127.0.0.1:" + embedded.getPort() + "/postgres?user=postgres";
        } catch (IOException e) {
            throw new UncheckedIOException(choice.isBlank()
                    ? "no PostgreSQL on 127.0.0.1:5432 and the embedded one failed to start"
                    : "the embedded PostgreSQL (" + CHOICE + "=embedded) failed to start", e);
        }
        return adminUrl;
    }

    private static String localUser() {
        String user = System.getenv("PGUSER");
        return user != null ? user : "postgres";
    }
}
