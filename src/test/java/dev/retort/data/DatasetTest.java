package dev.retort.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Datasets check their labels and pixel counts; Fashion-MNIST is found (or not) where asked. */
@SuppressWarnings("try") // scopes own what is created inside them without being referenced
class DatasetTest {
    @TempDir
    Path dir;

    @Test
    void labelOutOfRangeNamesTheDatasetAndExample() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Dataset("toy", new float[3 * 4], new int[] {0, 2, 3}, 1, 2, 2, 3));
        assertTrue(e.getMessage().contains("toy") && e.getMessage().contains("example 2")
                && e.getMessage().contains("label 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new Dataset("toy", new float[2 * 4], new int[] {-2, 0}, 1, 2, 2, 3));
        assertTrue(e.getMessage().contains("toy") && e.getMessage().contains("example 0")
                && e.getMessage().contains("label -2"), e.getMessage());
        assertEquals(1, new Dataset("toy", new float[2 * 4], new int[] {Dataset.UNLABELLED, 0}, 1, 2, 2, 3)
                .labelledCount(), "−1 marks an example without a label");
    }

    @Test
    void pixelCountMismatchNamesTheDataset() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Dataset("toy", new float[7], new int[] {0, 1}, 1, 2, 2, 3));
        assertTrue(e.getMessage().contains("toy") && e.getMessage().contains("7")
                && e.getMessage().contains("2 images"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new Dataset("empty-image", new float[0], new int[] {0}, 1, 0, 2, 3));
        assertTrue(e.getMessage().contains("empty-image"), e.getMessage());
    }

    @Test
    void batchGathersTheExamplesInOrder() {
        float[] pixels = new float[3 * 2];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = i;
        }
        Dataset d = new Dataset("toy", pixels, new int[] {4, 5, 6}, 1, 1, 2, 10);
        try (Scope scope = Scope.open()) {
            Tensor[] batch = d.batch(new int[] {2, 0, 1}, 0, 2);
            assertArrayEquals(new int[] {2, 1, 1, 2}, batch[0].shape());
            assertArrayEquals(new float[] {4, 5, 0, 1}, batch[0].toFloatArray());
            assertArrayEquals(new int[] {6, 4}, batch[1].toIntArray());
        }
        Dataset head = d.head(2);
        assertEquals(2, head.size());
        assertArrayEquals(new int[] {4, 5}, head.labels());
    }

    @Test
    void tailKeepsTheLastExamples() {
        float[] pixels = {0, 1, 2, 3, 4, 5};
        Dataset d = new Dataset("toy", pixels, new int[] {4, 5, 6}, 1, 1, 2, 10);
        Dataset tail = d.tail(2);
        assertArrayEquals(new int[] {5, 6}, tail.labels());
        assertArrayEquals(new float[] {2, 3, 4, 5}, tail.images());
        assertEquals(3, d.tail(10).size());
    }

    @Test
    void syntheticImagesAreReproducibleAndCoverEveryClass() {
        Dataset a = SyntheticImages.generate("synthetic", 500, 10, 28, 9);
        Dataset b = SyntheticImages.generate("synthetic", 500, 10, 28, 9);
        assertArrayEquals(a.images(), b.images());
        assertArrayEquals(a.labels(), b.labels());
        int[] counts = new int[10];
        for (int y : a.labels()) {
            counts[y]++;
        }
        for (int c = 0; c < 10; c++) {
            assertTrue(counts[c] > 20, "class " + c + " has " + counts[c] + " examples");
        }
    }

    @Test
    void locateWithAnExplicitFolderLackingFilesNamesTheFolder() throws IOException {
        Path empty = Files.createDirectory(dir.resolve("no-data-here"));
        IOException e = assertThrows(IOException.class, () -> FashionMnist.locate(empty));
        assertTrue(e.getMessage().contains(empty.toString()), e.getMessage());
        // Three of the four files is still not a dataset.
        Path partial = Files.createDirectory(dir.resolve("partial"));
        for (String name : new String[] {FashionMnist.TRAIN_IMAGES, FashionMnist.TRAIN_LABELS,
                FashionMnist.TEST_IMAGES}) {
            Files.write(partial.resolve(name + ".gz"), new byte[0]);
        }
        e = assertThrows(IOException.class, () -> FashionMnist.locate(partial));
        assertTrue(e.getMessage().contains(partial.toString()), e.getMessage());
    }

    @Test
    void loadsFashionMnistFilesFromAFolder() throws IOException {
        Path folder = Files.createDirectory(dir.resolve("tiny-fashion"));
        writeIdx(folder.resolve(FashionMnist.TRAIN_IMAGES), new int[] {2, 2, 3}, new byte[] {0, 0, 0, 0, 0, 0,
                (byte) 255, (byte) 255, (byte) 255, (byte) 255, (byte) 255, (byte) 255});
        writeIdx(folder.resolve(FashionMnist.TRAIN_LABELS), new int[] {2}, new byte[] {9, 0});
        writeIdx(folder.resolve(FashionMnist.TEST_IMAGES), new int[] {1, 2, 3}, new byte[6]);
        writeIdx(folder.resolve(FashionMnist.TEST_LABELS), new int[] {1}, new byte[] {3});
        assertEquals(folder, FashionMnist.locate(folder));
        Dataset train = FashionMnist.train(folder);
        assertEquals(2, train.size());
        assertArrayEquals(new int[] {9, 0}, train.labels());
        assertEquals(2, train.height());
        assertEquals(3, train.width());
        assertEquals((0 - FashionMnist.MEAN) / FashionMnist.STD, train.images()[0], 1e-6);
        assertEquals((1 - FashionMnist.MEAN) / FashionMnist.STD, train.images()[6], 1e-6);
        assertEquals(1, FashionMnist.test(folder).size());
    }

    @Test
    void fashionMnistRejectsLabelsAboveNineAndCountMismatches() throws IOException {
        Path folder = Files.createDirectory(dir.resolve("bad-fashion"));
        writeIdx(folder.resolve(FashionMnist.TRAIN_IMAGES), new int[] {2, 1, 1}, new byte[2]);
        Path labels = folder.resolve(FashionMnist.TRAIN_LABELS);
        writeIdx(labels, new int[] {2}, new byte[] {1, 10});
        IOException e = assertThrows(IOException.class, () -> FashionMnist.train(folder));
        assertTrue(e.getMessage().contains(labels.toString()) && e.getMessage().contains("label 10")
                && e.getMessage().contains("index 1"), e.getMessage());
        writeIdx(labels, new int[] {3}, new byte[] {1, 2, 3});
        e = assertThrows(IOException.class, () -> FashionMnist.train(folder));
        assertTrue(e.getMessage().contains(labels.toString()) && e.getMessage().contains("3 labels for 2 images"),
                e.getMessage());
    }

    private static void writeIdx(Path file, int[] dims, byte[] data) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.putInt(0x00000800 | dims.length);
        for (int d : dims) {
            b.putInt(d);
        }
        b.put(data);
        Files.write(file, b.array());
    }
}
