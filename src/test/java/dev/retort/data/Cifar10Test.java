package dev.retort.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CIFAR-10 binary reader reads CHW records, normalises per channel, and names the file and record at fault. */
class Cifar10Test {
    @TempDir
    Path dir;

    /** Records whose label is {@code labels[r]} and whose pixel p of record r is (r * 7 + p) mod 256. */
    static byte[] records(int... labels) {
        byte[] out = new byte[labels.length * Cifar10.RECORD];
        for (int r = 0; r < labels.length; r++) {
            out[r * Cifar10.RECORD] = (byte) labels[r];
            for (int p = 0; p < Cifar10.PIXELS; p++) {
                out[r * Cifar10.RECORD + 1 + p] = (byte) (r * 7 + p);
            }
        }
        return out;
    }

    private Path write(String name, byte[] content) throws IOException {
        Path f = dir.resolve(name);
        Files.write(f, content);
        return f;
    }

    @Test
    void readsLabelsAndPixelsAcrossFilesInOrder() throws IOException {
        Path a = write("a.bin", records(3, 9));
        Path b = write("b.bin", records(0));
        Cifar10.Records r = Cifar10.read(List.of(a, b));
        assertArrayEquals(new int[] {3, 9, 0}, r.labels());
        assertEquals(3 * Cifar10.PIXELS, r.pixels().length);
        assertEquals((byte) (7 + 5), r.pixels()[Cifar10.PIXELS + 5]);
        assertEquals((byte) 5, r.pixels()[2 * Cifar10.PIXELS + 5]); // record 0 of the second file
    }

    @Test
    void normalisesEachChannelWithItsOwnMeanAndStd() throws IOException {
        byte[] one = new byte[Cifar10.RECORD];
        one[0] = 4;
        Arrays.fill(one, 1, one.length, (byte) 255);
        Dataset d = Cifar10.normalised("t", Cifar10.read(List.of(write("white.bin", one))));
        assertArrayEquals(new int[] {1, 3, 32, 32}, new int[] {d.size(), d.channels(), d.height(), d.width()});
        for (int c = 0; c < 3; c++) {
            assertEquals((1 - Cifar10.MEAN[c]) / Cifar10.STD[c], d.images()[c * 1024 + 17], 1e-6, "channel " + c);
        }
        assertEquals(4, d.labels()[0]);
    }

    @Test
    void findsTheFilesInTheFolderOrItsArchiveSubfolder() throws IOException {
        Path sub = Files.createDirectories(dir.resolve("cifar").resolve(Cifar10.ARCHIVE_FOLDER));
        for (String f : Cifar10.TRAIN_FILES) {
            Files.write(sub.resolve(f), records(1, 2));
        }
        assertNull(Cifar10.holding(dir.resolve("cifar")));
        Files.write(sub.resolve(Cifar10.TEST_FILE), records(5));
        assertEquals(sub, Cifar10.holding(dir.resolve("cifar")));
        assertEquals(10, Cifar10.train(dir.resolve("cifar")).size());
        assertArrayEquals(new int[] {5}, Cifar10.test(dir.resolve("cifar")).labels());
        IOException e = assertThrows(IOException.class, () -> Cifar10.train(dir));
        assertTrue(e.getMessage().contains(dir.toString()) && e.getMessage().contains("data_batch_1.bin"),
                e.getMessage());
    }

    @Test
    void rejectsASizeThatIsNotAWholeNumberOfRecords() throws IOException {
        byte[] full = records(1, 2);
        Path cut = write("data_batch_1.bin", Arrays.copyOf(full, full.length - 100));
        IOException e = assertThrows(IOException.class, () -> Cifar10.read(List.of(cut)));
        assertTrue(e.getMessage().contains(cut.toString()) && e.getMessage().contains("3073")
                && e.getMessage().contains("record 1") && e.getMessage().contains(String.valueOf(full.length - 100)),
                e.getMessage());
        Path empty = write("empty.bin", new byte[0]);
        e = assertThrows(IOException.class, () -> Cifar10.read(List.of(empty)));
        assertTrue(e.getMessage().contains(empty.toString()) && e.getMessage().contains("empty"), e.getMessage());
    }

    @Test
    void rejectsALabelAboveNineNamingTheRecord() throws IOException {
        Path bad = write("test_batch.bin", records(0, 1, 2, 10));
        IOException e = assertThrows(IOException.class, () -> Cifar10.read(List.of(bad)));
        assertTrue(e.getMessage().contains(bad.toString()) && e.getMessage().contains("label 10")
                && e.getMessage().contains("record 3") && e.getMessage().contains("0..9"), e.getMessage());
        Path high = write("high.bin", records(255));
        e = assertThrows(IOException.class, () -> Cifar10.read(List.of(high)));
        assertTrue(e.getMessage().contains("label 255") && e.getMessage().contains("record 0"), e.getMessage());
    }

    @Test
    void aMissingFileIsNamed() {
        Path absent = dir.resolve("data_batch_9.bin");
        IOException e = assertThrows(IOException.class, () -> Cifar10.read(List.of(absent)));
        assertTrue(e.getMessage().contains(absent.toString()), e.getMessage());
    }
}
