package io.spindle.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * Captures what a logger (and its children) logs at {@code level} and above while open, formatted as the console
 * would show it, stack traces included. The logger's own level is lowered to {@code level} meanwhile.
 */
public final class LogCapture extends Handler implements AutoCloseable {
    private final Logger logger;
    private final Level previous;
    private final SimpleFormatter formatter = new SimpleFormatter();
    private final List<String> lines = new ArrayList<>();

    private LogCapture(Logger logger, Level level) {
        this.logger = logger;
        this.previous = logger.getLevel();
        setLevel(level);
        logger.setLevel(level);
        logger.addHandler(this);
    }

    /** Captures {@code loggerName} (e.g. {@code "io.spindle"}) at {@code level}. */
    public static LogCapture of(String loggerName, Level level) {
        return new LogCapture(Logger.getLogger(loggerName), level);
    }

    @Override
    public synchronized void publish(LogRecord record) {
        if (isLoggable(record)) {
            lines.add(formatter.format(record));
        }
    }

    /** Everything captured so far, one formatted record after the other. */
    public synchronized String text() {
        return String.join("", lines);
    }

    @Override
    public void flush() {}

    @Override
    public void close() {
        logger.removeHandler(this);
        logger.setLevel(previous);
    }
}
