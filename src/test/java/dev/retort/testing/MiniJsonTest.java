package dev.retort.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MiniJsonTest {

    @Test
    void parsesAllValueKinds() {
        Object v = MiniJson.parse(" {\"a\": [1, -2.5e3, 0, -0.0, 1E-2], \"b\": \"x\\\"\\\\\\/\\n\\u00e9\\ud83d\\ude00\","
                + " \"c\": true, \"d\": false, \"e\": null, \"f\": {}, \"g\": []}\n");
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) v;
        assertEquals(List.of(1.0, -2500.0, 0.0, -0.0, 0.01), m.get("a"));
        assertEquals("x\"\\/\n\u00e9\ud83d\ude00", m.get("b"));
        assertEquals(Boolean.TRUE, m.get("c"));
        assertEquals(Boolean.FALSE, m.get("d"));
        assertTrue(m.containsKey("e"));
        assertNull(m.get("e"));
        assertEquals(Map.of(), m.get("f"));
        assertEquals(List.of(), m.get("g"));
        assertEquals(List.of("a", "b", "c", "d", "e", "f", "g"), List.copyOf(m.keySet()));
        // Shortest round-trip decimal strings read back to the exact double.
        assertEquals(0.1 + 0.2, (Double) MiniJson.parse("0.30000000000000004"));
        assertEquals(Double.MIN_VALUE, (Double) MiniJson.parse("5e-324"));
    }

    @Test
    void malformedJsonNamesThePosition() {
        assertError("", 0, "end of input");
        assertError("{\"a\": 1,}", 8, "expected a string key");
        assertError("[1, 2,]", 6, "expected a value");
        assertError("[1 2]", 3, "expected ',' or ']'");
        assertError("{\"a\" 1}", 5, "expected ':'");
        assertError("{\"a\": 1, \"a\": 2}", 9, "duplicate key");
        assertError("[01]", 2, "leading zero");
        assertError("[1.]", 3, "after the decimal point");
        assertError("[1e]", 3, "exponent");
        assertError("[-]", 2, "expected a digit");
        assertError("[+1]", 1, "expected a value");
        assertError("[NaN]", 1, "expected a value");
        assertError("[Infinity]", 1, "expected a value");
        assertError("[1e400]", 1, "out of double range");
        assertError("[tru]", 1, "expected a value");
        assertError("{'a': 1}", 1, "expected a string key");
        assertError("\"abc", 0, "unterminated string");
        assertError("\"a\tb\"", 2, "control character");
        assertError("\"\\x\"", 2, "bad escape");
        assertError("\"\\u12g4\"", 5, "bad hex digit");
        assertError("[1] [2]", 4, "after the JSON value");
        assertError("[1, // c\n 2]", 4, "expected a value");
        assertError("[1,\n  {\"b\": ]", 12, "line 2, column 9");
        assertError("[[1]", 4, "end of input in array");
        assertError("{\"a\": 1", 7, "end of input in object");
        assertError("[".repeat(MiniJson.MAX_DEPTH + 1), MiniJson.MAX_DEPTH, "nesting deeper");
    }

    private static void assertError(String json, int offset, String fragment) {
        MiniJson.JsonException e = assertThrows(MiniJson.JsonException.class, () -> MiniJson.parse(json, "t.json"),
                json);
        assertEquals(offset, e.offset(), json + " -> " + e.getMessage());
        assertTrue(e.getMessage().contains(fragment), json + " -> " + e.getMessage());
        assertTrue(e.getMessage().startsWith("t.json: "), e.getMessage());
        assertTrue(e.getMessage().contains("(offset " + offset + ")"), e.getMessage());
    }
}
