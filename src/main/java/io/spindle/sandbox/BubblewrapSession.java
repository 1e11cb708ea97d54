package io.spindle.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A kernel under bwrap, spoken to in line-delimited JSON over its stdin and stdout (the protocol is described in
 * {@code kernel.py}). One request at a time; the replies are read by a virtual thread into a queue, so every wait
 * has a deadline.
 */
final class BubblewrapSession implements Session {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CHUNK_BYTES = 4 * 1024 * 1024;
    private static final int MAX_REPLY_BYTES = 64 * 1024 * 1024;
    private static final Duration START_LIMIT = Duration.ofSeconds(30);
    private static final Duration FILE_LIMIT = Duration.ofSeconds(60);
    /** How long an interrupted cell may take to answer before the sandbox is torn down. */
    private static final Duration INTERRUPT_GRACE = Duration.ofSeconds(5);
    /** How often the interrupt is sent again meanwhile. */
    private static final Duration INTERRUPT_AGAIN = Duration.ofMillis(500);
    /** How often a running cell asks whether it should stop. */
    private static final Duration STOP_CHECK = Duration.ofMillis(100);
    private static final JsonNode END = JSON.createObjectNode();

    private final String id;
    private final Process process;
    private final OutputStream requests;
    private final LinkedBlockingQueue<JsonNode> replies = new LinkedBlockingQueue<>();
    private final StderrTail stderr;
    private final ReentrantLock oneAtATime = new ReentrantLock();
    private final long maxFileBytes;
    private long nextRequest;
    private volatile boolean ended;
    private volatile String endReason = "the session was closed";

    private BubblewrapSession(String id, Process process, long maxFileBytes) {
        this.id = id;
        this.process = process;
        this.requests = process.getOutputStream();
        this.stderr = new StderrTail(process.getErrorStream());
        this.maxFileBytes = maxFileBytes;
        Thread.ofVirtual().name("sandbox-replies-" + id).start(this::readReplies);
    }

    /** Starts the process and waits for the kernel's greeting; fails with what bwrap or Python said. */
    static BubblewrapSession start(String id, List<String> command, long maxFileBytes) {
        Process process;
        try {
            process = Launcher.start(command);
        } catch (IOException e) {
            throw new SandboxException("cannot start bwrap: " + e.getMessage(), e);
        }
        BubblewrapSession session = new BubblewrapSession(id, process, maxFileBytes);
        JsonNode hello = session.await(START_LIMIT);
        if (hello == null || !hello.path("ready").asBoolean()) {
            session.tearDown("the kernel did not start");
            throw new SandboxException("the Python kernel did not start" + (hello == null ? " in " + START_LIMIT.toSeconds() + " s" : "")
                    + ": " + session.stderr.text());
        }
        return session;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public boolean alive() {
        return !ended;
    }

    @Override
    public void putFile(String name, InputStream content) {
        FileName.check(name);
        byte[] chunk = new byte[CHUNK_BYTES];
        boolean append = false;
        try {
            do {
                int length = content.readNBytes(chunk, 0, chunk.length);
                if (length == 0 && append) {
                    break;
                }
                ObjectNode request = JSON.createObjectNode().put("op", "put").put("name", name)
                        .put("data", Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(chunk, length)))
                        .put("append", append);
                answered(request, FILE_LIMIT, "write " + name);
                append = true;
                if (length < chunk.length) {
                    break;
                }
            } while (true);
        } catch (IOException e) {
            throw new SandboxException("cannot read the file to put in the sandbox: " + e.getMessage(), e);
        }
    }

    @Override
    public byte[] readFile(String name) {
        FileName.check(name);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        long size;
        do {
            ObjectNode request = JSON.createObjectNode().put("op", "read").put("name", name).put("offset", bytes.size())
                    .put("length", CHUNK_BYTES);
            JsonNode reply = answered(request, FILE_LIMIT, "read " + name);
            byte[] data = Base64.getDecoder().decode(reply.path("data").asText());
            size = reply.path("size").asLong();
            if (size > maxFileBytes) {
                throw new SandboxException("cannot read " + name + ": it is larger than " + maxFileBytes + " bytes");
            }
            bytes.writeBytes(data);
            if (data.length == 0) {
                break; // the file shrank while it was read
            }
        } while (bytes.size() < size);
        return bytes.toByteArray();
    }

