package io.spindle.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

/**
 * A PostgreSQL for tests: the server on 127.0.0.1:5432 when one answers, else an embedded
 * PostgreSQL started once per JVM. Never skipped. Each call to {@link #freshDatabase} creates an
 * empty database of its own.
 */
public final class TestPostgres {
    private static String adminUrl;
    private static EmbeddedPostgres embedded;

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
    }

    /** Where the tests' PostgreSQL runs, for the logs. */
    public static synchronized String describe() {
        adminUrl();
        return embedded == null ? "PostgreSQL on 127.0.0.1:5432" : "embedded PostgreSQL on port " + embedded.getPort();
    }

    private static String adminUrl() {
        if (adminUrl != null) {
            return adminUrl;
        }
        String local = "jdbc:postgresql://127.0.0.1:5432/postgres?user=" + localUser() + "&connectTimeout=2";
        try (Connection ignored = DriverManager.getConnection(local)) {
            adminUrl = local;
        } catch (SQLException unreachable) {
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
                throw new UncheckedIOException("no PostgreSQL on 127.0.0.1:5432 and the embedded one failed to start", e);
            }
        }
        return adminUrl;
    }

    private static String localUser() {
        String user = System.getenv("PGUSER");
        return user != null ? user : "postgres";
    }
}
