package io.spindle.http;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Collects the JUL records of the whole JVM (Helidon logs through JUL too) while open; one logger
 * may be opened down to FINE, its records kept off the console.
 */
final class LogCapture extends Handler implements AutoCloseable {
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Logger root = Logger.getLogger("");
    private final Logger fine;
    private final Level fineWas;

    private LogCapture(String fineLogger) {
        setLevel(Level.ALL);
        root.addHandler(this);
        fine = fineLogger == null ? null : Logger.getLogger(fineLogger);
        fineWas = fine == null ? null : fine.getLevel();
        if (fine != null) {
            fine.setLevel(Level.FINE);
            fine.setUseParentHandlers(false);
            fine.addHandler(this);
        }
    }

    static LogCapture all() {
        return new LogCapture(null);
    }

    /** Also the FINE records of {@code logger}. */
    static LogCapture withFine(String logger) {
        return new LogCapture(logger);
    }

    List<LogRecord> atLeast(Level level) {
        return records.stream().filter(r -> r.getLevel().intValue() >= level.intValue()).toList();
    }

    List<LogRecord> from(String logger, Level level) {
        return records.stream().filter(r -> logger.equals(r.getLoggerName()) && r.getLevel().equals(level)).toList();
    }

    static String describe(List<LogRecord> records) {
        return records.stream().map(r -> r.getLevel() + " " + r.getLoggerName() + ": " + r.getMessage()
                + (r.getThrown() == null ? "" : " (" + r.getThrown() + ")")).toList().toString();
    }

    @Override
    public void publish(LogRecord record) {
        records.add(record);
    }

    @Override
    public void flush() {}

    @Override
    public void close() {
        root.removeHandler(this);
        if (fine != null) {
            fine.removeHandler(this);
            fine.setUseParentHandlers(true);
            fine.setLevel(fineWas);
        }
    }
}
