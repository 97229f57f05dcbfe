package dev.retort.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.retort.data.FashionMnist;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The data's fingerprint: which files it covers, and how a difference is told. */
class DataFingerprintTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static JsonNode tree(Map<String, Object> fingerprint) {
        return JSON.valueToTree(fingerprint);
    }

    private static void png(Path file, int shade) throws IOException {
        Files.createDirectories(file.getParent());
        BufferedImage image = new BufferedImage(4, 4, BufferedImage.TYPE_BYTE_GRAY);
        image.getRaster().setSample(1, 1, 0, shade);
        ImageIO.write(image, "png", file.toFile());
    }

    @Test
    void anImageFolderIsOneEntryPerClassFolderThatTellsAnImageAddedOrChanged() throws IOException {
        Path images = dir.resolve("images");
        png(images.resolve("train/a/1.png"), 10);
        png(images.resolve("train/b/1.png"), 20);
        png(images.resolve("test/a/1.png"), 30);
        JsonNode before = tree(DatasetFolder.open("images", images).fingerprint());
        assertEquals(List.of("train/a/", "train/b/", "test/a/"), List.copyOf(JSON.convertValue(before, Map.class)
                .keySet()));
        assertNull(DataFingerprint.difference(before, tree(DatasetFolder.open("images", images).fingerprint())));

        png(images.resolve("train/b/2.png"), 40);
        assertEquals("train/b/ holds 2 images, it held 1",
                DataFingerprint.difference(before, tree(DatasetFolder.open("images", images).fingerprint())));
        Files.delete(images.resolve("train/b/2.png"));
        png(images.resolve("test/a/1.png"), 31);
        String changed = DataFingerprint.difference(before, tree(DatasetFolder.open("images", images).fingerprint()));
        org.junit.jupiter.api.Assertions.assertTrue(changed.startsWith("test/a/ "), changed);
    }

    @Test
    void idxFilesAreNamedAsTheLoaderReadsThemAndAGoneOrNewFileIsTold() throws IOException {
        Path idx = Files.createDirectories(dir.resolve("idx"));
        for (String name : List.of(FashionMnist.TRAIN_IMAGES, FashionMnist.TRAIN_LABELS, FashionMnist.TEST_IMAGES,
                FashionMnist.TEST_LABELS)) {
            Files.write(idx.resolve(name), new byte[] {0, 0, 8, 1, 0, 0, 0, 0});
        }
        Files.write(idx.resolve(FashionMnist.TRAIN_IMAGES + ".gz"), new byte[] {31, -117});
        Map<String, Object> fingerprint = DatasetFolder.open("fashion-mnist", idx).fingerprint();
        assertEquals(List.of(FashionMnist.TRAIN_IMAGES + ".gz", FashionMnist.TRAIN_LABELS, FashionMnist.TEST_IMAGES,
                FashionMnist.TEST_LABELS), List.copyOf(fingerprint.keySet()), "the .gz one, as the loader reads it");

        Files.delete(idx.resolve(FashionMnist.TRAIN_IMAGES + ".gz"));
        Map<String, Object> now = DatasetFolder.open("fashion-mnist", idx).fingerprint();
        assertEquals(FashionMnist.TRAIN_IMAGES + ".gz is no longer there",
                DataFingerprint.difference(tree(fingerprint), tree(now)));
        assertEquals(FashionMnist.TRAIN_IMAGES + " is new", DataFingerprint.difference(
                tree(Map.of(FashionMnist.TRAIN_LABELS, fingerprint.get(FashionMnist.TRAIN_LABELS))),
                tree(Map.of(FashionMnist.TRAIN_LABELS, fingerprint.get(FashionMnist.TRAIN_LABELS),
                        FashionMnist.TRAIN_IMAGES, now.get(FashionMnist.TRAIN_IMAGES)))));
    }

    @Test
    void aFileIsReadAtItsEndsOnly() throws IOException {
        Path big = dir.resolve("big.bin");
        byte[] bytes = new byte[3 * DataFingerprint.BLOCK];
        Files.write(big, bytes);
        JsonNode before = tree(DataFingerprint.ofFiles(dir, List.of("big.bin")));
        bytes[bytes.length - 1] = 1;
        Files.write(big, bytes);
        assertEquals("big.bin holds other bytes of the same size",
                DataFingerprint.difference(before, tree(DataFingerprint.ofFiles(dir, List.of("big.bin")))));
        bytes[bytes.length - 1] = 0;
        bytes[DataFingerprint.BLOCK + 5] = 1; // the middle: not read, by design (cheap)
        Files.write(big, bytes);
        assertNull(DataFingerprint.difference(before, tree(DataFingerprint.ofFiles(dir, List.of("big.bin")))));
    }
}
