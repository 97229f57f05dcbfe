package dev.retort;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every document the repository cites is in the repository: no reference leaves a clone. */
class DocumentationLinksTest {
    private static final Path ROOT = Path.of("").toAbsolutePath();
    /** Where references live: code, scripts, help texts, READMEs, the docs themselves. */
    private static final Set<String> SCANNED = Set.of(".java", ".md", ".c", ".cu", ".cuh", ".sh", ".py", ".xml");
    private static final Pattern DOCS_REFERENCE = Pattern.compile("docs/([A-Za-z0-9_-]+\\.md)");
    /** A bare name of one of the project's documents, not preceded by a path (docs/ or anything else). */
    private static final Pattern BARE_NAME = Pattern.compile("(?<![A-Za-z0-9_./-])(design|kd-modes|networks|formats)\\.md");

    @Test
    void everyDocsReferenceNamesAFileInDocs() throws IOException {
        List<String> missing = new ArrayList<>();
        for (Path file : scannedFiles()) {
            Matcher m = DOCS_REFERENCE.matcher(read(file));
            while (m.find()) {
                if (!Files.isRegularFile(ROOT.resolve("docs").resolve(m.group(1)))) {
                    missing.add(ROOT.relativize(file) + " cites docs/" + m.group(1));
                }
            }
        }
        assertTrue(missing.isEmpty(), "references to documents the repository lacks: " + missing);
    }

    /** A documents folder outside the clone, spelt in two parts so that this file does not itself match the search. */
    private static final String OUTSIDE_DOCS = "shared" + "/docs";

    @Test
    void nothingPointsOutsideTheClone() throws IOException {
        List<String> outside = new ArrayList<>();
        for (Path file : scannedFiles()) {
            String text = read(file);
            if (text.contains(OUTSIDE_DOCS) || text.contains("../shared")) {
                outside.add(ROOT.relativize(file).toString());
            }
            // Outside docs/, a document is named with its folder so that a reader can find it.
            if (!file.startsWith(ROOT.resolve("docs")) && BARE_NAME.matcher(text).find()) {
                outside.add(ROOT.relativize(file) + " (names a document without docs/)");
            }
        }
        assertTrue(outside.isEmpty(), "references that do not resolve inside a clone: " + outside);
    }

    private static List<Path> scannedFiles() throws IOException {
        List<Path> files = new ArrayList<>();
        for (String top : List.of("README.md", "docs", "src", "native", "kernels", "benchmarks", "bin", ".ci")) {
            Path start = ROOT.resolve(top);
            if (!Files.exists(start)) {
                continue;
            }
            try (Stream<Path> walk = Files.walk(start)) {
                walk.filter(Files::isRegularFile)
                        .filter(p -> !p.toString().contains("/target/"))
                        .filter(p -> !p.getFileName().toString().equals("DocumentationLinksTest.java"))
                        .filter(p -> SCANNED.stream().anyMatch(p.toString()::endsWith)
                                || p.getParent().endsWith("bin") || p.getParent().endsWith(".ci"))
                        .forEach(files::add);
            }
        }
        assertTrue(files.size() > 100, "expected the repository's sources under " + ROOT + ", found " + files.size());
        return files;
    }

    private static String read(Path file) throws IOException {
        try {
            return Files.readString(file);
        } catch (MalformedInputException e) {
            return ""; // not text
        }
    }
}
