package dev.retort.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retort.tensor.Scope;
import dev.retort.tensor.Tensor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Batches are reproducible for a seed, cover every example once, augment correctly, and prefetch safely. */
@SuppressWarnings("try") // scopes own what is created inside them without being referenced
class DataLoaderTest {
    /** n images of 1×2×3 whose pixels all equal the example's index; label = index mod 10. */
    private static Dataset indexed(int n) {
        float[] px = new float[n * 6];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            Arrays.fill(px, i * 6, i * 6 + 6, i);
            y[i] = i % 10;
        }
        return new Dataset("indexed", px, y, 1, 2, 3, 10);
    }

    /** The example indices of every batch of an epoch, read back from the pixels. */
    private static List<Integer> seen(DataLoader loader, int epoch) {
        List<Integer> out = new ArrayList<>();
        try (DataLoader.Epoch e = loader.epoch(epoch)) {
            for (DataLoader.Batch b : e) {
                for (int i = 0; i < b.size(); i++) {
                    int index = (int) b.images()[i * 6];
                    assertEquals(index % 10, b.labels()[i], "label travels with its image");
                    out.add(index);
                }
            }
        }
        return out;
    }

    @Test
    void sameSeedAndEpochGiveTheSameOrderWithOrWithoutPrefetch() {
        Dataset d = indexed(50);
        List<Integer> a = seen(DataLoader.builder(d, 8).seed(3).prefetch(0).build(), 2);
        List<Integer> b = seen(DataLoader.builder(d, 8).seed(3).prefetch(3).build(), 2);
        assertEquals(a, b);
        assertNotEquals(a, seen(DataLoader.builder(d, 8).seed(4).build(), 2), "another seed, another order");
    }

    @Test
    void epochsHaveDifferentOrdersAndEachCoversEveryExampleOnce() {
        DataLoader loader = DataLoader.builder(indexed(37), 5).seed(1).build();
        List<Integer> e0 = seen(loader, 0);
        List<Integer> e1 = seen(loader, 1);
        assertNotEquals(e0, e1);
        for (List<Integer> e : List.of(e0, e1)) {
            assertEquals(37, e.size());
            int[] sorted = e.stream().mapToInt(Integer::intValue).sorted().toArray();
            for (int i = 0; i < 37; i++) {
                assertEquals(i, sorted[i]);
            }
        }
        assertEquals(8, loader.batchesPerEpoch());
    }

    @Test
    void unshuffledKeepsTheDatasetOrder() {
        List<Integer> e = seen(DataLoader.builder(indexed(7), 3).shuffle(false).build(), 5);
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6), e);
    }

    @Test
    void dropLastDropsOnlyThePartialBatch() {
        Dataset d = indexed(23);
        DataLoader keep = DataLoader.builder(d, 5).seed(2).build();
        DataLoader drop = DataLoader.builder(d, 5).seed(2).dropLast(true).build();
        assertEquals(5, keep.batchesPerEpoch());
        assertEquals(4, drop.batchesPerEpoch());
        int[] sizes = new int[5];
        int count = 0;
        try (DataLoader.Epoch e = keep.epoch(0)) {
            for (DataLoader.Batch b : e) {
                sizes[count++] = b.size();
            }
        }
        assertArrayEquals(new int[] {5, 5, 5, 5, 3}, sizes);
        List<Integer> dropped = seen(drop, 0);
        assertEquals(20, dropped.size());
        assertEquals(seen(keep, 0).subList(0, 20), dropped, "same order, last 3 left out");
        assertEquals(0, DataLoader.builder(indexed(3), 5).dropLast(true).build().batchesPerEpoch());
        assertFalse(DataLoader.builder(indexed(3), 5).dropLast(true).build().epoch(0).hasNext());
    }

    @Test
    void flipMirrorsEachRowOfEachChannel() {
        // 2 channels of 2×3: channel c, row y, column x holds 100c + 10y + x.
        float[] in = new float[12];
        for (int c = 0; c < 2; c++) {
            for (int y = 0; y < 2; y++) {
                for (int x = 0; x < 3; x++) {
                    in[c * 6 + y * 3 + x] = 100 * c + 10 * y + x;
                }
            }
        }
        float[] out = new float[12];
        DataLoader.augment(in, out, 0, 2, 2, 3, 0, 0, true);
        assertArrayEquals(new float[] {2, 1, 0, 12, 11, 10, 102, 101, 100, 112, 111, 110}, out);
        DataLoader.augment(in, out, 0, 2, 2, 3, 0, 0, false);
        assertArrayEquals(in, out);
    }

    @Test
    void cropShiftsAndFillsWithZeros() {
        // 3×3 image 1..9; a crop of the 1-padded image at offset (2, 0) is a shift by dy=+1, dx=-1.
        float[] in = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        float[] out = new float[9];
        DataLoader.augment(in, out, 0, 1, 3, 3, 1, -1, false);
        assertArrayEquals(new float[] {0, 4, 5, 0, 7, 8, 0, 0, 0}, out);
        DataLoader.augment(in, out, 0, 1, 3, 3, -1, 1, true);
        // shift up-left by (−1, +1) gives {0,0,0, 2,3,0, 5,6,0}; then mirrored.
        assertArrayEquals(new float[] {0, 0, 0, 0, 3, 2, 0, 6, 5}, out);
    }

    @Test
    void augmentationKeepsShapeIsDeterministicAndChangesSomething() {
        Dataset d = SyntheticImages.generate("s", 40, 10, 12, 5);
        DataLoader aug = DataLoader.builder(d, 16).seed(9).randomCrop(2).horizontalFlip(true).prefetch(2).build();
        DataLoader same = DataLoader.builder(d, 16).seed(9).randomCrop(2).horizontalFlip(true).prefetch(0).build();
        DataLoader plain = DataLoader.builder(d, 16).seed(9).build();
        try (DataLoader.Epoch a = aug.epoch(1); DataLoader.Epoch b = same.epoch(1); DataLoader.Epoch p = plain.epoch(1)) {
            int changed = 0;
            while (a.hasNext()) {
                DataLoader.Batch x = a.next();
                DataLoader.Batch y = b.next();
                DataLoader.Batch z = p.next();
                assertEquals(x.images().length, x.size() * 144);
                assertArrayEquals(new int[] {1, 12, 12}, new int[] {x.channels(), x.height(), x.width()});
                assertArrayEquals(x.images(), y.images(), "prefetched and inline augmentation agree");
                assertArrayEquals(z.labels(), x.labels(), "augmentation does not change the order");
                for (int i = 0; i < x.size(); i++) {
                    float[] xi = Arrays.copyOfRange(x.images(), i * 144, i * 144 + 144);
                    float[] zi = Arrays.copyOfRange(z.images(), i * 144, i * 144 + 144);
                    changed += Arrays.equals(xi, zi) ? 0 : 1;
                }
            }
            assertTrue(changed > 25, "only " + changed + " of 40 images were augmented");
        }
        assertThrows(IllegalArgumentException.class, () -> DataLoader.builder(d, 4).randomCrop(12));
        assertThrows(IllegalArgumentException.class, () -> DataLoader.builder(d, 4).randomCrop(-1));
        assertThrows(IllegalArgumentException.class, () -> DataLoader.builder(d, 0));
        assertThrows(IllegalArgumentException.class, () -> DataLoader.builder(d, 4).prefetch(-1));
    }

    @Test
    void batchesBecomeTensorsOnTheConsumerThread() {
        try (DataLoader.Epoch e = DataLoader.builder(indexed(4), 3).shuffle(false).build().epoch(0);
             Scope scope = Scope.open()) {
            Tensor[] t = e.next().toTensors();
            assertArrayEquals(new int[] {3, 1, 2, 3}, t[0].shape());
            assertArrayEquals(new int[] {0, 1, 2}, t[1].toIntArray());
            assertEquals(2f, t[0].toFloatArray()[12]);
        }
    }

    @Test
    void aProducerFailureReachesTheConsumerWithItsCause() {
        RuntimeException boom = new RuntimeException("bad pixel");
        DataLoader loader = DataLoader.builder(indexed(20), 4).prefetch(2).transform((img, c, h, w, rng) -> {
            if (img[0] == 13f) {
                throw boom;
            }
        }).build();
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            DataLoader.Epoch e = loader.epoch(0);
            IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> {
                while (e.hasNext()) {
                    e.next();
                }
            });
            assertSame(boom, thrown.getCause());
            assertTrue(thrown.getMessage().contains("bad pixel") && thrown.getMessage().contains("indexed"),
                    thrown.getMessage());
            e.producer().join(5000);
            assertFalse(e.producer().isAlive());
        });
    }

    @Test
    void closingEarlyStopsTheProducerWithoutDeadlock() {
        DataLoader loader = DataLoader.builder(indexed(200), 2).prefetch(1).build();
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            DataLoader.Epoch e = loader.epoch(0);
            e.next();
            Thread.sleep(50); // the producer is now blocked on a full queue
            assertTrue(e.producer().isAlive());
            e.close();
            assertFalse(e.producer().isAlive(), "close() ends the producer thread");
            assertFalse(e.hasNext());
            assertTrue(e.producer().isDaemon());
            e.close();
        });
    }

    @Test
    void aFinishedEpochLeavesNoThreadBehind() throws InterruptedException {
        DataLoader.Epoch e = DataLoader.builder(indexed(10), 3).prefetch(4).build().epoch(0);
        int n = 0;
        while (e.hasNext()) {
            e.next();
            n++;
        }
        assertEquals(4, n);
        e.producer().join(5000);
        assertFalse(e.producer().isAlive());
    }
}
