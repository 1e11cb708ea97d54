package io.spindle.engine.tools;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** What the model may write as file_search arguments. */
class FileSearchToolTest {

    @Test
    void queriesAreTakenInOrderWithoutBlanksOrRepeats() {
        assertThat(FileSearchTool.queries("{\"queries\": [\" cake \", \"\", \"pie\", \"cake\", 3]}")).containsExactly("cake", "pie");
    }

    @Test
    void aLoneQueryStringIsTakenToo() {
        assertThat(FileSearchTool.queries("{\"query\": \"tacos\"}")).containsExactly("tacos");
    }

    @Test
    void argumentsThatAreNotJsonGiveNoQueries() {
        assertThat(FileSearchTool.queries("queries: cake")).isEmpty();
        assertThat(FileSearchTool.queries("")).isEmpty();
        assertThat(FileSearchTool.queries("[\"cake\"]")).isEmpty();
    }
}
