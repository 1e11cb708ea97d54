package io.spindle.trace;

/** A span that is current until closed, which ends it. */
public interface Traced extends AutoCloseable {
    /** The span of no tracing: does nothing. */
    Traced NONE = new Traced() {
        @Override
        public void attribute(String key, long value) {}

        @Override
        public void attribute(String key, String value) {}

        @Override
        public void failed(Throwable cause) {}

        @Override
        public void failed(String description) {}

        @Override
        public void close() {}
    };

    void attribute(String key, long value);

    void attribute(String key, String value);

    /** The work failed with {@code cause}: the span's status is error, and it records the exception. */
    void failed(Throwable cause);

    /** The work failed without an exception (e.g. an HTTP answer 5xx). */
    void failed(String description);

    @Override
    void close();
}
