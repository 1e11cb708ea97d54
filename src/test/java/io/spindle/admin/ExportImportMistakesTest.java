package io.spindle.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindle.testing.Api;
import io.spindle.testing.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a user can get wrong with {@code export}, {@code import} and {@code keys} on SQLite: each is one line on stderr
 * and exit status 2, and a refused import leaves the database as it was.
 */
class ExportImportMistakesTest {
    @TempDir
    Path dir;

    @Test
    void mistakesAreOneLineAndARefusedImportChangesNothing() throws Exception {
        Path data = dir.resolve("data");
        Map<String, String> settings = Map.of("SPINDLE_DATA_DIR", data.toString());
        Path export = dir.resolve("export.jsonl");
        String assistant;
        try (TestServer server = TestServer.start(TestServer.Storage.SQLITE, settings)) {
            Api api = server.api();
            assistant = api.post("/v1/assistants", Map.of("model", "gpt-4o", "name", "exported")).ok().path("id").asText();
            api.post("/v1/threads", Map.of("messages", List.of(Map.of("role", "user", "content", "hello")))).ok();

            assertOneLine(SpindleCommand.run(settings, "export", "--project", "default", export.toString()),
                    "spindle export: SPINDLE_DATA_DIR " + data.toAbsolutePath() + " is in use by another Spindle process (if a server "
                            + "uses it, stop it or work on a copy from spindle backup)");
        }
        assertOneLine(SpindleCommand.run(settings, "export", "--project", "nobody", export.toString()),
                "spindle export: the database holds no objects of project 'nobody' (spindle keys lists the projects)");
        assertOneLine(SpindleCommand.run(settings, "export", "default", export.toString()),
                "spindle export: usage: spindle export --project PROJECT FILE");
        assertThat(export).doesNotExist();

        SpindleCommand.Result exported = SpindleCommand.run(settings, "export", "--project", "default", export.toString());
        assertThat(exported.status()).as("%s", exported.stderr()).isZero();
        assertOneLine(SpindleCommand.run(settings, "export", "--project", "default", export.toString()),
                "spindle export: " + export + " exists already; an export goes into a new file");

        Path fresh = dir.resolve("fresh");
        Map<String, String> elsewhere = Map.of("SPINDLE_DATA_DIR", fresh.toString());
        List<String> lines = Files.readAllLines(export);
        Path truncated = dir.resolve("truncated.jsonl");
        Files.writeString(truncated, String.join("\n", lines).substring(0, String.join("\n", lines).length() - 20));
        assertThat(SpindleCommand.run(elsewhere, "import", truncated.toString()).stderr()).singleElement().asString()
                .startsWith("spindle import: " + truncated + " line " + lines.size() + " is not JSON: ");
        Path unknownKind = dir.resolve("unknown.jsonl");
        Files.write(unknownKind, List.of(lines.get(0), lines.get(1).replace("\"kind\":\"assistant\"", "\"kind\":\"robot\"")));
        assertOneLine(SpindleCommand.run(elsewhere, "import", unknownKind.toString()),
                "spindle import: " + unknownKind + " line 2 has an unknown kind 'robot'");
        Path notAnExport = dir.resolve("other.jsonl");
        Files.writeString(notAnExport, "{\"hello\": 1}\n");
        assertOneLine(SpindleCommand.run(elsewhere, "import", notAnExport.toString()),
                "spindle import: " + notAnExport + " is not a Spindle export (its first line is not a spindle-export header)");
        assertOneLine(SpindleCommand.run(elsewhere, "import", dir.resolve("missing.jsonl").toString()),
                "spindle import: " + dir.resolve("missing.jsonl") + " is not a file");

        SpindleCommand.Result keys = SpindleCommand.run(elsewhere, "keys");
        assertThat(keys.stdout()).as("nothing of the refused imports stayed").containsExactly(
                "SPINDLE_API_KEYS is not set: every request is project default");

        assertThat(SpindleCommand.run(elsewhere, "import", export.toString()).status()).isZero();
        assertOneLine(SpindleCommand.run(elsewhere, "import", export.toString()),
                "spindle import: assistant " + assistant + " exists already in this database; nothing was imported");
        assertThat(SpindleCommand.run(elsewhere, "keys").stdout()).containsExactly(
                "SPINDLE_API_KEYS is not set: every request is project default",
                "default: 0 API key(s); file=0 assistant=1 thread=1 message=1 run=0 run_step=0 vector_store=0 vector_store_file=0 "
                        + "vector_store_file_batch=0 chunk=0");
    }

    private static void assertOneLine(SpindleCommand.Result result, String line) {
        assertThat(result.stdout()).isEmpty();
        assertThat(result.stderr()).containsExactly(line);
        assertThat(result.status()).isEqualTo(2);
    }
}
