package io.spindle.engine.tools;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindle.api.Json;
import io.spindle.api.ToolCall;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The code streams as the model writes its arguments: whatever the pieces, they decode to what the completed call's
 * {@code input} says, and no piece holds half a character.
 */
class CodeArgumentDecoderTest {

    /** The decoded pieces of {@code arguments} cut into pieces at the given offsets. */
    private static List<String> decode(String arguments, int... cuts) {
        CodeArgumentDecoder decoder = new CodeArgumentDecoder();
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int cut : cuts) {
            out.add(decoder.feed(arguments.substring(start, cut)));
            start = cut;
        }
        out.add(decoder.feed(arguments.substring(start)));
        return out;
    }

    /** Every way of cutting the arguments in two and in three decodes to the completed call's input. */
    private static void decodesToTheInputHoweverCut(String arguments) {
        String input = new ToolCall.CodeInterpreter("call_1", arguments).input();
        for (int a = 0; a <= arguments.length(); a++) {
            for (int b = a; b <= arguments.length(); b++) {
                List<String> pieces = decode(arguments, a, b);
                assertThat(String.join("", pieces)).as("cut at %d and %d", a, b).isEqualTo(input);
                for (String piece : pieces) {
                    assertThat(piece.isEmpty() || !Character.isHighSurrogate(piece.charAt(piece.length() - 1)))
                            .as("piece %s ends inside a surrogate pair", piece).isTrue();
                    assertThat(piece.isEmpty() || !Character.isLowSurrogate(piece.charAt(0)))
                            .as("piece %s starts inside a surrogate pair", piece).isTrue();
                }
            }
        }
    }

    @Test
    void theCodeFieldIsDecodedWithEveryEscapeSplitAnywhere() {
        decodesToTheInputHoweverCut("{\"code\": \"print(\\\"a\\\\b\\\")\\nx = '\\u00e9\\t\\/'\"}");
    }

    @Test
    void anEscapedSurrogatePairAndARawEmojiNeverComeApart() {
        decodesToTheInputHoweverCut("{\"code\":\"s = '\\ud83d\\ude00 😀 ☕'\"}");
    }

    @Test
    void otherFieldsBeforeAndAfterTheCodeAddNothing() {
        decodesToTheInputHoweverCut("{\"lang\": \"py\\\"}\", \"n\": [1, {\"code\": \"no\"}], \"code\": \"x = 1\", \"after\": \"no\"}");
        assertThat(String.join("", decode("{\"lang\":\"py\",\"code\":\"x\"}"))).isEqualTo("x");
    }

    @Test
    void bareCodeIsTheInputAsItIs() {
        decodesToTheInputHoweverCut("  import math\nprint(math.pi)");
        assertThat(decode("print(1)\n", 3)).containsExactly("pri", "nt(1)\n");
    }

    @Test
    void codeStartingWithABraceThatIsNotJsonIsPassedOnWhole() {
        decodesToTheInputHoweverCut("{1, 2} | {3}");
    }

    @Test
    void theCodeStreamsAsItArrivesAndNothingBeforeIt() {
        String arguments = Json.object().put("code", "a = 1\nb = 2").toString();
        int codeStart = arguments.indexOf("a =");
        assertThat(decode(arguments, codeStart, codeStart + 4)).containsExactly("", "a = ", "1\nb = 2");
    }

    @Test
    void argumentsWithoutCodeDecodeToNothing() {
        decodesToTheInputHoweverCut("{\"script\": \"print(1)\"}");
        decodesToTheInputHoweverCut("{}");
    }
}
