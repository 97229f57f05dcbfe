package dev.retort.testing;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A minimal, strict JSON parser (RFC 8259) for the test fixtures, so the tests need no JSON library.
 *
 * <p>Values map to {@code Map<String,Object>} (insertion-ordered, unmodifiable), {@code List<Object>}
 * (unmodifiable), {@link Double}, {@link String}, {@link Boolean} and {@code null}. Strict means: one
 * value and only whitespace around it, no comments, no trailing commas, no single quotes, no
 * NaN/Infinity, no leading zeros or bare signs in numbers, no control characters in strings, no
 * duplicate keys. Every error is a {@link JsonException} naming the line, column and offset at fault.
 */
public final class MiniJson {

    /** Nesting limit, so hostile input fails cleanly instead of overflowing the stack. */
    public static final int MAX_DEPTH = 256;

    /** A syntax error; {@link #offset()} is the 0-based character offset of the fault. */
    public static final class JsonException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final int offset;

        JsonException(String message, int offset) {
            super(message);
            this.offset = offset;
        }

        public int offset() {
            return offset;
        }
    }

    private final String text;
    private final String source;
    private int pos;
    private int depth;

    private MiniJson(String text, String source) {
        this.text = text;
        this.source = source;
    }

    /** Parses one JSON document. */
    public static Object parse(String text) {
        return parse(text, null);
    }

    /** Parses one JSON document; {@code source} (a file name, or null) prefixes error messages. */
    public static Object parse(String text, String source) {
        MiniJson p = new MiniJson(text, source);
        p.skipWhitespace();
        Object value = p.value();
        p.skipWhitespace();
        if (p.pos < text.length()) {
            throw p.error("unexpected " + p.describe(p.pos) + " after the JSON value");
        }
        return value;
    }

    private Object value() {
        if (pos >= text.length()) {
            throw error("unexpected end of input, expected a value");
        }
        char c = text.charAt(pos);
        switch (c) {
            case '{':
                return object();
            case '[':
                return array();
            case '"':
                return string();
            case 't':
                return literal("true", Boolean.TRUE);
            case 'f':
                return literal("false", Boolean.FALSE);
            case 'n':
                return literal("null", null);
            default:
                if (c == '-' || (c >= '0' && c <= '9')) {
                    return number();
                }
                throw error("unexpected " + describe(pos) + ", expected a value");
        }
    }

    private Map<String, Object> object() {
        int start = pos;
        enter();
        pos++; // '{'
        Map<String, Object> map = new LinkedHashMap<>();
        skipWhitespace();
        if (peek() == '}') {
            pos++;
            depth--;
            return Collections.unmodifiableMap(map);
        }
        while (true) {
            skipWhitespace();
            if (peek() != '"') {
                throw error(atEnd() ? "unexpected end of input in object started at offset " + start
                        : "unexpected " + describe(pos) + ", expected a string key");
            }
            int keyPos = pos;
            String key = string();
            if (map.containsKey(key)) {
                pos = keyPos;
                throw error("duplicate key \"" + key + "\"");
            }
            skipWhitespace();
            expect(':');
            skipWhitespace();
            map.put(key, value());
            skipWhitespace();
            if (atEnd()) {
                throw error("unexpected end of input in object started at offset " + start);
            }
            char c = text.charAt(pos);
            if (c == ',') {
                pos++;
            } else if (c == '}') {
                pos++;
                depth--;
                return Collections.unmodifiableMap(map);
            } else {
                throw error("unexpected " + describe(pos) + ", expected ',' or '}'");
            }
        }
    }

    private List<Object> array() {
        int start = pos;
        enter();
        pos++; // '['
        List<Object> list = new ArrayList<>();
        skipWhitespace();
        if (peek() == ']') {
            pos++;
            depth--;
            return Collections.unmodifiableList(list);
        }
        while (true) {
            skipWhitespace();
            list.add(value());
            skipWhitespace();
            if (atEnd()) {
                throw error("unexpected end of input in array started at offset " + start);
            }
            char c = text.charAt(pos);
            if (c == ',') {
                pos++;
            } else if (c == ']') {
                pos++;
                depth--;
                return Collections.unmodifiableList(list);
            } else {
                throw error("unexpected " + describe(pos) + ", expected ',' or ']'");
            }
        }
    }

    private String string() {
        int start = pos;
        pos++; // opening quote
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (atEnd()) {
                pos = start;
                throw error("unterminated string");
            }
            char c = text.charAt(pos);
            if (c == '"') {
                pos++;
                return sb.toString();
            }
            if (c < 0x20) {
                throw error("unescaped control character U+" + String.format("%04X", (int) c) + " in string");
            }
            if (c != '\\') {
                sb.append(c);
                pos++;
                continue;
            }
            pos++;
            if (atEnd()) {
                pos = start;
                throw error("unterminated string");
            }
            char e = text.charAt(pos);
            switch (e) {
                case '"': sb.append('"'); break;
                case '\\': sb.append('\\'); break;
                case '/': sb.append('/'); break;
                case 'b': sb.append('\b'); break;
                case 'f': sb.append('\f'); break;
                case 'n': sb.append('\n'); break;
                case 'r': sb.append('\r'); break;
                case 't': sb.append('\t'); break;
                case 'u': {
                    if (pos + 5 > text.length()) {
                        throw error("truncated \\u escape");
                    }
                    int code = 0;
                    for (int i = 1; i <= 4; i++) {
                        int d = Character.digit(text.charAt(pos + i), 16);
                        if (d < 0) {
                            pos += i;
                            throw error("bad hex digit " + describe(pos) + " in \\u escape");
                        }
                        code = code * 16 + d;
                    }
                    sb.append((char) code);
                    pos += 4;
                    break;
                }
                default:
                    throw error("bad escape \\" + e);
            }
            pos++;
        }
    }

    private Double number() {
        int start = pos;
        if (peek() == '-') {
            pos++;
        }
        if (atEnd() || !isDigit(text.charAt(pos))) {
            throw error("expected a digit in number, got " + describeOrEnd());
        }
        if (text.charAt(pos) == '0') {
            pos++;
            if (!atEnd() && isDigit(text.charAt(pos))) {
                throw error("leading zero in number");
            }
        } else {
            digits();
        }
        if (peek() == '.') {
            pos++;
            if (atEnd() || !isDigit(text.charAt(pos))) {
                throw error("expected a digit after the decimal point, got " + describeOrEnd());
            }
            digits();
        }
        if (peek() == 'e' || peek() == 'E') {
            pos++;
            if (peek() == '+' || peek() == '-') {
                pos++;
            }
            if (atEnd() || !isDigit(text.charAt(pos))) {
                throw error("expected a digit in the exponent, got " + describeOrEnd());
            }
            digits();
        }
        double v = Double.parseDouble(text.substring(start, pos));
        if (Double.isInfinite(v)) {
            pos = start;
            throw error("number out of double range");
        }
        return v;
    }

    private void digits() {
        while (!atEnd() && isDigit(text.charAt(pos))) {
            pos++;
        }
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private Object literal(String word, Object value) {
        if (!text.startsWith(word, pos)) {
            throw error("unexpected " + describe(pos) + ", expected a value");
        }
        pos += word.length();
        return value;
    }

    private void expect(char c) {
        if (atEnd()) {
            throw error("unexpected end of input, expected '" + c + "'");
        }
        if (text.charAt(pos) != c) {
            throw error("unexpected " + describe(pos) + ", expected '" + c + "'");
        }
        pos++;
    }

    private void enter() {
        if (++depth > MAX_DEPTH) {
            throw error("nesting deeper than " + MAX_DEPTH);
        }
    }

    private void skipWhitespace() {
        while (!atEnd()) {
            char c = text.charAt(pos);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                pos++;
            } else {
                return;
            }
        }
    }

    private boolean atEnd() {
        return pos >= text.length();
    }

    private char peek() {
        return atEnd() ? '\0' : text.charAt(pos);
    }

    private String describeOrEnd() {
        return atEnd() ? "end of input" : describe(pos);
    }

    private String describe(int at) {
        char c = text.charAt(at);
        if (c < 0x20 || c > 0x7e) {
            return String.format("character U+%04X", (int) c);
        }
        return "character '" + c + "'";
    }

    private JsonException error(String message) {
        int line = 1;
        int col = 1;
        int end = Math.min(pos, text.length());
        for (int i = 0; i < end; i++) {
            if (text.charAt(i) == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        String where = "line " + line + ", column " + col + " (offset " + pos + ")";
        String prefix = source == null ? "JSON" : source;
        return new JsonException(prefix + ": " + message + " at " + where, pos);
    }
}
