package io.spindle.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * Collects java.util.logging records while open (Helidon logs through it too): those of one logger and
 * its children from a level on ({@link #of}), everything the JVM logs ({@link #all}), or everything plus
 * one logger's FINE records, kept off the console ({@link #withFine}). Levels lowered for it are put
 * back at close.
 */
public final class LogCapture extends Handler implements AutoCloseable {
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Logger logger;
    private final Level previous;
    private final boolean quiet;
    /** With {@link #withFine}: the capture of everything else, opened and closed with this one. */
    private final LogCapture everything;

    private LogCapture(Logger logger, Level level, boolean lowerLevel, boolean quiet, LogCapture everything) {
        this.logger = logger;
        this.everything = everything;
        this.previous = logger.getLevel();
        this.quiet = quiet;
        setLevel(level);
        if (lowerLevel) {
            logger.setLevel(level);
        }
        if (quiet) {
            logger.setUseParentHandlers(false);
        }
        logger.addHandler(this);
    }

    /** What {@code loggerName} (e.g. {@code "io.spindle"}) and its children log at {@code level} and above. */
    public static LogCapture of(String loggerName, Level level) {
        return new LogCapture(Logger.getLogger(loggerName), level, true, false, null);
    }

    /** Everything logged at the levels the loggers are set to. */
    public static LogCapture all() {
        return new LogCapture(Logger.getLogger(""), Level.ALL, false, false, null);
    }

    /** Everything, plus the FINE records of {@code loggerName}, which do not reach the console meanwhile. */
    public static LogCapture withFine(String loggerName) {
        return new LogCapture(Logger.getLogger(loggerName), Level.FINE, true, true, all());
    }

    public List<LogRecord> records() {
        return everything == null ? List.copyOf(records)
                : java.util.stream.Stream.concat(everything.records().stream(), records.stream()).toList();
    }

    public List<LogRecord> atLeast(Level level) {
        return records().stream().filter(r -> r.getLevel().intValue() >= level.intValue()).toList();
    }

    public List<LogRecord> from(String loggerName, Level level) {
        return records().stream().filter(r -> loggerName.equals(r.getLoggerName()) && r.getLevel().equals(level)).toList();
    }

    /** Everything captured, formatted as the console shows it, stack traces included. */
    public String text() {
        SimpleFormatter formatter = new SimpleFormatter();
        return String.join("", records().stream().map(formatter::format).toList());
    }

    public static String describe(List<LogRecord> records) {
        return records.stream().map(r -> r.getLevel() + " " + r.getLoggerName() + ": " + r.getMessage()
                + (r.getThrown() == null ? "" : " (" + r.getThrown() + ")")).toList().toString();
    }

    @Override
    public void publish(LogRecord record) {
        if (isLoggable(record)) {
            records.add(record);
        }
    }

    @Override
    public void flush() {}

    @Override
    public void close() {
        logger.removeHandler(this);
        logger.setLevel(previous);
        if (quiet) {
            logger.setUseParentHandlers(true);
        }
        if (everything != null) {
            everything.close();
        }
    }
}
