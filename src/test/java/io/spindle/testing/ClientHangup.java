package io.spindle.testing;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Tells {@link FakeUpstream} whether a client closed its side of a connection while nothing is being written to it. The
 * JDK server gives no such signal, so this reads the kernel's socket table (Linux only: elsewhere it never tells).
 * Reading the table is slow (~15 ms a file), so one snapshot at most every {@link #EVERY} serves every watcher, and a
 * watcher only looks once it has waited that long itself: short pauses never read it.
 */
final class ClientHangup {
    static final Duration EVERY = Duration.ofMillis(200);
    private static final List<Path> TABLES = List.of(Path.of("/proc/net/tcp6"), Path.of("/proc/net/tcp"));
    private static final String ESTABLISHED = "01";

    private static Map<String, String> states;
    private static long readAt;

    private final String connection;
    private final long since = System.nanoTime();
    private boolean seen;

    /** Watches the server side of this exchange's connection. */
    ClientHangup(HttpExchange exchange) {
        connection = key(exchange.getLocalAddress().getPort(), exchange.getRemoteAddress().getPort());
    }

    /** Gone: the connection left ESTABLISHED (the client sent FIN), or vanished after being seen (RST). */
    boolean clientGone() {
        long now = System.nanoTime();
        if (now - since < EVERY.toNanos()) {
            return false;
        }
        String state = snapshot(Math.max(since, now - EVERY.toNanos())).get(connection);
        if (state != null) {
            seen = true;
            return !state.equals(ESTABLISHED);
        }
        return seen;
    }

    /** The table's states by connection, read no earlier than {@code notBefore} (a nanoTime). */
    private static synchronized Map<String, String> snapshot(long notBefore) {
        if (states == null || readAt - notBefore < 0) {
            readAt = System.nanoTime();
            states = read();
        }
        return states;
    }

    /** How many connections to {@code port} are established on this machine, counted at their client side; -1 if unknown. */
    static int establishedTo(int port) {
        Map<String, String> now = read();
        if (now.isEmpty()) {
            return -1;
        }
        String to = ">%04X".formatted(port);
        return (int) now.entrySet().stream().filter(e -> e.getKey().endsWith(to) && e.getValue().equals(ESTABLISHED)).count();
    }

    /** The kernel's connection states, by "LOCALPORT>REMOTEPORT" (ports as 4 hex digits); empty if unreadable. */
    private static Map<String, String> read() {
        Map<String, String> read = new HashMap<>();
        for (Path table : TABLES) {
            try (Stream<String> lines = Files.lines(table)) {
                // "sl local_address rem_address st ...", addresses as HEXIP:HEXPORT
                lines.skip(1).map(line -> line.trim().split("\\s+")).filter(f -> f.length > 3)
                        .forEach(f -> read.put(port(f[1]) + ">" + port(f[2]), f[3]));
            } catch (IOException | UncheckedIOException | SecurityException unreadable) {
                // not Linux, or no /proc: cannot tell
            }
        }
        return read;
    }

    private static String key(int localPort, int remotePort) {
        return "%04X>%04X".formatted(localPort, remotePort);
    }

    private static String port(String address) {
        return address.substring(address.indexOf(':') + 1);
    }
}
