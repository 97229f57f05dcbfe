package dev.retort.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The one reader of JSON that comes from outside (network files, config.json, metrics.jsonl, safetensors headers):
 * strict — a key twice in one object, or anything after the value, is refused — and with errors that say what is
 * wrong and where (line and column) without quoting the text, so that a file that is not JSON at all is never shown
 * in a message. Jackson's own messages quote the offending token ({@code Unrecognized token 'root'}) and append an
 * excerpt of the source; none of that gets out of here. The one thing quoted is a duplicate key's name, escaped.
 */
public final class StrictJson {
    /**
     * Deeper nesting than this is refused before it can exhaust the stack; Retort's own files nest at most four
     * levels (config.json's normalization means) and a network or safetensors header three.
     */
    public static final int MAX_NESTING = 32;
    /** A duplicate key is shown up to this many characters. */
    private static final int MAX_SHOWN_KEY = 64;

    private static final JsonMapper JSON = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING).build())
                    .build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private StrictJson() {}

    /** JSON that breaks the rules: {@link #getMessage()} is one line, what and where, with none of the text. */
    public static final class Malformed extends Exception {
        private static final long serialVersionUID = 1L;

        private final String reason;
        private final int line;
        private final int column;

        Malformed(String reason, JsonLocation at, Throwable cause) {
            super(reason + where(at), cause);
            this.reason = reason;
            this.line = at == null ? -1 : at.getLineNr();
            this.column = at == null ? -1 : at.getColumnNr();
        }

        /** What is wrong, without where. */
        public String reason() {
            return reason;
        }

        /** The line of the fault, from 1; -1 when unknown. */
        public int line() {
            return line;
        }

        /** The column of the fault, from 1; -1 when unknown. */
        public int column() {
            return column;
        }

        private static String where(JsonLocation at) {
            return at == null || at.getLineNr() < 1 ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
        }
    }

    /** {@code text} as one JSON value, strictly; empty text is refused too. */
    public static JsonNode parse(String text) throws Malformed {
        try (JsonParser parser = JSON.createParser(text)) {
            return parse(parser);
        } catch (IOException e) { // closing a parser over a string does no I/O
            throw new Malformed("not readable", null, e);
        }
    }

    /** {@code bytes} (UTF-8, or UTF-16/32 with a byte-order mark) as one JSON value, strictly. */
    public static JsonNode parse(byte[] bytes) throws Malformed {
        try (JsonParser parser = JSON.createParser(bytes)) {
            return parse(parser);
        } catch (IOException e) {
            throw new Malformed("not readable", null, e);
        }
    }

    private static JsonNode parse(JsonParser parser) throws Malformed {
        JsonNode root;
        try {
            root = JSON.readTree(parser);
        } catch (JsonProcessingException e) {
            throw new Malformed(reason(e), e.getLocation(), e);
        } catch (IOException e) {
            throw new Malformed("not readable", null, e);
        }
        if (root == null || root.isMissingNode()) {
            throw new Malformed("no JSON value (the text is empty)", null, null);
        }
        try { // readTree(JsonParser) leaves what follows the value unread, FAIL_ON_TRAILING_TOKENS or not
            if (parser.nextToken() != null) {
                throw new Malformed("more text after the JSON value", parser.currentTokenLocation(), null);
            }
        } catch (JsonProcessingException e) { // garbage after the value that is not even a token
            throw new Malformed("more text after the JSON value", e.getLocation(), e);
        } catch (IOException e) {
            throw new Malformed("not readable", null, e);
        }
        return root;
    }

    /**
     * What Jackson found wrong, in words that quote nothing of the input but a duplicate key (escaped, so the
     * message stays one line and prints no control characters).
     */
    private static String reason(JsonProcessingException e) {
        String m = String.valueOf(e.getOriginalMessage());
        if (e instanceof StreamConstraintsException) {
            if (m.contains("nesting depth")) {
                return "not valid JSON: nested deeper than " + MAX_NESTING + " levels (nesting depth limit)";
            }
            return "not valid JSON: a number, string or name longer than Retort reads";
        }
        if (m.startsWith("Duplicate field '") && m.endsWith("'")) {
            String key = m.substring("Duplicate field '".length(), m.length() - 1);
            return "duplicate key " + show(new TextNode(key), MAX_SHOWN_KEY + 2);
        }
        String what;
        if (m.startsWith("Unexpected end-of-input")) {
            what = "it ends before the JSON value does (truncated?)";
        } else if (m.startsWith("Unrecognized token") || m.startsWith("Non-standard token")) {
            what = "a word that is not a JSON value (strings need double quotes)";
        } else if (m.startsWith("Unexpected character")) {
            what = "an unexpected character";
        } else if (m.startsWith("Illegal unquoted character") || m.startsWith("Illegal character")) {
            what = "a control character inside a string (it must be escaped)";
        } else if (m.startsWith("Unrecognized character escape") || m.contains("escape sequence")) {
            what = "an invalid escape sequence in a string";
        } else if (m.startsWith("Invalid UTF-8") || m.startsWith("Invalid UTF-32") || m.contains("surrogate")) {
            what = "bytes that are not UTF-8 text";
        } else if (m.contains("numeric value") || m.contains("Numeric value") || m.contains("Leading zeroes")
                || m.contains("Leading plus") || m.contains("Decimal point")) {
            what = "a malformed number";
        } else {
            what = "malformed JSON";
        }
        return "not valid JSON: " + what;
    }

    /**
     * A value of a JSON file, for a message about it (a field of the wrong type): as JSON, so a string shows its
     * quotes, with every control or line-separating character escaped so that the message stays one line and
     * writes nothing to a terminal but text, and cut after {@code max} characters.
     */
    public static String show(JsonNode value, int max) {
        // A number past a double's range (1e400) reads as infinite, which Jackson would print as a string.
        String json = value.isFloatingPointNumber() && !Double.isFinite(value.doubleValue())
                ? String.valueOf(value.doubleValue())
                : value.toString();
        StringBuilder out = new StringBuilder(Math.min(json.length(), max) + 8);
        int i = 0;
        for (; i < json.length() && out.length() < max; i++) {
            char c = json.charAt(i);
            if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
                out.append(String.format("\\u%04X", (int) c));
            } else {
                out.append(c);
            }
        }
        return i < json.length() ? out.append("...").toString() : out.toString();
    }

    /**
     * The bytes of {@code file}, which must be a regular file (a folder, a device or a pipe is refused by name) of at
     * most {@code maxBytes}: a JSON file Retort reads is small, and this keeps a wrong path from reading without end.
     */
    public static byte[] readFile(Path file, long maxBytes) throws IOException {
        if (Files.isDirectory(file)) {
            throw new FileFormatException(file, "a folder, not a file");
        }
        if (Files.exists(file) && !Files.isRegularFile(file)) {
            throw new FileFormatException(file, "not a regular file (a device, a pipe or a socket)");
        }
        long size = Files.size(file); // a missing file is NoSuchFileException, which names it
        if (size > maxBytes) {
            throw new FileFormatException(file, size + " bytes, more than the " + maxBytes + " such a file may hold");
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] bytes = in.readNBytes((int) maxBytes + 1); // the file may have grown since it was measured
            if (bytes.length > maxBytes) {
                throw new FileFormatException(file, "more than the " + maxBytes + " bytes such a file may hold");
            }
            return bytes;
        }
    }
}