    @Override
    public Execution execute(String code, Duration limit, BooleanSupplier stop) {
        oneAtATime.lock();
        try {
            long requestId = send(JSON.createObjectNode().put("op", "execute").put("code", code));
            Waited waited = awaitCell(limit, stop);
            JsonNode reply = waited.reply();
            boolean timedOut = waited.timedOut();
            if (reply == null || reply == END) {
                String why = timedOut
                        ? "TimeoutError: the cell ran longer than " + limit.toSeconds() + " s and did not stop when interrupted"
                        : waited.stopped() ? "the cell was stopped and did not stop when interrupted"
                        : "the Python process ended" + exitDescription();
                tearDown(why);
                return new Execution("", Optional.of(why + "; the session was restarted, its variables and files are gone"),
                        List.of(), List.of(), timedOut, true);
            }
            checkId(reply, requestId);
            Optional<String> error = reply.path("error").isTextual() ? Optional.of(reply.path("error").asText()) : Optional.empty();
            if (timedOut) {
                error = Optional.of("TimeoutError: the cell ran longer than " + limit.toSeconds() + " s and was interrupted"
                        + "; the variables are kept");
            }
            List<byte[]> images = new ArrayList<>();
            reply.path("images").forEach(image -> images.add(Base64.getDecoder().decode(image.asText())));
            List<Execution.OutputFile> files = new ArrayList<>();
            reply.path("files").forEach(file -> files.add(new Execution.OutputFile(file.path("name").asText(), file.path("size").asLong())));
            return new Execution(reply.path("logs").asText(), error, List.copyOf(images), List.copyOf(files), timedOut, false);
        } finally {
            oneAtATime.unlock();
        }
    }

    /** A cell's reply (null when it never came), and whether its time limit or its stop interrupted it. */
    private record Waited(JsonNode reply, boolean timedOut, boolean stopped) {}

    /**
     * Waits for the cell's reply. Past {@code limit}, or once {@code stop} says so, the cell is interrupted, again
     * every {@link #INTERRUPT_AGAIN} until it answers or {@link #INTERRUPT_GRACE} has passed: the kernel drops an
     * interrupt that lands before the cell started (a loaded machine can delay that start), so one interrupt may not
     * be enough.
     */
    private Waited awaitCell(Duration limit, BooleanSupplier stop) {
        long now = System.nanoTime();
        long deadline = now + limit.toNanos();
        long giveUp = 0;
        long nextInterrupt = 0;
        boolean timedOut = false;
        boolean stopped = false;
        while (true) {
            boolean interrupting = timedOut || stopped;
            if (!interrupting && (now >= deadline || stop.getAsBoolean())) {
                timedOut = now >= deadline;
                stopped = !timedOut;
                interrupting = true;
                giveUp = now + INTERRUPT_GRACE.toNanos();
            }
            long wakeUp;
            if (interrupting) {
                if (now >= giveUp) {
                    return new Waited(null, timedOut, stopped);
                }
                if (now >= nextInterrupt) {
                    interrupt();
                    nextInterrupt = now + INTERRUPT_AGAIN.toNanos();
                }
                wakeUp = Math.min(nextInterrupt, giveUp);
            } else {
                wakeUp = Math.min(deadline, now + STOP_CHECK.toNanos());
            }
            JsonNode reply = await(Duration.ofNanos(Math.max(1, wakeUp - now)));
            if (reply != null) {
                return new Waited(reply, timedOut, stopped);
            }
            now = System.nanoTime();
        }
    }

