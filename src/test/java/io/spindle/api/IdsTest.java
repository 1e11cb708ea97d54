package io.spindle.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class IdsTest {

    @Test
    void idsHaveOpenAisPrefixesLengthsAndAlphabets() {
        assertThat(Ids.message()).matches("msg_[0-9A-Za-z]{24}");
        assertThat(Ids.thread()).matches("thread_[0-9A-Za-z]{24}");
        assertThat(Ids.file()).matches("file-[0-9A-Za-z]{22}");
        assertThat(Ids.vectorStore()).matches("vs_[0-9a-f]{32}");
        assertThat(Ids.request()).matches("req_[0-9a-f]{32}");
    }

    @Test
    void everyCharacterOfTheAlphabetTurnsUpAndIdsDoNotRepeat() {
        Set<String> ids = new HashSet<>();
        Set<Character> base62 = new HashSet<>();
        Set<Character> hex = new HashSet<>();
        for (int i = 0; i < 2_000; i++) {
            String id = Ids.run();
            ids.add(id);
            id.substring(Ids.RUN.length()).chars().forEach(c -> base62.add((char) c));
            Ids.request().substring(4).chars().forEach(c -> hex.add((char) c));
        }
        assertThat(ids).hasSize(2_000);
        assertThat(base62).hasSize(62);
        assertThat(hex).hasSize(16);
    }
}
