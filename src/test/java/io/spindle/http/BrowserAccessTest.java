package io.spindle.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spindle.Settings;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The origin and host rules on their own, from the settings as an operator writes them. */
class BrowserAccessTest {

    private static BrowserAccess access(String... pairs) {
        Map<String, String> env = new HashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            env.put(pairs[i], pairs[i + 1]);
        }
        return BrowserAccess.of(Settings.fromEnvironment(env));
    }

    @Test
    void withoutKeysOnlyLoopbackOriginsAndHosts() {
        BrowserAccess access = access();
        assertThat(access.anyOrigin()).isFalse();
        assertThat(access.allowsOrigin("http://localhost:3000")).isTrue();
        assertThat(access.allowsOrigin("https://localhost")).isTrue();
        assertThat(access.allowsOrigin("http://127.0.0.1:5173")).isTrue();
        assertThat(access.allowsOrigin("http://127.1.2.3")).isTrue();
        assertThat(access.allowsOrigin("http://[::1]:8080")).isTrue();
        assertThat(access.allowsOrigin("HTTP://LOCALHOST:3000")).isTrue();
        assertThat(access.allowsOrigin("https://evil.example")).isFalse();
        assertThat(access.allowsOrigin("http://localhost.evil.example")).isFalse();
        assertThat(access.allowsOrigin("http://127.0.0.1.evil.example")).isFalse();
        assertThat(access.allowsOrigin("null")).isFalse();
        assertThat(access.allowsOrigin("file://")).isFalse();
        assertThat(access.allowsOrigin("chrome-extension://abcdef")).isFalse();
        assertThat(access.allowsOrigin("::not a uri")).isFalse();

        assertThat(access.allowsHost("localhost")).isTrue();
        assertThat(access.allowsHost("localhost:8080")).isTrue();
        assertThat(access.allowsHost("LOCALHOST:8080")).isTrue();
        assertThat(access.allowsHost("127.0.0.1:8080")).isTrue();
        assertThat(access.allowsHost("127.45.6.7")).isTrue();
        assertThat(access.allowsHost("[::1]:8080")).isTrue();
        assertThat(access.allowsHost("[::1]")).isTrue();
        assertThat(access.allowsHost("evil.example")).isFalse();
        assertThat(access.allowsHost("evil.example:8080")).isFalse();
        assertThat(access.allowsHost("localhost.evil.example")).isFalse();
        assertThat(access.allowsHost("127.0.0.1.nip.io:8080")).isFalse();
        assertThat(access.allowsHost("10.0.0.5:8080")).isFalse();
        assertThat(access.allowsHost("")).isFalse();
    }

    @Test
    void listedOriginsAndHostsAreAdded() {
        BrowserAccess access = access("SPINDLE_CORS_ORIGINS", "https://app.example.com/, http://intranet:*",
                "SPINDLE_ALLOWED_HOSTS", "spindle.internal, Box.Lan");
        assertThat(access.anyOrigin()).isFalse();
        assertThat(access.allowsOrigin("https://app.example.com")).isTrue();
        assertThat(access.allowsOrigin("https://APP.example.com")).isTrue();
        assertThat(access.allowsOrigin("http://app.example.com")).as("another scheme is another origin").isFalse();
        assertThat(access.allowsOrigin("https://app.example.com:8443")).as("another port is another origin").isFalse();
        assertThat(access.allowsOrigin("http://intranet:8080")).isTrue();
        assertThat(access.allowsOrigin("http://intranet")).as("any port, the default one too").isTrue();
        assertThat(access.allowsOrigin("http://localhost:3000")).as("loopback stays allowed").isTrue();
        assertThat(access.allowsOrigin("https://evil.example")).isFalse();

        assertThat(access.allowsHost("spindle.internal:8080")).isTrue();
        assertThat(access.allowsHost("box.lan")).isTrue();
        assertThat(access.allowsHost("localhost:8080")).isTrue();
        assertThat(access.allowsHost("evil.example")).isFalse();
    }

    @Test
    void entriesThatCanNeverMatchStopStartUp() {
        for (String origin : new String[] {"app.example.com", "https://app.example.com/path", "ftp://files.example.com", "https://"}) {
            assertThatThrownBy(() -> access("SPINDLE_CORS_ORIGINS", origin)).isInstanceOf(Settings.Invalid.class)
                    .hasMessageContaining("SPINDLE_CORS_ORIGINS").hasMessageContaining(origin);
        }
        for (String host : new String[] {"http://spindle.internal", "spindle.internal:8080", "a/b"}) {
            assertThatThrownBy(() -> access("SPINDLE_ALLOWED_HOSTS", host)).isInstanceOf(Settings.Invalid.class)
                    .hasMessageContaining("SPINDLE_ALLOWED_HOSTS").hasMessageContaining(host);
        }
        assertThat(access("SPINDLE_ALLOWED_HOSTS", "[fd00::1]").allowsHost("[fd00::1]:8080")).isTrue();
    }

    @Test
    void starAllowsAll() {
        BrowserAccess access = access("SPINDLE_CORS_ORIGINS", "*", "SPINDLE_ALLOWED_HOSTS", "*");
        assertThat(access.anyOrigin()).isTrue();
        assertThat(access.allowsOrigin("https://evil.example")).isTrue();
        assertThat(access.allowsHost("evil.example")).isTrue();
    }

    @Test
    void withKeysAnyOriginAndHostUnlessOriginsAreListed() {
        BrowserAccess open = access("SPINDLE_API_KEYS", "sk-1");
        assertThat(open.anyOrigin()).isTrue();
        assertThat(open.allowsOrigin("https://evil.example")).isTrue();
        assertThat(open.allowsHost("evil.example:443")).isTrue();

        BrowserAccess listed = access("SPINDLE_API_KEYS", "sk-1", "SPINDLE_CORS_ORIGINS", "https://app.example.com");
        assertThat(listed.anyOrigin()).isFalse();
        assertThat(listed.allowsOrigin("https://app.example.com")).isTrue();
        assertThat(listed.allowsOrigin("https://evil.example")).isFalse();
        assertThat(listed.allowsHost("api.example.com")).as("hosts are not checked with keys").isTrue();
    }
}