    /**
     * SIGINT to the kernel: the child of bwrap's PID 1 (bwrap → bwrap as PID 1 of the sandbox → python). The kernel
     * takes it only while a cell runs.
     */
    private void interrupt() {
        process.toHandle().children().flatMap(ProcessHandle::children).forEach(kernel -> {
            try {
                new ProcessBuilder("/bin/kill", "-INT", Long.toString(kernel.pid())).start().waitFor(5, TimeUnit.SECONDS);
            } catch (IOException e) {
                throw new SandboxException("cannot interrupt the kernel: " + e.getMessage(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    /** Closes the kernel's stdin (it exits) and kills whatever is left a moment later. */
    @Override
    public void close() {
        if (ended) {
            return;
        }
        try {
            requests.close();
            process.waitFor(1, TimeUnit.SECONDS);
        } catch (IOException e) {
            // torn down below
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        tearDown("the session was closed");
    }

    /** Kills every process of the sandbox: its processes first, then bwrap (the PID namespace dies with it). */
    private void tearDown(String reason) {
        endReason = reason;
        ended = true;
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A file request's reply, failed when the kernel refused it. */
    private JsonNode answered(ObjectNode request, Duration limit, String what) {
        oneAtATime.lock();
        try {
            long requestId = send(request);
            JsonNode reply = await(limit);
            if (reply == null || reply == END) {
                tearDown("the kernel did not answer");
                throw new SandboxException("cannot " + what + ": the Python process " + (reply == null ? "did not answer" : "ended"
                        + exitDescription()));
            }
            checkId(reply, requestId);
            if (reply.hasNonNull("failure")) {
                throw new SandboxException("cannot " + what + ": " + reply.path("failure").asText());
            }
            return reply;
        } finally {
            oneAtATime.unlock();
        }
    }

    private long send(ObjectNode request) {
        if (ended) {
            throw new SandboxException("the sandbox session has ended: " + endReason);
        }
        replies.clear(); // a late answer to a request that timed out is no answer to this one
        long requestId = ++nextRequest;
        request.put("id", requestId);
        try {
            requests.write(JSON.writeValueAsBytes(request));
            requests.write('\n');
            requests.flush();
        } catch (IOException e) {
            tearDown("its stdin closed");
            throw new SandboxException("the Python process ended" + exitDescription(), e);
        }
        return requestId;
    }

    private void checkId(JsonNode reply, long requestId) {
        if (reply.path("id").asLong(-1) != requestId) {
            tearDown("it answered out of turn");
            throw new SandboxException("the Python kernel answered out of turn; the session was restarted");
        }
    }

    /** The next reply, {@link #END} when the process ended, null when none came in time. */
    private JsonNode await(Duration limit) {
        try {
            JsonNode reply = replies.poll(limit.toNanos(), TimeUnit.NANOSECONDS);
            if (reply == END) {
                replies.add(END); // every later wait sees the end too
            }
            return reply;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SandboxException("interrupted while waiting for the Python kernel", e);
        }
    }

    private void readReplies() {
        BoundedLines lines = new BoundedLines(new BufferedInputStream(process.getInputStream(), 65_536), MAX_REPLY_BYTES);
        try {
            for (Optional<byte[]> line = lines.next(); line.isPresent(); line = lines.next()) {
                replies.add(JSON.readTree(line.get()));
            }
        } catch (IOException e) {
            // a reply too long or not JSON: the kernel is not to be trusted any more
            stderr.note(e.getMessage());
            tearDown(e.getMessage());
        } finally {
            replies.add(END);
        }
    }

    private String exitDescription() {
        try {
            if (!process.waitFor(2, TimeUnit.SECONDS)) {
                return "";
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
        String said = stderr.text();
        return " (exit status " + process.exitValue() + (process.exitValue() == 137 ? ", killed: out of memory?" : "") + ")"
                + (said.isEmpty() ? "" : ": " + said);
    }

    /** The last few kilobytes bwrap and Python wrote to stderr before the kernel took it over: why a start failed. */
    private static final class StderrTail {
        private static final int KEEP = 4_096;
        private final StringBuilder tail = new StringBuilder();

        StderrTail(InputStream in) {
            Thread.ofVirtual().start(() -> {
                byte[] buffer = new byte[4_096];
                try {
                    for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                        note(new String(buffer, 0, n, StandardCharsets.UTF_8));
                    }
                } catch (IOException e) {
                    // the process ended
                }
            });
        }

        synchronized void note(String text) {
            tail.append(text);
            if (tail.length() > KEEP) {
                tail.delete(0, tail.length() - KEEP);
            }
        }

        synchronized String text() {
            return tail.toString().strip();
        }
    }
}
