package dev.retort.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The strict JSON reader: duplicates and trailing text refused, and messages that say what and where, quoting nothing. */
class StrictJsonTest {
    static Stream<Arguments> malformed() {
        return Stream.of(
                Arguments.of("{\"a\": 1,\n \"a\": 2}", "duplicate key \"a\"", 2),
                Arguments.of("{\"a\": {\"b\": 1, \"b\": 1}}", "duplicate key \"b\"", 1),
                Arguments.of("{\"a\": 1} {\"a\": 2}", "more text after the JSON value", 1),
                Arguments.of("{\"a\": 1}\n\nsecret", "more text after the JSON value", 3),
                Arguments.of("[1, 2] ]", "more text after the JSON value", 1),
                Arguments.of("root:x:0:0:root:/root:/bin/bash", "a word that is not a JSON value", 1),
                Arguments.of("{\"a\": secret}", "a word that is not a JSON value", 1),
                Arguments.of("{\"a\": 1,}", "an unexpected character", 1),
                Arguments.of("{\"a\": \"secret\u0007\"}", "a control character inside a string", 1),
                Arguments.of("{\"a\": \"\\qsecret\"}", "an invalid escape sequence", 1),
                Arguments.of("{\"a\": 01}", "a malformed number", 1),
                Arguments.of("{\"a\": [1, 2,\n", "it ends before the JSON value does", 2),
                Arguments.of("[".repeat(33) + "]".repeat(33), "nested deeper than 32 levels", -1));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void malformedTextIsRefusedSayingWhatAndWhereWithoutQuotingIt(String text, String reason, int line) {
        StrictJson.Malformed e = assertThrows(StrictJson.Malformed.class, () -> StrictJson.parse(text));
        assertTrue(e.getMessage().contains(reason), e.getMessage());
        assertEquals(line, e.line(), e.getMessage());
        if (line > 0) {
            assertTrue(e.getMessage().endsWith(" at line " + line + ", column " + e.column()), e.getMessage());
        }
        for (String secret : new String[] {"secret", "root", "bash", "\u0007", "Unrecognized", "Source"}) {
            assertFalse(e.getMessage().contains(secret), "quotes the input: " + e.getMessage());
        }
        StrictJson.Malformed fromBytes = assertThrows(StrictJson.Malformed.class,
                () -> StrictJson.parse(text.getBytes(StandardCharsets.UTF_8)));
        assertEquals(e.reason(), fromBytes.reason(), "the same from bytes");
    }

    @Test
    void validJsonReadsWithWhitespaceAroundIt() throws Exception {
        assertEquals(2, StrictJson.parse("\n {\"a\": [1, 2.5], \"b\": {\"a\": null}}  \n").size());
        assertEquals(3, StrictJson.parse("[1, 2, 3]   ".getBytes(StandardCharsets.UTF_8)).size());
    }

    @Test
    void emptyTextAndBytesThatAreNotUtf8AreRefused() {
        assertTrue(assertThrows(StrictJson.Malformed.class, () -> StrictJson.parse("  ")).getMessage()
                .contains("no JSON value"));
        byte[] latin1 = {'{', '"', 'a', '"', ':', '"', (byte) 0xe9, 't', 'e', '"', '}'};
        StrictJson.Malformed e = assertThrows(StrictJson.Malformed.class, () -> StrictJson.parse(latin1));
        assertTrue(e.getMessage().contains("not UTF-8"), e.getMessage());
    }

    @Test
    void aDuplicateKeyIsShownEscapedAndCut() {
        StrictJson.Malformed e = assertThrows(StrictJson.Malformed.class,
                () -> StrictJson.parse("{\"a\\u001b[2Jb\": 1, \"a\\u001b[2Jb\": 2}"));
        assertTrue(e.getMessage().startsWith("duplicate key \"a\\u001B[2Jb\""), e.getMessage());
        String longKey = "k".repeat(500);
        e = assertThrows(StrictJson.Malformed.class,
                () -> StrictJson.parse("{\"" + longKey + "\": 1, \"" + longKey + "\": 2}"));
        assertTrue(e.getMessage().length() < 150, e.getMessage());
    }

    @Test
    void showEscapesControlAndLineSeparatingCharactersAndCuts() {
        assertEquals("\"a\\u009Bb\\u2028c\\n\"", StrictJson.show(new TextNode("a\u009bb\u2028c\n"), 100));
        assertEquals("\"abcd...", StrictJson.show(new TextNode("abcdefgh"), 5));
        assertEquals("12.5", StrictJson.show(com.fasterxml.jackson.databind.node.DoubleNode.valueOf(12.5), 5));
    }

    @Test
    void readFileRefusesFoldersDevicesAndLargeFilesByName(@TempDir Path dir) throws IOException {
        Path folder = Files.createDirectories(dir.resolve("config.json"));
        assertTrue(assertThrows(FileFormatException.class, () -> StrictJson.readFile(folder, 100)).getMessage()
                .equals(folder + ": a folder, not a file"));
        Path big = Files.write(dir.resolve("big.json"), new byte[101]);
        assertTrue(assertThrows(FileFormatException.class, () -> StrictJson.readFile(big, 100)).getMessage()
                .contains("101 bytes, more than the 100"));
        assertThrows(NoSuchFileException.class, () -> StrictJson.readFile(dir.resolve("none.json"), 100));
        Path zero = Path.of("/dev/zero");
        if (Files.exists(zero)) {
            assertTrue(assertThrows(FileFormatException.class, () -> StrictJson.readFile(zero, 100)).getMessage()
                    .contains("not a regular file"));
        }
        assertEquals(100, StrictJson.readFile(Files.write(dir.resolve("ok.json"), new byte[100]), 100).length);
    }
}
