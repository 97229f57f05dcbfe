package dev.retort.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run folder's config.json and metrics.jsonl read back strictly: a duplicate key or text after the value is refused
 * naming the file, the key and the line, and no error quotes the file.
 */
class RunFolderReadTest {
    @TempDir
    Path dir;

    private String configError(String text) throws IOException {
        Files.writeString(dir.resolve(RunFolder.CONFIG), text);
        return assertThrows(IOException.class, () -> RunFolder.at(dir).readConfig()).getMessage();
    }

    private String metricsError(String text) throws IOException {
        Files.writeString(dir.resolve("metrics.jsonl"), text);
        return assertThrows(IOException.class, () -> RunFolder.at(dir).readMetrics()).getMessage();
    }

    @Test
    void whatRetortWroteReadsBack() throws IOException {
        RunFolder run = RunFolder.at(dir);
        run.writeConfig(Map.of("training", Map.of("model", "mlp-tiny", "seed", 3)));
        assertEquals(3, run.readConfig().path("training").path("seed").intValue());
        run.writeMetrics(List.of(Map.of("epoch", 1, "test_accuracy", 0.5), Map.of("epoch", 2, "test_accuracy", 0.75)));
        assertEquals(0.75, run.readMetrics().get(1).get("test_accuracy"));
    }

    @Test
    void aDuplicateKeyInConfigJsonIsRefusedNamingTheKeyAndLine() throws IOException {
        String message = configError("{\"training\": {\"model\": \"mlp-tiny\",\n \"model\": \"resnet8\"}}");
        assertTrue(message.startsWith(dir.resolve(RunFolder.CONFIG) + ": not a readable run configuration: duplicate "
                + "key \"model\" at line 2, column "), message);
    }

    @Test
    void textAfterConfigJsonsObjectIsRefused() throws IOException {
        String message = configError("{\"training\": {}}\n{\"training\": {}}");
        assertTrue(message.endsWith("not a readable run configuration: more text after the JSON value at line 2, "
                + "column 1"), message);
        message = configError("{\"training\": {}} garbage");
        assertTrue(message.contains("more text after the JSON value at line 1"), message);
    }

    @Test
    void aConfigJsonThatIsNotJsonIsRefusedWithoutQuotingIt() throws IOException {
        String message = configError("root:x:0:0:root:/root:/bin/bash\n");
        assertTrue(message.contains("not a readable run configuration: not valid JSON: ") && message.contains(
                "at line 1, column "), message);
        assertFalse(message.contains("root:") || message.contains("bash") || message.contains("Source"), message);
        assertTrue(configError("[1, 2]").endsWith("expected a JSON object"));
        Files.delete(dir.resolve(RunFolder.CONFIG));
        Files.createDirectories(dir.resolve(RunFolder.CONFIG));
        message = assertThrows(IOException.class, () -> RunFolder.at(dir).readConfig()).getMessage();
        assertEquals(dir.resolve(RunFolder.CONFIG) + ": a folder, not a file", message);
    }

    @Test
    void metricsLinesAreReadStrictlyAndTheirErrorsNameTheLineAndColumn() throws IOException {
        String row = "{\"epoch\": 1, \"test_accuracy\": 0.5}\n";
        String message = metricsError(row + "{\"epoch\": 2, \"epoch\": 3}\n");
        assertTrue(message.startsWith(dir.resolve("metrics.jsonl") + ", line 2, column "), message);
        assertTrue(message.endsWith(": duplicate key \"epoch\""), message);
        message = metricsError(row + row.strip() + row);
        assertTrue(message.contains(", line 2, column ") && message.endsWith("more text after the JSON value"),
                message);
        message = metricsError(row + "secret-token\n");
        assertTrue(message.contains(", line 2, column ") && message.contains(": not valid JSON: "), message);
        assertFalse(message.contains("secret"), message);
        message = metricsError(row + "\n[1, 2]\n");
        assertTrue(message.endsWith(", line 3: not a JSON object but an array"), message);
        Files.write(dir.resolve("metrics.jsonl"), new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xff, '"', '}'});
        message = assertThrows(IOException.class, () -> RunFolder.at(dir).readMetrics()).getMessage();
        assertTrue(message.contains("line 1, column ") && message.contains("not UTF-8"), message);
        Files.writeString(dir.resolve("metrics.jsonl"), row + "\n  \n" + row, StandardCharsets.UTF_8);
        assertEquals(2, RunFolder.at(dir).readMetrics().size(), "blank lines are skipped");
    }
}
