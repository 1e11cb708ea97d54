package io.spindle.sandbox;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * One live session per key (a thread id), so variables survive between runs. A session ends when idle for
 * {@code idleLimit}, after {@link #MAX_LIFE} whatever its use, or when it is the oldest idle one and a new key needs
 * its place among {@code maxSessions}; the key's next use starts a fresh one. Closing the pool ends them all.
 */
public final class SessionPool implements AutoCloseable {
    public static final Duration MAX_LIFE = Duration.ofHours(1);

    private final Sandbox sandbox;
    private final Duration idleLimit;
    private final int maxSessions;
    private final InstantSource clock;
    private final Map<String, Entry> entries = new HashMap<>();
    private final AtomicLong opened = new AtomicLong();
    private final ScheduledExecutorService sweeper;
    private boolean closed;

    /** A key's session and its use. {@code session} is set and replaced under the entry's own lock. */
    private static final class Entry {
        volatile Session session;
        Instant started;
        Instant lastUsed;
        int users;
    }

    public SessionPool(Sandbox sandbox, Duration idleLimit, int maxSessions, InstantSource clock) {
        this.sandbox = sandbox;
        this.idleLimit = idleLimit;
        this.maxSessions = maxSessions;
        this.clock = clock;
        this.sweeper = Executors.newSingleThreadScheduledExecutor(Thread.ofVirtual().name("sandbox-sweeper").factory());
        long every = Math.max(1, Math.min(60, idleLimit.toSeconds() / 4));
        sweeper.scheduleWithFixedDelay(this::sweep, every, every, TimeUnit.SECONDS);
    }

    /**
     * Runs {@code work} with the key's live session, started first when there is none (or it ended). Fails with
     * {@link SandboxException} when all {@code maxSessions} are busy, or the session cannot start.
     */
    public <T> T use(String key, Function<Session, T> work) {
        Entry entry = claim(key);
        try {
            synchronized (entry) {
                Instant now = clock.instant();
                if (entry.session == null || !entry.session.alive() || now.isAfter(entry.started.plus(MAX_LIFE))) {
                    Optional.ofNullable(entry.session).ifPresent(Session::close);
                    entry.session = null;
                    entry.session = sandbox.open(key.replaceAll("[^A-Za-z0-9_-]", "_") + "-" + opened.incrementAndGet());
                    entry.started = now;
                }
                return work.apply(entry.session);
            }
        } finally {
            release(key, entry);
        }
    }

    /** Live sessions (and sessions being started) now. */
    public synchronized int size() {
        return entries.size();
    }

    /** Ends the sessions idle past the limit or older than {@link #MAX_LIFE}; runs on its own every little while. */
    public void sweep() {
        List<Entry> ended = new ArrayList<>();
        synchronized (this) {
            Instant now = clock.instant();
            entries.values().removeIf(entry -> {
                boolean over = entry.users == 0 && (now.isAfter(entry.lastUsed.plus(idleLimit))
                        || entry.started != null && now.isAfter(entry.started.plus(MAX_LIFE)));
                if (over) {
                    ended.add(entry);
                }
                return over;
            });
        }
        ended.forEach(SessionPool::end);
    }

    @Override
    public void close() {
        sweeper.shutdownNow();
        List<Entry> all;
        synchronized (this) {
            closed = true;
            all = new ArrayList<>(entries.values());
            entries.clear();
        }
        all.forEach(SessionPool::end);
    }

    private Entry claim(String key) {
        Entry evicted = null;
        Entry entry;
        synchronized (this) {
            if (closed) {
                throw new SandboxException("the sandbox sessions are closed: the server is stopping");
            }
            entry = entries.get(key);
            if (entry == null) {
                if (entries.size() >= maxSessions) {
                    evicted = entries.entrySet().stream().filter(e -> e.getValue().users == 0)
                            .min(Comparator.comparing(e -> e.getValue().lastUsed))
                            .map(e -> entries.remove(e.getKey()))
                            .orElseThrow(() -> new SandboxException("all " + maxSessions + " sandbox sessions of this server are "
                                    + "busy (SPINDLE_SANDBOX_MAX_SESSIONS); try again when one is done"));
                }
                entry = new Entry();
                entries.put(key, entry);
            }
            entry.users++;
            entry.lastUsed = clock.instant();
        }
        if (evicted != null) {
            end(evicted);
        }
        return entry;
    }

    private synchronized void release(String key, Entry entry) {
        entry.users--;
        entry.lastUsed = clock.instant();
        if (entry.session == null && entry.users == 0 && entries.get(key) == entry) {
            entries.remove(key); // it never started
        }
        if (closed) {
            end(entry);
        }
    }

    private static void end(Entry entry) {
        // Not under the entry's lock: a cell running in it is stopped, not waited for.
        Session session = entry.session;
        if (session != null) {
            session.close();
        }
    }
}
