package io.spindle.admin;

import io.spindle.store.Database;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The projects a database holds objects of or API keys name, with how many objects of each kind they hold. */
public final class Projects {
    private Projects() {}

    /** A project: how many API keys name it, and its objects by kind name (every kind, zeros too). */
    public record Project(String name, int keys, Map<String, Long> objects) {
        public boolean isEmpty() {
            return objects.values().stream().allMatch(n -> n == 0);
        }
    }

    /** Every project of the database and of {@code keyProjects} (the projects of SPINDLE_API_KEYS, one per key), by name. */
    public static List<Project> list(Database db, Collection<String> keyProjects) {
        Map<String, Map<String, Long>> objects = new TreeMap<>();
        keyProjects.forEach(project -> objects.computeIfAbsent(project, p -> zeros()));
        db.read(c -> {
            for (Kind kind : Kind.ALL) {
                try (PreparedStatement count = c.prepareStatement(kind.countByProject()); ResultSet rows = count.executeQuery()) {
                    while (rows.next()) {
                        objects.computeIfAbsent(rows.getString(1), p -> zeros()).put(kind.name(), rows.getLong(2));
                    }
                }
            }
            return null;
        });
        List<Project> projects = new ArrayList<>();
        objects.forEach((name, counts) -> projects.add(new Project(name,
                (int) keyProjects.stream().filter(name::equals).count(), counts)));
        return projects;
    }

    private static Map<String, Long> zeros() {
        Map<String, Long> counts = new LinkedHashMap<>();
        Kind.ALL.forEach(kind -> counts.put(kind.name(), 0L));
        return counts;
    }
}
