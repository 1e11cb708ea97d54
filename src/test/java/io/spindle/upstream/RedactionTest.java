package io.spindle.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RedactionTest {
    private static final URI PLAIN = URI.create("http://127.0.0.1:8000/v1");

    @Test
    void bearerTokensAndAuthorizationHeadersAreMasked() {
        Redaction r = Redaction.of(Optional.empty(), PLAIN);

        assertThat(r.text("Authorization: Bearer abc.def-ghi")).isEqualTo("Authorization: [redacted]");
        assertThat(r.text("{\"authorization\":\"Bearer tok123\",\"accept\":\"*/*\"}"))
                .isEqualTo("{\"authorization\":\"[redacted]\",\"accept\":\"*/*\"}");
        assertThat(r.text("headers {Authorization=[Bearer tok123], Host=[x]}"))
                .isEqualTo("headers {Authorization=[[redacted]], Host=[x]}");
        assertThat(r.text("sent bearer eyJhbGciOi.payload.sig to it")).isEqualTo("sent bearer [redacted] to it");
        assertThat(r.text("Proxy-Authorization: Basic dXNlcjpwYXNz")).isEqualTo("Proxy-Authorization: [redacted]");
    }

    @Test
    void apiKeyHeadersAndKeyLikeValuesAreMasked() {
        Redaction r = Redaction.of(Optional.empty(), PLAIN);

        assertThat(r.text("api-key: 0123456789abcdef")).isEqualTo("api-key: [redacted]");
        assertThat(r.text("{\"x-api-key\": \"zzz\"}")).isEqualTo("{\"x-api-key\": \"[redacted]\"}");
        assertThat(r.text("Incorrect API key provided: sk-proj-AbCdEf0123456789_xyz. See docs."))
                .isEqualTo("Incorrect API key provided: [redacted]. See docs.");
        assertThat(r.text("key gsk_abcdefghijkl and hf_abcdefghijkl")).isEqualTo("key [redacted] and [redacted]");
        assertThat(r.text("the model answered 503: overloaded")).isEqualTo("the model answered 503: overloaded");
    }

    @Test
    void theConfiguredKeyIsMaskedWhateverItLooksLike() {
        Redaction r = Redaction.of(Optional.of("k9-Plain-Secret"), PLAIN);

        assertThat(r.text("you sent k9-Plain-Secret, which is wrong")).isEqualTo("you sent [redacted], which is wrong");
        assertThat(r.text("no secret here")).isEqualTo("no secret here");
    }

    @Test
    void urlCredentialsAreMaskedInTextAndDroppedFromUrls() {
        URI withUser = URI.create("http://alice:s3cr3t-pw@models.internal:8000/v1?key=abc#frag");
        Redaction r = Redaction.of(Optional.empty(), withUser);

        assertThat(r.text("could not reach http://alice:s3cr3t-pw@models.internal:8000/v1/chat/completions"))
                .isEqualTo("could not reach http://[redacted]@models.internal:8000/v1/chat/completions");
        assertThat(r.text("password was s3cr3t-pw")).isEqualTo("password was [redacted]");
        assertThat(Redaction.patterns("postgresql://bob:pw@db:5432/x")).isEqualTo("postgresql://[redacted]@db:5432/x");
        assertThat(Redaction.url(withUser)).isEqualTo("http://models.internal:8000/v1");
        assertThat(Redaction.url(URI.create("https://api.openai.com/v1"))).isEqualTo("https://api.openai.com/v1");
    }

    @Test
    void longTextIsCutAndASecretAcrossTheCutIsStillMasked() {
        String key = "k9-Plain-Secret";
        Redaction r = Redaction.of(Optional.of(key), PLAIN);
        String text = "x".repeat(Redaction.MAX_CHARS - 5) + key + "y".repeat(1_000_000);

        String out = r.text(text);

        assertThat(out).hasSizeLessThanOrEqualTo(Redaction.MAX_CHARS + 1).doesNotContain("k9-Pl").startsWith("xxx");
    }

    @Test
    void pathologicalTextIsRedactedQuickly() {
        Redaction r = Redaction.of(Optional.of("k9-Plain-Secret"), PLAIN);
        String text = "a.".repeat(5_000_000);

        long start = System.nanoTime();
        r.text(text);
        r.text("Bearer " + "a".repeat(10_000_000));

        assertThat(System.nanoTime() - start).as("nanoseconds").isLessThan(2_000_000_000L);
    }
}
