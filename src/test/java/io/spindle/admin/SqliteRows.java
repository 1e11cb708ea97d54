package io.spindle.admin;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Every row of every table of a SQLite database file, read straight from the file, for comparing two databases. */
final class SqliteRows {
    private SqliteRows() {}

    /** Table name to its rows in rowid order, each row its values in column order (bytes as hex). */
    static Map<String, List<List<Object>>> of(Path database) throws SQLException {
        Map<String, List<List<Object>>> tables = new TreeMap<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + database); Statement sql = c.createStatement()) {
            List<String> names = new ArrayList<>();
            try (ResultSet rows = sql.executeQuery("SELECT name FROM sqlite_master WHERE type = 'table'")) {
                while (rows.next()) {
                    names.add(rows.getString(1));
                }
            }
            for (String name : names) {
                List<List<Object>> table = new ArrayList<>();
                try (ResultSet rows = sql.executeQuery("SELECT * FROM \"" + name + "\" ORDER BY rowid")) {
                    int columns = rows.getMetaData().getColumnCount();
                    while (rows.next()) {
                        List<Object> row = new ArrayList<>();
                        for (int i = 1; i <= columns; i++) {
                            Object value = rows.getObject(i);
                            row.add(value instanceof byte[] bytes ? HexFormat.of().formatHex(bytes) : value);
                        }
                        table.add(row);
                    }
                }
                tables.put(name, table);
            }
        }
        return tables;
    }
}
